"""Case functions for the time-limit tests (module level: the workers import them).

`stateful_run_case` models a library whose module state a case updates in steps (a lazy
import, a cache being filled): the case with 100 MWh of battery stops half-way for 5 s;
a case that finds the state half-updated fails. `slow_write_run_case` is the stand-in
whose result takes 3 s to write in the case with 100 MWh.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from microgrid.sweeps.standin import run_case as standin_run_case

_STATE = {"half_updated": False}
SLOW_MWH = 100.0
SLOW_S = 5.0


def stateful_run_case(scenario: Any) -> Any:
    if _STATE["half_updated"]:
        raise RuntimeError("module state left half-updated by an earlier case")
    if float(scenario.battery.energy_mwh) == SLOW_MWH:
        _STATE["half_updated"] = True
        time.sleep(SLOW_S)  # the time limit strikes here
        _STATE["half_updated"] = False
    return standin_run_case(scenario)


class _SlowWrite:
    def __init__(self, result: Any) -> None:
        self.summary = result.summary
        self._result = result

    def write(self, out_dir: str | Path) -> Path:
        time.sleep(3.0)
        return self._result.write(out_dir)


def slow_write_run_case(scenario: Any) -> Any:
    result = standin_run_case(scenario)
    return _SlowWrite(result) if float(scenario.battery.energy_mwh) == SLOW_MWH else result


def run_ending_case(scenario: Any) -> Any:
    """The stand-in; in the case with 100 MWh the sweep's run ends meanwhile, as at a
    Ctrl-C whose running Dask cases go on: its lock (`MICROGRID_TEST_LOCK`) is emptied."""
    result = standin_run_case(scenario)
    if float(scenario.battery.energy_mwh) == SLOW_MWH:
        Path(os.environ["MICROGRID_TEST_LOCK"]).write_text("")
    return result


def ending_then_slow_case(scenario: Any) -> Any:
    """`run_ending_case` whose 100 MWh case then outlives its time limit: its sweep has
    ended before the limit strikes."""
    if float(scenario.battery.energy_mwh) == SLOW_MWH:
        Path(os.environ["MICROGRID_TEST_LOCK"]).write_text("")
        time.sleep(SLOW_S)
    return standin_run_case(scenario)


def table_seeing_case(scenario: Any) -> Any:
    """The stand-in; the case with 100 MWh first copies the sweep's table as it stands
    (`MICROGRID_TEST_TABLE`: its path, then the copy's) to see what a Ctrl-C would leave."""
    if float(scenario.battery.energy_mwh) == SLOW_MWH:
        table, copy = os.environ["MICROGRID_TEST_TABLE"].split(os.pathsep)
        Path(copy).write_bytes(Path(table).read_bytes())
    return standin_run_case(scenario)
