"""Power that flows both ways at once: where the battery charges and discharges, or the
grid connection imports and exports, in one step.

Neither is physical, and each asset forbids it with a binary per step only where it can
pay (``optimize.battery``: a negative price; ``optimize.grid``: an export price above the
import price), since a binary at every step would make every model a harder MILP. At other
steps an optimum has no reason for it, but may still do it where it costs nothing (a tie)
or where a limit makes consuming energy pay. So ``optimize.solve`` checks each solution
(``simultaneous_steps``) and, where power flows both ways at a step, builds the model again
with the binaries at those steps too (``extra_binary_steps``) and solves again; the model
without the other binaries is a relaxation, so its bound stays valid.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator

import numpy as np
import pyomo.environ as pyo

# both flows above this (MW) at one step: both ways at once
_TOL_MW = 1e-6

_EXTRA_BINARY_STEPS: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "extra_binary_steps", default=frozenset()
)


@contextlib.contextmanager
def extra_binary_steps(steps: Iterable[int]) -> Iterator[None]:
    """Within the block, the battery and the grid add their binaries at ``steps`` too."""
    token = _EXTRA_BINARY_STEPS.set(frozenset(int(t) for t in steps))
    try:
        yield
    finally:
        _EXTRA_BINARY_STEPS.reset(token)


def with_extra_steps(need: np.ndarray) -> np.ndarray:
    """``need`` (bool per step, changed in place and returned) with the steps of the
    innermost ``extra_binary_steps`` block set (none outside one)."""
    steps = [t for t in _EXTRA_BINARY_STEPS.get() if 0 <= t < len(need)]
    need[steps] = True
    return need


def simultaneous_steps(m: pyo.Block) -> list[int]:
    """Steps of a solved model where the battery (if it forbids it: ``no_simultaneous``)
    charges and discharges at once, or the grid imports and exports at once."""
    pairs = [("grid_import_mw", "grid_export_mw")]
    battery = getattr(m.problem, "battery", None)
    if battery is not None and battery.no_simultaneous:
        pairs.append(("battery_charge_mw", "battery_discharge_mw"))
    out = set()
    for into, out_of in pairs:
        if not hasattr(m, into):
            continue
        a, b = getattr(m, into), getattr(m, out_of)
        out |= {int(t) for t in m.T if min(a[t].value or 0.0, b[t].value or 0.0) > _TOL_MW}
    return sorted(out)
