"""Runs of consecutive steps where a boolean series holds, as ``[start, end)`` step
intervals: a job's on steps (its run segments), the capped steps of a demand-response
event, the steps a diagnosis names."""

from __future__ import annotations

import numpy as np


def run_bounds(mask) -> list[tuple[int, int]]:
    """``(a, e)`` of each run of consecutive steps where ``mask`` (bool per step) holds:
    steps ``a .. e - 1``, in order; plain ints."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask).astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    return list(zip(starts, ends, strict=True))
