"""Checks of the optimiser's input fields, each raising one ``ValueError`` that names the
dataclass and the field (``Battery.power_mw must be a finite number >= 0, got -5``): the
dataclasses of ``optimize.problem`` and ``optimize.solver_options`` call them in their
``__post_init__``."""

from __future__ import annotations

import math

import numpy as np


def as_array(obj: object, name: str, dtype: type = float) -> None:
    """Convert attribute ``name`` of a frozen dataclass to a 1-D read-only numpy array."""
    value = getattr(obj, name)
    if value is None:
        return
    owner = type(obj).__name__
    # a copy: the caller's array changed after the checks would be solved unchecked
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as exc:  # numpy's words name no field
        raise ValueError(f"{owner}.{name} must be an array of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{owner}.{name} must be 1-D, got shape {arr.shape}")
    # read-only for the same reason: an item set in place would be solved unchecked
    arr.flags.writeable = False
    object.__setattr__(obj, name, arr)


def check_len(owner: str, name: str, arr: np.ndarray | None, n_steps: int) -> None:
    if arr is not None and arr.shape != (n_steps,):
        raise ValueError(f"{owner}.{name} has length {arr.shape[0]}, expected n_steps={n_steps}")


def check_finite(owner: str, name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{owner}.{name} is not finite at step {bad}")


def check_nonneg(owner: str, name: str, arr: np.ndarray) -> None:
    check_finite(owner, name, arr)
    if np.any(arr < 0):
        bad = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{owner}.{name} is negative at step {bad}: {arr[bad]}")


def check_amount(owner: str, name: str, value: object) -> None:
    """A finite number >= 0 (MW, MWh, h, USD/unit)."""
    if not (is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}.{name} must be a finite number >= 0, got {value!r}")


def check_whole(owner: str, name: str, value: object, least: int = 0) -> None:
    """A whole number >= ``least`` (a step, a count): 2.5 had been cut to 2."""
    if not (is_number(value) and math.isfinite(value) and value == int(value) and value >= least):
        raise ValueError(f"{owner}.{name} must be a whole number >= {least}, got {value!r}")


def check_real(owner: str, name: str, value: object) -> None:
    """A finite number of either sign (a price, a carbon intensity)."""
    if not (is_number(value) and math.isfinite(value)):
        raise ValueError(f"{owner}.{name} must be a finite number, got {value!r}")


def check_fraction(owner: str, name: str, value: object, open_low: bool = False) -> None:
    """A number in [0, 1], or in (0, 1] with ``open_low`` (an efficiency): text or None
    had failed in a comparison that names no field."""
    inside = is_number(value) and (value > 0 if open_low else value >= 0) and value <= 1
    if not inside:
        low = "(0" if open_low else "[0"
        raise ValueError(f"{owner}.{name} must lie in {low}, 1], got {value!r}")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_frac(owner: str, name: str, arr: np.ndarray | None) -> None:
    if arr is None:
        return
    check_finite(owner, name, arr)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{owner}.{name} must lie in [0, 1]")
