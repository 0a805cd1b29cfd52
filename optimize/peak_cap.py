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
"""

from __future__ import annotations

import threading
import time

import numpy as np

from optimize.price_fix import PriceFixResult, price_fix
from optimize.problem import SolverOptions

# branch-and-bound nodes of the restart's final MILP (its root only): with the caps lifted
# it places the jobs that did not fit under them, a MILP as hard as the week's where many
# did not (B5's full-month ERCOT 2023-10-02: 6 jobs, 973 nodes, 99 s to its gap; CAISO
# 2023-07-03: 1 job, 1,000 nodes, 46 s). The restart is a start, not an answer: what its
# root finds is kept, and the search after it (optimize.solving) does the rest
FINAL_NODES = 1


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
    within ``mip_rel_gap`` (``optimize.solving._restart_capped``; with two threads
    ``optimize.restart_ahead`` starts it early by the same rule)."""
    if not options.peak_cap_restart or gap is None or pf.lp_values is None:
        return False
    return gap > options.mip_rel_gap


def capped_restart(
    h,
    cm,
    m,
    lp_values: np.ndarray,
    time_limit_s: float | None = None,
    stop: threading.Event | None = None,
    lp_basis=None,
) -> PriceFixResult:
    """Price-fix on ``h`` with the peak columns capped at ``lp_values`` (the LP
    relaxation's column values) while the jobs are fixed; see the module docstring.
    ``time_limit_s``: price-fix's (None: none); ``stop``: price-fix's. ``lp_basis``: the
    LP relaxation's optimal basis (``PriceFixResult.lp_basis``), from which price-fix's
    first LP, that same LP, starts: the restart then begins at the same point whatever
    ran on ``h`` before it (a second thread's ``Highs``: ``optimize.restart_ahead``, or
    the caller's after the edge search), so one thread and two give the same restart.
    Returns its schedule (``values`` None if none, or without a peak to cap), with no
    bound of its own, and its seconds."""
    t0 = time.perf_counter()
    cols = peak_columns(m, cm)
    if not len(cols):
        return PriceFixResult(None, None, None, time.perf_counter() - t0)
    caps = (cols, np.asarray(lp_values)[cols])
    if lp_basis is not None:
        h.setBasis(lp_basis)
    # the pass at the schedule's prices runs wherever the passes ran (target 0): the start
    # being restarted is above the gap already
    res = price_fix(
        h,
        cm,
        m,
        time_limit_s=time_limit_s,
        fixing_caps=caps,
        final_nodes=FINAL_NODES,
        target_gap=0.0,
        stop=stop,
    )
    return PriceFixResult(res.values, res.objective_usd, None, time.perf_counter() - t0)
