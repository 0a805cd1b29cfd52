"""Gang-scheduled, power-cappable training jobs (``define_jobs`` of the model layout).

Notation per job ``j`` (full IT power ``P_j`` MW, work ``W_j`` h at full power and full
throughput), over its active steps ``t in A_j = [release_step, min(deadline_step, n))``:

* ``on[j,t]`` binary: the job runs (all its GPUs) in step ``t``.
* ``frac[j,t]`` in [0, 1]: power fraction; IT power ``P_j * frac`` MW.
* ``piece[j,t,k]`` in ``[0, w_k]``: the power fraction above ``f_min`` in piece ``k`` of
  the concave throughput curve ``g`` on ``[f_min, 1]`` (pieces between the curve's points,
  widths ``w_k``, slopes ``s_k`` non-increasing; ``optimize.throughput.curve_pieces``):
  ``piece[j,t,k] <= w_k * on[j,t]`` and ``frac = f_min * on + sum_k piece``, so
  ``f_min * on <= frac <= on``.
* ``work[j,t] = step_h * (g(f_min) * on + sum_k s_k * piece)`` h, progress in the step
  (an expression, no column). The pieces fill in order where work is needed (the first
  piece gives the most work per MW), so ``work = step_h * g(frac)`` at integer ``on``; for
  fractional ``on`` the largest work is ``step_h * on * g(frac / on)``, the perspective of
  ``g``: the tightest convex relaxation. It is the same relaxation as the rows
  ``work <= step_h * (a_k * frac + b_k * on)`` per segment line with ``f_min * on <= frac
  <= on``, with one row fewer per step (a bounded column per piece in place of the ``work``
  column). On B2's windows the LP takes half the dual simplex iterations
  (docs/model_jobs_history.md; likely because the pieces' bounds are bound flips where the segment
  rows had to enter the basis).
* completion: ``sum_t work + unfinished >= W_j + restart_overhead_h * restarts``.

Power without progress is never useful here (``work`` only enters the completion
constraint, and ``frac`` is tied to ``on``): when energy is cheap or negative the optimiser
can still run a job at full power beyond what its work needs, which the model reports as it
is (``work_h`` in the results is the physical throughput, see ``job_results``; where the
work is not needed the pieces may fill out of order and the model's work is then below it).

Restarts (preemptible jobs): ``start[j,t] >= on[j,t] - on[j,t-1]`` with ``on[j,-1] = 1``
only for a job ``running_at_start`` (released at step 0); ``restarts >= sum_t start - free``
(``free`` = 1, the first start, unless running at start) and ``restarts <= max_interruptions``.
Each restart costs ``restart_overhead_h`` hours of work without progress: the work
requirement rises by that much, so the job runs longer and the energy of the overhead is
spent at the job's chosen power (exactly ``overhead * P_j`` MWh when it runs at f = 1; at a
cap f the overhead costs ``overhead / g(f)`` hours at ``f * P_j``). ``start`` and
``restarts`` are continuous: with integer ``on`` their minimum is integral and the
optimiser never gains from raising them.

Spare restart (rolling windows): a preemptible job with a restart budget whose deadline
lies after the horizon may leave its credited work ``C_j`` for later only with binary
``carry[j] = 1``; then ``sum_t start <= max_interruptions + free - 1 + on[j,last]``: a job
that stops before the horizon end keeps the interruption its later restart needs (with
``Job.spare_restart``, a window's guide that restarts it after the horizon, also one that
runs at the end: ``sum_t start <= max_interruptions + free - 1``). With
``carry = 0`` the work requirement rises by ``C_j`` (all work done here). A rolling
window's guide that runs the job on past the horizon (``optimize.window_guide``) splits
its credit: ``credit_h`` always, and ``credit_on_h`` (the restart's overhead) only if the
job runs at the last step, as a non-preemptible job's tail credit is: a window that stops
it before pays the overhead of its later restart. A non-preemptible job the guide runs on
past the horizon leaves the guide's own hours after it (``credit_on_h``), not every hour
to its deadline.

Non-preemptible jobs: binary ``start``, ``on[j,t] - on[j,t-1] <= start[j,t]`` and
``sum_t start <= 1`` (one contiguous block; a job running at start gets no start at all, so
it continues from step 0 until it stops for good). When unfinished work is not allowed a
minimum-up constraint ``on[j,t] >= sum_{tau=t-L+1..t} start[j,tau]`` with
``L = ceil(W_j / step_h)`` (throughput is at most 1) tightens the LP relaxation; for every
job ``sum_t on >= ceil(W_j / step_h)`` likewise (``W_j`` the work due inside the horizon;
not for a non-preemptible job credited for running on after it).

Single-block hull (non-preemptible jobs that must finish, with work to do, not running at
start): the run is one contiguous block. Cumulative ``started[j,t]`` and ``ended[j,t]``
in [0, 1], both non-decreasing and 1 at the window's last step, with ``on[j,t] =
started[j,t] - ended[j,t-1]`` (``ended`` = the block's last step is at or before ``t``)
and the minimum length ``ended[j,t] <= started[j, t - L + 1]``, ``L = ceil(W_j /
step_h)`` (with a horizon credit a block reaching the horizon end may be shorter). A
fractional solution is, by matching the two cumulative curves quantile by quantile, a
mixture of whole blocks of at least ``L`` steps: the LP keeps ``on`` in the convex hull
of single blocks instead of spreading it over scattered cheap steps, with 2 columns per
step. Every block schedule satisfies it with 0/1 values, so it cuts off none (no block
length is capped: a job may run on when energy pays), and it adds no integer column. On
R1's week the LP relaxation rises from 12.7 % to 1.0 % below the optimum
(docs/model_jobs.md).

``unfinished[j] >= 0`` exists for every job; its upper bound is 0 unless an unfinished-work
penalty is given (then it is priced in the objective). In elastic mode a registered slack
(see ``optimize/elastic.py``) relaxes the completion instead.

``define_jobs`` adds one family after the other, always in this order (it fixes the column
and row order HiGHS sees): the columns (``_define_job_variables``), power fraction and
throughput pieces (``_define_power_fraction``), starts and restarts (``_define_starts``),
the elastic slacks, the spare restart (``_define_spare_restart``), completion
(``_define_completion``), the valid inequalities with the single-block hull
(``_define_valid_inequalities``, ``define_job_blocks``) and the IT power
(``_define_it_power``).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimize.elastic import add_slack
from optimize.problem import Job
from optimize.throughput import curve_pieces, throughput

_TOL = 1e-6

_HORIZON_CREDIT: contextvars.ContextVar[float] = contextvars.ContextVar(
    "jobs_horizon_credit", default=0.0
)


@contextlib.contextmanager
def horizon_credit(fraction: float) -> Iterator[None]:
    """Within the block, ``define_jobs`` credits work after the model horizon.

    Used by the rolling-horizon solve for jobs whose deadline lies beyond the window's model
    horizon: a preemptible job may leave ``fraction * (deadline - n) * step_h`` hours of its
    work for later windows, and more if its steps inside cannot do the rest at full
    throughput; a non-preemptible job that is still running at the last step
    is credited with ``min(work, (deadline - n) * step_h)`` (it continues at full
    throughput). A preemptible job with ``Job.credit_h`` set (a rolling window's handover
    guide, ``optimize.window_guide``) may leave those hours instead. Outside the block
    (``fraction = 0``) deadlines beyond the horizon are clipped to it: all work must be
    done within the model.
    """
    token = _HORIZON_CREDIT.set(float(fraction))
    try:
        yield
    finally:
        _HORIZON_CREDIT.reset(token)


def _active_steps(job, n: int) -> range:
    return range(max(0, int(job.release_step)), min(int(job.deadline_step), n))


def _min_steps(work_h: float, step_h: float) -> int:
    return max(0, math.ceil(work_h / step_h - 1e-6))


def _needs_start(job: Job) -> bool:
    """Whether the job has ``start`` columns: not for a preemptible job whose restarts are
    free and unlimited, nor for a non-preemptible job already running (it may not start
    again)."""
    if job.preemptible:
        return job.restart_overhead_h > 0 or job.max_interruptions is not None
    return not running_at_first_step(job)


@dataclass(frozen=True)
class _JobSet:
    """The jobs of one model and the numbers their constraint families share.

    ``n`` model steps of ``step_h`` hours; ``idx``: (job id, step) of every active step, in
    job order. Per job id: ``tail_h`` hours after the model horizon before the deadline (0
    without a horizon credit); ``inside_h`` hours of work due inside the horizon (a
    preemptible job's credit deducted); ``tail_credit_h`` hours credited to a job on at
    the last step: a non-preemptible one due after the horizon, a preemptible one its
    ``Job.credit_on_h`` (with a horizon credit). ``restart_ids``:
    the preemptible jobs that count restarts. ``relaxed``: the completion may be relaxed
    (elastic mode or priced unfinished work), so no valid inequalities are added.
    """

    jobs: tuple[Job, ...]
    by_id: dict[str, Job]
    n: int
    step_h: float
    idx: list[tuple[str, int]]
    tail_h: dict[str, float]
    inside_h: dict[str, float]
    tail_credit_h: dict[str, float]
    restart_ids: list[str]
    relaxed: bool

    @property
    def ids(self) -> list[str]:
        return [j.id for j in self.jobs]

    def active(self, jid: str) -> range:
        """The job's active steps."""
        return _active_steps(self.by_id[jid], self.n)

    def on_before(self, m: pyo.Block, jid: str, t: int):
        """``on[j, t-1]``; before the first active step 1 if running at start, else 0."""
        j = self.by_id[jid]
        if t == _active_steps(j, self.n).start:
            return 1 if running_at_first_step(j) else 0
        return m.job_on[jid, t - 1]


def _credited_h(job: Job, fraction: float, tail_h: float) -> float:
    """Hours of a preemptible job's work credited after the horizon: its own ``credit_h``
    (a rolling window's guide, ``optimize.window_guide``) or ``fraction`` of the
    ``tail_h`` hours between the horizon and its deadline."""
    return fraction * tail_h if job.credit_h is None else job.credit_h


def _inside_h(job: Job, fraction: float, tail_h: float, most_h: float) -> float:
    """The work (h) a preemptible job due ``tail_h`` hours after the horizon owes inside
    it: its work less its credit, but never more than its ``most_h`` steps inside can do
    at full throughput (a job released just before the horizon end), and never less than
    what its hours after the horizon cannot do (a window that left more would hand the
    next a job that misses its deadline, where backtracking had to find it later; a
    guide's ``credit_on_h``, deducted if the job runs at the last step, is owed on top)."""
    on_h = job.credit_on_h if job.credit_h is not None else 0.0
    owed = job.work_h - _credited_h(job, fraction, tail_h)
    return max(0.0, job.work_h - tail_h + on_h, min(owed, most_h))


def _most_h(job: Job, n: int, step_h: float) -> float:
    """The most work (h) a job can do in the model's ``n`` steps: its active ones at full
    throughput."""
    return len(_active_steps(job, n)) * step_h


def _job_set(n: int, jobs: Sequence, step_h: float, relaxed: bool) -> _JobSet:
    """The shared numbers of ``jobs`` on ``n`` steps, with the current horizon credit."""
    jobs = tuple(jobs)
    credit = _HORIZON_CREDIT.get()
    # hours after the horizon (before the deadline), only with a horizon credit
    tail_h = {
        j.id: (max(0, int(j.deadline_step) - n) * float(step_h) if credit > 0 else 0.0)
        for j in jobs
    }
    # work that must be done inside the horizon (preemptible jobs: credit deducted)
    inside_h = {
        j.id: _inside_h(j, credit, tail_h[j.id], _most_h(j, n, step_h))
        if j.preemptible and tail_h[j.id] > 0
        else j.work_h
        for j in jobs
    }
    # credited if on at the last step: a non-preemptible job runs on at full throughput
    # (a window's guide: its ``credit_on_h``, the guide's run after the horizon); a
    # preemptible one its ``credit_on_h`` (a window's guide runs it on past the horizon)
    tail_credit_h = {
        j.id: (
            min(j.credit_on_h, inside_h[j.id])
            if j.preemptible or j.credit_h is not None
            else min(j.work_h, tail_h[j.id])
        )
        for j in jobs
        if tail_h[j.id] > 0
        and len(_active_steps(j, n)) > 0
        and (not j.preemptible or (j.credit_h is not None and j.credit_on_h > 0))
    }
    return _JobSet(
        jobs=jobs,
        by_id={j.id: j for j in jobs},
        n=n,
        step_h=step_h,
        idx=[(j.id, t) for j in jobs for t in _active_steps(j, n)],
        tail_h=tail_h,
        inside_h=inside_h,
        tail_credit_h=tail_credit_h,
        restart_ids=[j.id for j in jobs if j.preemptible and _needs_start(j)],
        relaxed=relaxed,
    )


def define_jobs(
    m: pyo.ConcreteModel,
    jobs: Sequence,
    step_h: float,
    elastic: bool = False,
    unfinished_penalty_usd_per_h: float | None = None,
) -> list:
    """Add the jobs to ``m`` (which must have ``m.T``); return the objective terms.

    ``unfinished_penalty_usd_per_h`` defaults to
    ``m.problem.objective.unfinished_work_penalty_usd_per_h`` when ``m.problem`` exists.
    Creates ``m.jobs_it_mw[t]`` (Expression, IT MW of all jobs) and the job components
    ``m.job_on``, ``m.job_frac``, ``m.job_piece``, ``m.job_work`` (an expression),
    ``m.job_start``, ``m.job_restarts``, ``m.job_unfinished_h``. Terms:
    ``unfinished_penalty_usd_per_h * unfinished_h`` per job (none without a penalty). With
    ``elastic`` and no penalty each job's completion gets a scalar slack (hours of work)
    registered by ``optimize.elastic.add_slack`` (kind ``"job_unfinished"``, name = job id,
    step = last step before the deadline); the diagnosis minimises the slacks.
    """
    if unfinished_penalty_usd_per_h is None and hasattr(m, "problem"):
        objective = getattr(m.problem, "objective", None)
        unfinished_penalty_usd_per_h = getattr(objective, "unfinished_work_penalty_usd_per_h", None)
    relaxed = elastic or unfinished_penalty_usd_per_h is not None
    js = _job_set(len(m.T), jobs, step_h, relaxed)
    m.job_step_h = float(step_h)
    # the families in this order: it fixes the column and row order HiGHS sees
    _define_job_variables(m, js)
    _define_power_fraction(m, js)
    _define_starts(m, js)
    slack = {}
    if elastic and unfinished_penalty_usd_per_h is None:
        slack = _define_completion_slacks(m, js)
    _define_spare_restart(m, js)
    _define_completion(m, js, slack)
    if not relaxed:
        _define_valid_inequalities(m, js)
    _define_it_power(m, js)
    if unfinished_penalty_usd_per_h is None:
        return []
    weight = float(unfinished_penalty_usd_per_h)
    return [weight * m.job_unfinished_h[jid] for jid in js.ids]


def _define_job_variables(m: pyo.Block, js: _JobSet) -> None:
    """Sets and columns: ``on`` (binary) and ``frac`` in [0, 1] per active step; ``start``
    where ``_needs_start`` (binary for non-preemptible jobs, continuous for preemptible
    ones); ``restarts`` in [0, max_interruptions];
    ``unfinished_h`` (upper bound 0 unless relaxed) and the required work ``W`` (h, a
    mutable Param that price-fix reads)."""
    by_id = js.by_id
    m.job_ids = pyo.Set(initialize=js.ids, ordered=True)
    m.job_steps = pyo.Set(initialize=js.idx, dimen=2, ordered=True)
    m.job_on = pyo.Var(m.job_steps, domain=pyo.Binary)
    m.job_frac = pyo.Var(m.job_steps, bounds=(0.0, 1.0))

    start_idx = [(jid, t) for jid, t in js.idx if _needs_start(by_id[jid])]
    binary_start = {(jid, t) for jid, t in start_idx if not by_id[jid].preemptible}
    m.job_start_steps = pyo.Set(initialize=start_idx, dimen=2, ordered=True)
    m.job_start = pyo.Var(
        m.job_start_steps,
        domain=lambda _m, jid, t: pyo.Binary if (jid, t) in binary_start else pyo.UnitInterval,
    )
    m.job_restart_ids = pyo.Set(initialize=js.restart_ids, ordered=True)
    m.job_restarts = pyo.Var(
        m.job_restart_ids,
        domain=pyo.NonNegativeReals,
        bounds=lambda _m, jid: (0.0, by_id[jid].max_interruptions),
    )
    m.job_unfinished_h = pyo.Var(
        m.job_ids, domain=pyo.NonNegativeReals, bounds=(0.0, None if js.relaxed else 0.0)
    )
    m.job_work_required_h = pyo.Param(
        m.job_ids, initialize={jid: float(js.inside_h[jid]) for jid in js.ids}, mutable=True
    )


def _define_power_fraction(m: pyo.Block, js: _JobSet) -> None:
    """The curve's pieces above ``f_min`` as columns: ``piece[j,t,k]`` in ``[0, w_k]``
    with ``piece <= w_k * on``, ``frac = f_min * on + sum_k piece`` and the work (h, an
    expression) ``step_h * (g(f_min) * on + sum_k s_k * piece)``
    (``optimize.throughput.curve_pieces``)."""
    pieces = {j.id: curve_pieces(j.throughput_curve, j.f_min) for j in js.jobs}
    idx = [(jid, t, k) for jid, t in js.idx for k in range(len(pieces[jid][1]))]
    m.job_piece_idx = pyo.Set(initialize=idx, dimen=3, ordered=True)
    m.job_piece = pyo.Var(m.job_piece_idx, bounds=lambda _m, jid, t, k: (0.0, pieces[jid][1][k][0]))

    def piece_on_rule(m, jid, t, k):
        return m.job_piece[jid, t, k] <= pieces[jid][1][k][0] * m.job_on[jid, t]

    m.job_piece_on = pyo.Constraint(m.job_piece_idx, rule=piece_on_rule)

    def frac_rule(m, jid, t):
        above = sum(m.job_piece[jid, t, k] for k in range(len(pieces[jid][1])))
        return m.job_frac[jid, t] == js.by_id[jid].f_min * m.job_on[jid, t] + above

    m.job_frac_def = pyo.Constraint(m.job_steps, rule=frac_rule)

    def work_rule(m, jid, t):
        g_min, segs = pieces[jid]
        above = sum(s * m.job_piece[jid, t, k] for k, (_w, s) in enumerate(segs))
        return js.step_h * (g_min * m.job_on[jid, t] + above)

    m.job_work = pyo.Expression(m.job_steps, rule=work_rule)


def _define_starts(m: pyo.Block, js: _JobSet) -> None:
    """``on[t] - on[t-1] <= start[t]``; a non-preemptible job running at start has a
    non-increasing ``on`` (it continues, then stops for good); a non-preemptible job starts
    at most once; ``restarts >= sum_t start - free``."""

    def start_rule(m, jid, t):
        return m.job_on[jid, t] - js.on_before(m, jid, t) <= m.job_start[jid, t]

    m.job_start_def = pyo.Constraint(m.job_start_steps, rule=start_rule)
    cont_idx = [
        (jid, t)
        for jid, t in js.idx
        if not js.by_id[jid].preemptible and running_at_first_step(js.by_id[jid])
    ]
    m.job_continue = pyo.Constraint(
        cont_idx, rule=lambda m, jid, t: m.job_on[jid, t] <= js.on_before(m, jid, t)
    )
    # a job with no step in the horizon has no start to count (and no row)
    single_ids = [
        j.id for j in js.jobs if not j.preemptible and _needs_start(j) and len(js.active(j.id))
    ]
    m.job_single = pyo.Constraint(
        single_ids, rule=lambda m, jid: sum(m.job_start[jid, t] for t in js.active(jid)) <= 1
    )

    def restart_rule(m, jid):
        free = 0 if running_at_first_step(js.by_id[jid]) else 1
        return m.job_restarts[jid] >= sum(m.job_start[jid, t] for t in js.active(jid)) - free

    m.job_restart_def = pyo.Constraint(m.job_restart_ids, rule=restart_rule)


def _define_completion_slacks(m: pyo.Block, js: _JobSet) -> dict:
    """Elastic (diagnosis) mode without a penalty: one registered scalar slack (h of work)
    per job, at its last step before the deadline; ``unfinished_h`` is fixed to 0."""
    m.job_unfinished_h.setub(0.0)
    slack = {}
    for k, j in enumerate(js.jobs):
        last = min(int(j.deadline_step), js.n) - 1
        slack[j.id] = add_slack(
            m, f"slack_job_unfinished_{k}", "job_unfinished", j.id, "h", step=max(last, 0)
        )
    return slack


def _define_spare_restart(m: pyo.Block, js: _JobSet) -> None:
    """``carry[j]`` and ``sum_t start <= max_interruptions + free - 1 + on[last] + (1 -
    carry)`` for a preemptible job with a restart budget that may leave credited work.

    A job that leaves work for later windows and is off at the horizon end restarts later:
    it must keep one interruption for that. ``carry = 1`` lets it leave its credited work
    (``m.job_carry_h``, h); then its starts leave that spare one unless it runs at the end
    (and even then with ``Job.spare_restart``: the window's guide restarts it later).
    """
    carry_ids = [
        j.id
        for j in js.jobs
        if j.id in js.restart_ids
        and j.max_interruptions is not None
        and js.inside_h[j.id] < j.work_h - _TOL
        and len(js.active(j.id)) > 0
    ]
    m.job_carry_ids = pyo.Set(initialize=carry_ids, ordered=True)
    m.job_carry = pyo.Var(m.job_carry_ids, domain=pyo.Binary)
    m.job_carry_h = {jid: js.by_id[jid].work_h - js.inside_h[jid] for jid in carry_ids}

    def spare_rule(m, jid):
        j = js.by_id[jid]
        free = 0 if running_at_first_step(j) else 1
        last = js.active(jid)[-1]
        starts = sum(m.job_start[jid, t] for t in js.active(jid))
        budget = j.max_interruptions + free - 1
        runs_on = 0 if j.spare_restart else m.job_on[jid, last]
        return starts <= budget + runs_on + (1 - m.job_carry[jid])

    m.job_spare_restart = pyo.Constraint(m.job_carry_ids, rule=spare_rule)


def _define_completion(m: pyo.Block, js: _JobSet, slack: dict) -> None:
    """``sum_t work + unfinished (+ slack) (+ tail credit * on[last]) >= W (+ carried work *
    (1 - carry)) + restart_overhead_h * restarts`` per job; ``m.job_tail_credit_h`` keeps
    the tail credits (h) for price-fix."""

    def done_rule(m, jid):
        j = js.by_id[jid]
        steps = js.active(jid)
        lhs = sum(m.job_work[jid, t] for t in steps) + m.job_unfinished_h[jid]
        if jid in slack:
            lhs = lhs + slack[jid]
        if jid in js.tail_credit_h:  # runs on after the horizon
            lhs = lhs + js.tail_credit_h[jid] * m.job_on[jid, steps[-1]]
        rhs = m.job_work_required_h[jid]
        if jid in m.job_carry_h:  # without carry, the credited work is done here too
            rhs = rhs + m.job_carry_h[jid] * (1 - m.job_carry[jid])
        if jid in js.restart_ids and j.restart_overhead_h > 0:
            rhs = rhs + j.restart_overhead_h * m.job_restarts[jid]
        return lhs >= rhs

    m.job_done = pyo.Constraint(m.job_ids, rule=done_rule)
    m.job_tail_credit_h = dict(js.tail_credit_h)


def _define_valid_inequalities(m: pyo.Block, js: _JobSet) -> None:
    """Only when all work must be done: ``sum_t on >= ceil(W / step_h)``, the minimum-up
    rows of non-preemptible jobs and the single-block hull."""
    # (a preemptible job on at the last step owes its credit on the less)
    least = {
        j.id: _min_steps(js.inside_h[j.id] - js.tail_credit_h.get(j.id, 0.0), js.step_h)
        for j in js.jobs
        if js.tail_h[j.id] == 0 or j.preemptible
    }
    cnt_ids = [jid for jid, k in least.items() if 0 < k <= len(js.active(jid))]
    m.job_min_on = pyo.Constraint(
        cnt_ids, rule=lambda m, jid: sum(m.job_on[jid, t] for t in js.active(jid)) >= least[jid]
    )
    _define_min_up(m, js)
    define_job_blocks(m, [j for j in js.jobs if not j.preemptible], js.step_h, js.tail_h)


def _define_min_up(m: pyo.Block, js: _JobSet) -> None:
    """Non-preemptible jobs of ``L = ceil(W / step_h) > 1`` steps: ``on[t] >= sum of start
    over the last L steps``; a job running at start is on for its first ``L`` steps."""
    up_idx = []
    for j in js.jobs:
        if j.preemptible:
            continue
        L = _min_steps(j.work_h, js.step_h)
        if L <= 1:
            continue
        if running_at_first_step(j):
            for t in list(js.active(j.id))[:L]:
                m.job_on[j.id, t].setlb(1)
        else:
            up_idx += [(j.id, t) for t in js.active(j.id)]

    def up_rule(m, jid, t):
        L = _min_steps(js.by_id[jid].work_h, js.step_h)
        lo = max(js.active(jid).start, t - L + 1)
        return m.job_on[jid, t] >= sum(m.job_start[jid, tau] for tau in range(lo, t + 1))

    if up_idx:
        m.job_min_up = pyo.Constraint(up_idx, rule=up_rule)


def _define_it_power(m: pyo.Block, js: _JobSet) -> None:
    """``m.jobs_it_mw[t] = sum_j P_j * frac[j, t]`` (MW)."""
    by_t: list[list[str]] = [[] for _ in range(js.n)]
    for jid, t in js.idx:
        by_t[t].append(jid)
    power = {j.id: float(j.full_power_it_mw) for j in js.jobs}
    m.jobs_it_mw = pyo.Expression(
        m.T, rule=lambda m, t: sum(power[jid] * m.job_frac[jid, t] for jid in by_t[t])
    )


# the constraint families of the single-block hull (price-fix frees them while it fixes)
BLOCK_ROWS = ("job_block_on", "job_block_length", "job_started_mono", "job_ended_mono")


def define_job_blocks(m: pyo.Block, jobs: Sequence, step_h: float, tail_h: dict) -> None:
    """The single-block hull (see the module docstring) for the non-preemptible ``jobs``
    with work to do, not running at the first step: ``m.job_started[j,t]`` and
    ``m.job_ended[j,t]`` and their constraint families. A job whose window cannot hold its
    block gets none: its completion constraint already makes the model infeasible."""
    length = {j.id: max(1, _min_steps(j.work_h, step_h)) for j in jobs}
    steps = _block_steps(jobs, len(m.T), length, tail_h)
    if not steps:
        return
    idx = [(jid, t) for jid, ts in steps.items() for t in ts]
    m.job_started = pyo.Var(idx, bounds=(0.0, 1.0))
    m.job_ended = pyo.Var(idx, bounds=(0.0, 1.0))

    def before(var, jid, t):  # the cumulative value at t - 1 (0 before the window)
        return var[jid, t - 1] if t > steps[jid].start else 0.0

    def on_rule(m, jid, t):
        return m.job_on[jid, t] == m.job_started[jid, t] - before(m.job_ended, jid, t)

    def length_rule(m, jid, t):  # a run ending at t started at t - L + 1 or earlier
        if t == steps[jid][-1] and tail_h[jid] > 0:
            return pyo.Constraint.Skip  # runs on after the horizon: any length
        first = t - length[jid] + 1
        started = m.job_started[jid, first] if first >= steps[jid].start else 0.0
        return m.job_ended[jid, t] <= started

    m.job_block_on = pyo.Constraint(idx, rule=on_rule)
    for jid, ts in steps.items():  # started, and ended by the last step (or runs on)
        m.job_started[jid, ts[-1]].setlb(1.0)
        m.job_ended[jid, ts[-1]].setlb(1.0)
    m.job_block_length = pyo.Constraint(idx, rule=length_rule)
    mono = [(jid, t) for jid, t in idx if t > steps[jid].start]
    m.job_started_mono = pyo.Constraint(
        mono, rule=lambda m, jid, t: m.job_started[jid, t] >= m.job_started[jid, t - 1]
    )
    m.job_ended_mono = pyo.Constraint(
        mono, rule=lambda m, jid, t: m.job_ended[jid, t] >= m.job_ended[jid, t - 1]
    )


def _block_steps(jobs: Sequence, n: int, length: dict, tail_h: dict) -> dict[str, range]:
    """Active steps of the jobs that get a block: with work to do (a job with none may
    stay off, which is no block), not running at the first step, with steps in the
    window, and room for ``length`` steps there (or running on after it)."""
    return {
        j.id: _active_steps(j, n)
        for j in jobs
        if j.work_h > 0
        and not running_at_first_step(j)
        and (len(_active_steps(j, n)) >= length[j.id] or tail_h[j.id] > 0)
        and len(_active_steps(j, n)) > 0
    }


def running_at_first_step(job) -> bool:
    """The job is on just before its first active step (continuing is no start)."""
    return bool(job.running_at_start) and int(job.release_step) <= 0


def _val(v) -> float:
    x = pyo.value(v, exception=False)
    return 0.0 if x is None else float(x)


def job_results(m: pyo.ConcreteModel, jobs: Sequence) -> tuple[dict[str, np.ndarray], dict]:
    """Series and per-job summary of a solved model.

    Series (length n): ``job_<id>_mw`` (IT MW), ``job_<id>_power_fraction`` (0 when off),
    ``job_<id>_work_h`` (physical throughput of the step, ``g(f) * step_h``: it includes
    restart overhead, which is work without progress). Summary per job: ``work_done_h``
    (progress: physical work minus ``restart_overhead_h * restarts``), ``unfinished_h``
    (``max(0, work_h - work_done_h)``), ``restarts`` (starts counted from the ``on`` series,
    minus the free first start unless running at start), ``deadline_met``.
    """
    n = len(m.T)
    step_h = m.job_step_h
    series: dict[str, np.ndarray] = {}
    summary: dict[str, dict] = {}
    for j in jobs:
        on = np.zeros(n)
        frac = np.zeros(n)
        for t in _active_steps(j, n):
            on[t] = round(_val(m.job_on[j.id, t]))
            frac[t] = _val(m.job_frac[j.id, t]) if on[t] > 0.5 else 0.0
        frac = np.clip(frac, 0.0, 1.0)
        work = throughput(j.throughput_curve, frac) * step_h
        prev = np.concatenate(([1.0 if running_at_first_step(j) else 0.0], on[:-1]))
        starts = int(np.sum((on - prev) > 0.5))
        restarts = starts if running_at_first_step(j) else max(0, starts - 1)
        done = float(work.sum()) - j.restart_overhead_h * restarts
        unfinished = max(0.0, float(j.work_h) - done)
        series[f"job_{j.id}_mw"] = j.full_power_it_mw * frac
        series[f"job_{j.id}_power_fraction"] = frac
        series[f"job_{j.id}_work_h"] = work
        summary[j.id] = {
            "work_done_h": done,
            "unfinished_h": unfinished if unfinished > _TOL else 0.0,
            "restarts": restarts,
            "deadline_met": unfinished <= _TOL,
            "running_at_end": bool(on[-1] > 0.5),
        }
    return series, summary
