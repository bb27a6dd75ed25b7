"""The conda environments in envs/ agree with pyproject.toml.

Every runtime dependency (`[project].dependencies` and the `attribution` extra, which the
attribution rule needs) must be in both environment files, with the same lower bound or an
exact pin that pyproject allows; the CPU environment gets torch from PyTorch's CPU index.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
ENVS = {"cpu": REPO / "envs" / "cebra-cpu.yaml", "gpu": REPO / "envs" / "cebra-gpu.yaml"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
EXTRAS = ("attribution",)  # optional dependencies the workflow's rules import


def runtime_requirements(pyproject: dict) -> dict[str, SpecifierSet]:
    reqs = list(pyproject["project"]["dependencies"])
    for extra in EXTRAS:
        reqs += pyproject["project"]["optional-dependencies"][extra]
    out = {}
    for text in reqs:
        req = Requirement(text)
        out[canonicalize_name(req.name)] = req.specifier
    return out


_CONDA_SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def _conda_specifier(spec: str) -> SpecifierSet:
    """conda match spec version -> PEP 440 (`=1.2` is conda's fuzzy pin, `==1.2` exact)."""
    spec = spec.replace(" ", "")
    if not spec:
        return SpecifierSet()
    parts = []
    for part in spec.split(","):
        if part.startswith("=") and not part.startswith("=="):
            version = part[1:].rstrip(".*")
            parts.append(f"=={version}.*")
        else:
            parts.append(part)
    return SpecifierSet(",".join(parts))


def env_packages(env: dict) -> tuple[dict[str, tuple[str, SpecifierSet]], list[str]]:
    """name -> (source, specifier) for conda and pip entries; plus the pip option lines."""
    packages: dict[str, tuple[str, SpecifierSet]] = {}
    pip_options: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                if line.startswith("-"):
                    pip_options.append(line)
                    continue
                req = Requirement(line)
                packages[canonicalize_name(req.name)] = ("pip", req.specifier)
        else:
            name, version = _CONDA_SPEC.match(str(dep)).groups()
            packages[canonicalize_name(name)] = ("conda", _conda_specifier(version))
    return packages, pip_options


def _lower_bounds(spec: SpecifierSet) -> set[Version]:
    return {Version(s.version) for s in spec if s.operator in (">=", "~=")}


def _exact_pins(spec: SpecifierSet) -> set[str]:
    return {s.version for s in spec if s.operator in ("==", "===")}


def mismatches(required: dict[str, SpecifierSet], packages: dict) -> list[str]:
    """Problems of one environment against pyproject's requirements (empty when consistent)."""
    problems = []
    for name, spec in sorted(required.items()):
        if name not in packages:
            problems.append(f"{name}: missing")
            continue
        _, have = packages[name]
        pins = _exact_pins(have)
        if pins:  # an exact pin must be one that pyproject allows
            bad = [v for v in pins if not v.endswith(".*") and not spec.contains(v)]
            if bad or any(v.endswith(".*") for v in pins):
                problems.append(f"{name}: pin {have} outside pyproject's {spec or 'any'}")
            continue
        if _exact_pins(spec):
            problems.append(f"{name}: pyproject pins {spec}, environment has {have or 'any'}")
        elif _lower_bounds(spec) != _lower_bounds(have):
            problems.append(f"{name}: lower bound {have or 'none'} != pyproject's {spec}")
    return problems


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def envs() -> dict[str, dict]:
    return {kind: yaml.safe_load(path.read_text()) for kind, path in ENVS.items()}


@pytest.mark.parametrize("kind", sorted(ENVS))
def test_env_has_every_runtime_dependency(pyproject, envs, kind):
    packages, _ = env_packages(envs[kind])
    required = runtime_requirements(pyproject)
    assert {"torch", "cebra", "numpy", "cvxpy", "captum"} <= set(required)
    assert mismatches(required, packages) == [], ENVS[kind]


@pytest.mark.parametrize("kind", sorted(ENVS))
def test_env_installs_the_package_and_not_snakemake(envs, kind):
    packages, options = env_packages(envs[kind])
    assert "-e ../../" in options  # cebra_lens_core itself, editable
    deps = [d for d in envs[kind]["dependencies"] if isinstance(d, str)]
    assert any(d.replace(" ", "").startswith("python=3.") for d in deps)
    # torch only from pip: a conda pytorch next to it would be a second copy
    assert packages["torch"][0] == "pip" and "pytorch" not in packages


def test_cpu_env_takes_torch_from_the_cpu_index(envs):
    _, cpu_options = env_packages(envs["cpu"])
    index_options = [o.split() for o in cpu_options if "index-url" in o]
    assert [CPU_INDEX] in [o[1:] for o in index_options], cpu_options
    _, gpu_options = env_packages(envs["gpu"])
    assert not [o for o in gpu_options if CPU_INDEX in o], "the GPU env must not use CPU wheels"


def test_mismatches_catches_missing_and_changed_packages(pyproject, envs):
    required = runtime_requirements(pyproject)
    good = envs["cpu"]
    assert mismatches(required, env_packages(good)[0]) == []

    def variant(edit) -> list[str]:
        env = copy.deepcopy(good)
        edit(env["dependencies"])
        return mismatches(required, env_packages(env)[0])

    def drop(name):
        return lambda deps: deps.remove(next(d for d in deps if str(d).startswith(name)))

    def replace(old, new):
        return lambda deps: deps.__setitem__(deps.index(old), new)

    def edit_pip(old, new):
        def edit(deps):
            pip = next(d for d in deps if isinstance(d, dict))["pip"]
            pip[pip.index(old)] = new

        return edit

    assert variant(drop("scipy")) == ["scipy: missing"]
    assert variant(drop("cvxpy")) == ["cvxpy: missing"]
    assert variant(replace("pandas>=2.0", "pandas>=1.5")) == [
        "pandas: lower bound >=1.5 != pyproject's >=2.0"
    ]
    assert variant(replace("numpy>=1.24", "numpy")) == [
        "numpy: lower bound none != pyproject's >=1.24"
    ]
    assert variant(replace("zarr>=3.0", "zarr>=3")) == []  # same version, other spelling
    assert variant(replace("h5py>=3.8", "h5py==3.11.0")) == []  # an allowed exact pin
    assert variant(replace("h5py>=3.8", "h5py=3.7")) != []  # conda fuzzy pin below the bound
    assert variant(edit_pip("cebra==0.6.1", "cebra>=0.6")) == [
        "cebra: pyproject pins ==0.6.1, environment has >=0.6"
    ]
    assert variant(edit_pip("cebra==0.6.1", "cebra==0.5.0")) == [
        "cebra: pin ==0.5.0 outside pyproject's ==0.6.1"
    ]
    assert variant(edit_pip("captum>=0.7", "captum")) == [
        "captum: lower bound none != pyproject's >=0.7"
    ]
