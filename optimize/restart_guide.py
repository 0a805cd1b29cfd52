"""The interruptions a rolling window may spend of a job's budget (``guided_interruptions``).

A window sees its own steps only. A preemptible job with a restart budget
(``Job.max_interruptions``) whose deadline lies after the window spends its interruptions
where this window finds them useful, and the windows that hold the price spikes may have
none left: the job then runs through them. On R1's heat-wave week (48 h windows) windows
before August 25 spent `pretrain-moe`'s interruptions on short runs, and the windows of
August 25-26 ran it at 1,000-4,000 USD/MWh; with unlimited interruptions the same windows
cost 31-62k USD against 478-775k (docs/model_jobs.md, "Rolling horizon").

The guide keeps for the windows after this one the interruptions the job's cheapest
pattern over the rest of its span spends there. For job ``j`` in window ``[a, e)`` with
deadline ``d > e``, remaining work ``W`` h (a pre-paid restart's overhead included),
budget ``K`` (the interruptions left, a pre-counted restart deducted) and running state:
its steps ``s0 = max(a, release) .. min(d, n) - 1`` are priced at

    c_t = (import_price_t + carbon_price · carbon_t / 1000) · P_j · PUE_t · step_h  (USD)

and ``optimize.job_dp.cheapest_pattern`` finds the cheapest on/off pattern doing ``W``
within ``K`` interruptions, each costing ``restart_overhead_h`` of work. An interruption
is a stop that a later start follows; it belongs to the window if the stop lies inside
``[s0, e)``, whether the start lies inside (a restart of the window) or after it (the
interruption the spare-restart rule of ``optimize.jobs`` keeps for it). The window's
budget is ``K - L``, ``L`` the pattern's interruptions at or after ``e``.

Why a reserve and not the pattern's own count for the window: the pattern prices the
grid alone, and on weeks without spikes it needs few interruptions anywhere, where the
window uses them to keep jobs apart under the demand charge's peak (ERCOT 2023-11-20,
24 h windows with 24 h of overlap: the pattern's count 295,896 USD, 108,562 of it demand
charge, against 275,590 and 81,114 with all; the reserve 275,174). Where the spikes
lie ahead, the pattern spends its interruptions there, and the reserve keeps them.

A job released in the window's look-ahead, at or after its commit end, keeps its budget
there: the window commits none of its steps, and the next window guides it. B2's
windows (168 h from each Monday, 24 h of look-ahead) hold the next week's jobs so: guided
in their look-ahead, B2 took 57-59 s against 27 s (summer windows 30-34 at 4.6-17.7 s
against 0.2-1.8 s), for 0.18 % less cost.

A long span is priced in blocks of steps (``MOST_DP_STATES``): the pattern then runs or
rests whole blocks, and the window's end is rounded to a block's. Spans of a few weeks
at hourly steps need no blocks.

Steps where the grid's import limit is below the job's own power (with its PUE), an
outage, are priced above any whole pattern elsewhere, so the pattern keeps an
interruption for them where it can (scenarios/pjm-virginia-outage.yaml, 4 h outage:
24 h windows 596,900 USD with `all`, 605,427 guided at the grid's prices alone, 599,962
with the outage priced out; 48 h 571,287, 575,650, 572,863). Otherwise the prices are
the grid's alone: the pattern knows nothing of the other jobs, the battery, on-site
supply, the demand charges or a demand-response cap. It says where the
interruptions pay, not the schedule; the window chooses its schedule within the budget,
and the next window prices the job again from the state this one leaves. The guide is no
constraint of the period's problem: a window infeasible with it is solved again without
it (``optimize.rolling``). The period's one solve has no windows and no guide.
"""

from __future__ import annotations

import numpy as np

from optimize.job_dp import cheapest_pattern, interruptions_after, table_entries
from optimize.problem import Job, Problem

# The most (step, on-step count, start state) entries of the guide's DP table: 20 MB of
# back-pointers, about 0.1 s (a year-long job of 4,000 h with 20 interruptions at hourly
# steps needs 0.74 billion: 4.9 s and 1.6 GB for each window)
MOST_DP_STATES = 10_000_000


def guided_interruptions(
    problem: Problem,
    job: Job,
    window: tuple[int, int, int],
    work_h: float,
    budget: int,
    running: bool,
) -> int:
    """The interruptions window ``(a, c, e)`` of ``problem`` (modelled ``[a, e)``,
    committed ``[a, c)``) may spend for ``job`` (its release and deadline in
    ``problem``'s steps): ``budget`` less those the job's cheapest pattern over the rest
    of its span spends after ``e`` (module docstring). ``work_h``: work left (h);
    ``running``: on just before step ``a``. A job due by ``e``, one released at ``c`` or
    later (the window commits none of its steps; the next window guides it), or one no
    pattern can finish keeps ``budget``."""
    a, c, e = window
    s0 = max(a, int(job.release_step))
    end = min(int(job.deadline_step), int(problem.n_steps))
    if end <= e or s0 >= c:
        return budget
    free = 0 if running else 1
    cost = _cost_per_frac(problem, job, np.arange(s0, end))
    dp = {"max_starts": budget + free, "free_starts": free, "overhead_h": job.restart_overhead_h}
    b, blocks = _block_steps(cost, job, problem.step_h, work_h, dp)
    curve, f_min = job.throughput_curve, job.f_min
    pattern = cheapest_pattern(
        blocks, curve, f_min, problem.step_h * b, work_h, **dp, running=running
    )
    if pattern is None:  # the span cannot do the work: the window decides
        return budget
    on, inside = pattern.on, round((e - s0) / b)
    return budget - interruptions_after(on, inside, running)


def _block_steps(
    cost: np.ndarray, job: Job, step_h: float, work_h: float, dp: dict
) -> tuple[int, np.ndarray]:
    """Steps per block of the guide's pattern (1, or as many as keep the DP's table,
    ``optimize.job_dp.table_entries`` with ``dp`` its start arguments, within
    ``MOST_DP_STATES``) and the blocks' costs (``_blocks``)."""
    curve, f_min = job.throughput_curve, job.f_min
    b, blocks = 1, cost
    while table_entries(blocks, curve, f_min, step_h * b, work_h, **dp) > MOST_DP_STATES:
        b += 1
        blocks = _blocks(cost, b)
    return b, blocks


def _blocks(cost: np.ndarray, b: int) -> np.ndarray:
    """``cost`` (USD per step at full power) summed over blocks of ``b`` steps; a last,
    shorter block scaled to ``b`` steps."""
    if b == 1:
        return cost
    n = len(cost)
    sums = np.add.reduceat(cost, np.arange(0, n, b))
    last = n - b * (len(sums) - 1)
    sums[-1] *= b / last
    return sums


def _cost_per_frac(problem: Problem, job: Job, steps: np.ndarray) -> np.ndarray:
    """USD of the job at full power in each of ``steps`` at the grid's import price and
    the carbon price (``c_t``, module docstring); steps whose import limit is below the
    job's own power priced out."""
    g = problem.grid
    usd_per_mwh = g.import_price_usd_per_mwh[steps] + (
        problem.objective.carbon_price_usd_per_t * g.carbon_g_per_kwh[steps] / 1000.0
    )
    mw = job.full_power_it_mw * problem.facility.pue[steps]
    # where the grid cannot carry the job (an outage), a price above any whole pattern's
    # cost elsewhere: the pattern stops there if it can, as a window would have to
    cut = g.import_max_mw[steps] < mw
    if cut.any():
        unavailable = (float(np.abs(usd_per_mwh).max()) + 1.0) * len(steps)
        usd_per_mwh = np.where(cut, unavailable, usd_per_mwh)
    return usd_per_mwh * mw * problem.step_h
