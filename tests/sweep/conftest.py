"""Sweep test helpers: small specs over the shipped R1 scenarios, a real Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
STANDIN = "microgrid.sweeps.standin:run_case"


def write_spec(folder: Path, body: str, base: str = "ercot-dallas.yaml") -> Path:
    """A spec file whose base is a shipped scenario (absolute path)."""
    path = folder / "spec.yaml"
    path.write_text(f"name: test\nbase: {ROOT / 'scenarios' / base}\n{body}")
    return path


def records(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "records").glob("*.json")}


def result_dirs(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "cases").iterdir() if not p.name.startswith("."))


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def wait_for(cond, timeout_s: float, what: str, poll_s: float = 0.1):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        v = cond()
        if v:
            return v
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def dask_scheduler_file(tmp_path):
    """A real `dask scheduler` and two single-threaded `dask worker` processes (each with
    a nanny) on loopback, as subprocesses; stopped at the end. Yields (file, workers)."""
    sched_file = tmp_path / "scheduler.json"
    procs = []
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115
    try:
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--dashboard-address",
                    ":0",
                    "--scheduler-file",
                    str(sched_file),
                ],
                cwd=ROOT,
                env=env(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        )
        wait_for(sched_file.exists, 60, "the Dask scheduler file")
        workers = []
        for i in range(2):
            w = subprocess.Popen(
                [
                    PY,
                    "-m",
                    "distributed.cli.dask_worker",
                    "--scheduler-file",
                    str(sched_file),
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--dashboard-address",
                    ":0",
                    "--name",
                    f"w{i}",
                ],
                cwd=ROOT,
                env=env(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            procs.append(w)
            workers.append(w)
        yield sched_file, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()
