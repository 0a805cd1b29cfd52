"""Sweep fixtures: a real Dask scheduler and workers started by the test."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from sweep_helpers import PY, ROOT, env, wait_for


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
