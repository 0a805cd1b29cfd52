"""Per-case time limits on a real local process pool: a timed-out case is recorded
`timeout` and leaves nothing behind that another case could trip over."""

from __future__ import annotations

from case_functions import slow_write_run_case, stateful_run_case
from sweep_helpers import check_consistent, write_spec

from microgrid.sweeps import sweep

THREE = """\
axes:
  period.start: ["2023-03-06T00:00"]
  period.end: ["2023-03-13T00:00"]
  battery.energy_mwh: [0, 100, 200]
"""


def test_a_timed_out_case_leaves_its_worker_whole(tmp_path):
    """One worker runs the three cases in turn; the second stops half-way through
    updating module state (as a lazy import does) and is timed out. The third, in the
    same worker, must find the state as it was (it once failed in 0.0 s: "partially
    initialized module")."""
    spec = write_spec(tmp_path, THREE, base="ercot-dallas-2023.yaml")
    out = tmp_path / "out"
    df = sweep(spec, out, workers=1, timeout_s=1.5, runner=stateful_run_case)
    assert df["status"].tolist() == ["ok", "timeout", "ok"], df["error"].tolist()
    assert df.loc[1, "error"] == "timed out after 1.5 s"
    assert df.loc[1, "wall_s"] < 1.5 + 1.0  # stopped at the limit, not after the sleep
    check_consistent(out, 3)


def test_writing_the_result_counts_against_the_limit(tmp_path):
    """A case whose result takes longer to write than the limit is a timeout (it was
    recorded ok with a wall time past the limit), and leaves no result folder."""
    spec = write_spec(tmp_path, THREE, base="ercot-dallas-2023.yaml")
    out = tmp_path / "out"
    df = sweep(spec, out, workers=1, timeout_s=1.5, runner=slow_write_run_case)
    assert df["status"].tolist() == ["ok", "timeout", "ok"], df["error"].tolist()
    assert (df.loc[[0, 2], "wall_s"] < 1.5).all()
    recs, _ = check_consistent(out, 3)  # result folders exactly for the ok records
    assert not [p for p in (out / "cases").iterdir() if df.loc[1, "case_id"] in p.name]
