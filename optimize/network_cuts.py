"""Linear network constraints on single steps ("cuts"), e.g. from AC power-flow sensitivities.

A ``LinearCut`` bounds a linear combination of the dispatch variables of one step:

    lower <= sum_k coeffs[k] * x_k[step] <= upper

with ``x_k`` named as in ``Dispatch.series`` (without the step index):

| key | Pyomo component |
|---|---|
| ``grid_import_mw`` | ``m.grid_import_mw[t]`` |
| ``grid_export_mw`` | ``m.grid_export_mw[t]`` |
| ``<name>_used_mw`` (``pv_used_mw``, ``wind_used_mw``) | ``m.renewable_used_mw[name, t]`` |
| ``battery_charge_mw`` | ``m.battery_charge_mw[t]`` |
| ``battery_discharge_mw`` | ``m.battery_discharge_mw[t]`` |
| ``backup_gen_mw`` | ``sum_g m.gen_mw[g, t]`` |
| ``facility_load_mw`` | ``m.facility_load_mw[t]`` (an expression with jobs, else a constant) |

A key the model does not have (no battery, no wind, ...) contributes 0: the asset is absent,
so its variable is fixed at 0. ``define_network_cuts(m, cuts, load)`` adds them all as
``m.network_cut[i]``; ``load`` is the facility load per step as built by
``define_facility_load``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyomo.environ as pyo

CUT_VARIABLES = (
    "grid_import_mw",
    "grid_export_mw",
    "pv_used_mw",
    "wind_used_mw",
    "battery_charge_mw",
    "battery_discharge_mw",
    "backup_gen_mw",
    "facility_load_mw",
)


@dataclass(frozen=True)
class LinearCut:
    """``lower <= sum(coeffs[k] * x_k[step]) <= upper`` (either bound may be None)."""

    step: int
    coeffs: dict[str, float] = field(default_factory=dict)
    lower: float | None = None
    upper: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.lower is None and self.upper is None:
            raise ValueError(f"LinearCut {self.name!r}: give lower, upper or both")
        for b in (self.lower, self.upper):
            if b is not None and not math.isfinite(b):
                raise ValueError(f"LinearCut {self.name!r}: bounds must be finite")
        if int(self.step) < 0:
            raise ValueError(f"LinearCut {self.name!r}: step must be >= 0")
        for k, c in self.coeffs.items():
            if not (k in CUT_VARIABLES or k.endswith("_used_mw")):
                raise ValueError(f"LinearCut {self.name!r}: unknown variable {k!r}")
            if not math.isfinite(c):
                raise ValueError(f"LinearCut {self.name!r}: coefficient of {k} is not finite")


def _terms(m: pyo.Block, key: str, t: int, load: list) -> object:
    """The expression of variable ``key`` at step ``t`` (0 when the asset is absent)."""
    if key == "grid_import_mw":
        return m.grid_import_mw[t]
    if key == "grid_export_mw":
        return m.grid_export_mw[t]
    if key in ("battery_charge_mw", "battery_discharge_mw"):
        return getattr(m, key)[t] if hasattr(m, key) else 0.0
    if key == "backup_gen_mw":
        if not hasattr(m, "gen_mw"):
            return 0.0
        return sum(m.gen_mw[g, t] for g in m.GENERATORS)
    if key == "facility_load_mw":
        return load[t]
    name = key.removesuffix("_used_mw")
    if hasattr(m, "RENEWABLES") and name in m.RENEWABLES:
        return m.renewable_used_mw[name, t]
    return 0.0


def define_network_cuts(m: pyo.Block, cuts, load: list) -> None:
    """Add each cut as ``m.network_cut[i]`` (nothing when ``cuts`` is empty)."""
    cuts = tuple(cuts)
    if not cuts:
        return
    n = len(m.T)
    for c in cuts:
        if int(c.step) >= n:
            raise ValueError(f"LinearCut {c.name!r}: step {c.step} >= n_steps {n}")

    def rule(m, i):
        c = cuts[i]
        body = sum(float(v) * _terms(m, k, int(c.step), load) for k, v in c.coeffs.items())
        lo = None if c.lower is None else float(c.lower)
        hi = None if c.upper is None else float(c.upper)
        if isinstance(body, (int, float)):
            ok = (lo is None or body >= lo - 1e-9) and (hi is None or body <= hi + 1e-9)
            return pyo.Constraint.Feasible if ok else pyo.Constraint.Infeasible
        return pyo.inequality(lo, body, hi)

    m.network_cut = pyo.Constraint(range(len(cuts)), rule=rule)
