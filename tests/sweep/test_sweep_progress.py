"""The progress lines agree with the records: counts, names, running versus queued."""

from __future__ import annotations

import io
from collections import deque

from sweep_helpers import write_spec

from microgrid.sweeps.progress import Progress
from microgrid.sweeps.records import records_table
from microgrid.sweeps.runner import _log_finished, _MadeWith, _SweepRun
from microgrid.sweeps.spec import load_spec
from microgrid.sweeps.standin import run_case


def _run(tmp_path, log: io.StringIO, slots: int = 1) -> _SweepRun:
    spec = load_spec(write_spec(tmp_path, "axes:\n  battery.energy_mwh: [0, 50, 100, 200]\n"))
    (tmp_path / "out" / "records").mkdir(parents=True)
    prog = Progress(spec.name, len(spec.cases), 0, log)
    made_with = _MadeWith.of(spec, run_case)
    out = tmp_path / "out"
    return _SweepRun(spec, out, None, run_case, {}, deque(), prog, made_with, slots, "run-1")


def _record(case, status="ok") -> dict:
    return {"case_id": case.case_id, "index": case.index, "status": status, "params": {}}


def test_the_last_line_names_exactly_the_cases_without_a_record(tmp_path):
    """After the scheduler was lost it said "4 not run" and named six cases, two of them
    with an ok record (their workers wrote them before the task was lost)."""
    log = io.StringIO()
    run = _run(tmp_path, log)
    c = run.spec.cases
    run.lost_infra += [c[1].case_id, c[2].case_id, c[3].case_id]
    df = records_table([_record(c[0]), _record(c[1])])
    _log_finished(run, df)
    line = log.getvalue().splitlines()[-1]
    assert f"2 ok, 0 failed or timed out, 2 not run ({c[2].case_id}, {c[3].case_id})" in line


def test_cases_queued_behind_busy_workers_are_not_counted_running(tmp_path):
    """On Dask it said "4 running" with 2 worker threads: the others were queued."""
    log = io.StringIO()
    run = _run(tmp_path, log, slots=2)
    c = run.spec.cases
    run.inflight.update({object(): case for case in c[1:]})  # three in flight, two threads
    run.finish(c[0], {**_record(c[0]), "wall_s": 1.0, "run_id": run.run_id})
    assert "; 2 running, 1 waiting;" in log.getvalue()
