"""Pair moves: a schedule improved by placing every pair of jobs again together.

Price-fix (``optimize.price_fix``) places one job at a time at the prices of an LP; a
move of one job at a time (its improvement passes) cannot swap two jobs' runs. Here each
pair of jobs is freed together, the others fixed to the schedule (``_pair_move``): the LP
is re-solved, each of the two is fixed in turn to its cheapest pattern at that LP's
prices (``fixer.Fixer.pattern``, the DP of ``optimize.job_dp``), and the pair is kept
where the LP with every job fixed falls, else both go back as they were. One pass over
every pair in the jobs' order, then HiGHS completes the schedule (battery and generator
binaries) as in ``price_fix.seeded_schedule``.

The pairs grow with the square of the jobs: 28 for 8 jobs, 19,900 for 200, each three or
four LPs of the whole model, and a week of 200 jobs had not ended its pass after 16
minutes (an outside audit). With more than ``MAX_PAIRS`` pairs the pass takes the pairs
among the ``MAX_PAIR_JOBS`` jobs of the most energy at full power (``pair_jobs``; a count,
so the same jobs on every machine), in the jobs' order; a pass longer than
``progress.FIRST_AFTER_S`` prints a line every ``progress.EVERY_S`` or so.

The LP with every job fixed is a lower bound of the schedule's cost, so a caller's test of
a proof (``proves``) can end the pass early: at the first kept pair whose LP it accepts
and whose schedule, completed on a ``Highs`` of its own, it accepts too
(``_proven_schedule``). The pass's ``Highs`` is not touched by the check, so a schedule
turned down leaves the rest of the pass as it would be without it.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable

import numpy as np

from optimize import progress
from optimize.fixer import Fixer, JobCols, job_columns
from optimize.highs import cheaper, second_highs, set_integrality
from optimize.price_fix import PriceFixResult, run_for_schedule, seeded_schedule

#: the pairs of at most this many jobs are tried (66 pairs; B5's weeks have 8 jobs, 28)
MAX_PAIR_JOBS = 12
MAX_PAIRS = MAX_PAIR_JOBS * (MAX_PAIR_JOBS - 1) // 2


def pair_jobs(jobs: list[JobCols]) -> list[JobCols]:
    """The jobs whose pairs the pass tries: all of them where they make at most
    ``MAX_PAIRS`` pairs, else the ``MAX_PAIR_JOBS`` of the most energy at full power
    (IT MW × hours of work; ties by their order), in their order."""
    if len(jobs) * (len(jobs) - 1) // 2 <= MAX_PAIRS:
        return jobs
    energy = [-jc.job.full_power_it_mw * jc.job.work_h for jc in jobs]
    kept = set(sorted(range(len(jobs)), key=lambda i: (energy[i], i))[:MAX_PAIR_JOBS])
    return [jc for i, jc in enumerate(jobs) if i in kept]


def pair_moves(
    h,
    cm,
    m,
    start: PriceFixResult,
    time_limit_s: float | None = None,
    proves: Callable[[float, np.ndarray], bool] | None = None,
) -> PriceFixResult:
    """``start``'s schedule with pairs of jobs placed again together (``_pair_move``), one
    pass over every pair; the schedule of the pairs kept, completed by HiGHS as in
    ``seeded_schedule``, where it is cheaper (else ``start``), with the time added. A move
    of one job at a time (the improvement passes) cannot swap two jobs' runs; a pair freed
    together can (full-month CAISO 2023-09-11: 706,783 -> 703,789 USD in 28 pairs, a
    schedule HiGHS's MILP took 57 s to find: docs/model_jobs_history.md). ``time_limit_s``:
    no pair is tried after this long (None: every pair). ``proves`` (objective USD, column
    values -> whether the caller's bound proves that schedule): the pass ends at the first
    kept pair whose LP it accepts and whose schedule, completed by HiGHS on another
    ``Highs``, it accepts too (``_proven_schedule``; else the pass goes on as it would
    without the check). On return ``h`` holds its original bounds and integrality again."""
    t0 = time.perf_counter()
    jobs = job_columns(m, cm) if hasattr(m, "job_ids") else []
    if start.values is None or len(jobs) < 2:
        return start
    icols = cm.integer_columns()
    set_integrality(h, icols, False)
    fx = Fixer(h, cm, m, time_limit_s)
    fx.hull(False)
    try:
        for jc in jobs:
            fx.fix(jc, np.asarray(start.values)[jc.on] > 0.5)
        moved, done = _pair_pass(fx, jobs, proves) if fx.lp() else (False, None)
        fx.hull(True)
        set_integrality(h, icols, True)
        if done is None and moved:
            done = run_for_schedule(h)
        values, obj = done if done is not None else (None, None)
    finally:
        fx.hull(True)
        fx.release(jobs)
        set_integrality(h, icols, True)
    seconds = start.seconds + time.perf_counter() - t0
    if values is None or obj >= start.objective_usd:
        return dataclasses.replace(start, seconds=seconds)
    return dataclasses.replace(start, values=values, objective_usd=obj, seconds=seconds)


def _pair_pass(fx: Fixer, jobs: list[JobCols], proves):
    """One pass of ``_pair_move`` over every pair of ``jobs`` (in their order): whether
    any pair was kept, and the proven schedule (values, USD) it ended at, or None. The
    check costs nothing until a kept pair's LP, a lower bound of its schedule's cost, is
    proven by ``proves``; on full-month weeks the pass reaches that point at the 6th to
    8th of 28 pairs where it reaches it at all (docs/model_jobs_history.md,
    thirty-second session)."""
    moved = False
    pairs = list(itertools.combinations(pair_jobs(jobs), 2))
    pacer = progress.LinePacer()
    for i, (a, b) in enumerate(pairs):
        if fx.out_of_time():
            break
        if (elapsed_s := pacer.due_s()) is not None:
            progress.report(f"pair moves: pair {i + 1}/{len(pairs)} · {elapsed_s:.1f} s")
        if not _pair_move(fx, a, b):
            continue
        moved = True
        if proves is not None and proves(fx.objective(), fx.lp_values()):
            done = _proven_schedule(fx, jobs, proves)
            if done is not None:
                return True, done
    return moved, None


def _proven_schedule(fx: Fixer, jobs: list[JobCols], proves):
    """The schedule of ``jobs`` as ``fx`` has them fixed, completed by HiGHS on a ``Highs``
    of its own (``seeded_schedule``), as (values, USD) where ``proves`` accepts it; else
    None. ``fx``'s ``Highs`` stays at its LP, so a pass that goes on is the pass without
    the check."""
    other = second_highs(fx.h, fx.cm)
    on_by_job = {}
    for jc in jobs:
        if jc.pattern is not None:
            on = np.zeros(max(jc.steps) + 1, dtype=bool)
            on[jc.steps] = jc.pattern
            on_by_job[jc.job.id] = on
    seeded = seeded_schedule(other, fx.cm, fx.m, on_by_job)
    if seeded.values is None or not proves(seeded.objective_usd, seeded.values):
        return None
    return seeded.values, seeded.objective_usd


def _pair_move(fx: Fixer, a: JobCols, b: JobCols) -> bool:
    """Free jobs ``a`` and ``b`` (the others fixed), re-solve, fix ``a`` to its cheapest
    pattern at that LP's prices, re-solve, then ``b`` the same way; keep both if the LP
    objective falls, else fix both as they were and return to the LP as it was
    (``Fixer.restore``). True if kept."""
    before, old = fx.snapshot(), (a.pattern, b.pattern)
    fx.fix(a, None)
    fx.fix(b, None)
    ok = fx.lp()
    for jc in (a, b):
        on = fx.pattern(jc) if ok else None
        ok = on is not None
        if ok:
            fx.fix(jc, on)
            ok = fx.lp()
    if ok and cheaper(fx.objective(), than_usd=before.objective_usd):
        return True
    fx.fix(a, old[0])
    fx.fix(b, old[1])
    fx.restore(before)
    return False
