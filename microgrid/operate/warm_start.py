"""The start a re-plan's MILP gets: the previous re-plan's job schedule, shifted to the new
window (``optimize.solve(..., start_on=...)``).

Between two re-plans the window moves by a few steps and the plant's state moves as the
plan said (or nearly), so the last plan's schedule from step ``k`` on is usually close to
the new window's optimum; the solve uses it where it is feasible and cheaper than the
heuristic's own start, and otherwise ignores it.
"""

from __future__ import annotations

import numpy as np

import optimize


def shifted_start(
    dispatch: optimize.Dispatch | None, shift: int, window: optimize.Problem
) -> dict[str, np.ndarray] | None:
    """The job schedule of ``dispatch`` (a window that starts ``shift`` steps before
    ``window``) on ``window``'s steps: job id -> bool per step, each of length
    ``window.n_steps``; off at the steps past the old window's end; only the jobs of
    ``window`` (a job done or past its deadline is no longer one).

    None (no start) without a previous dispatch or where a job of ``window`` has no
    schedule in it (a job that came into the look-ahead): the start would leave that job's
    binaries to a MILP of their own, or, all off, leave its work undone at the
    controller's penalty; the heuristic's start is better then."""
    if dispatch is None or not window.jobs:
        return None
    old = optimize.job_patterns(dispatch)
    if any(j.id not in old for j in window.jobs):
        return None
    out = {}
    for j in window.jobs:
        on = np.zeros(window.n_steps, dtype=bool)
        tail = old[j.id][shift : shift + window.n_steps]
        on[: len(tail)] = tail
        out[j.id] = on
    return out
