"""Price-guided fixing of the training jobs: a fast primal heuristic for the job MILP.

The MILP's hard part is the jobs' on/off binaries (gang scheduling, one contiguous block,
restart budgets); everything else (grid, battery, power fractions) is an LP once they are
fixed. The heuristic works on the compiled model in a ``highspy.Highs`` object:

1. Solve the LP relaxation (all integer columns continuous). Where a demand charge's
   peak lies below its floor (``optimize.peak_floor``), raise the peak to it and solve
   again. Its objective is a lower bound of the MILP, used for the gap this heuristic
   reports.
2. For one job at a time (largest energy first): price each of its steps by the LP's row
   duals (the marginal cost of one more MW of the job in that step, through the power
   balance, the ramp and peak rows and any network cut: the column's reduced cost without
   the job's own rows), find the job's cheapest on/off pattern under its own rules exactly
   (``optimize.job_dp``), fix its on/off columns to it and re-solve the LP (warm start), so
   the next job sees the prices with this one in place. A job whose pattern makes the LP
   infeasible (e.g. a ramp the battery cannot follow) is freed again and left to step 4.
3. Improvement passes: free one fixed job, re-solve, re-price, fix its new pattern; keep it
   if the LP objective fell, else restore the old one, and the LP as it was: its basis and
   solution kept from before the move, with no LP run (``Fixer.restore``; B2 33.0 ->
   31.5 s). They are skipped where every job is fixed and that LP is within the caller's
   ``enough_gap`` of the bound already. Then,
   where that LP is still above the caller's ``target_gap`` of the bound, one pass at the
   schedule's prices: each job re-priced by the duals of the LP with every job fixed, its
   own included (``_improve_at_schedule_prices``). The freed job's LP runs it in fractions
   and flattens the prices it sees; the fixed LP's duals are the marginal costs of the
   schedule as it is (a peak the job's run sets, a ramp it pushes), one LP per job.
4. Restore integrality and solve the MILP with the fixed columns (what is left integer: the
   jobs that could not be fixed, battery and generator binaries); its solution is the
   heuristic's schedule. Where the passes were skipped, the LP relaxation is solved first,
   and where its solution is integral already it is the MILP's optimum and the schedule.
   (Only there: another optimal vertex changes nothing once the schedule is the answer,
   but a start that goes on to the edge search and the MILP takes other paths from it, on
   B5's full-month weeks to 25 % more time in all: docs/model_jobs_history.md.)

The result is a feasible schedule and a proven bound on its distance from the optimum
(``gap``); it is not optimal in general. The time is a handful of warm-started LP solves per
job, independent of how hard the MILP's bound is to close.

Another entry point works from a given schedule: ``seeded_schedule`` completes one from
its jobs' on/off patterns. The LP the jobs are placed in, and a job's pricing and pattern,
are ``optimize.fixer``'s ``Fixer``, which ``optimize.pair_moves`` uses too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import highspy
import numpy as np

from optimize.callbacks import subscribed
from optimize.fixer import Fixer, FixLines, JobCols, LPPoint, job_columns
from optimize.highs import (
    cheaper,
    fractional_columns,
    gap_basis_usd,
    relative_gap,
    set_integrality,
)
from optimize.peak_floor import raise_violated_floors
from optimize.progress import reporting


@dataclass
class PriceFixResult:
    """``values``: the column vector of the schedule (None if none was found);
    ``objective_usd``: its objective; ``bound_usd``: a lower bound of the optimum (the LP
    relaxation's objective, or higher once probed: ``optimize.start_probe.probe_start``);
    ``seconds``; ``unfixed``: ids of jobs left to the final MILP."""

    values: np.ndarray | None
    objective_usd: float | None
    bound_usd: float | None
    seconds: float = 0.0
    unfixed: list[str] = field(default_factory=list)
    # HiGHS's basis of the LP relaxation whose objective is ``bound_usd`` (a warm start
    # for another LP of the same relaxation: ``optimize.probing``)
    lp_basis: highspy.HighsBasis | None = None
    # the column values of that LP relaxation (``optimize.peak_cap`` caps the peaks at it)
    lp_values: np.ndarray | None = None

    @property
    def gap(self) -> float | None:
        """``(objective - bound) / |objective|`` (None without a schedule or a bound)."""
        if self.objective_usd is None or self.bound_usd is None:
            return None
        return (self.objective_usd - self.bound_usd) / max(abs(self.objective_usd), 1e-9)


def _slack(jc: JobCols) -> float:
    """Fixing order: the least room first (active steps per step of work at f_min): such
    jobs have the fewest patterns and are placed before the flexible ones take their steps.
    B2: 13.46 M USD against 13.47 M for the largest energy first."""
    return len(jc.steps) * jc.job.f_min / max(jc.work_h, 1e-9)


def price_fix(
    h,
    cm,
    m,
    *,
    passes: int = 1,
    time_limit_s: float | None = None,
    fixing_caps: tuple[np.ndarray, np.ndarray] | None = None,
    final_nodes: int | None = None,
    enough_gap: float | None = None,
    target_gap: float | None = None,
    stop: threading.Event | None = None,
    final_enough: tuple[float, float] | None = None,
    place_unfitted: bool = False,
    progress_label: str | None = None,
    known_start: PriceFixResult | None = None,
) -> PriceFixResult:
    """Run the heuristic on ``h`` (holding the compiled ``cm`` of model ``m``).

    ``passes``: improvement passes over the jobs after the first fixing. ``time_limit_s``:
    stop fixing and improving after this long (the final MILP then gets the rest of it,
    at least 1 s). Non-preemptible jobs' hull rows are in the bound's LP, free in the LPs
    that price and fix the jobs (fixing with them: a 0.3 % dearer B2 year, history).
    ``fixing_caps``: (columns, upper bounds) held in the LPs that fix the jobs, lifted for
    the final MILP (``optimize.peak_cap``), which gets a job that does not fit under them
    (``place_unfitted``: ``_fix_unfitted_uncapped``). ``final_nodes``: a node limit of the
    final MILP below the model's (``optimize.peak_cap``: its root only; a MILP stopped
    without a schedule gives none).
    ``enough_gap``: skip the improvement passes where every job is fixed and the LP with
    them fixed is within this share of the bound already (``_close_enough``).
    ``target_gap``: after the passes, the pass at the schedule's prices runs where that LP
    is above this share of the bound (0: wherever the passes ran; None: nowhere).
    ``stop``: once set, ends it at its next step without a schedule (restart_ahead).
    ``final_enough``: (USD, relative gap): the final MILP stops at its first incumbent
    cheaper than that USD and within that gap of its own dual bound (``_enough_stop``).
    ``progress_label``: where progress is on, the run prints lines under this label
    (``FixLines``); None: none (a step of a longer solve that prints its own).
    ``known_start``: a schedule known before (``seeded_schedule``), the result with nothing
    fixed where the bound's LP proves it within ``target_gap`` (``_proven_by_bound``).
    On return ``h`` holds its bounds and integrality again; the schedule is ``values``.
    """
    t0 = time.perf_counter()
    icols = cm.integer_columns()
    set_integrality(h, icols, False)
    fx = Fixer(h, cm, m, time_limit_s, stop, FixLines.of(progress_label))
    limit0 = float(h.getOptionValue("time_limit")[1])
    nodes0 = int(h.getOptionValue("mip_max_nodes")[1])
    jobs = job_columns(m, cm) if hasattr(m, "job_ids") else []
    try:
        if not fx.lp() or (raise_violated_floors(h, cm, m, fx.lp_values()) and not fx.lp()):
            return PriceFixResult(None, None, None, time.perf_counter() - t0)
        relaxed = fx.snapshot()  # the bound's LP, read once
        bound = relaxed.objective_usd
        fx.lines_bound(bound)
        if _proven_by_bound(cm, known_start, bound, target_gap):
            values, obj = known_start.values, known_start.objective_usd
            return _result(values, obj, relaxed, t0 - known_start.seconds, [])
        fx.cap(fixing_caps)
        fx.hull(False)
        fx.lp()
        jobs.sort(key=_slack)
        _fix_jobs(fx, jobs)
        if place_unfitted:
            _fix_unfitted_uncapped(fx, jobs)
        close = _close_enough(fx, jobs, bound, enough_gap)
        if not close:
            _improve_all(fx, jobs, passes, bound, target_gap)
        fx.phase("the rest (jobs fixed)")
        final = _final_schedule(fx, icols, close, (final_nodes, nodes0), final_enough)
        if final is None:  # stopped
            return PriceFixResult(None, None, None, time.perf_counter() - t0)
        unfixed = [jc.job.id for jc in jobs if jc.pattern is None]
        return _result(*final, relaxed, t0, unfixed)
    finally:
        fx.hull(True)
        fx.cap(None)
        h.setOptionValue("time_limit", limit0)
        h.setOptionValue("mip_max_nodes", nodes0)
        fx.release(jobs)
        set_integrality(h, icols, True)


def _result(values, objective_usd: float, relaxed: LPPoint, t0: float, unfixed: list[str]):
    """The heuristic's result: a schedule and its objective, the bound's LP ``relaxed``
    (its objective, basis and solution), the seconds since ``t0`` (``perf_counter``)."""
    seconds = time.perf_counter() - t0
    bound, basis, lp_values = relaxed.objective_usd, relaxed.basis, relaxed.col_value
    return PriceFixResult(values, objective_usd, bound, seconds, unfixed, basis, lp_values)


def _proven_by_bound(cm, known: PriceFixResult | None, bound_usd: float, gap) -> bool:
    """Whether the schedule ``known`` lies within ``gap`` of ``bound_usd`` (``proven_gap``):
    then no schedule price-fix finds could be proven better, and the heuristic's passes
    and final MILP would be spent for nothing."""
    if known is None or gap is None:
        return False
    within = proven_gap(cm, dataclasses.replace(known, bound_usd=bound_usd))
    return within is not None and within <= gap


def start_gap(cm, pf: PriceFixResult) -> tuple[float, float]:
    """The start's gap basis (USD) and its proven gap against ``pf.bound_usd``, as the
    answer would report them."""
    basis = gap_basis_usd(cm, pf.values, pf.objective_usd)
    return basis, relative_gap(pf.objective_usd, pf.bound_usd, basis)


def proven_gap(cm, pf: PriceFixResult) -> float | None:
    """The start's proven gap (``start_gap``); None without a schedule or a bound."""
    if pf.values is None or pf.bound_usd is None:
        return None
    return start_gap(cm, pf)[1]


def _final_schedule(fx: Fixer, icols, close: bool, nodes: tuple, enough):
    """The schedule over what is still integer, with the job columns fixed, as (values,
    USD) (None, None without one): the LP where ``close`` and its solution is integral,
    else the final MILP within its limits (``nodes``: its own node limit and the model's,
    ``_limit_final_milp``). None where ``fx.stop`` was set before it. The hull rows are
    back, so that the schedule's block columns satisfy them (a MIP start that breaks
    them costs HiGHS a repair LP)."""
    fx.hull(True)
    fx.cap(None)
    done = _integral_lp(fx.h, icols) if close else None
    set_integrality(fx.h, icols, True)
    _limit_final_milp(fx, *nodes)
    if fx.stop is not None and fx.stop.is_set():
        return None
    return done if done is not None else _final_milp(fx, enough)


def _final_milp(fx: Fixer, enough: tuple[float, float] | None):
    """The final MILP's schedule (``run_for_schedule``): stopped once ``fx.stop`` is set,
    or at an incumbent ``enough`` (``_enough_stop``), with its progress lines."""
    h = fx.h
    label = None if fx.lines is None else f"{fx.lines.label} (the rest, jobs fixed)"
    with _interrupted_by(h, fx.stop), _enough_stop(h, enough), reporting(h, label):
        return run_for_schedule(h)


def _limit_final_milp(fx: Fixer, final_nodes: int | None, nodes0: int) -> None:
    """The final MILP's limits: the rest of price-fix's time limit (at least 1 s) and at
    most ``final_nodes`` nodes (``nodes0``: the model's node limit)."""
    if fx.deadline is not None:
        fx.h.setOptionValue("time_limit", max(1.0, fx.deadline - time.perf_counter()))
    if final_nodes is not None:
        fx.h.setOptionValue("mip_max_nodes", min(nodes0, int(final_nodes)))


def _fix_jobs(fx: Fixer, jobs: list[JobCols]) -> None:
    """Fix each job in turn to its cheapest pattern at the current LP's prices, with a warm
    LP after each; a job whose pattern makes the LP infeasible is freed again."""
    for k, jc in enumerate(jobs):
        if fx.out_of_time():
            return
        fx.phase(f"fixing job {k + 1} of {len(jobs)}")
        on = fx.pattern(jc)
        if on is None:
            continue
        fx.fix(jc, on)
        if not fx.lp():
            fx.fix(jc, None)
            jc.pattern = None
            fx.lp()


def _fix_unfitted_uncapped(fx: Fixer, jobs: list[JobCols]) -> None:
    """The jobs whose pattern did not fit under the fixing caps fixed in turn, as by
    ``_fix_jobs``, with the caps lifted: each is priced beside the jobs fixed under them,
    where the LP pays its peak at the demand charge's price. The caps stay lifted for the
    passes after it."""
    unfitted = [jc for jc in jobs if jc.pattern is None]
    if not unfitted:
        return
    fx.cap(None)
    fx.lp()
    _fix_jobs(fx, unfitted)


def _integral_lp(h, icols: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The LP on ``h`` (integrality off) where its solution is integral in every integer
    column ``icols``: it is then the MILP's optimum (its column values and objective), and
    HiGHS's MILP need not run (on B2's windows: the two battery binaries left, ~5 ms against
    the MILP's 45-50 ms). None otherwise."""
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(h.getSolution().col_value)
    if len(fractional_columns(x, icols)):
        return None
    return x, float(h.getInfo().objective_function_value)


def _close_enough(fx: Fixer, jobs: list[JobCols], bound: float, gap: float | None) -> bool:
    """True where every job is fixed and the LP with them fixed is within ``gap`` of
    ``bound`` (relative to its objective). That LP is then the schedule's cost but for the
    battery's and generators' binaries, so the schedule is about that close to the bound
    already: the passes would spend two or three warm LPs per job on a gap that needs no
    closing (B2 at 1 %: 57.7 -> 50.9 s). With a job left unfixed the LP is no schedule's
    cost (it runs that job in fractions), so the passes run."""
    return all(jc.pattern is not None for jc in jobs) and _within(fx, bound, gap)


def _within(fx: Fixer, bound: float, gap: float | None) -> bool:
    """True where the LP on ``fx`` is within ``gap`` of ``bound`` (relative to its
    objective); False without a ``gap``."""
    return gap is not None and fx.objective() - bound <= gap * abs(fx.objective())


def _improve_all(
    fx: Fixer, jobs: list[JobCols], passes: int, bound: float, target_gap: float | None
) -> None:
    """The improvement passes, then the pass at the schedule's prices where the LP is
    above ``target_gap`` of ``bound`` (None: no such pass)."""
    _improve_passes(fx, jobs, passes)
    if target_gap is not None and not _within(fx, bound, target_gap):
        _improve_at_schedule_prices(fx, jobs)


def _improve_passes(fx: Fixer, jobs: list[JobCols], passes: int) -> None:
    """Up to ``passes`` improvement passes, stopping after one that moves no job."""
    for _ in range(passes):
        if not _improve(fx, jobs):
            return


def _improve(fx: Fixer, jobs: list[JobCols]) -> bool:
    """One improvement pass: free each fixed job, re-price it and keep its new pattern if
    the LP objective falls (else restore the old one); True if any job moved."""
    return _pass(fx, jobs, free=True)


def _improve_at_schedule_prices(fx: Fixer, jobs: list[JobCols]) -> bool:
    """One pass at the schedule's prices: each fixed job in turn is priced by the duals of
    the LP as it is (every job fixed, its own included), and its cheapest pattern at those
    prices (``LP_GUIDE`` then leans towards its current steps) is kept if the LP objective
    falls (else the old one is restored); True if any job moved. One warm LP per job
    tried, against two or three in ``_improve``. On B5's slowest pro-rated weeks it lowers
    price-fix's schedule by up to 1.9 % of the basis (ERCOT 2023-12-04: 3.29 % -> 1.44 %
    from the LP bound; docs/model_jobs_history.md)."""
    return _pass(fx, jobs, free=False)


def _pass(fx: Fixer, jobs: list[JobCols], free: bool) -> bool:
    """Each fixed job in turn re-priced (``free``: with its own columns freed and the LP
    re-solved first, else at the LP as it is) and its new pattern kept if cheaper; True
    if any job moved."""
    improved = False
    what = "improving" if free else "at the schedule's prices"
    all_fixed = all(jc.pattern is not None for jc in jobs)
    for k, jc in enumerate(jobs):
        if jc.pattern is None or fx.out_of_time():
            continue
        fx.phase(f"{what}, job {k + 1} of {len(jobs)}", fixed_lp=all_fixed)
        before, old = fx.snapshot(), jc.pattern
        if free:
            fx.fix(jc, None)
            fx.lp()
        on = fx.pattern(jc)
        if on is None or np.array_equal(on, old):
            if free:  # back to the LP with the job fixed
                fx.fix(jc, old)
                fx.restore(before)
            continue
        improved = _keep_if_cheaper(fx, jc, on, old, before) or improved
    return improved


def _keep_if_cheaper(
    fx: Fixer, jc: JobCols, on: np.ndarray, old: np.ndarray, before: LPPoint
) -> bool:
    """Fix the job to ``on`` and keep it if the LP objective falls below ``before``'s;
    else fix it to ``old`` again and return to ``before``. True if kept."""
    fx.fix(jc, on)
    if fx.lp() and cheaper(fx.objective(), than_usd=before.objective_usd):
        return True
    fx.fix(jc, old)
    fx.restore(before)
    return False


def run_for_schedule(h) -> tuple[np.ndarray | None, float | None]:
    """Run ``h`` (the MILP with the job columns fixed): its column values and objective,
    or (None, None) without a feasible solution."""
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None, None
    return np.asarray(h.getSolution().col_value), float(info.objective_function_value)


@contextlib.contextmanager
def _interrupted_by(h, stop: threading.Event | None) -> Iterator[None]:
    """Within the block, HiGHS's MIP on ``h`` stops at its next interrupt check once
    ``stop`` is set (None: nothing to stop it)."""
    if stop is None:
        yield
        return

    def interrupt(e) -> None:
        if stop.is_set():
            e.interrupt()

    with subscribed(h, (h.cbMipInterrupt, interrupt)):
        yield


@contextlib.contextmanager
def _enough_stop(h, enough: tuple[float, float] | None) -> Iterator[None]:
    """Within the block, HiGHS's MIP on ``h`` takes the relative gap ``enough[1]`` (where
    it is looser than its own) once it holds an incumbent cheaper than ``enough[0]`` USD:
    it then stops as soon as that incumbent is within the gap of its dual bound. HiGHS
    reads the option as it takes the incumbent, after this callback; the stop is a point
    of its search, the same on every machine. None: nothing changes."""
    if enough is None:
        yield
        return
    below_usd, rel_gap = enough
    gap0 = float(h.getOptionValue("mip_rel_gap")[1])

    def improving(e) -> None:
        if e.data_out.objective_function_value < below_usd:
            h.setOptionValue("mip_rel_gap", max(gap0, float(rel_gap)))

    try:
        with subscribed(h, (h.cbMipImprovingSolution, improving)):
            yield
    finally:
        h.setOptionValue("mip_rel_gap", gap0)


def seeded_schedule(h, cm, m, on_by_job: dict[str, np.ndarray]) -> PriceFixResult:
    """The schedule that runs each job on the steps ``on_by_job[id]`` marks (bool, one per
    step of the horizon; e.g. a neighbouring Pareto point's schedule), completed by HiGHS
    with those on/off columns fixed (what stays integer: jobs without a pattern, battery
    and generator binaries). ``values`` is None if the pattern is infeasible here. On
    return ``h`` holds its original bounds again."""
    t0 = time.perf_counter()
    fx = Fixer(h, cm, m, None)
    jobs = job_columns(m, cm) if hasattr(m, "job_ids") else []
    try:
        for jc in jobs:
            on = on_by_job.get(jc.job.id)
            if on is not None:
                fx.fix(jc, np.asarray(on, dtype=bool)[jc.steps])
        values, obj = run_for_schedule(h)
        return PriceFixResult(values, obj, None, time.perf_counter() - t0)
    finally:
        fx.release(jobs)
