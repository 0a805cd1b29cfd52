"""The state a rolling window starts from, held in column bounds.

A window of ``optimize.rolling`` starts from what the window before it committed: the
battery's SOC, the last net import and the demand charges' peaks so far (the rolling
module's docstring). In a model built within ``state_columns()`` each of them is the
bound of one column, and appears nowhere else:

- ``battery_soc_initial_mwh = soc_initial_frac · E`` (a column fixed by its bounds; it
  is ``soc[−1]`` in ``battery_soc_balance[0]``, where a constant stands otherwise);
- ``grid_initial_net_import_mw = initial_net_import_mw`` (fixed; the ramp rows' ``net[−1]``);
- ``grid_peak_import_mw[k] >= prior_peak_mw_k`` (as in every model).

The model is the same either way; the columns only move constants out of the rows. What
they buy: a model compiled for one state serves another by those bounds alone
(``apply_state``), so the next window can be built and compiled while this one solves,
before its state is known (``optimize.window_prebuild``). ``same_but_state`` says whether
two problems differ in nothing else, the structure the state decides included (a ramp
row at ``t = 0`` only with an initial net import; a billed-demand column only with a
ratchet floor above the prior peak).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator

import numpy as np

from optimize.demand_charges import needs_billed_var
from optimize.highs import CompiledModel, column_bounds
from optimize.problem import Battery, Problem

_STATE_COLUMNS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "carried_state_columns", default=False
)


@contextlib.contextmanager
def state_columns() -> Iterator[None]:
    """Within the block, ``build_model`` holds the carried state in columns (module
    docstring). A context variable: a thread that builds enters it itself."""
    token = _STATE_COLUMNS.set(True)
    try:
        yield
    finally:
        _STATE_COLUMNS.reset(token)


def state_as_columns() -> bool:
    return _STATE_COLUMNS.get()


def initial_soc_mwh(b: Battery) -> float:
    """``soc[−1]`` (MWh): the initial SOC fraction of the battery's fixed energy."""
    return float(b.soc_initial_frac) * float(b.energy_mwh)


def _state_vars(m, p: Problem) -> list[tuple[object, float, float | None]]:
    """(Pyomo var, lower, upper) of each state column of ``m`` at the state of ``p``;
    upper None: none (the peak's)."""
    out: list[tuple[object, float, float | None]] = []
    if p.battery is not None:
        v = initial_soc_mwh(p.battery)
        out.append((m.battery_soc_initial_mwh, v, v))
    if p.grid.ramp_mw_per_h is not None and p.grid.initial_net_import_mw is not None:
        v = float(p.grid.initial_net_import_mw)
        out.append((m.grid_initial_net_import_mw, v, v))
    for c in p.grid.peak_charges:
        out.append((m.grid_peak_import_mw[c.key], float(c.prior_peak_mw), None))
    return out


def apply_state(m, cm: CompiledModel, p: Problem, h=None) -> None:
    """Give ``m`` (built within ``state_columns()``), its compiled ``cm`` and the ``Highs``
    ``h`` holding ``cm`` (None: none) the state of ``p``, a problem ``same_but_state`` as
    ``m.problem``; ``m.problem`` becomes ``p``. The bounds are computed as the compiler
    computes them, so ``cm`` is then what compiling a model built from ``p`` gives."""
    index = cm.column_index()
    for var, lower, upper in _state_vars(m, p):
        var.setlb(lower)
        if upper is not None:
            var.setub(upper)
        lo, hi, _ = column_bounds([var])
        i = index[id(var)]
        cm.col_lower[i], cm.col_upper[i] = lo[0], hi[0]
        if h is not None:
            h.changeColBounds(i, cm.col_lower[i], cm.col_upper[i])
    m.problem = p


def _state_structure(p: Problem) -> tuple:
    """What the state decides of a model's structure (module docstring)."""
    return (
        p.battery is None,
        p.grid.initial_net_import_mw is None,
        tuple(needs_billed_var(c) for c in p.grid.peak_charges),
    )


def with_state_of(p: Problem, q: Problem) -> Problem | None:
    """``p`` with the state of ``q``; None where the two differ in the structure the state
    decides, or in their charge keys (then no model serves both)."""
    if _state_structure(p) != _state_structure(q):
        return None
    if [c.key for c in p.grid.peak_charges] != [c.key for c in q.grid.peak_charges]:
        return None
    return _state_copied(p, q)


def _state_copied(p: Problem, q: Problem) -> Problem:
    """``p`` with the state of ``q`` (same battery presence and charge keys)."""
    battery = p.battery
    if battery is not None:
        battery = dataclasses.replace(battery, soc_initial_frac=q.battery.soc_initial_frac)
    charges = tuple(
        dataclasses.replace(c, prior_peak_mw=d.prior_peak_mw)
        for c, d in zip(p.grid.peak_charges, q.grid.peak_charges, strict=True)
    )
    grid = dataclasses.replace(
        p.grid, initial_net_import_mw=q.grid.initial_net_import_mw, peak_charges=charges
    )
    return dataclasses.replace(p, battery=battery, grid=grid)


def same_but_state(p: Problem, q: Problem) -> bool:
    """True when ``p`` and ``q`` differ at most in their carried state (module docstring)."""
    q_like_p = with_state_of(p, q)
    return q_like_p is not None and equal(q_like_p, q)


def equal(x, y) -> bool:
    """Deep equality of problem data: dataclasses field by field, sequences and mappings
    item by item, arrays by shape, dtype and value (NaN equal to NaN)."""
    if type(x) is not type(y):
        return False
    if dataclasses.is_dataclass(x):
        return all(equal(getattr(x, f.name), getattr(y, f.name)) for f in dataclasses.fields(x))
    if isinstance(x, np.ndarray):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(equal(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    if isinstance(x, float):
        return x == y or (x != x and y != y)
    return bool(x == y)
