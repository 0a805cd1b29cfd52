"""Infeasibility diagnosis: re-solve with elastic slacks and name what must give.

``build_model(problem, elastic=True)`` relaxes the import limit, the ramp limit, the SOC
bounds and final SOC, the DR cap, the carbon budget, the network cuts (and, in ``jobs.py``,
job deadlines and unfinished work) with non-negative slacks. The elastic model minimises the
sum of all slacks but the carbon budget's; the non-zero ones (> 1e-6) are grouped into
contiguous step ranges and raised as ``Infeasible(diagnosis)``.

The carbon budget is relaxed first, in a second solve: its slack (t) is not summed with
the others (MW, MWh, h), since an hour of unfinished work would then "cost" as much as a
tonne and the diagnosis would blame the job for what the budget forbids. The first solve
lets emissions be anything; the second keeps the other slacks at the first's total and
minimises the budget's slack, the tonnes by which the least emissions that keep every other
limit exceed the budget (as small as the solver's gap allows). A budget that is the only
reason is so named alone, with how short it is. ``Slack.amount`` is the largest slack over the range
(MW, MWh) or the slack itself for scalar slacks (t, h; a network cut's pu or %).

Its progress lines (a long elastic MIP) are labelled ``PROGRESS_LABEL``, their figures in
``SLACK_UNIT`` (the budget's solve: t), so that they do not read as a plan's cost.
"""

from __future__ import annotations

import highspy
import numpy as np

from optimize.answer_cost import above_reported
from optimize.errors import Infeasible, Slack, SolveError
from optimize.highs import compile_model, load_values, make_highs, run_highs, set_start
from optimize.model import build_model
from optimize.problem import Problem
from optimize.progress import objective_unit, progress_series, series_line
from optimize.solver_options import SolverOptions

SLACK_TOL = 1e-6
#: What the diagnosis's progress lines start with (``optimize.progress``), inside the
#: label of the series solved (``plan: window 3/53: ...``)
PROGRESS_LABEL = "diagnosis (no schedule exists)"
#: The unit of its objective in those lines: MW, MWh and h of slack summed, not USD
SLACK_UNIT = "of slack"


def group_steps(steps: np.ndarray, amounts: np.ndarray) -> list[tuple[list[int], float]]:
    """Split sorted steps into contiguous runs: ``[(steps, max amount), ...]``."""
    out: list[tuple[list[int], float]] = []
    if len(steps) == 0:
        return out
    breaks = np.flatnonzero(np.diff(steps) != 1) + 1
    for idx in np.split(np.arange(len(steps)), breaks):
        out.append(([int(x) for x in steps[idx]], float(amounts[idx].max())))
    return out


def collect_slacks(m) -> list[Slack]:
    result: list[Slack] = []
    for e in m.elastic_slacks:
        if not e.var.is_indexed():
            val = e.var.value or 0.0
            if val > SLACK_TOL:
                steps = [] if e.step is None else [int(e.step)]
                result.append(Slack(e.kind, e.name, steps, float(val), e.unit))
            continue
        items = [(k, v.value or 0.0) for k, v in e.var.items()]
        keys = [k for k, val in items if val > SLACK_TOL]
        if not keys:
            continue
        if all(isinstance(k, (int, np.integer)) for k in keys):
            steps = np.array(keys, dtype=int)
            amounts = np.array([e.var[k].value for k in keys], dtype=float)
            order = np.argsort(steps)
            for run, amount in group_steps(steps[order], amounts[order]):
                result.append(Slack(e.kind, e.name, run, amount, e.unit))
        else:  # indexed by something other than steps: one Slack per index
            for k in keys:
                result.append(Slack(e.kind, f"{e.name}[{k}]", [], float(e.var[k].value), e.unit))
    return result


def diagnose(problem: Problem, options: SolverOptions) -> None:
    """Solve the elastic model and raise ``Infeasible`` with the non-zero slacks (the carbon
    budget's relaxed last: see the module's docstring)."""
    m = build_model(problem, elastic=True)
    cm = compile_model(m)
    h = make_highs(cm, options)
    # its progress lines say whose they are: the sum of slacks is no plan's cost in USD
    with progress_series(series_line(PROGRESS_LABEL)):
        with objective_unit(SLACK_UNIT):
            _run_elastic(h, cm)
        values = np.asarray(h.getSolution().col_value)
        budget = getattr(m, "slack_carbon_budget_t", None)
        if budget is not None:
            with objective_unit("t over the carbon budget"):
                col = cm.column_index()[id(budget)]
                values = _least_budget_slack(h, cm, col, values)
    load_values(m, cm, values)
    slacks = collect_slacks(m)
    if slacks:
        raise Infeasible(slacks)


def _run_elastic(h, cm) -> None:
    res = run_highs(h, cm.integrality is not None)
    if not res.has_solution:
        raise SolveError(f"elastic diagnosis model stopped with status {res.status!r}")


def _least_budget_slack(h, cm, budget_col: int, values: np.ndarray) -> np.ndarray:
    """Re-solve ``h`` (solved: the sum of the other slacks minimised, the budget's free;
    ``values``: that solve's columns) for the least carbon-budget slack (column
    ``budget_col``) with the other slacks' total kept at most what it is now (HiGHS's
    feasibility tolerance, 1e-7, below ``SLACK_TOL``); returns the answer's columns
    (``_budget_answer``)."""
    others = np.flatnonzero(cm.col_cost != 0).astype(np.int32)
    total = float(cm.col_cost[others] @ values[others])
    if len(others):
        h.addRow(-highspy.kHighsInf, total, len(others), others, cm.col_cost[others])
    n = cm.num_col
    costs = np.zeros(n)
    costs[budget_col] = 1.0
    h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
    set_start(h, values)
    _run_elastic(h, cm)
    return _budget_answer(h, cm, budget_col)


def _budget_answer(h, cm, budget_col: int) -> np.ndarray:
    """The columns of the budget's solve on ``h``. HiGHS 1.16 may return its start's
    columns valued below their slack (``optimize.answer_cost``): where the columns' slack
    is above what HiGHS reports, it solves again from no start (``clearSolver`` drops the
    start) and the smaller slack of the two is the answer (the start's columns, a
    feasible answer, where that solve stops without one)."""
    x = np.asarray(h.getSolution().col_value)
    slack_t = float(x[budget_col]) + float(cm.offset)  # the objective: that column alone
    reported_t = float(h.getInfo().objective_function_value)
    if not above_reported(slack_t, reported_t, max(1.0, abs(slack_t))):
        return x
    h.clearSolver()
    if not run_highs(h, cm.integrality is not None).has_solution:
        return x
    y = np.asarray(h.getSolution().col_value)
    return y if y[budget_col] <= x[budget_col] else x
