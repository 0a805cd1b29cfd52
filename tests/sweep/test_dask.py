"""Sweeps on a real Dask scheduler and workers (subprocesses on loopback)."""

from __future__ import annotations

import signal
import threading

import pandas as pd
import psutil
import pytest
from sweep_helpers import (
    MIXED,
    SLOW12,
    check_consistent,
    records,
    result_dirs,
    wait_for,
    write_spec,
)

from microgrid.sweeps import sweep
from microgrid.sweeps.standin import run_case

pytestmark = [pytest.mark.dask, pytest.mark.slow]


def test_dask_failures_retry_and_worker_sigkill(tmp_path, dask_scheduler_file):
    sched_file, worker_procs = dask_scheduler_file
    # 1. Failures and timeouts are recorded; the sweep goes on; a re-run retries them only.
    spec = write_spec(tmp_path, MIXED, base="ercot-dallas-2023.yaml")
    out = tmp_path / "mixed"
    df = sweep(
        spec, out, dask_address=str(sched_file), timeout_s=1.0, runner=run_case, progress=None
    )
    assert df["status"].tolist() == ["ok", "ok", "ok", "failed", "timeout"]
    assert "signals do not cover the period" in df.loc[3, "error"]
    recs, _ = check_consistent(out, 5)
    # Both Dask workers took cases (they are separate processes, not the test's).
    pids = {r["pid"] for r in recs.values()}
    assert len(pids) == 2 and all(p != psutil.Process().pid for p in pids)
    df2 = sweep(
        spec, out, dask_address=str(sched_file), timeout_s=1.0, runner=run_case, progress=None
    )
    recs2, _ = check_consistent(out, 5)
    assert df2["status"].tolist() == df["status"].tolist()
    for k, r in recs2.items():
        assert (r["run_id"] == recs[k]["run_id"]) == (r["status"] == "ok"), k

    # 2. SIGKILL a worker process mid-sweep: Dask reruns its task elsewhere, every case
    #    is recorded exactly once.
    spec12 = write_spec(tmp_path, SLOW12, base="ercot-dallas-2023.yaml")
    out12 = tmp_path / "slow"
    killed = []

    def killer():
        wait_for(lambda: records(out12), 120, "the first record")
        # The worker process is the child of the `dask worker` (nanny) process.
        victim = psutil.Process(worker_procs[0].pid).children(recursive=True)[0]
        killed.append(victim.pid)
        victim.send_signal(signal.SIGKILL)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    df12 = sweep(spec12, out12, dask_address=str(sched_file), runner=run_case, progress=None)
    t.join(5)
    assert killed, "no worker was killed"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    recs12, _ = check_consistent(out12, 12)
    assert (df12["status"] == "ok").all()
    assert len(result_dirs(out12)) == 12
    table = pd.read_parquet(out12 / "cases.parquet")
    assert table["case_id"].is_unique and len(table) == 12
