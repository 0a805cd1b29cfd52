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

In the elastic (diagnosis) model each cut gets a non-negative slack per bound
(``slack_network_cut_lower_<i>`` / ``..._upper_<i>``, kind ``"network_cut"``, in the cut's
``unit``), so cuts that no dispatch can meet are named in the diagnosis instead of making
the diagnosis model itself infeasible. With ``Problem.network_cut_penalty_usd_per_pct`` set
the cuts are soft in the ordinary model too: their shortfall ``m.network_cut_short`` is
priced in the objective (``m.network_cut_penalty_usd``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pyomo.environ as pyo

from optimize.elastic import add_slack
from optimize.errors import Infeasible, Slack

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
    unit: str = ""  # unit of the cut's quantity (``"pu"``, ``"%"``), for the diagnosis

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


def _elastic_terms(m: pyo.Block, cuts: tuple) -> list:
    """Per cut, ``s_lower - s_upper`` of its registered slacks (0 for an absent bound)."""
    terms = []
    for i, c in enumerate(cuts):
        term = 0.0
        for side, bound, sign in (("lower", c.lower, 1.0), ("upper", c.upper, -1.0)):
            if bound is not None:
                s = add_slack(
                    m, f"slack_network_cut_{side}_{i}", "network_cut", c.name, c.unit, step=c.step
                )
                term = term + sign * s
        terms.append(term)
    return terms


def _soft_terms(m: pyo.Block, cuts: tuple, penalty_usd_per_pct: float) -> list:
    """Per cut, ``s_lower - s_upper`` of priced shortfall variables
    ``m.network_cut_short[i, side]``; their cost is ``m.network_cut_penalty_usd``."""
    m.network_cut_short = pyo.Var(range(len(cuts)), ("lower", "upper"), within=pyo.NonNegativeReals)
    terms, cost = [], []
    for i, c in enumerate(cuts):
        per_unit = penalty_usd_per_pct * (100.0 if c.unit == "pu" else 1.0)
        term = 0.0
        for side, bound, sign in (("lower", c.lower, 1.0), ("upper", c.upper, -1.0)):
            s = m.network_cut_short[i, side]
            if bound is None:
                s.fix(0.0)
                continue
            term = term + sign * s
            cost.append(per_unit * s)
        terms.append(term)
    m.network_cut_penalty_usd = pyo.Expression(expr=sum(cost))
    return terms


def _check_constant(c: LinearCut, value: float) -> None:
    """A cut on quantities the dispatch cannot move (e.g. only a fixed facility load):
    raise ``Infeasible`` naming it if ``value`` is outside its bounds (Pyomo would stop
    the compilation with an exception that names nothing)."""
    short = max(
        0.0 if c.lower is None else c.lower - value,
        0.0 if c.upper is None else value - c.upper,
    )
    if short > 1e-9:
        raise Infeasible([Slack("network_cut", c.name, [int(c.step)], short, c.unit)])


def define_network_cuts(
    m: pyo.Block,
    cuts,
    load: list,
    elastic: bool = False,
    penalty_usd_per_pct: float | None = None,
) -> list:
    """Add each cut as ``m.network_cut[i]`` (nothing when ``cuts`` is empty) and return
    the objective terms (USD). ``elastic``: with registered slacks (see the module
    docstring); else ``penalty_usd_per_pct``: soft cuts whose shortfall is priced (per %,
    a pu counting 100 %), ``None``: hard cuts."""
    cuts = tuple(cuts)
    if not cuts:
        return []
    n = len(m.T)
    for c in cuts:
        if int(c.step) >= n:
            raise ValueError(f"LinearCut {c.name!r}: step {c.step} >= n_steps {n}")
    objective_terms = []
    if elastic:
        slack = _elastic_terms(m, cuts)
    elif penalty_usd_per_pct is not None:
        slack = _soft_terms(m, cuts, float(penalty_usd_per_pct))
        objective_terms = [m.network_cut_penalty_usd]
    else:
        slack = [0.0] * len(cuts)

    # Bodies first, outside Pyomo's rule: a cut on constants alone raises Infeasible here,
    # where Pyomo would log the exception of a failing rule on stdout before passing it on.
    bodies = []
    for c, s in zip(cuts, slack, strict=True):
        body = sum(float(v) * _terms(m, k, int(c.step), load) for k, v in c.coeffs.items())
        bodies.append(body + s)
        if isinstance(bodies[-1], (int, float)):
            _check_constant(c, float(bodies[-1]))

    def rule(m, i):
        c, body = cuts[i], bodies[i]
        if isinstance(body, (int, float)):
            return pyo.Constraint.Feasible
        lo = None if c.lower is None else float(c.lower)
        hi = None if c.upper is None else float(c.upper)
        return pyo.inequality(lo, body, hi)

    m.network_cut = pyo.Constraint(range(len(cuts)), rule=rule)
    return objective_terms
