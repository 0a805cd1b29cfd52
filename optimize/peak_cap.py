"""Peak-capped restart: price-fix again with every demand charge's peak held at the LP's.

Price-fix (``optimize.price_fix``) fixes one job at a time from the duals of an LP. The LP
relaxation runs the big jobs "partly on" below their minimum power and holds the import
flat; a job fixed fully on raises the month's peak, and the next LP prices the raised peak
as paid for. On B5's slow full-month weeks the start's peak sits 0.5-7 MW above the LP's,
and that is most of its gap (docs/model_jobs_history.md).

The restart runs price-fix again with each peak column capped at its value in the LP
relaxation (``fixing_caps``): every fixing LP then prices the headroom under the cap, so
the jobs are placed around each other. A job whose pattern cannot fit under the cap is
freed (price-fix's rule for an infeasible fixing) and left to price-fix's final MILP,
which runs with the caps lifted and places it around the others (its root only:
``FINAL_NODES``). Only column bounds change, and they are lifted before the final MILP,
so the schedule is feasible in the full model. The caller keeps the cheaper of the
restart's schedule and its own.

Where the demand charges are much of the bill (``quick_placement_wanted``), the restart
also runs with such a job placed by price-fix itself, with the caps lifted, beside the
jobs fixed under them (``price_fix``'s ``place_unfitted``: a few warm LPs), and keeps
the cheaper schedule. Neither placement is the cheaper on every week: on B5's full month
the quick one gave cheaper schedules on CAISO 2023-08-14 and 09-11 and ERCOT 2023-10-09;
on ERCOT 2023-12-04 the final MILP's root came 11 % below price-fix's start and the quick
placement not below it, and alone in its place it took B2's window #1 from 4.7 to 12.0 s
(docs/model_jobs_history.md, thirty-eighth session).

A second restart caps each peak midway between the LP's and the start's
(``midway_caps``). Under the LP's peak the big jobs often do not fit and go to the final
MILP's root, whose placement varies from week to week; midway, more of them are fixed
under the cap. Neither cap gives the cheaper schedule on every week, so where the demand
charges are a large share of the bill (``midway_wanted``) the caller runs both and keeps
the cheapest (``docs/model_jobs_history.md``, twenty-fifth session).

The first restart's final MILP stops at its first incumbent cheaper than the start and
within twice the solve's gap of its own dual bound (``restart_enough``). Its root's
sub-MIP heuristics went on for 3-6 s past the last schedule they found on B5's slow
full-month weeks (ERCOT 2023-01-02: 8.3 s of root, its schedule at 5.0 s; 2023-12-04:
10.5 s, its schedule at 4.9 s), and the schedule kept was that one. The second restart
runs its root to the end: stopped early, its schedule on ERCOT 2023-10-09 (full month)
led HiGHS's 1,000 nodes to a 0.5 % dearer answer (twenty-sixth session).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import highspy
import numpy as np

from optimize.highs import cheaper, gap_basis_usd
from optimize.price_fix import PriceFixResult, price_fix
from optimize.solver_options import SolverOptions

# branch-and-bound nodes of the restart's final MILP (its root only): with the caps lifted
# it places the jobs that did not fit under them, a MILP as hard as the week's where many
# did not (B5's full-month ERCOT 2023-10-02: 6 jobs, 973 nodes, 99 s to its gap; CAISO
# 2023-07-03: 1 job, 1,000 nodes, 46 s). The restart is a start, not an answer: what its
# root finds is kept, and the search after it (optimize.solving) does the rest
FINAL_NODES = 1
# HiGHS's own default: what a fresh Highs holds (optimize.highs sets no other)
_PRIMAL_TOLERANCE = highspy.HighsOptions().primal_feasibility_tolerance
# the second restart's caps: this share of the way from the LP relaxation's peak to the
# start's (B5's full month, one thread: ERCOT 2023-12-04 from the node limit at 1.33 % to
# 1 % in 19 s, CAISO 2023-06-19 42 -> 17 s; docs/model_jobs_history.md)
MIDWAY_SHARE = 0.5
# it runs only where the demand charges are at least this share of the start's gross
# cost: there the peak decides the bill, and the second cap paid on B5's full month
# (demand charges 47-57 % of the gross cost; 39 weeks in 249 s against 276 s, five
# cheaper, one dearer). Pro-rated to the week (26-30 %) it cost time and changed one
# schedule (156 weeks: 155 -> 153 within 10 s; docs/model_jobs_history.md, twenty-fifth
# session)
MIDWAY_DEMAND_SHARE = 0.4
# the first restart's final MILP stops at its first incumbent cheaper than the start and
# within this many times the solve's gap of its own dual bound (restart_enough; module
# docstring). B5's full month, 39 weeks, 2 threads: 254.0 -> 231.5 s of solve, 33 -> 34
# within 10 s, every objective the same (docs/model_jobs_history.md, twenty-sixth session)
ENOUGH_GAPS = 2.0


def peak_columns(m, cm) -> np.ndarray:
    """The HiGHS columns of the model's demand-charge peaks (MW; none without a charge)."""
    if not hasattr(m, "grid_peak_import_mw"):
        return np.zeros(0, dtype=np.int32)
    col = cm.column_index()
    cols = [col.get(id(v), -1) for v in m.grid_peak_import_mw.values()]
    return np.array([c for c in cols if c >= 0], dtype=np.int32)


def restart_wanted(options: SolverOptions, pf: PriceFixResult, gap: float | None) -> bool:
    """Whether the start ``pf`` (its proven ``gap``; None without a schedule or a bound)
    meets the restart: the restart on, the LP's values to cap at, and the start not proven
    within ``mip_rel_gap`` (``optimize.restart_chain.restarted``; with two threads
    ``optimize.restart_ahead`` starts it early by the same rule)."""
    if not options.peak_cap_restart or gap is None or pf.lp_values is None:
        return False
    return gap > options.mip_rel_gap


def restart_enough(options: SolverOptions, pf: PriceFixResult) -> tuple[float, float] | None:
    """When the first restart's final MILP has done enough (``capped_restart``'s
    ``enough``): at its first incumbent cheaper than price-fix's start ``pf`` and within
    ``ENOUGH_GAPS`` x ``mip_rel_gap`` of its own dual bound. None without a start. The
    start is price-fix's, not the edge-searched one, so that a restart run ahead on a
    second thread (before the search ends) stops where one thread's does."""
    if pf.objective_usd is None:
        return None
    return float(pf.objective_usd), ENOUGH_GAPS * options.mip_rel_gap


def midway_wanted(m, cm, start_values: np.ndarray, objective_usd: float) -> bool:
    """Whether the start (column values and cost) pays demand charges of at least
    ``MIDWAY_DEMAND_SHARE`` of its gross cost (``optimize.highs.gap_basis_usd``): the
    second restart's rule."""
    cols = peak_columns(m, cm)
    if not len(cols):
        return False
    demand_usd = float(cm.col_cost[cols] @ np.asarray(start_values, dtype=float)[cols])
    return demand_usd >= MIDWAY_DEMAND_SHARE * gap_basis_usd(cm, start_values, objective_usd)


def quick_placement_wanted(m, cm, pf: PriceFixResult) -> bool:
    """Whether the restarts also place the jobs that do not fit under the caps with the
    caps lifted (``capped_restart``'s ``quick_too``): where price-fix's start ``pf`` pays
    demand charges of at least ``MIDWAY_DEMAND_SHARE`` of its gross cost
    (``midway_wanted``). Price-fix's start, not the edge-searched one, so that a restart
    run ahead on a second thread decides the same."""
    if pf.values is None or pf.objective_usd is None:
        return False
    return midway_wanted(m, cm, pf.values, pf.objective_usd)


def midway_caps(m, cm, lp_values: np.ndarray, start_values: np.ndarray) -> np.ndarray:
    """The LP relaxation's column values ``lp_values`` with each demand-charge peak moved
    ``MIDWAY_SHARE`` of the way to its value in the start ``start_values`` (MW): the caps
    of the second restart, as ``capped_restart``'s ``cap_values``."""
    values = np.array(lp_values, dtype=float)
    cols = peak_columns(m, cm)
    start = np.asarray(start_values, dtype=float)[cols]
    values[cols] += MIDWAY_SHARE * (start - values[cols])
    return values


def capped_restart(
    h,
    cm,
    m,
    cap_values: np.ndarray,
    time_limit_s: float | None = None,
    stop: threading.Event | None = None,
    lp_basis=None,
    enough: tuple[float, float] | None = None,
    quick_too: bool = False,
) -> PriceFixResult:
    """Price-fix on ``h`` with the peak columns capped at their values in ``cap_values``
    (the LP relaxation's column values, or ``midway_caps``) while the jobs are fixed; see
    the module docstring.
    ``time_limit_s``: price-fix's (None: none); ``stop``: price-fix's. ``lp_basis``: the
    LP relaxation's optimal basis (``PriceFixResult.lp_basis``), from which price-fix's
    first LP, that same LP, starts on a cleared solver: the restart then begins at the
    same point whatever ran on ``h`` before it (a second thread's ``Highs``:
    ``optimize.restart_ahead``, or the caller's after the edge search and the pair moves),
    so one thread and two give the same restart.
    ``enough``: when its final MILP stops early (``restart_enough``; price-fix's
    ``final_enough``); None: at the end of its root.
    ``quick_too``: the restart also runs with the jobs that do not fit under the caps
    placed by price-fix with the caps lifted (``place_unfitted``), and returns the cheaper
    of the two schedules (a tie: the final MILP's).
    Returns its schedule (``values`` None if none, or without a peak to cap), with no
    bound of its own, and its seconds."""
    t0 = time.perf_counter()
    if not len(peak_columns(m, cm)):
        return PriceFixResult(None, None, None, time.perf_counter() - t0)
    run = dict(time_limit_s=time_limit_s, stop=stop, lp_basis=lp_basis, enough=enough)
    plain = capped_run(h, cm, m, cap_values, place_unfitted=False, **run)
    quick = functools.partial(capped_run, h, cm, m, cap_values, place_unfitted=True, **run)
    res = placement_answer(plain, quick if quick_too else None)
    return PriceFixResult(res.values, res.objective_usd, None, time.perf_counter() - t0)


def quick_needed(plain: PriceFixResult) -> bool:
    """Whether the quick placement may differ from the run ``plain`` under the same caps:
    only where a job did not fit under them. Where every job fitted it has nothing to
    place, and its run would repeat that one to the last digit."""
    return bool(plain.unfixed)


def placement_answer(
    plain: PriceFixResult, quick: Callable[[], PriceFixResult] | None
) -> PriceFixResult:
    """A restart's schedule from its plain run ``plain`` and, where the restarts place
    quickly, ``quick`` (what gives the quick run under the same caps; None: none): the quick
    run's schedule only where it is needed (``quick_needed``, else it is not asked for) and
    ``cheaper``; a tie is the plain run's (the final MILP's). One rule for one thread
    (``capped_restart``) and two (``optimize.restart_ahead``)."""
    if quick is None or not quick_needed(plain):
        return plain
    other = quick()
    if other.objective_usd is not None and (
        plain.objective_usd is None or cheaper(other.objective_usd, than_usd=plain.objective_usd)
    ):
        return other
    return plain


def capped_run(
    h, cm, m, cap_values: np.ndarray, place_unfitted: bool, time_limit_s, stop, lp_basis, enough
) -> PriceFixResult:
    """One price-fix run of ``capped_restart`` with the peak columns capped at their values
    in ``cap_values``; ``place_unfitted``: the quick placement (price-fix's). From the LP's
    basis ``lp_basis`` it starts on a cleared solver: the same run on any ``Highs``
    holding the model (``optimize.restart_ahead`` runs it on either of two)."""
    cols = peak_columns(m, cm)
    caps = (cols, np.asarray(cap_values)[cols])
    if lp_basis is not None:
        # HiGHS keeps more of its runs than the basis: after price-fix and the pair moves
        # it steered a restart from the same basis to another schedule (a random day, and
        # full-month CAISO 2023-06-19 with one thread: 440,107 against 434,741 USD)
        h.clearSolver()
        # and a MILP run leaves HiGHS 1.16's primal feasibility tolerance at the MIP's
        # (1e-6 for 1e-7): a restart on such a Highs took another path from the same basis
        # (a random day with a peak floor raised: 31,775 against 31,851 USD)
        h.setOptionValue("primal_feasibility_tolerance", _PRIMAL_TOLERANCE)
        h.setBasis(lp_basis)
    # the pass at the schedule's prices runs wherever the passes ran (target 0): the start
    # being restarted is above the gap already
    return price_fix(
        h,
        cm,
        m,
        time_limit_s=time_limit_s,
        fixing_caps=caps,
        final_nodes=FINAL_NODES,
        target_gap=0.0,
        stop=stop,
        final_enough=enough,
        place_unfitted=place_unfitted,
    )
