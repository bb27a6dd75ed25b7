"""The SLURM profile, run for real against stub SLURM commands.

`sbatch`, `srun`, `sacct`, ... are small stub scripts put first on PATH. They record their
arguments; the sbatch stub runs the job's `--wrap` command synchronously (as if the job had
started and finished at once), so the targets really get built, and `sacct` then reports the
job COMPLETED. Account and partitions are set the documented way, through environment
variables that the profile expands (nothing in the profile is edited).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cebra_lens_core.pipeline.plan import MEMORY_MODEL, memory_request
from tests.workflow.test_workflow import REPO, SNAKEMAKE, run_snakemake, write_config

PROFILE = REPO / "workflow" / "profiles" / "slurm"
DEFAULT_PROFILE = REPO / "workflow" / "profiles" / "default"
ACCOUNT, CPU_PARTITION, GPU_PARTITION = "lab_acct", "all", "gpu_a100"
# `all` on purpose: the profile's quoting must keep it a string (unquoted, Snakemake would
# evaluate it to Python's built-in `all`)

TINY_SLURM = {
    "results_dir": "results",
    "datasets": {
        "hippocampus": {
            "source": "hippocampus",
            "test_fraction": 0.25,
            "params": {"n_neurons": 8, "duration_s": 10.0, "seed": 1},
        }
    },
    "model_defaults": {
        "output_dimension": 3,
        "num_hidden_units": 8,
        "max_iterations": 2,
        "batch_size": 32,
    },
    "models": [
        {
            "name": "mlp",
            "dataset": "hippocampus",
            "architecture": "offset1-model",
            "conditional": "time",
        }
    ],
    "analyses": {"goodness_of_fit": {"num_batches": 1}},
}
# one trained model: dataset (a CPU rule) -> train (a GPU rule), 2 SLURM jobs. Each stub job
# runs a whole nested Snakemake (about 20 s), so the chain is kept to one rule of each kind; the
# GPU flag of every rule is checked against both profiles in test_profiles_cover_every_rule...
TARGETS = ["results/models/mlp.pt"]

# every stub: a shell wrapper (any interpreter path length) around a Python body that first
# appends {"cmd": name, "argv": [...]} to state/calls.jsonl
_WRAPPER = '#!/bin/sh\nexec "{python}" "{body}" "$@"\n'
_RECORD = """import json, os, sys
STATE = {state!r}
with open(os.path.join(STATE, "calls.jsonl"), "a") as f:
    f.write(json.dumps({{"cmd": {name!r}, "argv": sys.argv[1:]}}) + "\\n")
"""

# sbatch: parse the options the plugin passes, run --wrap in -D with the job's environment,
# write the log to --output (%j = job id), record the final state, print the id (--parsable)
_SBATCH = """
import fcntl, subprocess
args = sys.argv[1:]
opts, i = {}, 0
while i < len(args):
    a = args[i]
    if "=" in a and a.startswith("--"):
        key, value = a.split("=", 1)
        opts[key] = value
    elif a in ("--job-name", "--output", "--comment", "-A", "-p", "-t", "--mem",
               "--mem-per-cpu", "-D", "-C", "--clusters"):
        opts[a] = args[i + 1]
        i += 1
    else:
        opts[a] = True
    i += 1
with open(os.path.join(STATE, "jobid"), "a+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.seek(0)
    jobid = int(f.read() or 1000) + 1
    f.seek(0)
    f.truncate()
    f.write(str(jobid))
env = dict(os.environ, SLURM_JOB_ID=str(jobid), SLURM_JOBID=str(jobid))
if "--gpus" in opts:
    env["SLURM_GPUS"] = opts["--gpus"]
log = opts["--output"].replace("%j", str(jobid))
os.makedirs(os.path.dirname(log), exist_ok=True)
with open(log, "w") as out:
    rc = subprocess.run(["/bin/sh", "-c", opts["--wrap"]], cwd=opts.get("-D"), env=env,
                        stdout=out, stderr=subprocess.STDOUT).returncode
with open(os.path.join(STATE, "states"), "a") as f:
    f.write(f"{jobid}|{'COMPLETED' if rc == 0 else 'FAILED'}\\n")
print(jobid)
"""

# srun (inside the job): drop srun's own options, run the command
_SRUN = """
args = sys.argv[1:]
while args and args[0].startswith("-"):
    args.pop(0)
os.execvp(args[0], args)
"""

# sacct / squeue: `<jobid>|<state>` lines for the status query, nothing for other queries
_STATUS = """
states = os.path.join(STATE, "states")
if any("JobIdRaw,State" in a or "%i|%T" in a for a in sys.argv[1:]) and os.path.exists(states):
    sys.stdout.write(open(states).read())
"""

STUBS = {
    "sbatch": _SBATCH,
    "srun": _SRUN,
    "sacct": _STATUS,
    "squeue": _STATUS,
    "sinfo": f"print('PARTITION'); print('{CPU_PARTITION}*'); print('{GPU_PARTITION}')\n",
    "scontrol": "",  # `scontrol show config`: nothing known, the plugin uses its defaults
    "scancel": "",
    "sacctmgr": f"print('{ACCOUNT}')\n",  # the user's accounts (the plugin checks -A against them)
    "sshare": f"print('{ACCOUNT}')\n",
}


def write_stubs(bin_dir: Path, state: Path) -> None:
    bin_dir.mkdir()
    state.mkdir()
    for name, body in STUBS.items():
        script = state / f"{name}.py"
        script.write_text(_RECORD.format(state=str(state), name=name) + body)
        path = bin_dir / name
        path.write_text(_WRAPPER.format(python=sys.executable, body=script))
        path.chmod(0o755)


def read_calls(state: Path, cmd: str) -> list[list[str]]:
    path = state / "calls.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [c["argv"] for c in map(json.loads, lines) if c["cmd"] == cmd]


def option(argv: list[str], name: str) -> str | None:
    """Value of `name VALUE` or `name=VALUE` in an argument list (None when absent)."""
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def profile_rules(profile: Path) -> dict:
    return yaml.safe_load((profile / "config.yaml").read_text())


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    plugin = importlib.import_module("snakemake_executor_plugin_slurm")  # must be installed
    assert plugin.Executor is not None
    tmp = tmp_path_factory.mktemp("slurm")
    workdir, bin_dir, state = tmp / "run", tmp / "bin", tmp / "state"
    workdir.mkdir()
    write_stubs(bin_dir, state)
    cfg = write_config(workdir, TINY_SLURM)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_"))}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
        CEBRA_LENS_ACCOUNT=ACCOUNT,
        CEBRA_LENS_PARTITION=CPU_PARTITION,
        CEBRA_LENS_GPU_PARTITION=GPU_PARTITION,
    )
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--workflow-profile",
        str(PROFILE),
        "--configfile",
        str(cfg),
        # test speed only: poll the stub sacct every second, fail fast
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "1",
        "--latency-wait",
        "5",
        "--retries",
        "0",
        *TARGETS,
    ]
    start = time.monotonic()
    result = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    logs = "\n".join(
        f"--- {p}\n{p.read_text()[-2000:]}" for p in (workdir / ".snakemake").rglob("*.log")
    )
    assert result.returncode == 0, result.stderr[-4000:] + logs[-4000:]
    return workdir, state, result, elapsed


def _by_rule(state: Path) -> dict[str, list[str]]:
    calls = {}
    for argv in read_calls(state, "sbatch"):
        comment = option(argv, "--comment")
        rule = re.match(r"rule_(.+?)(_wildcards_.*)?$", comment).group(1)
        calls[rule] = argv
    return calls


@pytest.mark.workflow
def test_slurm_profile_submits_gpu_and_cpu_jobs(slurm_run):
    workdir, state, result, elapsed = slurm_run
    for target in TARGETS:
        assert (workdir / target).exists(), target
    calls = _by_rule(state)
    assert set(calls) == {"dataset", "train"}, calls.keys()
    resources = profile_rules(PROFILE)["set-resources"]
    # memory scales with the inputs (pipeline.plan.MEMORY_MODEL): ~1-2 GB for this config
    dataset_file = str(workdir / "results" / "datasets" / "hippocampus.npz")
    memory = {
        "dataset": memory_request("dataset")(None, [], 1),
        "train": memory_request("train")(None, [dataset_file], 1),
    }
    assert memory["dataset"] == 1000 and 2000 < memory["train"] < 3000, memory
    for rule, argv in calls.items():
        before_wrap = [a for a in argv if not a.startswith("--wrap")]
        assert option(argv, "-A") == ACCOUNT, (rule, argv)
        assert option(argv, "-t") == str(resources[rule]["runtime"]), (rule, argv)
        assert option(argv, "--mem") == str(memory[rule]), (rule, argv)
        assert option(argv, "--cpus-per-task") == "1", (rule, argv)
        if rule == "train":
            assert option(argv, "--gpus") == "1", (rule, argv)
            assert option(argv, "-p") == GPU_PARTITION, (rule, argv)
        else:
            assert option(argv, "-p") == CPU_PARTITION, (rule, argv)
            assert not [a for a in before_wrap if "gpu" in a.lower() or "gres" in a], (rule, argv)
    # inside the GPU jobs the job step asks srun for the GPU too; CPU job steps do not
    sruns = read_calls(state, "srun")
    assert len(sruns) == 2
    assert sum("--gpus=1" in argv for argv in sruns) == 1
    assert "SLURM run ID" in result.stderr
    print(f"SLURM stub run: {elapsed:.1f} s; sbatch calls:")
    for rule in ("train", "dataset"):
        print(" ".join(a if not a.startswith("--wrap") else "--wrap=..." for a in calls[rule]))


def _workflow_rules(workdir: Path) -> set[str]:
    """Every rule of the default config (all analyses enabled), from `snakemake --list-rules`."""
    out = run_snakemake(workdir, "--list-rules", timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # lines are `rule (docstring)`
    rules = {line.split()[0] for line in out.stdout.splitlines() if line[:1].strip()}
    assert {"train", "extract", "cka", "attribution", "summary"} <= rules, rules
    return rules - {"all"}


def _gpu_rules_in_workflow() -> set[str]:
    """Rules that declare `gpu=1` in workflow/rules/*.smk."""
    gpu = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=rule )", smk.read_text()):
            m = re.match(r"rule (\w+):", block)
            if m and re.search(r"^\s+gpu=1,?\s*$", block, re.MULTILINE):
                gpu.add(m.group(1))
    return gpu


@pytest.mark.workflow
def test_profiles_cover_every_rule_and_gpu_rules(tmp_path):
    gpu_rules = _gpu_rules_in_workflow()
    assert gpu_rules == {"train", "extract", "attribution"}
    slurm = profile_rules(PROFILE)
    assert slurm["executor"] == "slurm"
    assert slurm["set-resource-scopes"] == {"gpu": "local"}
    assert "gpu" not in slurm["default-resources"]
    resources = slurm["set-resources"]
    for rule in _workflow_rules(tmp_path):
        assert rule in resources, f"slurm profile: no set-resources for rule {rule}"
        assert resources[rule]["runtime"] > 0, rule
        assert "mem_mb" not in resources[rule], f"{rule}: memory comes from the rule"
        assert (resources[rule].get("gpu") == 1) == (rule in gpu_rules), rule
    default = profile_rules(DEFAULT_PROFILE)
    assert {r for r, res in default["set-resources"].items() if res.get("gpu") == 1} == gpu_rules
    assert "default-resources" not in default and "executor" not in default
    assert slurm["default-resources"]["mem_mb"] <= 2000
    # every rule of the memory model asks for it in its resources
    declared = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        declared |= set(re.findall(r'mem_mb=memory_request\("(\w+)"\)', smk.read_text()))
    assert declared == set(MEMORY_MODEL)


@pytest.mark.workflow
def test_default_profile_runs_gpu_rules_without_gpu_resource(tmp_path):
    """Locally `gpu` is only a count: without --resources gpu=N, GPU jobs are still scheduled."""
    cfg = write_config(tmp_path, TINY_SLURM)
    result = run_snakemake(tmp_path, "--cores", "1", "--dry-run", "--configfile", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "Using workflow specific profile" in out and "profiles/default" in out
    for rule in ("train", "extract"):
        assert re.search(rf"^{rule}\s+1$", out, re.MULTILINE), out[-3000:]
