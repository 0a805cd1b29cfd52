"""The answer's objective is its columns' cost: a check of what HiGHS reports for a MIP.

HiGHS 1.16 maps a MIP start into its presolved model, and on some models values it there
below its cost. Its log says both: "MIP start solution is feasible: objective value is
3930.24", then "... feasible in the reduced space: objective value is 3830.24". It takes
the lower value as its incumbent's, and a run that finds nothing cheaper returns the
start's columns with that objective. So a step of the solve could report a schedule
cheaper than it is: on a day with negative prices the edge search took the start itself
as a cheaper schedule, and the answer said 3,830.24 USD, "optimal" within 1 %, for a
schedule costing 3,930.24 USD, 2.6 % above the optimum; on another case HiGHS's MILP
from the start reported 9,638.66 USD, below the bound the LP had proven, for a schedule
of 10,743.85 USD (an outside audit, 2026-12-07; tests/optimize/test_answer_cost.py).

The bounds stay valid: HiGHS prunes a node whose bound reaches its incumbent's value, and
a schedule cheaper than that value is never pruned, so its dual bound is at most the
optimum whatever that value was; the probes' bounds hold for their cutoffs whatever
schedule set them. Only the objective and what it proves are wrong. ``checked_answer``
values the answer's columns; where they cost more than reported, it solves the model
again by HiGHS from no start (plain HiGHS, which meets no start to misvalue) and keeps
the cheaper of the two schedules at its own cost, with the higher of the two bounds
(method ``price-fix``: the heuristic's schedule at its cost, its gap and status stated
again). An answer whose objective is its cost, every answer but these, is left as it is.
"""

from __future__ import annotations

import numpy as np

from optimize.highs import (
    CompiledModel,
    HighsResult,
    gap_basis_usd,
    highest_bound,
    make_highs,
    relative_gap,
    run_highs,
)
from optimize.solver_options import SolverOptions

# an objective further than this share of the answer's gap basis from its columns' cost
# is not theirs (HiGHS's objective is the same sum, to round-off)
COST_REL_TOL = 1e-7


def columns_cost_usd(cm: CompiledModel, values) -> float:
    """The objective of the columns ``values`` (USD): the cost vector's sum and the
    model's constant."""
    return float(np.dot(cm.col_cost, np.asarray(values, dtype=float))) + float(cm.offset)


def above_reported(cost: float, reported: float, scale: float) -> bool:
    """Whether the columns' ``cost`` lies above the objective HiGHS ``reported`` for them by
    more than ``COST_REL_TOL`` of ``scale`` (the objective's magnitude): a misvalued start
    (module docstring), not round-off."""
    return cost > reported + COST_REL_TOL * scale


def cost_above_reported_usd(cm: CompiledModel, values, reported_usd: float) -> float | None:
    """The cost of the columns ``values`` where it lies above the objective HiGHS reported
    for them (``above_reported``, scaled by their gap basis); None where the reported
    objective is theirs."""
    cost = columns_cost_usd(cm, values)
    if above_reported(cost, reported_usd, gap_basis_usd(cm, values, cost)):
        return cost
    return None


def checked_answer(
    h, cm: CompiledModel, options: SolverOptions, res: HighsResult, values
) -> tuple[HighsResult, np.ndarray | None]:
    """The answer ``res`` of the MILP in ``h`` (columns ``values``, or ``h``'s solution
    where None) with its objective its columns' cost (module docstring); returns the
    answer and its columns (None: ``h``'s solution, as given)."""
    if cm.integrality is None or not res.has_solution:
        return res, values
    x = np.asarray(h.getSolution().col_value if values is None else values, dtype=float)
    cost = cost_above_reported_usd(cm, x, res.objective)
    if cost is None:
        return res, values
    if options.method != "milp":
        return restated(cm, options, x, cost, res.bound, "heuristic", res.solve_s), x
    plain = make_highs(cm, options)
    again = run_highs(plain, True, cm)
    bound = highest_bound(res.bound, again.bound if again.has_solution else None)
    stop = again.status if again.status in ("node_limit", "time_limit") else "heuristic"
    if again.has_solution:
        y = np.asarray(plain.getSolution().col_value, dtype=float)
        y_cost = columns_cost_usd(cm, y)
        if y_cost <= cost:
            x, cost = y, y_cost
    return restated(cm, options, x, cost, bound, stop, res.solve_s + again.solve_s), x


def restated(
    cm: CompiledModel,
    options: SolverOptions,
    values: np.ndarray,
    cost_usd: float,
    bound_usd: float | None,
    stop: str,
    solve_s: float,
) -> HighsResult:
    """The answer of the columns ``values`` at their cost ``cost_usd`` with the proven
    bound ``bound_usd``: the gap against the columns' basis, and "optimal" within
    ``mip_rel_gap``, else ``stop`` (the stop that left it unproven)."""
    basis = gap_basis_usd(cm, values, cost_usd)
    gap = relative_gap(cost_usd, bound_usd, basis)
    status = "optimal" if gap <= options.mip_rel_gap else stop
    out = HighsResult(status, cost_usd, gap, True, solve_s, bound_usd)
    out.gap_basis = basis
    return out
