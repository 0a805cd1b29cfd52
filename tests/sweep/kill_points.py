"""A sweep case function that SIGKILLs the whole sweep at one chosen point of one case.

For the crash-safety tests (tests/sweep/test_kill_points.py). `run_case` is the stand-in
(`microgrid.sweeps.standin.run_case`); in the case whose battery has
MICROGRID_TEST_KILL_BATTERY_MWH it first arms, in its worker process, a SIGKILL of the
sweep's process group (the parent and every worker, as `kill -9 -PGID` or a container's
out-of-memory killer would) at the point named by MICROGRID_TEST_KILL_AT:

- staged:      the result is written to its staging folder, not yet renamed into cases/
- installed:   cases/<id> is in place, the record not yet written
- record_temp: the record's temp file is written, not yet renamed to records/<id>.json
- recorded:    records/<id>.json is in place, the parent has not seen it

`gated_run_case` holds each case at a gate (MICROGRID_TEST_GATE_DIR) until the test opens
it; `wait_exited` waits until processes have exited.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil
from sweep_helpers import wait_for

import microgrid.sweeps.records as records_mod
import microgrid.sweeps.worker as worker_mod
from microgrid.atomic import atomic_write, json_text
from microgrid.sweeps.standin import run_case as standin_run_case

POINTS = ("staged", "installed", "record_temp", "recorded")
KILL_AT = "MICROGRID_TEST_KILL_AT"
KILL_BATTERY = "MICROGRID_TEST_KILL_BATTERY_MWH"
GATE_DIR = "MICROGRID_TEST_GATE_DIR"


def _kill_sweep() -> None:
    # Only a sweep started in its own session (its parent leads the group) is killed:
    # never the test runner's group.
    if os.getpgrp() != os.getppid():
        raise RuntimeError("kill_points: the sweep does not lead its own process group")
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _arm(point: str) -> None:
    """Patch the worker's steps so that the kill lands at `point` of the current case."""
    replace_dir = records_mod.replace_dir
    write_json = worker_mod.atomic_write_json

    def replace_dir_then(tmp: Path, out: Path) -> None:
        if point == "staged":
            _kill_sweep()
        replace_dir(tmp, out)
        if point == "installed":
            _kill_sweep()

    def write_record(path: Path, obj: Any, indent: int = 1) -> None:
        if point == "record_temp":  # the temp file complete, the rename never done
            atomic_write(path, lambda tmp: (tmp.write_text(json_text(obj, indent)), _kill_sweep()))
        write_json(path, obj, indent)
        if point == "recorded":
            _kill_sweep()

    records_mod.replace_dir = replace_dir_then
    worker_mod.atomic_write_json = write_record


def run_case(scenario: Any) -> Any:
    """The stand-in case; the kill armed first if this is the chosen case."""
    point = os.environ.get(KILL_AT)
    target = os.environ.get(KILL_BATTERY)
    if point and target is not None and float(scenario.battery.energy_mwh) == float(target):
        if point not in POINTS:
            raise ValueError(f"{KILL_AT}={point!r}: expected one of {POINTS}")
        _arm(point)
    return standin_run_case(scenario)


def gated_run_case(scenario: Any) -> Any:
    """The stand-in case, run once the file GATE_DIR/open exists; on entry it writes
    GATE_DIR/entered-<pid> (the worker's process id)."""
    gate = Path(os.environ[GATE_DIR])
    (gate / f"entered-{os.getpid()}").touch()
    while not (gate / "open").exists():
        time.sleep(0.05)  # a fake case waiting for the test, not a synchronisation guess
    return standin_run_case(scenario)


def wait_exited(procs: list[psutil.Process], timeout_s: float) -> None:
    """Wait until every process has exited (a zombie has: it writes nothing any more)."""

    def exited() -> bool:
        for p in procs:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    return False
            except psutil.NoSuchProcess:
                pass
        return True

    wait_for(exited, timeout_s, "the killed sweep's processes to exit")
