"""A real one-node Slurm cluster on this machine, for tests (pytest fixture `slurm_cluster`).

Starts its own `munged` (fresh key, private socket), `slurmctld` and `slurmd` with a
slurm.conf in a temporary folder, waits until `sinfo` shows the node idle, yields a
`SlurmCluster` (its `env` has `SLURM_CONF` set for client commands), then cancels every job
and stops the daemons it started, by PID, even when the test fails.

Needs Debian's `slurm-wlm` and `munge` (`apt-get install -y slurm-wlm munge`) and root
(`SlurmUser=root`); skips with the reason otherwise. The node has no GPUs: export with
`request_gpus=False`.

Run `python tests/slurm_cluster.py` to start the cluster by hand and print its SLURM_CONF.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")
PARTITION = "mgtest"
START_TIMEOUT_S = 30.0


@dataclass
class SlurmCluster:
    root: Path
    conf: Path
    node: str
    partition: str
    env: dict[str, str]
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def run(
        self, *argv: str, check: bool = True, tz: str | None = None
    ) -> subprocess.CompletedProcess:
        """A Slurm client command against this cluster; stdout and stderr as text. `tz`
        sets the zone the client shows and reads times in."""
        env = self.env if tz is None else {**self.env, "TZ": tz}
        return subprocess.run(
            list(argv), env=env, capture_output=True, text=True, check=check, timeout=30
        )

    def show_job(self, job_id: str, tz: str = "UTC") -> dict[str, str]:
        """`scontrol show job -o` as a dict of its KEY=VALUE fields, times shown in `tz`."""
        out = self.run("scontrol", "show", "job", "-o", job_id, tz=tz).stdout.strip()
        fields: dict[str, str] = {}
        key = None
        for token in out.split(" "):
            if "=" in token:
                key, _, value = token.partition("=")
                fields[key] = value
            elif key is not None:  # a value with spaces (e.g. Command, Reason)
                fields[key] += " " + token
        return fields

    def logs(self) -> str:
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            p = self.root / name
            if p.exists():
                parts.append(f"== {name}\n" + p.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def missing_reason() -> str | None:
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return (
            f"Slurm/munge not installed (missing {', '.join(missing)}); "
            "apt-get install -y slurm-wlm munge"
        )
    if os.geteuid() != 0:
        return "the test Slurm cluster runs its daemons as root (SlurmUser=root)"
    return None


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _real_memory_mb() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return max(1, int(line.split()[1]) // 1024 - 256)
    return 1024


def _sbin(name: str) -> str:
    path = shutil.which(name)
    assert path is not None
    return path


def _write_conf(root: Path, node: str, cpus: int, mem_mb: int, ports: list[int]) -> Path:
    for d in ("state", "spool", "run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    plugstack = root / "plugstack.conf"
    plugstack.write_text("")  # do not load the system's SPANK plugins
    conf = root / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                "ClusterName=mgtest",
                f"SlurmctldHost={node}(127.0.0.1)",
                "SlurmUser=root",
                "SlurmdUser=root",
                f"SlurmctldPort={ports[0]}",
                f"SlurmdPort={ports[1]}",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                f"AuthInfo=socket={root / 'munge.socket'}",
                f"StateSaveLocation={root / 'state'}",
                f"SlurmdSpoolDir={root / 'spool'}",
                f"SlurmctldPidFile={root / 'run' / 'slurmctld.pid'}",
                f"SlurmdPidFile={root / 'run' / 'slurmd.pid'}",
                f"SlurmctldLogFile={root / 'slurmctld.log'}",
                f"SlurmdLogFile={root / 'slurmd.log'}",
                f"PlugStackConfig={plugstack}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "SchedulerType=sched/backfill",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "JobCompType=jobcomp/none",
                "MpiDefault=none",
                "ReturnToService=2",
                "SlurmctldTimeout=30",
                "SlurmdTimeout=30",
                "SlurmctldDebug=info",
                "SlurmdDebug=info",
                f"NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN",
                f"PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )
    )
    return conf


def _stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@contextlib.contextmanager
def start_cluster() -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd; stop them (by PID) on exit."""
    root = Path(tempfile.mkdtemp(prefix="mg-slurm-"))
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True).stdout.strip()
    cpus = os.cpu_count() or 1
    conf = _write_conf(root, node, cpus, _real_memory_mb(), _free_ports(2))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    cluster = SlurmCluster(root=root, conf=conf, node=node, partition=PARTITION, env=env)
    try:
        key = root / "munge.key"
        subprocess.run(
            ["mungekey", "--create", f"--keyfile={key}", "--bits=1024"],
            check=True,
            capture_output=True,
        )
        key.chmod(0o600)
        cluster.procs["munged"] = subprocess.Popen(
            [
                _sbin("munged"),
                "--foreground",
                "--force",
                f"--socket={root / 'munge.socket'}",
                f"--key-file={key}",
                f"--pid-file={root / 'run' / 'munged.pid'}",
                f"--log-file={root / 'munged.log'}",
                f"--seed-file={root / 'munged.seed'}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _wait_for(lambda: (root / "munge.socket").exists(), "munged socket", cluster)
        for daemon in ("slurmctld", "slurmd"):
            argv = [_sbin(daemon), "-D", "-f", str(conf)]
            if daemon == "slurmctld":
                argv.append("-c")  # clear state: start without jobs from a previous run
            cluster.procs[daemon] = subprocess.Popen(
                argv,
                stdout=open(root / f"{daemon}.out", "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                env=env,
            )
        _wait_for(lambda: _node_idle(cluster), "node idle in sinfo", cluster)
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            if cluster.procs.get("slurmctld") and cluster.procs["slurmctld"].poll() is None:
                cluster.run("scancel", "--partition", PARTITION, "--full", check=False)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = cluster.procs.get(name)
            if proc is not None:
                _stop(proc)
        if os.environ.get("MG_KEEP_SLURM_DIR") != "1":
            shutil.rmtree(root, ignore_errors=True)


def _node_idle(cluster: SlurmCluster) -> bool:
    for name, proc in cluster.procs.items():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}\n{cluster.logs()}")
    r = cluster.run("sinfo", "-h", "-N", "-o", "%N %t", check=False)
    return r.returncode == 0 and any(
        line.split()[1:] == ["idle"] for line in r.stdout.splitlines() if line.strip()
    )


def _wait_for(cond, what: str, cluster: SlurmCluster) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}\n{cluster.logs()}")


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with start_cluster() as cluster:
        yield cluster


if __name__ == "__main__":  # pragma: no cover - manual use
    with start_cluster() as c:
        print(f"export SLURM_CONF={c.conf}")
        print(c.run("sinfo").stdout)
        with contextlib.suppress(KeyboardInterrupt):
            input("cluster running; press Enter to stop\n")
