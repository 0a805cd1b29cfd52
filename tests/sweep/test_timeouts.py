"""Per-case time limits on a real local process pool: a timed-out case is recorded
`timeout` and leaves nothing behind that another case could trip over; a case whose
sweep has ended writes nothing."""

from __future__ import annotations

import pytest
from case_functions import (
    ending_then_slow_case,
    run_ending_case,
    slow_write_run_case,
    stateful_run_case,
)
from sweep_helpers import check_consistent, three_weeks

from microgrid.sweeps import CasesNotRun, sweep
from microgrid.sweeps.lock import LOCK_NAME, run_is_current, sweep_lock


def test_a_timed_out_case_leaves_its_worker_whole(tmp_path):
    """One worker runs the three cases in turn; the second stops half-way through
    updating module state (as a lazy import does) and is timed out. The third, in the
    same worker, must find the state as it was (it once failed in 0.0 s: "partially
    initialized module")."""
    spec = three_weeks(tmp_path)
    out = tmp_path / "out"
    df = sweep(spec, out, workers=1, timeout_s=1.5, runner=stateful_run_case)
    assert df["status"].tolist() == ["ok", "timeout", "ok"], df["error"].tolist()
    assert df.loc[1, "error"] == "timed out after 1.5 s"
    assert df.loc[1, "wall_s"] < 1.5 + 1.0  # stopped at the limit, not after the sleep
    check_consistent(out, 3)


def test_writing_the_result_counts_against_the_limit(tmp_path):
    """A case whose result takes longer to write than the limit is a timeout (it was
    recorded ok with a wall time past the limit), and leaves no result folder."""
    spec = three_weeks(tmp_path)
    out = tmp_path / "out"
    df = sweep(spec, out, workers=1, timeout_s=1.5, runner=slow_write_run_case)
    assert df["status"].tolist() == ["ok", "timeout", "ok"], df["error"].tolist()
    assert (df.loc[[0, 2], "wall_s"] < 1.5).all()
    recs, _ = check_consistent(out, 3)  # result folders exactly for the ok records
    assert not [p for p in (out / "cases").iterdir() if df.loc[1, "case_id"] in p.name]


def test_a_case_whose_sweep_has_ended_writes_nothing(tmp_path, monkeypatch):
    """After a Ctrl-C, Dask's running cases went on and wrote records and result folders
    into the folder after the sweep had exited and let its lock go. A case now checks
    that the lock still names its run before it writes."""
    spec = three_weeks(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setenv("MICROGRID_TEST_LOCK", str(out / LOCK_NAME))
    with pytest.warns(CasesNotRun):
        df = sweep(spec, out, workers=1, runner=run_ending_case)
    assert df["status"].tolist() == ["ok"]  # the first; the second and third found it over
    assert sorted(p.name for p in (out / "records").iterdir()) == [f"{df.case_id[0]}.json"]
    assert [p.name for p in (out / "cases").iterdir()] == [df.case_id[0]]
    assert (out / LOCK_NAME).read_text() == ""  # a sweep's lock names no run once it ends


def test_a_timed_out_case_whose_sweep_has_ended_writes_nothing(tmp_path, monkeypatch):
    """After a Ctrl-C on Dask a time-limited case went on to its limit, then wrote its
    `timeout` record and removed `cases/<id>`: a later run's result and record."""
    spec = three_weeks(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setenv("MICROGRID_TEST_LOCK", str(out / LOCK_NAME))
    with pytest.warns(CasesNotRun):
        df = sweep(spec, out, workers=1, timeout_s=1.5, runner=ending_then_slow_case)
    assert df["status"].tolist() == ["ok"]
    assert sorted(p.name for p in (out / "records").iterdir()) == [f"{df.case_id[0]}.json"]


def test_the_lock_names_its_run_while_held(tmp_path):
    with sweep_lock(tmp_path, "run-1"):
        assert run_is_current(tmp_path, "run-1") and not run_is_current(tmp_path, "run-2")
    assert not run_is_current(tmp_path, "run-1")
    assert run_is_current(tmp_path / "elsewhere", "run-1")  # a worker without the folder
