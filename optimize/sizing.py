"""Sizing: asset capacities chosen together with the dispatch (``Problem.sizing``).

A capacity-expansion model in the PyPSA style: the size variables are created first
(``define_sizing``), and each asset's module bounds its variables at the asset's largest
size and ties them to the size with the rows below (``capacity`` tells a module whether, and
how, its asset is sized). Symbols: ``S_a`` the size of asset ``a`` (MW; MWh for
``battery_energy``), ``X_a`` its existing size, ``[L_a, U_a]`` its bounds (``L_a =
AssetSize.lower_size``, ``U_a = max_size``).

Variables: ``size_added[a]`` in ``[L_a − X_a, U_a − X_a]`` over ``m.SIZED`` (the units built
above what exists, >= 0); ``size[a] = X_a + size_added[a]`` (an ``Expression``).

Rows, per sized asset (component names in brackets; each only at the steps whose factor,
profile or availability, is > 0: elsewhere the variable's bound, factor · U = 0, holds):

- renewable r (``optimize/renewables.py``): ``renewable_used_mw[r, t] <= profile_per_unit[t] ·
  S_r`` [``<r>_size_cap``]; the variable's bound is ``profile_per_unit[t] · U_r`` (the
  Renewable's own ``available_mw`` is not used).
- battery power P (``optimize/battery.py``): ``battery_charge_mw[t], battery_discharge_mw[t] <=
  avail[t] · P`` [``battery_charge_size_cap``, ``battery_discharge_size_cap``]; bounds and the
  no-simultaneous binaries' big-M at ``avail[t] · U_P``.
- battery energy E (``optimize/battery.py``): ``soc_min_frac · E <= soc[t] <= soc_max_frac · E``
  [``battery_soc_min``, ``battery_soc_max``], ``soc[−1] = soc_initial_frac · E`` (in
  ``battery_soc_balance[0]``), ``soc[n−1] >= soc_final_frac · E`` [``battery_soc_final``].
- grid import C (``optimize/grid.py``): ``grid_import_mw[t] <= C`` [``grid_import_size_cap``];
  the grid's ``import_max_mw[t]`` bound stays (the caller sets it to ``U_C``, 0 in outages).
- generator g, G (``optimize/generators.py``): ``gen_mw[g, t] <= avail[t] · G``
  [``gen_<g>_size_cap``]; with a minimum load (binary ``on``) the exact linearisation of
  ``f_min · G · on <= gen``: ``gen >= f_min · G − f_min · U_G · (1 − on)`` (in ``gen_min``) and
  ``gen <= avail · U_G · on`` (``gen_max``). On: ``f_min·G <= gen <= avail·G``; off: gen = 0.

Objective term (USD over the horizon): ``Σ_a usd_per_unit_a · size_added[a] = Σ_a
usd_per_unit_a · (S_a − X_a)``, reported as ``Dispatch.costs["capacity_usd"]``. The cost sits
on ``size_added`` (no constant), so the gap basis (``optimize.highs.gap_basis_usd``, the sum
of the positive cost terms) counts the capacity cost as what it is, a positive term.

The sizes are continuous: the LP relaxation of the sized model is still a relaxation, so
price-fix's bound (its LP's objective) stays a valid lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.problem import Problem, Sizing


@dataclass(frozen=True)
class Capacity:
    """An asset's size as the model sees it (MW, or MWh for battery energy).

    Fixed (``added`` is None): the size is ``upper``. Sized: ``existing + added`` with
    ``added`` the asset's ``size_added`` VarData, in ``[lower, upper]``. ``profile``: a sized
    renewable's available MW per MW of size per step (None otherwise).
    """

    upper: float
    lower: float
    existing: float = 0.0
    added: object | None = None  # pyomo VarData
    profile: np.ndarray | None = None

    @property
    def sized(self) -> bool:
        return self.added is not None

    def scaled(self, k: float) -> tuple[list[float], list, float]:
        """``k · size`` as linear terms (coefficients, variables, constant)."""
        if self.added is None or k == 0:
            return [], [], k * self.upper
        return [k], [self.added], k * self.existing


def capacity(m: pyo.Block, name: str, fixed: float) -> Capacity:
    """The capacity of asset ``name`` (an ``AssetSize.name``) in ``m``: sized if the problem's
    sizing lists it (``define_sizing`` must have run), else ``fixed``."""
    # a model built without a Problem (optimize/headroom.py) sizes nothing
    sizing = getattr(getattr(m, "problem", None), "sizing", None)
    a = None if sizing is None else sizing.get(name)
    if a is None:
        return Capacity(upper=float(fixed), lower=float(fixed))
    return Capacity(
        upper=a.max_size,
        lower=a.lower_size,
        existing=a.existing,
        added=m.size_added[name],
        profile=a.profile_per_unit,
    )


def define_sizing(m: pyo.Block, problem: Problem) -> list:
    """Add ``m.SIZED``, ``m.size_added`` and ``m.size`` (before the assets: they read them);
    return the capacity cost term (USD over the horizon), [] without sizing."""
    if problem.sizing is None:
        return []
    assets = problem.sizing.assets
    m.SIZED = pyo.Set(initialize=[a.name for a in assets], ordered=True)
    m.size_added = pyo.Var(m.SIZED, within=pyo.NonNegativeReals)
    for a in assets:
        m.size_added[a.name].setlb(a.lower_size - a.existing)
        m.size_added[a.name].setub(a.max_size - a.existing)
    existing = {a.name: a.existing for a in assets}
    m.size = pyo.Expression(m.SIZED, rule=lambda m, a: existing[a] + m.size_added[a])
    costs = [a.usd_per_unit for a in assets]
    added = [m.size_added[a.name] for a in assets]
    if not any(costs):
        return []
    return [linear_sum(costs, added)]


def define_cap_rows(
    m: pyo.Block,
    component: str,
    xs: Sequence,
    factor: Sequence[float],
    cap: Capacity,
    slack=None,
) -> None:
    """For a sized ``cap``, rows ``component[t]``: ``xs[t] (− slack[t]) <= factor[t] · size`` at
    the steps with ``factor[t] > 0`` (``slack``: the elastic model's slack, indexed by step).
    Nothing for a fixed ``cap``: the variables' bounds hold it."""
    if not cap.sized:
        return
    k = [float(f) for f in factor]
    steps = [t for t in range(len(xs)) if k[t] > 0]

    def rule(m, t):
        coefs, vars_ = [1.0, -k[t]], [xs[t], cap.added]
        if slack is not None:
            coefs.append(-1.0)
            vars_.append(slack[t])
        return linear_sum(coefs, vars_) <= k[t] * cap.existing

    m.add_component(component, pyo.Constraint(steps, rule=rule))


def solved_sizes(m: pyo.Block) -> dict[str, float]:
    """The sizes of a solved model (asset name -> MW or MWh); {} without sizing."""
    if not hasattr(m, "SIZED"):
        return {}
    return {a: float(pyo.value(m.size[a])) for a in m.SIZED}


def capacity_usd(sizing: Sizing | None, sizes: dict[str, float]) -> float:
    """``Σ usd_per_unit · (size − existing)`` (USD over the horizon) of ``sizes``."""
    if sizing is None:
        return 0.0
    return float(sum(a.usd_per_unit * (sizes[a.name] - a.existing) for a in sizing.assets))
