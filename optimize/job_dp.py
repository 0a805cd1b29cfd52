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

The DP runs over the steps and counts the on-steps only as far as they can pay: with no
negative price, counts beyond the work at ``f_min`` are never cheaper
(``_most_steps_worth_counting``), so a job that needs 12 of a window's 193 steps counts to
13, not 193.

Its recurrence and backtrack are compiled (numba) and run without Python's lock (the GIL).
As numpy, a few whole-array operations a step, each letting the lock go and waiting to get
it back, the DP took 3.1-3.7 s of B2's wall for 1.2-1.4 s of its CPU beside the window
builder's thread (docs/model_jobs_history.md). Compiled, B2's 1,213 DPs take 0.21 s against
0.66 s alone, and the builder has the lock meanwhile. The costs, ties and patterns are the
numpy recurrence's (``tests/optimize/test_price_fix.py`` compares the two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
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
    if e.shape[0] == 0:
        return None
    shape = _table(
        e, curve, f_min, step_h, work_h, max_starts, free_starts, overhead_h, tail_credit_h, carry_h
    )
    saturate, s_n, need, k_max = shape
    cost, back = _forward(e, s_n, saturate, running, k_max)
    frac, total = _price_states(cost, need, curve, f_min, step_h)
    if not np.isfinite(total).any():
        return None
    best = int(np.argmin(total))  # ties: the fewest on-steps, then the fewest starts
    kb, sb, xb = np.unravel_index(best, total.shape)
    on = _backtrack(back, int(kb), int(sb), int(xb))
    level = float(frac[kb, sb, xb])
    return JobPattern(
        on=on,
        frac=np.where(on, level, 0.0),
        starts=starts_in(on, running),
        work_h=float(need[0, sb, xb]),
        cost_usd=float(total[kb, sb, xb]),
    )


def starts_in(on: np.ndarray, running_before: bool) -> int:
    """The starts of on/off pattern ``on`` (steps where it is on and was off the step
    before; before its first step, on if ``running_before``)."""
    prev = np.concatenate(([running_before], on[:-1]))
    return int(np.sum(on & ~prev))


def interruptions_before(on: np.ndarray, k: int, running_before: bool) -> int:
    """The interruptions on/off pattern ``on`` spends in its first ``k`` steps: its stops
    there (on at the step before, off at this one; before its first step, on if
    ``running_before``) that a later start follows."""
    prev = np.concatenate(([running_before], on[:-1]))
    stops = np.flatnonzero(prev & ~on)
    last_start = np.flatnonzero(on & ~prev)
    if last_start.size == 0:
        return 0
    return int(np.count_nonzero((stops < k) & (stops < last_start[-1])))


def interruptions_after(on: np.ndarray, k: int, running_before: bool) -> int:
    """The interruptions on/off pattern ``on`` begins at or after step ``k`` (its stops
    there that a later start follows)."""
    return interruptions_before(on, len(on), running_before) - interruptions_before(
        on, k, running_before
    )


def table_entries(
    cost_per_frac: np.ndarray,
    curve: tuple[tuple[float, float], ...],
    f_min: float,
    step_h: float,
    work_h: float,
    *,
    max_starts: int | None,
    free_starts: int,
    overhead_h: float = 0.0,
) -> int:
    """Entries (steps × on-step counts × start states) of the back-pointer table
    ``cheapest_pattern`` fills for these arguments (two bytes each), without a tail
    credit or carried work."""
    e = np.asarray(cost_per_frac, dtype=float)
    _, s_n, _, k_max = _table(
        e, curve, f_min, step_h, work_h, max_starts, free_starts, overhead_h, 0.0, 0.0
    )
    return e.shape[0] * (k_max + 1) * s_n


def _table(e, curve, f_min, step_h, work_h, max_starts, free_starts, overhead_h, tail_h, carry_h):
    """The DP's table for step costs ``e`` (``cheapest_pattern``'s arguments): whether
    the last start state saturates, the start states ``s_n``, the work each final state
    needs and the most on-steps counted."""
    n = e.shape[0]
    # start-count states: 0..s_n-1; unlimited starts without overhead saturate in the last
    if max_starts is None:
        saturate = overhead_h <= 0
        s_n = free_starts + 1 if saturate else n // 2 + 2
    else:
        saturate, s_n = False, max_starts + 1
    need = _work_needed(s_n, work_h, free_starts, overhead_h, tail_h, carry_h, max_starts)
    k_max = _most_steps_worth_counting(e, need, curve, f_min, step_h, tail_h, carry_h)
    return saturate, s_n, need, k_max


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


def _forward(
    e: np.ndarray, s_n: int, saturate: bool, running: bool, k_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The DP over the steps: ``cost[k, s, x]`` (USD at fraction 1) of the cheapest pattern
    with ``k`` on-steps (up to ``k_max``), start state ``s`` and last step off/on (``x`` =
    0/1), and the back-pointers ``back[x, t, k, s]``: 0 same x before (stay / continue), 1
    other x before (stop / start from s-1), 2 start within the saturated state
    (``saturate``: a start from the last start state stays in it). Ties keep the same x
    (stay off, continue a run). ``_INF`` absorbs any step cost (``_INF + e == _INF`` for
    ``|e| < 1e13`` USD), so a state no pattern reaches stays at ``_INF``."""
    off, on, back = _forward_kernel(e, s_n, saturate, running, k_max, _INF)
    return np.stack([off, on], axis=2), back


@numba.njit(nogil=True, cache=True)
def _forward_kernel(e, s_n, saturate, running, k_max, inf):
    """``_forward``'s recurrence, compiled and run without Python's lock: the off and on
    costs ``[k, s]`` after the last step, and the back-pointers."""
    n, k_n, last = e.shape[0], k_max + 1, s_n - 1
    off, on = np.full((k_n, s_n), inf), np.full((k_n, s_n), inf)
    if running:
        on[0, 0] = 0.0
    else:
        off[0, 0] = 0.0
    back = np.zeros((2, n, k_n, s_n), dtype=np.int8)
    new_on = np.empty((k_n, s_n))
    for t in range(n):
        for k in range(k_n):
            for s in range(s_n):
                if on[k, s] < off[k, s]:  # off after t: stopped at t, else stayed off
                    back[0, t, k, s] = 1
                cont = on[k - 1, s] if k > 0 else inf
                start = off[k - 1, s - 1] if k > 0 and s > 0 else inf
                code = 1
                if saturate and s == last and k > 0 and off[k - 1, last] < start:
                    start, code = off[k - 1, last], 2
                if start < cont:
                    back[1, t, k, s] = code
                    new_on[k, s] = start + e[t]
                else:
                    new_on[k, s] = cont + e[t]
        for k in range(k_n):
            for s in range(s_n):
                off[k, s] = min(on[k, s], off[k, s])
                on[k, s] = new_on[k, s]
    return off, on, back


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


@numba.njit(nogil=True, cache=True)
def _backtrack(back, k, s, x):
    """The on-steps of the pattern that ends in state ``(k, s, x)``."""
    n = back.shape[1]  # back[x, t, k, s]
    on = np.zeros(n, dtype=np.bool_)
    for t in range(n - 1, -1, -1):
        c = back[x, t, k, s]
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
