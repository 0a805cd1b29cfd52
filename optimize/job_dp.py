"""One training job against given step prices: its cheapest on/off pattern (dynamic programme).

Used by ``optimize.price_fix`` to decide a job's on/off steps from the marginal prices of an
LP relaxation. The job rules are those of ``optimize.jobs``:

* the job runs or not in each active step; when on, at a power fraction ``f`` in
  ``[f_min, 1]``, doing ``g(f) * step_h`` hours of work (``g`` the concave throughput curve)
  and costing ``cost_per_frac[t] * f`` USD;
* each start counts: at most ``max_starts`` starts (``None``: unlimited); every start after
  the first ``free_starts`` is a restart that adds ``overhead_h`` hours to the work;
* ``running``: the job is on just before the first step (continuing is no start);
* ``tail_credit_h``: work credited when the job is on at the last step (a non-preemptible
  job that continues after the model horizon);
* ``carry_h``: work a preemptible job may leave for after the horizon only if it runs at the
  last step or keeps one of its ``max_starts`` for the restart (else it does it here).

The DP is exact for the pattern part: for every number ``n`` of on-steps and every number of
starts it finds the cheapest set of on-steps (sum of ``cost_per_frac``) that forms at most
that many runs. The power fraction is then taken as one level ``f`` for all on-steps, the
smallest with ``n * g(f) * step_h`` equal to the work, and the pattern with the smallest
``f * cost`` wins. Running at a lower power for more hours is worth it because ``g`` is
concave (at f = 0.6 a job does 0.78 of its work for 0.6 of its energy), which is the trade
the count captures. The LP that follows re-optimises the fractions step by step.

The DP runs over the steps, or over the on-step counts where those are fewer (the same
recurrence and ties, so the same pattern): with no negative price, counts beyond the work
at ``f_min`` are never cheaper (``_most_steps_worth_counting``), so a job that needs 12 of
a window's 193 steps takes 12 rounds of whole-array operations, not 193.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimize.throughput import throughput

_INF = 1e30


@dataclass(frozen=True)
class JobPattern:
    """A DP result: ``on`` (bool per step), ``frac`` (the uniform level, 0 when off),
    ``starts``, ``work_h`` (required work including restart overhead and minus the tail
    credit) and ``cost_usd`` (``frac * cost`` at the given prices)."""

    on: np.ndarray
    frac: np.ndarray
    starts: int
    work_h: float
    cost_usd: float


def _inverse_throughput(curve, f_min: float, g: np.ndarray) -> np.ndarray:
    """Smallest power fraction in ``[f_min, 1]`` with throughput ``g`` (clipped).

    ``g(f_min)`` comes from ``optimize.throughput`` (the first segment extended below the
    first point; ``g(f) = f`` for the single point ``(1, 1)``); above it the curve's points.
    """
    fs = np.array([p[0] for p in curve], dtype=float)
    gs = np.array([p[1] for p in curve], dtype=float)
    g_min = float(throughput(curve, f_min))
    keep = fs > f_min
    fx = np.concatenate(([f_min], fs[keep]))
    gx = np.concatenate(([g_min], gs[keep]))
    return np.interp(np.clip(g, g_min, 1.0), gx, fx)


def cheapest_pattern(
    cost_per_frac: np.ndarray,
    curve: tuple[tuple[float, float], ...],
    f_min: float,
    step_h: float,
    work_h: float,
    *,
    max_starts: int | None,
    free_starts: int,
    overhead_h: float = 0.0,
    running: bool = False,
    tail_credit_h: float = 0.0,
    carry_h: float = 0.0,
) -> JobPattern | None:
    """The cheapest pattern that can do ``work_h`` hours of work (see the module docstring).

    ``cost_per_frac[t]``: USD for running the job at power fraction 1 in step ``t`` (may be
    negative). Returns ``None`` when no pattern can do the work (too few steps).
    """
    e = np.asarray(cost_per_frac, dtype=float)
    n = e.shape[0]
    if n == 0:
        return None
    # start-count states: 0..s_n-1; unlimited starts without overhead saturate in the last
    if max_starts is None:
        saturate = overhead_h <= 0
        s_n = free_starts + 1 if saturate else n // 2 + 2
    else:
        saturate, s_n = False, max_starts + 1
    need = _work_needed(s_n, work_h, free_starts, overhead_h, tail_credit_h, carry_h, max_starts)
    k_max = _most_steps_worth_counting(e, need, curve, f_min, step_h, tail_credit_h, carry_h)
    # the same DP either way (tests/optimize/test_price_fix.py): over the counts where they
    # are at most half the steps (a count's round costs about 1.5 steps' on B2's windows)
    forward = _forward_by_count if 2 * k_max <= n else _forward_by_step
    cost, back = forward(e, s_n, saturate, running, k_max)
    frac, total = _price_states(cost, need, curve, f_min, step_h)
    if not np.isfinite(total).any():
        return None
    best = int(np.argmin(total))  # ties: the fewest on-steps, then the fewest starts
    kb, sb, xb = np.unravel_index(best, total.shape)
    on = _backtrack(back, int(kb), int(sb), int(xb))
    level = float(frac[kb, sb, xb])
    prev = np.concatenate(([running], on[:-1]))
    return JobPattern(
        on=on,
        frac=np.where(on, level, 0.0),
        starts=int(np.sum(on & ~prev)),
        work_h=float(need[0, sb, xb]),
        cost_usd=float(total[kb, sb, xb]),
    )


def _most_steps_worth_counting(
    e: np.ndarray, need: np.ndarray, curve, f_min: float, step_h: float, tail_h, carry_h
) -> int:
    """The most on-steps the DP needs to count (``n`` where it cannot tell).

    With no step of negative cost, no tail credit and no carried work, a pattern with more
    than ``K = ceil(max need / (g(f_min) * step_h))`` on-steps is never cheaper than one with
    fewer: from ``K`` on-steps every pattern runs at ``f_min``, and dropping the last step of
    a run (or a run of one step, one start fewer) lowers its cost and never raises the work
    it needs (which then depends on the starts alone). The argmin takes the fewest on-steps
    among equal costs, so counting up to ``K + 1`` gives the very pattern counting to ``n``
    does; short jobs count to a fraction of the steps (B2's ``eval-sweep``: 12 of 193)."""
    n = e.shape[0]
    if tail_h > 0 or carry_h > 0 or float(e.min()) < 0:
        return n
    g_min = float(throughput(curve, f_min))
    most = float(need.max()) / (g_min * step_h)
    return min(n, max(0, math.ceil(most)) + 1)


def _forward_by_step(
    e: np.ndarray, s_n: int, saturate: bool, running: bool, k_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The DP over the steps: ``cost[k, s, x]`` (USD at fraction 1) of the cheapest pattern
    with ``k`` on-steps, start state ``s`` and last step off/on (``x`` = 0/1), and the
    back-pointers ``back[x, t, k, s]``: 0 same x before (stay / continue), 1 other x before
    (stop / start from s-1), 2 start within the saturated state. Ties keep the same x
    (stay off, continue a run). Each step is a few whole-array operations over ``(k, s)``;
    ``_INF`` absorbs any step cost (``_INF + e == _INF`` for ``|e| < 1e13`` USD), so a state
    no pattern reaches stays at ``_INF``."""
    n = e.shape[0]
    k_n = k_max + 1  # on-step counts 0..k_max
    off, on = np.full((k_n, s_n), _INF), np.full((k_n, s_n), _INF)
    (on if running else off)[0, 0] = 0.0
    back = np.zeros((2, n, k_n, s_n), dtype=np.int8)
    start = np.full((k_n, s_n), _INF)  # off(k-1, s-1), or the saturated start
    cont = np.full((k_n, s_n), _INF)  # on(k-1, s)
    code = np.ones((k_n, s_n), dtype=np.int8)
    unreached = np.full(k_n - 1, _INF)  # the plain start into the last state with one state only
    for t in range(n):
        np.less(on, off, out=back[0, t], casting="unsafe")
        new_off = np.minimum(on, off)
        start[1:, 1:] = off[:-1, :-1]
        if saturate:
            plain = start[1:, -1] if s_n > 1 else unreached
            _start_into_last(start[1:, -1], code[1:, -1], off[:-1, -1], plain)
        cont[1:] = on[:-1]
        use_start = start < cont
        np.multiply(use_start, code, out=back[1, t], casting="unsafe")
        on = np.minimum(start, cont)
        on += e[t]
        off = new_off
    return np.stack([off, on], axis=2), back


def _forward_by_count(
    e: np.ndarray, s_n: int, saturate: bool, running: bool, k_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """``_forward_by_step``'s DP, the same costs and back-pointers, run over the on-step
    counts: a pattern's ``k``-th on-step follows its ``(k-1)``-th, and a count's off states
    are a running minimum over the steps, so each count is a few whole-array operations
    over the start states and steps (``_CountRows``)."""
    n = e.shape[0]
    back = np.zeros((2, k_max + 1, s_n, n), dtype=np.int8)  # [x, k, s, t]
    cost = np.full((k_max + 1, s_n, 2), _INF)
    rows = _CountRows(e, s_n, saturate)
    # count 0: never on, so off from the first step in start state 0 (a running job stops)
    cost[0, 0, 0] = 0.0
    back[0, 0, 0, 0] = running
    rows.start_from[0, 1:] = 0.0
    # the state before the first step: count 0, start state 0, on if running
    (rows.cont if running else rows.start_from)[0, 0] = 0.0
    for k in range(1, k_max + 1):
        off, on = rows.next_count(back[:, k])
        cost[k, :, 0], cost[k, :, 1] = off[:, -1], on[:, -1]
    return cost, back.transpose(0, 3, 1, 2)


class _CountRows:
    """One on-step count's DP costs ``[s, t]`` just before its on-step at each step ``t``:
    off (``start_from``: a start is one more) and on (``cont``) after step ``t - 1`` of the
    count below, column 0 the state before the first step. ``next_count`` turns them into
    those of the next count."""

    def __init__(self, e: np.ndarray, s_n: int, saturate: bool) -> None:
        n = e.shape[0]
        self.e, self.saturate = e[None, :], saturate
        self.start_from, self.cont = np.full((s_n, n), _INF), np.full((s_n, n), _INF)
        self.start = np.full((s_n, n), _INF)  # from off, one start more
        self.code = np.ones((s_n, n), dtype=np.int8)
        self.unreached = np.full(n, _INF)  # the plain start with one start state only

    def next_count(self, back: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The off and on costs ``[s, t]`` after each step of the next count; writes its
        back-pointers ``back[x, s, t]``."""
        start, prev_off = self.start, self.start_from
        start[1:] = prev_off[:-1]
        if self.saturate:
            plain = start[-1] if len(start) > 1 else self.unreached
            _start_into_last(start[-1], self.code[-1], prev_off[-1], plain)
        np.multiply(start < self.cont, self.code, out=back[1], casting="unsafe")
        on = np.minimum(start, self.cont)
        on += self.e
        # on after step t - 1: the next count's continuing runs, and what stops at step t
        self.cont[:, 1:] = on[:, :-1]
        self.cont[:, 0] = _INF  # from count 1 on, nothing is on before the first step
        off = np.minimum.accumulate(self.cont, axis=1)  # off after t: stopped at or before
        self.start_from[:, 1:] = off[:, :-1]
        self.start_from[:, 0] = _INF
        np.less(self.cont, self.start_from, out=back[0], casting="unsafe")
        return off, on


def _start_into_last(
    start: np.ndarray, code: np.ndarray, saturated: np.ndarray, plain: np.ndarray
) -> None:
    """Where starts saturate, the start into the last start state (views ``start`` and
    its back-pointer ``code``, written in place): from the last state itself
    (``saturated``, code 2: a start from the last state stays in it) where that is
    cheaper, else from the state below (``plain``, code 1). Both forwards take it, so
    their ties break alike."""
    better = saturated < plain
    start[...] = np.where(better, saturated, plain)
    code[...] = np.where(better, 2, 1)


def _work_needed(
    s_n: int,
    work_h: float,
    free_starts: int,
    overhead_h: float,
    tail_credit_h: float,
    carry_h: float,
    max_starts: int | None,
) -> np.ndarray:
    """Hours of work each final state ``(k, s, x)`` must do: restart overhead added, the
    tail credit taken off when on at the end, the carried work added when off at the end
    without a spare start (broadcast over ``k``)."""
    s = np.arange(s_n)[None, :, None]
    x = np.arange(2)[None, None, :]
    restarts = np.maximum(0, s - free_starts)
    need = work_h + overhead_h * restarts - tail_credit_h * x
    if carry_h > 0 and max_starts is not None:  # off at the end without a spare start
        need = need + carry_h * ((x == 0) & (s > max_starts - 1))
    return need


def _price_states(
    cost: np.ndarray, need: np.ndarray, curve, f_min: float, step_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Price each final state ``(k, s, x)``: the uniform level ``frac`` that does the work
    ``need`` (h) with ``k`` on-steps, and its cost ``frac * cost`` (USD; inf where no level
    can, 0 for no work and no step)."""
    k = np.arange(cost.shape[0])[:, None, None]
    hours = k * step_h
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(hours > 0, need / np.where(hours > 0, hours, 1.0), 0.0)
    feasible = (cost < _INF / 2) & (g <= 1.0 + 1e-9) & ((need <= 1e-9) | (k > 0))
    frac = np.where(k > 0, _inverse_throughput(curve, f_min, g), 0.0)
    total = np.where(feasible, frac * cost, np.inf)
    total = np.where(feasible & (need <= 1e-9) & (k == 0), 0.0, total)
    return frac, total


def _backtrack(back: np.ndarray, k: int, s: int, x: int) -> np.ndarray:
    """The on-steps of the pattern that ends in state ``(k, s, x)``."""
    n = back.shape[1]  # back[x, t, k, s]
    on = np.zeros(n, dtype=bool)
    for t in range(n - 1, -1, -1):
        c = int(back[x, t, k, s])
        if x == 1:
            on[t] = True
            k -= 1
            if c == 1:
                s, x = s - 1, 0
            elif c == 2:
                x = 0
        elif c == 1:
            x = 1
    return on
