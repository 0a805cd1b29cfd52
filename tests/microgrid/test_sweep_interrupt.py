"""Ctrl-C on a local sweep (microgrid/sweeps/backends.py, runner.py): a real CLI run in
its own session, SIGINT to its whole process group (what Ctrl-C in a terminal sends) or to
the sweep's process alone.

The cases wait at a gate the test never opens while the sweep runs (`gated_case`), so
what is running when the signal comes is known, not timed: case 0 has finished, cases 1
and 2 run (one per worker), case 3 waits. After the signal the sweep must exit 130 with
its `interrupted` lines and nothing else on stderr (no traceback, no resource-tracker
warning), start no other case, and leave a table that holds exactly the records on disk.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from sweep_helpers import PY, ROOT, env, records, result_dirs, wait_for, write_spec

from microgrid.sweeps import load_spec
from microgrid.sweeps.standin import run_case

GATE_DIR = "MICROGRID_TEST_SWEEP_GATE"
# Four one-week cases, told apart by their battery (MWh): 0 runs at once, the rest wait.
FOUR = """\
axes:
  period.start: ["2023-03-06T00:00"]
  period.end: ["2023-03-13T00:00"]
  battery.energy_mwh: [0, 100, 200, 300]
"""


def gated_case(scenario):
    """The stand-in case (the sweep's --runner); GATE_DIR/started-<MWh> marks its start,
    and a case with a battery waits until GATE_DIR/open exists."""
    gate = Path(os.environ[GATE_DIR])
    mwh = float(scenario.battery.energy_mwh)
    (gate / f"started-{mwh:g}").touch()
    while mwh and not (gate / "open").exists():
        time.sleep(0.02)  # a case held by the test; Ctrl-C lands here
    return run_case(scenario)


def _started(gate: Path) -> set[str]:
    return {p.name.removeprefix("started-") for p in gate.glob("started-*")}


def _importing_worker(pid: int) -> bool:
    """Whether a pool worker of the sweep (`... spawn_main ...`) is importing: numpy is
    loaded (pandas, which the worker imports before it can run a case, is not done)."""
    for p in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):  # gone meanwhile
            if "spawn_main" in " ".join(p.cmdline()) and any(
                "numpy" in m.path for m in p.memory_maps()
            ):
                return True
    return False


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    """`microgrid sweep` (2 workers, `gated_case`) in its own session; (proc, gate, out).
    stderr goes to tmp_path/stderr.txt."""
    spec = write_spec(tmp_path, FOUR, base="ercot-dallas-2023.yaml")
    out, gate = tmp_path / "out", tmp_path / "gate"
    gate.mkdir()
    e = env()
    here = Path(__file__).parent  # this module (gated_case) and sweep_helpers
    e["PYTHONPATH"] = os.pathsep.join([str(here), str(here.parent), e["PYTHONPATH"]])
    e[GATE_DIR] = str(gate)
    cmd = [PY, "-m", "microgrid.cli", "sweep", str(spec), "--out", str(out)]
    cmd += ["--workers", "2", "--runner", f"{Path(__file__).stem}:gated_case"]
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=e, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
    return proc, gate, out


def _stderr_lines(tmp_path: Path) -> list[str]:
    return (tmp_path / "stderr.txt").read_text().splitlines()


def _wait_running(proc: subprocess.Popen, cond, what: str, tmp_path: Path) -> None:
    """Wait for `cond` while the sweep runs (fail at once if it ended)."""
    wait_for(lambda: proc.poll() is not None or cond(), 120, what, 0.01)
    assert proc.poll() is None, _stderr_lines(tmp_path)


def _finish(proc: subprocess.Popen, gate: Path, tmp_path: Path) -> int:
    """After the SIGINT: wait until the sweep has exited, said `interrupted`, or started
    a case it should not have; then open the gate (a case still running, or started
    after the signal, now finishes and shows up) and wait for the exit code."""

    def settled() -> bool:
        late = len(_started(gate)) > 3
        return proc.poll() is not None or "interrupted" in _stderr_lines(tmp_path) or late

    try:
        wait_for(settled, 120, "the interrupted sweep to stop")
        (gate / "open").touch()
        return proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _assert_clean_interrupt(tmp_path: Path, code: int) -> None:
    """Exit 130, and stderr holds the progress lines and `interrupted` only."""
    lines = _stderr_lines(tmp_path)
    assert code == 130, lines
    assert "[sweep test] interrupted: cases without a record run again next time" in lines
    assert [line for line in lines if not line.startswith("[sweep test] ")] == ["interrupted"]


def _assert_table_is_the_records(out: Path) -> dict[str, dict]:
    recs = records(out)
    table = pd.read_parquet(out / "cases.parquet")
    assert sorted(table["case_id"]) == sorted(recs)
    assert result_dirs(out) == sorted(k for k, r in recs.items() if r["status"] == "ok")
    return recs


@pytest.mark.slow
@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "parent-alone"])
def test_interrupt_stops_the_running_cases_and_starts_no_other(tmp_path, to_group):
    proc, gate, out = _start_sweep(tmp_path)
    ids = {
        f"{c.params['battery.energy_mwh']:g}": c.case_id
        for c in load_spec(out.parent / "spec.yaml").cases
    }
    try:
        # case 0 done, cases 1 and 2 held at the gate, one per worker; case 3 not begun
        _wait_running(proc, lambda: _started(gate) == {"0", "100", "200"}, "2 held", tmp_path)
        _wait_running(proc, lambda: ids["0"] in records(out), "case 0's record", tmp_path)
        (os.killpg if to_group else os.kill)(proc.pid, signal.SIGINT)
    finally:
        code = _finish(proc, gate, tmp_path)
    _assert_clean_interrupt(tmp_path, code)
    assert _started(gate) == {"0", "100", "200"}  # no case started after the interrupt
    assert set(_assert_table_is_the_records(out)) == {ids["0"]}  # none finished after it


@pytest.mark.slow
def test_ctrl_c_while_the_workers_start_is_clean(tmp_path):
    """Ctrl-C while a pool worker imports (numpy loaded, pandas not yet: a fraction of a
    second before it could run a case): no traceback from a worker or the pool."""
    proc, gate, out = _start_sweep(tmp_path)
    try:
        _wait_running(proc, lambda: _importing_worker(proc.pid), "a worker importing", tmp_path)
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        code = _finish(proc, gate, tmp_path)
    _assert_clean_interrupt(tmp_path, code)
    _assert_table_is_the_records(out)
