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
* a guided non-preemptible job (one contiguous run) follows the guide's run: where the
  guide runs it at ``e − 1`` it may leave the guide's work after ``e`` if it runs there
  too (``credit_on_h``, ``credit_h`` 0), where the guide ends it before ``e`` the window
  finishes it, and where the guide starts it after ``e`` the window leaves it out. The
  fixed rule let such a job leave every hour after ``e`` to its deadline for one step
  on at ``e − 1``, and gave it no way to wait: the windows started the jobs the one
  solve runs across their ends at their last steps, and the next window ran them over
  one another under the demand charge's peak (random case 11 of
  ``benchmarks/random_cases.py`` in 24 h windows: 126,577 USD against 110,876 with the
  fixed rules and 93,255 in one solve, its guide alone guiding the preemptible job);
* a guided preemptible job with a restart budget may spend in the window at least the
  interruptions the guide spends there (its budget less those the guide begins at or
  after ``e``), whatever the restart guide's reserve (``optimize.restart_guide``, priced
  at the grid's prices alone: on random case 49 it kept job ``j1``'s one interruption
  for after the first window, where the guide spends it inside, and the window ran the
  job beside the others at its end: 188,021 USD against 168,169 fixed); and where the
  guide stops it before ``e`` and starts it again after, the window keeps that start's
  interruption even if it runs the job at its last step (``Job.spare_restart``): run on
  with none left, the next window cannot stop it where the guide does (ERCOT
  2023-11-20, full month, 48 h windows: 594,621 USD with the non-preemptible handover
  alone, 484,793 with both);
* the battery ends the window with at least the guide's SOC at ``e``
  (``Battery.soc_final_frac``; the window's last step ``e − 1``).

Guided jobs are the window's jobs released before ``c`` and due after ``e``.
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
carry fraction as it halves that (and keeps the jobs it defers in the window, by the
fixed rule). Operate's re-plans do not use it: their forecasts end
at the look-ahead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from optimize.errors import SolveError
from optimize.job_dp import interruptions_after, starts_in
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
    (fraction of capacity; None without a battery), the guide's seconds, per guided
    job id the work (h) it may leave more if it runs at the window's last step (the
    restart's overhead where the guide runs a preemptible job on, a non-preemptible
    job's run after ``e``; none: 0), the ids of the non-preemptible jobs the guide
    starts after ``e`` (left out of the window), the ids of the preemptible jobs it
    stops before ``e`` and starts again after (``Job.spare_restart``), and per guided job
    with a restart budget the interruptions its schedule spends in the window (the
    budget less those it begins at or after ``e``)."""

    credit_h: dict[str, float]
    soc_frac: float | None
    seconds: float
    credit_on_h: dict[str, float] = field(default_factory=dict)
    deferred: frozenset[str] = frozenset()
    spare_restart: frozenset[str] = frozenset()
    interruptions: dict[str, int] = field(default_factory=dict)


def guided_jobs(jobs: list[Job], a: int, c: int, e: int) -> list[Job]:
    """The window's jobs (steps from ``a``) whose handover the guide sets: with work left,
    released before the commit end ``c`` and due after the model end ``e``."""
    return [
        j for j in jobs if j.work_h > _TOL and j.release_step + a < c and j.deadline_step + a > e
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
    on = {j.id: np.asarray(series[f"job_{j.id}_power_fraction"]) > _TOL for j in guided}
    deferred = frozenset(j.id for j in guided if _deferred(j, on[j.id], k))
    kept = [j for j in guided if j.id not in deferred]
    left = {j.id: _left_h(j, series, k, problem.step_h) for j in kept}
    restarted = [
        j for j in kept if j.preemptible and _restarts_after(on[j.id], k, j.running_at_start)
    ]
    # the guide's own budgets: the window's may be the restart guide's, lower
    budgets = {j.id: j.max_interruptions for j in sub.jobs}
    spent = {
        j.id: max(0, budgets[j.id] - interruptions_after(on[j.id], k, j.running_at_start))
        for j in kept
        if j.preemptible and budgets.get(j.id) is not None
    }
    return Handover(
        credit_h={jid: x[0] for jid, x in left.items()},
        soc_frac=_soc_at(problem, series, k),
        seconds=time.perf_counter() - t0,
        credit_on_h={jid: x[1] for jid, x in left.items() if x[1] > 0},
        deferred=deferred,
        spare_restart=frozenset(j.id for j in restarted),
        interruptions=spent,
    )


def _soc_at(problem: Problem, series: dict, k: int) -> float | None:
    """The guide's battery SOC after its first ``k`` steps (fraction of capacity, less
    the margin); None without a battery."""
    if problem.battery is None or problem.battery.energy_mwh <= 0:
        return None
    soc = float(series["battery_soc_mwh"][k - 1]) / problem.battery.energy_mwh
    return min(max(soc - _SOC_MARGIN, 0.0), 1.0)


def _restarts_after(on: np.ndarray, k: int, running: bool) -> bool:
    """Whether on/off pattern ``on`` stops a job (``running`` at its first step or not)
    before step ``k`` and starts it again after: on (or running) before ``k``, off at
    ``k − 1``, on after. A job it first starts after ``k`` makes no restart there."""
    return (running or bool(on[:k].any())) and not on[k - 1] and bool(on[k:].any())


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


def _deferred(job: Job, on: np.ndarray, k: int) -> bool:
    """Whether the guide's on/off pattern ``on`` of non-preemptible window job ``job``
    starts it after its first ``k`` steps (the window's): one not running at the window's
    start, off there."""
    if job.preemptible or job.running_at_start:
        return False
    return not on[:k].any()


def _left_h(job: Job, series: dict, k: int, step_h: float) -> tuple[float, float]:
    """The work (h) window job ``job`` may leave for later by the guide's schedule: always
    (``credit_h``), and more if it runs at the window's last step ``k − 1``
    (``credit_on_h``: the overhead of the restart a window that stops it before pays,
    where the guide runs it on; a non-preemptible job's whole run after ``k``, which it
    leaves only so; module docstring)."""
    left = max(0.0, job.work_h - _owed_h(job, series, k, step_h))
    runs_on = float(series[f"job_{job.id}_power_fraction"][k - 1]) > _TOL
    if not job.preemptible:
        return 0.0, left if runs_on else 0.0
    if left <= _TOL or not runs_on or job.restart_overhead_h <= 0:
        return left, 0.0
    on = min(job.restart_overhead_h, left)
    return left - on, on


def with_handover(
    sub: Problem, jobs: list[Job], handover: Handover, scale: float
) -> tuple[Problem, list[Job]]:
    """Window problem ``sub`` and its ``jobs`` with the guide's ``handover``: the guided
    jobs' credits times ``scale`` (backtracking's, 1 at first), their spare restarts and
    interruptions, the jobs it defers left out (at ``scale`` 1 only: a window the one
    before left too much keeps them to the fixed rule) and the battery's final SOC."""
    out = handover.deferred if scale >= 1.0 else frozenset()
    jobs = [_handed(j, handover, scale) for j in jobs if j.id not in out]
    battery = sub.battery
    if battery is not None and handover.soc_frac is not None:
        battery = replace(battery, soc_final_frac=handover.soc_frac)
    return replace(sub, jobs=tuple(jobs), battery=battery), jobs


def _handed(job: Job, handover: Handover, scale: float) -> Job:
    """Window job ``job`` with the guide's handover (``with_handover``). Its budget is at
    least the interruptions the guide spends in the window: the restart guide's reserve
    (``optimize.restart_guide``), priced at the grid's prices alone, can leave the window
    fewer than the guide's own schedule needs."""
    if job.id not in handover.credit_h:
        return job
    budget = job.max_interruptions
    if budget is not None and job.id in handover.interruptions:
        budget = max(budget, handover.interruptions[job.id])
    return replace(
        job,
        credit_h=scale * handover.credit_h[job.id],
        credit_on_h=scale * handover.credit_on_h.get(job.id, 0.0),
        spare_restart=job.id in handover.spare_restart,
        max_interruptions=budget,
    )
