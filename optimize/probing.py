"""Probing bound: is any schedule cheaper than a target? One-variable disjunctions on the
LP relaxation with an objective cutoff.

HiGHS's root spends most of a slow week's time in cut separation (path aggregation:
docs/model_jobs.md) and then closes the gap at its first branchings. Those branchings are
cheap to try directly: on ERCOT 2023-08-14 with the demand charge billed for the whole
month, the LP relaxation is 55,060 USD, the schedule found 67,725 USD and the target of a
1 % gap 57,668 USD; fixing ``pretrain-70b`` on or off at one step of its first day lifts
both LPs to 57,998 USD or more, while HiGHS's 460 cuts reach 56,292 USD in 12 s.

Given a schedule of cost ``U`` and a target ``T = U - rel_gap * basis`` (USD), let ``S`` be
the feasible schedules cheaper than ``T``. Starting from the LP relaxation (every integer
column continuous) with no fixings ``F``, for a binary column ``v`` (a job's on/off at one
step) fractional in the LP with ``F``:

- solve the LP with ``F`` and ``v = 0``, and with ``F`` and ``v = 1`` (dual simplex, warm
  from the current basis; HiGHS's ``objective_bound = T`` stops one as soon as its dual
  objective passes ``T``);
- if both pass ``T`` (or are infeasible), ``S`` is empty: no schedule costs less than ``T``;
- if one side passes ``T``, every schedule of ``S`` has ``v`` at the other value: add that
  fixing to ``F``. If the LP with ``F`` passes ``T``, ``S`` is empty.

Each fixing holds for every schedule of ``S``, so the LP with ``F`` is a relaxation of
``S`` and its objective ``z_F`` a lower bound of every schedule in it. Hence the optimum is
at least ``min(T, z_F)``: that is the bound returned, proven or not, and it is never below
the plain LP's. Fixings are not passed on: a schedule at or above ``T`` (the start itself)
may break them.

Candidates: the job on/off columns fractional in the current LP, the largest
``power * min(x, 1 - x)`` first (the MW the relaxation holds between off and on); after a
fixing the LP is re-solved and the candidates ranked again. The probe stops at the proof,
after ``max_probes`` probes, or after ``stall_probes`` probes in a row without a fixing:
counts, not a clock, so the result is the same on every machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from optimize.highs import CompiledModel, make_highs, set_integrality
from optimize.problem import SolverOptions

_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = highspy.HighsModelStatus.kInfeasible
# statuses that put an LP at or above the cutoff: passed it, or no solution at all
_CUT_OFF = (highspy.HighsModelStatus.kObjectiveBound, _INFEASIBLE)
# a column is fractional if it is this far from 0 and 1
_INTEGRAL_TOL = 1e-6


@dataclass(frozen=True)
class ProbeResult:
    """``proven``: no schedule costs less than ``target_usd``; ``bound_usd``: a lower
    bound of the optimum (``target_usd`` when proven); ``probes``, ``fixings``: counts;
    ``seconds``."""

    proven: bool
    bound_usd: float
    target_usd: float
    probes: int
    fixings: int
    seconds: float


class _Relaxation:
    """The LP relaxation of ``cm`` on its own ``Highs`` object, with a cutoff and fixings."""

    def __init__(self, cm: CompiledModel, options: SolverOptions, target_usd: float) -> None:
        self.h = make_highs(cm, options)
        set_integrality(self.h, cm.integer_columns(), False)
        self.h.setOptionValue("presolve", "off")  # warm LPs: nothing to presolve
        self.h.setOptionValue("objective_bound", float(target_usd))
        self.h.setOptionValue("time_limit", float("inf"))  # the probe is bounded by counts
        self.target_usd = float(target_usd)
        self.lower, self.upper = cm.col_lower.copy(), cm.col_upper.copy()

    def solve(self, infeasible_cuts: bool = True) -> float:
        """Solve with the fixings: the objective, or +inf at or above the cutoff (or
        infeasible, if ``infeasible_cuts``), or -inf if not solved."""
        self.h.run()
        status = self.h.getModelStatus()
        if status == _INFEASIBLE and not infeasible_cuts:
            return -np.inf
        if status in _CUT_OFF:
            return np.inf
        z = float(self.h.getInfo().objective_function_value)
        if status != _OPTIMAL:
            return -np.inf  # not solved: proves nothing
        return np.inf if z >= self.target_usd else z

    def side(self, col: int, value: float) -> bool:
        """True if the LP with ``col`` fixed at ``value`` reaches the cutoff."""
        self.h.changeColBounds(col, value, value)
        try:
            return self.solve() == np.inf
        finally:
            self.h.changeColBounds(col, self.lower[col], self.upper[col])

    def fix(self, col: int, value: float) -> float:
        """Fix ``col`` at ``value`` for good and re-solve."""
        self.lower[col] = self.upper[col] = value
        self.h.changeColBounds(col, value, value)
        return self.solve()

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)


def _ranked(x: np.ndarray, cols: np.ndarray, power_mw: np.ndarray, tried: set[int]):
    """The fractional columns of ``cols`` not yet tried, most MW between off and on first."""
    frac = np.minimum(x[cols], 1.0 - x[cols])
    score = np.where(frac > _INTEGRAL_TOL, power_mw * frac, 0.0)
    order = np.argsort(-score, kind="stable")
    return [int(cols[k]) for k in order if score[k] > 0 and int(cols[k]) not in tried]


def probe_bound(
    cm: CompiledModel,
    options: SolverOptions,
    jobs: list,
    target_usd: float,
    *,
    max_probes: int,
    stall_probes: int,
    lp_basis: highspy.HighsBasis | None = None,
) -> ProbeResult:
    """Probe the on/off columns of ``jobs`` (``optimize.price_fix.job_columns`` of the
    model compiled to ``cm``) against ``target_usd``; see the module docstring.
    ``lp_basis``: an optimal basis of the LP relaxation (e.g. price-fix's), to start from."""
    t0 = time.perf_counter()
    on_cols = np.concatenate([jc.on for jc in jobs]).astype(np.int32)
    power_mw = np.concatenate([np.full(len(jc.on), jc.job.full_power_it_mw) for jc in jobs])
    lp = _Relaxation(cm, options, target_usd)
    if lp_basis is not None:
        lp.h.setBasis(lp_basis)
    # the relaxation of a problem with a schedule is feasible: "infeasible" here would be
    # numerical trouble, not a proof
    z = lp.solve(infeasible_cuts=False)
    probes = fixings = stall = 0
    tried: set[int] = set()
    while np.isfinite(z) and probes < max_probes and stall < stall_probes:
        fixed = False
        for col in _ranked(lp.values(), on_cols, power_mw, tried):
            if probes >= max_probes or stall >= stall_probes:
                break
            tried.add(col)
            probes += 1
            off_cut, on_cut = lp.side(col, 0.0), lp.side(col, 1.0)
            if off_cut and on_cut:
                z = np.inf
                break
            if off_cut or on_cut:
                z = lp.fix(col, 1.0 if off_cut else 0.0)
                fixings, stall, fixed = fixings + 1, 0, True
                break  # rank again on the new LP
            stall += 1
        if not fixed:
            break
    proven = z == np.inf
    bound = target_usd if proven else min(target_usd, z)
    return ProbeResult(proven, bound, target_usd, probes, fixings, time.perf_counter() - t0)
