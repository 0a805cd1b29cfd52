"""Numeric ranges of a compiled model, checked before HiGHS sees it.

HiGHS fails on numbers far outside the physical range: with an import price of 1e10
USD/MWh beside ordinary ones it stops with status ``Solve error`` / ``Unknown``; a
coefficient above its ``large_matrix_value`` (1e15) or a NaN makes ``passModel`` return
``kError``. Such numbers come from inputs (prices, charges, capacities), not from the
model, so they are refused here with the Pyomo component that carries them; the caller
maps the component back to the input that fed it.

Limits (absolute values; 0 and the infinite bounds of free variables are not checked):
- objective costs (USD per unit of the variable): ``MAX_ABS_COST`` = 1e8. The largest a
  real scenario uses is an unfinished-work penalty of 1e6 USD/h; prices and demand charges
  stay below 1e5.
- constraint coefficients (MW per MW, MW per job fraction, ...): ``MAX_ABS_COEFFICIENT``
  = 1e8; real models stay below 1e3.
- finite variable and row bounds (MW, MWh, t): ``MAX_ABS_BOUND`` = 1e9. HiGHS reads
  bounds from 1e20 up as infinite; between 1e9 and that they are no physical limit but
  still scale the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize.errors import NumericRangeError

MAX_ABS_COST = 1e8
MAX_ABS_COEFFICIENT = 1e8
MAX_ABS_BOUND = 1e9


@dataclass(frozen=True)
class Extreme:
    """The largest absolute number of one part of a model and where it sits."""

    part: str
    component: str
    index: object
    value: float


def _first_bad(values: np.ndarray, limit: float, bounds: bool = False) -> int | None:
    """Position of the first NaN, infinity or value beyond ``limit``, else None.

    ``bounds``: infinities and anything HiGHS reads as infinite (``>= 1e20``) are allowed.
    """
    a = np.abs(np.asarray(values, dtype=float))
    too_big = (a > limit) & (a < 1e20) if bounds else ~np.isfinite(a) | (a > limit)
    bad = np.isnan(a) | too_big
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


def _name(item) -> tuple[str, object]:
    """(component name, index) of a Pyomo VarData or ConstraintData."""
    parent = item.parent_component()
    index = item.index() if parent.is_indexed() else None
    return parent.name, index


def _column_of_entry(cm, k: int) -> int:
    return int(np.searchsorted(cm.a_start, k, side="right") - 1)


def check_ranges(cm) -> None:
    """Raise ``NumericRangeError`` for the first number of ``cm`` (a ``CompiledModel``)
    outside its limit, checked in the order costs, coefficients, column bounds, row bounds."""
    k = _first_bad(cm.col_cost, MAX_ABS_COST)
    if k is not None:
        raise NumericRangeError("cost", *_name(cm.columns[k]), cm.col_cost[k], MAX_ABS_COST)
    k = _first_bad(cm.a_value, MAX_ABS_COEFFICIENT)
    if k is not None:
        row = cm.rows[int(cm.a_index[k])]
        col = cm.columns[_column_of_entry(cm, k)]
        comp, index = _name(row)
        raise NumericRangeError(
            "coefficient", comp, f"{index}, {col.name}", cm.a_value[k], MAX_ABS_COEFFICIENT
        )
    for items, values in (
        (cm.columns, cm.col_lower),
        (cm.columns, cm.col_upper),
        (cm.rows, cm.row_lower),
        (cm.rows, cm.row_upper),
    ):
        k = _first_bad(values, MAX_ABS_BOUND, bounds=True)
        if k is not None:
            raise NumericRangeError("bound", *_name(items[k]), values[k], MAX_ABS_BOUND)


def extremes(cm) -> list[Extreme]:
    """The largest absolute cost and coefficient of ``cm`` with their components: the
    suspects when HiGHS fails on a model that passed ``check_ranges``."""
    out = []
    if len(cm.col_cost):
        k = int(np.argmax(np.abs(cm.col_cost)))
        out.append(Extreme("cost", *_name(cm.columns[k]), float(cm.col_cost[k])))
    if len(cm.a_value):
        k = int(np.argmax(np.abs(cm.a_value)))
        row = cm.rows[int(cm.a_index[k])]
        out.append(Extreme("coefficient", *_name(row), float(cm.a_value[k])))
    return out
