"""What a rolling window hands to the next, from a schedule of the rest (``handover_guide``).

A window sees its own steps only, and two things it hands to the windows after it were
set by fixed rules that know nothing of the prices after it: a preemptible job due after
the window's model end ``e`` may leave ``carry_fraction`` (0.5) of its hours between ``e``
and its deadline as work for later (``optimize.jobs.horizon_credit``), and the battery
ends the window at the period's final SOC target (empty without one). On R1's heat-wave
week in 48 h windows (pro-rated) the windows cost 52,316 USD against −39,841 in one
solve; handing over what the one solve's own schedule does after each window's end (an
oracle: work left and SOC) brings them to −1,176.

The guide: price-fix's schedule (``method: price-fix`` at the window's gap) of the
window's problem extended to step ``H``, from the same carried state, with every job's
whole interruption budget. From it, for window ``[a, e)`` committing ``[a, c)``:

* a guided job ``j`` owes the window what the guide does in ``[a, e)``: it may leave
  ``C_j = W_j − (Σ_{t<e} Δ·g(f_t) − o_j · max(0, starts_j − free_j))`` hours for later
  (``Job.credit_h``), ``W_j`` the work the window holds for it (a pre-paid restart
  included), ``f_t`` the guide's power fraction, ``o_j`` the restart overhead,
  ``starts_j`` the guide's starts in ``[a, e)`` and ``free_j`` 1 unless the job runs at
  ``a`` (the model's own count, ``optimize.jobs``); the spare-restart rule holds as
  before. Where the guide runs the job on at ``e − 1`` it pays no restart after ``e``,
  but a window that does the same work and stops before ``e`` does: the restart's
  overhead ``o_j`` then falls on the next window, which may have no room for it (then
  infeasible: backtracking, at the fixed rule's cost; tests/optimize/test_window_guide.py,
  and 7 of 180 random cases of benchmarks/random_cases.py in 12-24 h windows). So the
  guide's ``C_j`` is split: ``max(0, C_j − o_j)`` always (``Job.credit_h``), and
  ``min(o_j, C_j)`` only if the window runs the job at its last step
  (``Job.credit_on_h``, a tail credit as a non-preemptible job's);
* the battery ends the window with at least the guide's SOC at ``e``
  (``Battery.soc_final_frac``; the window's last step ``e − 1``).

Guided jobs are the window's preemptible jobs released before ``c`` and due after ``e``.
A job released in the look-ahead (at or after ``c``) is credited by the fraction as
before: the window commits none of its steps. ``H = min(n, max(e + (c − a), d))``, ``d``
the latest deadline of the guided jobs: the guide sees their whole span, and at least a
window's length past ``e`` for the battery. Without a guided job no guide is solved, and
the window is as before (B2's windows, 168 h from each Monday, hold no such job).

Why price-fix and not the LP relaxation: the LP runs the jobs "partly on" below their
least power under a peak no schedule reaches; windows that left the LP's work for later
found it did not fit under their peak (ERCOT 2023-05-22, 48 h windows: 447,495 USD
against 422,805 without a guide, price-fix's 418,582). Measured in
docs/model_jobs.md, "Rolling horizon".

The guide is no constraint of the period's problem: a window infeasible with it is solved
again without it, and backtracking (``optimize.rolling``) scales its credits with the
carry fraction as it halves that. Operate's re-plans do not use it: their forecasts end
at the look-ahead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from optimize.errors import SolveError
from optimize.job_dp import starts_in
from optimize.jobs import horizon_credit
from optimize.problem import Job, Problem
from optimize.results import extract_dispatch
from optimize.solver_options import SolverOptions
from optimize.solving import solve_model
from optimize.throughput import throughput
from optimize.window_state import Carried, window_problem

_TOL = 1e-6
# the SOC target is set this far (a fraction of capacity) below the guide's own, so that
# HiGHS's feasibility tolerance on the guide's schedule cannot make the window infeasible
_SOC_MARGIN = 1e-6


@dataclass(frozen=True)
class Handover:
    """A guide's handover at a window's model end ``e``: per guided job id the work (h)
    it may leave for later (before any backtracking scale), the battery's SOC there
    (fraction of capacity; None without a battery), the guide's seconds, and per guided
    job id the work (h) it may leave more if it runs at the window's last step (the
    restart's overhead where the guide runs it on; none: 0)."""

    credit_h: dict[str, float]
    soc_frac: float | None
    seconds: float
    credit_on_h: dict[str, float] = field(default_factory=dict)


def guided_jobs(jobs: list[Job], a: int, c: int, e: int) -> list[Job]:
    """The window's jobs (steps from ``a``) whose handover the guide sets: preemptible,
    released before the commit end ``c`` and due after the model end ``e``."""
    return [
        j
        for j in jobs
        if j.preemptible and j.work_h > _TOL and j.release_step + a < c and j.deadline_step + a > e
    ]


def guide_end(jobs: list[Job], window: tuple[int, int, int], n: int) -> int:
    """``H``: the step the guide of window ``(a, c, e)`` runs to (module docstring)."""
    a, c, e = window
    latest = max((j.deadline_step + a for j in jobs), default=e)
    return min(n, max(e + (c - a), latest))


def handover_guide(
    problem: Problem,
    carried: Carried,
    window: tuple[int, int, int],
    jobs: list[Job],
    options: SolverOptions,
    fraction: float,
) -> Handover | None:
    """The guide of window ``window`` (``(a, c, e)``) of ``problem`` from the carried
    state, for its ``jobs`` (the window's own, steps from ``a``); ``fraction``: the
    horizon credit of the guide's jobs due after ``H``. None where no job is guided, the
    window ends the period, or price-fix finds no schedule of the rest."""
    a, c, e = window
    n = problem.n_steps
    guided = guided_jobs(jobs, a, c, e)
    if not guided or e >= n:
        return None
    t0 = time.perf_counter()
    end = guide_end(guided, window, n)
    sub, _ = window_problem(problem, carried, a, end, options.charge_share_of_rest)
    series = _price_fix_series(sub, options, fraction)
    if series is None:
        return None
    k = e - a
    left = {j.id: _left_h(j, series, k, problem.step_h) for j in guided}
    soc = None
    if problem.battery is not None and problem.battery.energy_mwh > 0:
        soc = float(series["battery_soc_mwh"][k - 1]) / problem.battery.energy_mwh
        soc = min(max(soc - _SOC_MARGIN, 0.0), 1.0)
    credit = {jid: x[0] for jid, x in left.items()}
    on = {jid: x[1] for jid, x in left.items() if x[1] > 0}
    return Handover(credit, soc, time.perf_counter() - t0, on)


def _price_fix_series(sub: Problem, options: SolverOptions, fraction: float) -> dict | None:
    """Price-fix's schedule of ``sub`` (its series), or None where it has none."""
    fix = replace(options, method="price-fix")
    with horizon_credit(fraction):
        try:
            m, res, _, _ = solve_model(sub, fix)
        except SolveError:
            return None
        if res.status == "infeasible":
            return None
        return extract_dispatch(m, sub, res.status, res.objective, res.mip_gap, 0.0, 0.0).series


def _owed_h(job: Job, series: dict, k: int, step_h: float) -> float:
    """The work (h) the guide's schedule does for window job ``job`` in its first ``k``
    steps, counted as the model counts it: throughput less the overhead of the starts
    beyond the free one (none free for a job running at the window's start)."""
    frac = np.asarray(series[f"job_{job.id}_power_fraction"][:k], dtype=float)
    starts = starts_in(frac > _TOL, job.running_at_start and job.release_step == 0)
    free = 0 if job.running_at_start else 1
    work = float(throughput(job.throughput_curve, frac).sum()) * step_h
    return work - job.restart_overhead_h * max(0, starts - free)


def _left_h(job: Job, series: dict, k: int, step_h: float) -> tuple[float, float]:
    """The work (h) window job ``job`` may leave for later by the guide's schedule: always
    (``credit_h``), and more if it runs at the window's last step ``k − 1``
    (``credit_on_h``: the overhead of the restart a window that stops it before pays,
    where the guide runs it on; module docstring)."""
    left = max(0.0, job.work_h - _owed_h(job, series, k, step_h))
    runs_on = float(series[f"job_{job.id}_power_fraction"][k - 1]) > _TOL
    if left <= _TOL or not runs_on or job.restart_overhead_h <= 0:
        return left, 0.0
    on = min(job.restart_overhead_h, left)
    return left - on, on


def with_handover(
    sub: Problem, jobs: list[Job], handover: Handover, scale: float
) -> tuple[Problem, list[Job]]:
    """Window problem ``sub`` and its ``jobs`` with the guide's ``handover``: the guided
    jobs' credits times ``scale`` (backtracking's, 1 at first) and the battery's final
    SOC."""
    jobs = [
        replace(
            j,
            credit_h=scale * handover.credit_h[j.id],
            credit_on_h=scale * handover.credit_on_h.get(j.id, 0.0),
        )
        if j.id in handover.credit_h
        else j
        for j in jobs
    ]
    battery = sub.battery
    if battery is not None and handover.soc_frac is not None:
        battery = replace(battery, soc_final_frac=handover.soc_frac)
    return replace(sub, jobs=tuple(jobs), battery=battery), jobs
