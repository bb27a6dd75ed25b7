"""`make test-slurm`: the tiny config through the SLURM profile on a real single-node SLURM.

Installs Debian's SLURM (``slurm-wlm``, ``munge``; with accounting also ``slurmdbd`` and
``mariadb-server``) when missing, writes a one-node cluster on localhost (2 CPUs, one GPU
GRES backed by ``/dev/null`` so slurmd accepts it without a GPU), starts the daemons, and
checks, for a cluster **without** accounting and one **with** it:

1. the README's command (``--workflow-profile workflow/profiles/slurm``, which polls job
   states with ``squeue``) finishes; every job went through ``sbatch``;
2. the GPU rules (train, extract, attribution) were allocated a GPU (``gres/gpu``) and the
   CPU rules were not; their logs name the device they ran on and the CPU fallback;
3. ``summary.csv`` is byte-identical to a local ``--cores 2`` run of the same config;
4. without accounting, ``--slurm-status-command sacct`` stops the run within seconds, naming
   the fix (the executor plugin would otherwise wait forever);
5. drill: a running ``train`` job is killed with ``scancel``; the run retries it (profile
   ``retries: 1``) and its results equal the undisturbed run's. (With ``sacct`` as the status
   command the plugin reads the state ``CANCELLED by 0`` as still running and waits forever:
   why the profile polls ``squeue``.)

Every daemon it started is stopped and the SLURM config files it replaced are restored.
Run as root (it installs packages and starts daemons):

    .venv/bin/python tests/slurm/real_slurm.py [--only no_accounting|accounting] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
GPU_RULES = {"train", "extract", "attribution"}
ETC = Path("/etc/slurm")
CLUSTER = "cebralens"
DB_PASSWORD = "cebra-lens-test"


def log(msg: str) -> None:
    print(f"[test-slurm {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def ensure_packages(accounting: bool) -> None:
    needed = {"slurmctld": "slurm-wlm", "munged": "munge"}
    if accounting:
        needed |= {"slurmdbd": "slurmdbd", "mariadbd": "mariadb-server"}
    missing = sorted({pkg for exe, pkg in needed.items() if not shutil.which(exe)})
    if missing:
        log(f"installing {' '.join(missing)} (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = run(["apt-get", "install", "-y", "-q", *missing], env=env)
        if done.returncode != 0:
            raise SystemExit(f"apt-get install {' '.join(missing)} failed:\n{done.stderr[-2000:]}")


def tiny_config() -> dict:
    sys.path.insert(0, str(REPO))
    from tests.workflow.test_workflow import TINY

    # the GPU rules ask for a GPU and fall back to the CPU here: the log must say so
    return {**TINY, "device": "cuda_if_available"}


class Cluster:
    """A one-node SLURM on this machine; ``stop()`` undoes everything ``start()`` did."""

    def __init__(self, workdir: Path, accounting: bool):
        self.dir = workdir / ("slurm_acct" if accounting else "slurm")
        self.accounting = accounting
        self.host = socket.gethostname()
        self.procs: list[tuple[str, int]] = []  # (name, pid) of daemons we started
        self.saved: dict[Path, bytes | None] = {}

    # -- configuration -------------------------------------------------------------------
    def _write_etc(self, name: str, text: str, mode: int = 0o644) -> None:
        path = ETC / name
        if path not in self.saved:
            self.saved[path] = path.read_bytes() if path.exists() else None
        path.write_text(text)
        path.chmod(mode)

    def _slurm_conf(self) -> str:
        d = self.dir
        acct = (
            "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=localhost\n"
            "JobAcctGatherType=jobacct_gather/linux\n"
            if self.accounting
            else "AccountingStorageType=accounting_storage/none\nJobAcctGatherType=jobacct_gather/none\n"
        )
        return (
            f"ClusterName={CLUSTER}\nSlurmctldHost={self.host}\nAuthType=auth/munge\n"
            "CredType=cred/munge\nProctrackType=proctrack/linuxproc\nReturnToService=2\n"
            f"SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n"
            f"SlurmdSpoolDir={d}/slurmd\nStateSaveLocation={d}/state\n"
            f"SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n"
            "SlurmUser=root\nSchedulerType=sched/backfill\nSelectType=select/cons_tres\n"
            "SelectTypeParameters=CR_Core_Memory\nTaskPlugin=task/none\nGresTypes=gpu\n"
            "MpiDefault=none\nMinJobAge=300\n"
            + acct
            + f"NodeName={self.host} CPUs=2 RealMemory=20000 Gres=gpu:1 State=UNKNOWN\n"
            f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP\n"
        )

    # -- daemons ---------------------------------------------------------------------------
    def _daemon(self, name: str, cmd: list[str]) -> None:
        done = run(cmd)
        if done.returncode != 0:
            raise RuntimeError(f"{name} did not start: {done.stderr[-1500:]}")

    def _pid_of(self, name: str, pidfile: Path | None = None) -> None:
        for _ in range(50):
            if pidfile is not None and pidfile.exists() and pidfile.read_text().strip():
                self.procs.append((name, int(pidfile.read_text().strip())))
                return
            time.sleep(0.2)
        raise RuntimeError(f"{name}: no pid file {pidfile}")

    def start(self) -> None:
        for sub in ("state", "slurmd", "db"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        if run(["pgrep", "-x", "slurmctld"]).stdout.strip():
            raise SystemExit("a slurmctld is already running on this machine; stop it first")
        if not run(["pgrep", "-x", "munged"]).stdout.strip():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            self._daemon("munged", ["su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged"])
            self.procs.append(("munged", int(Path("/run/munge/munged.pid").read_text())))
        self._write_etc("gres.conf", f"NodeName={self.host} Name=gpu Count=1 File=/dev/null\n")
        self._write_etc("slurm.conf", self._slurm_conf())
        if self.accounting:
            self._start_accounting()
        self._daemon("slurmctld", ["/usr/sbin/slurmctld"])
        self._pid_of("slurmctld", self.dir / "slurmctld.pid")
        self._daemon("slurmd", ["/usr/sbin/slurmd"])
        self._pid_of("slurmd", self.dir / "slurmd.pid")
        for _ in range(60):
            state = run(["sinfo", "-h", "-o", "%t"]).stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"the node did not become idle (sinfo: {state!r})")
        version = run(["sinfo", "--version"]).stdout.strip()
        log(f"{version} up on {self.host} ({'with' if self.accounting else 'without'} accounting)")

    def _start_accounting(self) -> None:
        db = self.dir / "db"
        datadir = db / "data"
        sock = db / "mysqld.sock"
        if not (datadir / "mysql").exists():
            done = run(
                [
                    "mariadb-install-db",
                    f"--datadir={datadir}",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                ]
            )
            if done.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed: {done.stderr[-1500:]}")
        proc = subprocess.Popen(
            [
                "/usr/sbin/mariadbd",
                "--user=root",
                f"--datadir={datadir}",
                f"--socket={sock}",
                "--skip-networking=0",
                "--port=3306",
                "--bind-address=127.0.0.1",
                f"--pid-file={db}/mysqld.pid",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(db / "mariadb.log", "w"),
        )
        self.procs.append(("mariadbd", proc.pid))
        for _ in range(100):
            if run(["mariadb", f"--socket={sock}", "-uroot", "-e", "select 1"]).returncode == 0:
                break
            time.sleep(0.2)
        sql = (
            f"CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
        )
        done = run(["mariadb", f"--socket={sock}", "-uroot", "-e", sql])
        if done.returncode != 0:
            raise RuntimeError(f"creating the accounting database user failed: {done.stderr}")
        self._write_etc(
            "slurmdbd.conf",
            "AuthType=auth/munge\nDbdHost=localhost\nSlurmUser=root\n"
            f"PidFile={self.dir}/slurmdbd.pid\nLogFile={self.dir}/slurmdbd.log\n"
            "StorageType=accounting_storage/mysql\nStorageHost=127.0.0.1\nStoragePort=3306\n"
            f"StorageUser=slurm\nStoragePass={DB_PASSWORD}\nStorageLoc=slurm_acct_db\n",
            mode=0o600,
        )
        self._daemon("slurmdbd", ["/usr/sbin/slurmdbd"])
        self._pid_of("slurmdbd", self.dir / "slurmdbd.pid")
        for _ in range(50):
            if run(["sacctmgr", "-n", "list", "cluster"]).returncode == 0:
                break
            time.sleep(0.2)
        for cmd in (
            ["sacctmgr", "-i", "add", "cluster", CLUSTER],
            ["sacctmgr", "-i", "add", "account", "lab"],
            ["sacctmgr", "-i", "add", "user", "root", "account=lab"],
        ):
            run(cmd)

    def stop(self) -> None:
        for _name, pid in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.procs.clear()
        for path, content in self.saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        self.saved.clear()


def snakemake(
    workdir: Path, *args: str, env: dict | None = None, timeout: int = 900, wait: bool = True
):
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(env or {})}
    if not wait:
        return subprocess.Popen(
            cmd,
            cwd=workdir,
            env=full_env,
            stdout=open(workdir / "snakemake.log", "w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=workdir, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    (workdir / "snakemake.log").write_text(done.stdout + done.stderr)
    return done, time.perf_counter() - start


def prepare(workdir: Path, config: dict) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


SLURM_ENV = {
    "CEBRA_LENS_ACCOUNT": "lab",
    "CEBRA_LENS_PARTITION": "debug",
    "CEBRA_LENS_GPU_PARTITION": "debug",
}


def slurm_args(accounting: bool) -> list[str]:
    """The README's command: the profile, which queries job states with squeue."""
    return ["--workflow-profile", str(PROFILE)]


def submitted_jobs(workdir: Path) -> dict[str, str]:
    """SLURM job id -> rule, from the run's log: ``Job N has been submitted with SLURM jobid
    X (log: .../slurm_logs/rule_<rule>/...)`` (the plugin deletes successful jobs' logs)."""
    path = workdir / "snakemake.log"
    text = path.read_text() if path.exists() else ""
    pattern = r"has been submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_([^/]+)/"
    return {job: rule for job, rule in re.findall(pattern, text)}


def check_gpu_requests(jobs: dict[str, str]) -> dict[str, int]:
    """Every job's allocated TRES from slurmctld (``scontrol show job``, kept MinJobAge s)."""
    counts = {"gpu_jobs": 0, "cpu_jobs": 0}
    for job_id, rule in sorted(jobs.items()):
        info = run(["scontrol", "show", "job", "-o", job_id]).stdout
        if not info:
            raise AssertionError(f"slurmctld does not know job {job_id} ({rule})")
        has_gpu = "gres/gpu=1" in info or "gres:gpu:1" in info
        if has_gpu != (rule in GPU_RULES):
            raise AssertionError(f"job {job_id} ({rule}): GPU allocated = {has_gpu}:\n{info}")
        counts["gpu_jobs" if has_gpu else "cpu_jobs"] += 1
    return counts


def check_device_logs(workdir: Path) -> int:
    logs = list((workdir / "logs" / "results" / "train").glob("*.log"))
    for path in logs:
        text = path.read_text()
        if "no GPU is visible to this job (CUDA_VISIBLE_DEVICES=0" not in text:
            raise AssertionError(
                f"{path}: no device line with the GPU SLURM allocated:\n{text[-800:]}"
            )
    if not logs:
        raise AssertionError("no train logs")
    return len(logs)


def scenario(workdir: Path, accounting: bool, local_summary: bytes, report: dict) -> None:
    name = "accounting" if accounting else "no_accounting"
    cluster = Cluster(workdir, accounting)
    out: dict = {}
    try:
        cluster.start()
        out["slurm_version"] = run(["sinfo", "--version"]).stdout.strip()
        if not accounting:
            # asked to poll sacct without accounting: must stop at once, naming the fix
            bad = prepare(workdir / f"{name}_no_status", tiny_config())
            done, secs = snakemake(
                bad,
                *slurm_args(False),
                "--slurm-status-command",
                "sacct",
                env=SLURM_ENV,
                timeout=120,
            )
            text = done.stdout + done.stderr
            assert done.returncode != 0 and "--slurm-status-command squeue" in text, text[-2000:]
            assert not submitted_jobs(bad), "jobs were submitted although status cannot be queried"
            out["no_status_command_fails_after_s"] = round(secs, 1)
            log(f"with sacct on a cluster without accounting the run stops after {secs:.1f} s")
        run_dir = prepare(workdir / name, tiny_config())
        done, secs = snakemake(run_dir, *slurm_args(accounting), env=SLURM_ENV)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        jobs = submitted_jobs(run_dir)
        n_jobs = int(
            re.search(r"(\d+) of \1 steps \(100%\) done", done.stdout + done.stderr).group(1)
        )
        assert len(jobs) == n_jobs - 1, (len(jobs), n_jobs)  # every job but the local `all`
        out |= check_gpu_requests(jobs)
        out["train_logs_with_device_line"] = check_device_logs(run_dir)
        same = (run_dir / "results" / "summary.csv").read_bytes() == local_summary
        assert same, "summary.csv on SLURM differs from the local run"
        out |= {"wall_s": round(secs, 1), "jobs": len(jobs), "summary_identical_to_local": same}
        log(f"{name}: {len(jobs)} jobs via sbatch in {secs:.0f} s; summary.csv identical to local")
        out["drill"] = drill(workdir / f"{name}_drill", accounting, local_summary)
    finally:
        cluster.stop()
    report[name] = out


def drill(workdir: Path, accounting: bool, local_summary: bytes) -> dict:
    """scancel a running train job; the profile's retry reruns it; results unchanged."""
    run_dir = prepare(workdir, tiny_config())
    start = time.perf_counter()
    proc = snakemake(run_dir, *slurm_args(accounting), env=SLURM_ENV, wait=False)
    killed = None
    deadline = time.time() + 600
    while killed is None and time.time() < deadline and proc.poll() is None:
        for line in run(["squeue", "-h", "-o", "%i %T %k"]).stdout.splitlines():
            job_id, state, comment = (line.split(None, 2) + ["", ""])[:3]
            if state == "RUNNING" and comment.startswith("rule_train"):
                time.sleep(2)  # let it work a little
                run(["scancel", job_id])
                killed = job_id
                break
        time.sleep(1)
    rc = proc.wait(timeout=900)
    text = (run_dir / "snakemake.log").read_text()
    assert killed is not None, "no running train job was seen to cancel"
    assert rc == 0, text[-4000:]
    assert (run_dir / "results" / "summary.csv").read_bytes() == local_summary
    log(
        f"drill: train job {killed} cancelled, retried, results identical ({time.perf_counter() - start:.0f} s)"
    )
    return {
        "cancelled_job": killed,
        "wall_s": round(time.perf_counter() - start, 1),
        "summary_identical_to_local": True,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["no_accounting", "accounting"])
    parser.add_argument("--keep", help="keep the run folders here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("make test-slurm installs packages and starts daemons: run it as root")
    kinds = [args.only == "accounting"] if args.only else [False, True]
    ensure_packages(accounting=any(kinds))
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="cebra-lens-slurm-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"working in {workdir}")
    local = prepare(workdir / "local", tiny_config())
    done, local_s = snakemake(local, "--cores", "2")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    local_summary = (local / "results" / "summary.csv").read_bytes()
    log(f"local --cores 2 run: {local_s:.0f} s")
    report: dict = {"local_wall_s": round(local_s, 1)}
    for accounting in kinds:
        scenario(workdir, accounting, local_summary, report)
    out = REPO / "bench" / "slurm.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"passed; {out}:\n{json.dumps(report, indent=2)}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
