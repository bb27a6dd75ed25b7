"""House rules of the package that its imports show (ARCHITECTURE.md): no import circle
between modules, no import of another module's private name, heavy imports inside
functions only with a comment that says what is deferred, and planning a run (what
``snakemake -n`` does) imports neither torch nor cebra."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cebra_lens_core"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]):
    """(imported module of the package, imported name or None, line) for every import."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cebra_lens_core"):
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("cebra_lens_core"):
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        yield full, None, node.lineno
                    else:
                        yield base, alias.name, node.lineno


def _owner(target: str, modules: dict[str, Path]) -> str:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _, _ in _imports(name, path, modules):
            owner = _owner(target, modules)
            if owner and owner != name:
                graph[name].add(owner)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_package():
    assert _cycles(_graph()) == []


def test_no_module_imports_another_modules_private_name():
    modules = _modules()
    private = [
        f"{path.relative_to(ROOT)}:{line} imports {imported} from {target}"
        for name, path in modules.items()
        for target, imported, line in _imports(name, path, modules)
        if imported
        and imported.startswith("_")
        and not imported.startswith("__")
        and _owner(target, modules) != name
    ]
    assert private == []


def test_imports_inside_functions_say_what_they_defer():
    """An import inside a function carries a comment (on its line or the line above) that
    names the heavy dependency it defers; everything else sits at the top of the file."""
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    here, above = lines[node.lineno - 1], lines[node.lineno - 2]
                    if "#" not in here and not above.strip().startswith("#"):
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()}")
    assert bare == []


def test_planning_the_default_config_imports_neither_torch_nor_cebra():
    code = (
        "import sys\n"
        "from cebra_lens_core.pipeline.config import prepare_config, read_yaml\n"
        "from cebra_lens_core.pipeline import plan\n"
        "cfg = prepare_config(read_yaml('config/config.yaml'), "
        "'workflow/schemas/config.schema.yaml')\n"
        "stores = plan.plan_stores(cfg)\n"
        "plan.plan_cka_jobs(plan.plan_cka_pairs(cfg, stores), plan.plan_recordings(cfg, stores), 8)\n"
        "print(sorted(m for m in ('torch', 'cebra') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_figures_never_parse_names():
    """plots/ reads group, seed and kind from the model sheet: no regular expressions."""
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((PACKAGE / "plots").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import)
        and any(a.name == "re" for a in node.names)
        or isinstance(node, ast.ImportFrom)
        and node.module == "re"
    ]
    assert users == []


#: Scripts whose jobs run a model (and so import torch); every other job starts without it.
MODEL_SCRIPTS = {"train_model", "attribution"}


def test_jobs_that_run_no_model_start_without_torch_or_cebra():
    """A job's start-up (its script's imports + setup_job) skips torch and cebra, about 1 s of
    every job: extraction imports torch lazily, in the function that runs the model."""
    scripts = sorted(p for p in (ROOT / "scripts").glob("*.py") if p.stem not in MODEL_SCRIPTS)
    assert len(scripts) > 10
    checks = []
    for path in scripts:
        tree = ast.parse(path.read_text())
        imports = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        checks.append(f"exec({chr(10).join(imports)!r})\nheavy[{path.stem!r}] = hits()")
    code = (
        "import sys, types\n"
        "heavy = {}\n"
        "def hits():\n"
        "    return sorted(m for m in ('torch', 'cebra') if m in sys.modules)\n"
        + "\n".join(checks)
        + "\nfrom cebra_lens_core.pipeline.job import setup_job\n"
        "setup_job(types.SimpleNamespace(threads=1, log=[], rule='noop', config={}, params=None))\n"
        "heavy['setup_job'] = hits()\n"
        "print({k: v for k, v in heavy.items() if v})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "{}", done.stdout + done.stderr


def test_a_model_job_caps_torch_at_its_threads():
    code = (
        "import types\n"
        "from cebra_lens_core.pipeline.job import resolve_device, setup_job\n"
        "setup_job(types.SimpleNamespace(threads=1, log=[], rule='train', config={}, params=None))\n"
        "resolve_device('cpu')\n"
        "import torch\n"
        "print(torch.get_num_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "1", done.stderr
