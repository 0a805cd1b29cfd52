"""Closed-loop co-simulation (mode ``operate``): a forecasting controller against a plant.

One run is a short driver over named steps (``loop.run_loop``): forecast and re-plan when
due (``controller``: a rolling-horizon MILP that sees forecasts (``forecast``), the events
going on now and the plant's state, started from the last plan (``warm_start``)), plant
step (``plant``: the set-points against the actual conditions (``conditions``: weather
and signals with ``operate.events`` injected without warning), deviations balanced by
grid, battery, backup, pausing jobs, unserved energy, within the ramp limit and the
demand-response caps where it can), advance, record (``record``). State is typed
(``state``). ``report`` turns a run into the mode's outputs; ``lines`` runs the AC power
flow of the actual rows with the ``line_out`` events.

See docs/cosimulation.md.
"""

from microgrid.operate.lines import actual_powerflow, check_event_lines
from microgrid.operate.loop import OperateCase, operate_case, run_loop, simulate
from microgrid.operate.record import LimitBreaches, OperateRun
from microgrid.operate.report import (
    add_cosim_outputs,
    balance_residual,
    event_costs,
    forecast_errors,
    planned_vs_actual,
    run_cost,
    run_operate,
)

__all__ = [
    "LimitBreaches",
    "OperateCase",
    "OperateRun",
    "actual_powerflow",
    "add_cosim_outputs",
    "check_event_lines",
    "balance_residual",
    "event_costs",
    "forecast_errors",
    "operate_case",
    "planned_vs_actual",
    "run_cost",
    "run_loop",
    "run_operate",
    "simulate",
]
