"""A sweep SIGKILLed at each step of finishing a case, then re-run: each case done once.

The kill lands deterministically (tests/sweep/kill_points.py patches the worker's steps):
between the staging folder and its rename, between the installed result folder and its
record, between the record's temp file and its rename, and after the record before the
parent saw it. The re-run must leave exactly one record, one table row and one result
folder per case, redo the killed case unless its record was in place, and redo nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
from kill_points import GATE_DIR, KILL_AT, KILL_BATTERY, wait_exited
from kill_points import run_case as kill_points_run_case
from sweep_helpers import (
    PY,
    ROOT,
    check_consistent,
    env,
    records,
    result_dirs,
    three_weeks,
    wait_for,
)

from microgrid.resultdir import MARKER_NAME, marker_text
from microgrid.sweeps import sweep
from microgrid.sweeps.records import remove_orphan_results


def _sweep_cmd(spec: Path, out: Path, workers: int, runner: str) -> list[str]:
    cmd = [PY, "-m", "microgrid.sweeps", "sweep", str(spec), "--out", str(out)]
    return cmd + ["--workers", str(workers), "--runner", f"kill_points:{runner}"]


def _env(**extra: str) -> dict[str, str]:
    """The sweep's environment, with kill_points (and sweep_helpers) importable."""
    e = env()
    paths = [str(Path(__file__).parent), str(ROOT / "tests"), e["PYTHONPATH"]]
    e["PYTHONPATH"] = os.pathsep.join(paths)
    return {**e, **extra}


def _killed_run(tmp_path: Path, point: str) -> tuple[Path, Path]:
    """Run the sweep in its own session with one worker until the kill; (spec, out)."""
    spec = three_weeks(tmp_path)
    out = tmp_path / "out"
    e = _env(**{KILL_AT: point, KILL_BATTERY: "100"})
    cmd = _sweep_cmd(spec, out, 1, "run_case")
    r = subprocess.run(
        cmd, cwd=ROOT, env=e, capture_output=True, text=True, timeout=120, start_new_session=True
    )
    assert r.returncode == -signal.SIGKILL, r.stderr
    return spec, out


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "installed", "recorded"),
    [
        ("staged", False, False),
        ("installed", True, False),
        ("record_temp", True, False),
        ("recorded", True, True),
    ],
)
def test_kill_at_each_step_then_rerun_does_each_case_once(tmp_path, point, installed, recorded):
    spec, out = _killed_run(tmp_path, point)
    c0, c1, c2 = (c["case_id"] for c in json.loads((out / "sweep.json").read_text())["cases"])
    recs1 = records(out)
    # The kill landed where it was meant to: case 0 done, case 1 half-way, case 2 not begun.
    assert sorted(recs1) == ([c0, c1] if recorded else [c0])
    assert recs1[c0]["status"] == "ok"
    assert result_dirs(out) == ([c0, c1] if installed else [c0])
    if point == "staged":
        assert [n for n in _hidden(out / "cases") if n.startswith(f".staging-{c1}-")]
    if point == "record_temp":
        assert [n for n in _hidden(out / "records") if n.startswith(f".{c1}.json.tmp-")]

    log = io.StringIO()
    # the killed run's case function (nothing armed here): a record made with another one
    # would run again (the record keeps its options)
    df = sweep(spec, out, workers=1, runner=kill_points_run_case, progress=log)
    text = log.getvalue()
    assert df["status"].tolist() == ["ok", "ok", "ok"], text
    recs2, _ = check_consistent(out, 3)  # one record, row and result folder per case
    assert _hidden(out / "cases") == [] and _hidden(out / "records") == []
    for k, r in recs1.items():  # what had its record was not done again ...
        assert recs2[k]["run_id"] == r["run_id"]
    redone = sorted(k for k in recs2 if recs2[k]["run_id"] != recs2[c0]["run_id"])
    assert redone == ([c2] if recorded else [c1, c2])  # ... and the rest was, once
    assert f"({len(recs1)} already done)" in text, text
    orphan_note = f"removed result folder(s) without a record (a killed run): {c1}\n"
    assert (orphan_note in text) == (installed and not recorded), text


@pytest.mark.slow
def test_pool_workers_die_with_a_killed_parent(tmp_path):
    """The sweep's process alone SIGKILLed (`kill -9 PID`, the out-of-memory killer): its
    workers die with it; none goes on running its case into the folder, whose lock is
    gone (a re-run may have started there)."""
    spec = three_weeks(tmp_path)
    out, gate = tmp_path / "out", tmp_path / "gate"
    gate.mkdir()
    cmd = _sweep_cmd(spec, out, 2, "gated_run_case")
    e = _env(**{GATE_DIR: str(gate)})
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=e, stdout=log, stderr=log, start_new_session=True
        )
        try:
            wait_for(lambda: len(list(gate.glob("entered-*"))) == 2, 120, "two cases begun")
            pids = [int(p.name.removeprefix("entered-")) for p in gate.glob("entered-*")]
            workers = [psutil.Process(pid) for pid in pids]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            (gate / "open").touch()  # a worker still alive would now finish its case
            wait_exited(workers, 60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert records(out) == {} and result_dirs(out) == []


def test_result_folders_without_an_ok_record_are_removed(tmp_path):
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    for cid in ("a-ok", "b-none", "c-failed", "d-other-id"):
        (out / "cases" / cid).mkdir(parents=True)
        (out / "cases" / cid / "summary.json").write_text("{}")
        (out / "cases" / cid / MARKER_NAME).write_text(marker_text("run"))
    (out / "cases" / ".staging-x").mkdir()  # clean_temp's, not this function's
    (out / "cases" / "notes.txt").write_text("not a result folder")
    # a folder the user put there (no marker): never taken, though it has no record
    (out / "cases" / "photos").mkdir()
    (out / "cases" / "photos" / "a.jpg").write_text("precious")
    (out / "records" / "a-ok.json").write_text('{"case_id": "a-ok", "status": "ok"}')
    (out / "records" / "c-failed.json").write_text('{"case_id": "c-failed", "status": "failed"}')
    (out / "records" / "d-other-id.json").write_text('{"case_id": "a-ok", "status": "ok"}')
    assert remove_orphan_results(out) == ["b-none", "c-failed", "d-other-id"]
    kept = sorted(p.name for p in (out / "cases").iterdir())
    assert kept == [".staging-x", "a-ok", "notes.txt", "photos"]
