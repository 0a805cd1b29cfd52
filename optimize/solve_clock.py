"""The time limit of one solve, shared by every step of its chain (a deadline).

``SolverOptions.time_limit_s`` bounds the whole solve: price-fix, the edge searches, the
probes, the restarts, the pair moves, the peak split and HiGHS's MILP. Each step had taken
its own share of the limit, the probes none at all (they are bounded by counts), so a
1 s limit gave 9.4 s of solve on R1's week at 0.1 % (an outside audit, 2026-12-07), and
the answer said "optimal" with no word of the clock. ``deadline(limit_s)`` sets the
solve's end for the block; the steps ask ``left_s()`` for their own limit and skip
themselves once ``spent()``, and the solve then returns its best schedule with status
``"time_limit"`` where that is not proven within the gap (``optimize.solving``).

Without a limit (the default) nothing here reads the clock: every stop is a count.
The deadline lives in a context variable of the thread that solves; work on a second
thread (``threads`` from 2) keeps its own share of the limit, as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

# ``time.perf_counter()`` at which the solve's time limit ends (None: no limit)
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "solve_deadline", default=None
)


@contextlib.contextmanager
def deadline(limit_s: float | None) -> Iterator[None]:
    """Within the block the solve ends ``limit_s`` seconds from now (None: no limit), or
    at an enclosing block's end where that comes first."""
    end = None if limit_s is None else time.perf_counter() + float(limit_s)
    outer = _DEADLINE.get()
    if outer is not None:
        end = outer if end is None else min(end, outer)
    token = _DEADLINE.set(end)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def left_s() -> float | None:
    """Seconds left of the solve's time limit (0 once spent; None: no limit)."""
    end = _DEADLINE.get()
    return None if end is None else max(0.0, end - time.perf_counter())


def spent() -> bool:
    """The solve's time limit has run out (never without one)."""
    left = left_s()
    return left is not None and left <= 0.0


def capped_s(limit_s: float | None) -> float | None:
    """A step's own limit ``limit_s`` (None: none), at most what is left of the solve's."""
    left = left_s()
    if left is None:
        return limit_s
    return left if limit_s is None else min(limit_s, left)
