"""Grid connection: import/export, energy cost, ramp limit, DR cap; tariff charges.

Variables (MW, step averages): ``grid_import_mw[t] in [0, import_max_mw[t]]``,
``grid_export_mw[t] in [0, export_max_mw[t]]``.
Constraints:
- ``grid_ramp_up[t]``/``grid_ramp_down[t]``: ``±(net[t] − net[t−1]) <= ramp_mw_per_h·step_h``
  with ``net = import − export``; for ``t = 0`` against ``initial_net_import_mw`` if given.
- ``grid_dr_cap[t]``: ``net[t] <= net_import_cap_mw[t]`` where the cap is not NaN; with
  ``dr_cap_over_usd_per_mwh`` a soft limit, ``net[t] − grid_dr_cap_over_mw[t] <= cap[t]``,
  the excess priced in the objective (and no row in elastic mode: a soft cap is no reason
  for a problem to have no schedule).
- ``grid_reach_max[t]``/``grid_reach_min[t]``: ``reach_min_mw[t] <= net[t] <=
  reach_max_mw[t]`` where not NaN: what the ramp limit carries back from limits after a
  window's end (``optimize.window_state.ramp_reach``); elastic, as the ramp's own rows.
- ``grid_import_size_cap[t]``: ``grid_import_mw[t] <= C`` with a sized import capacity C
  (``optimize/sizing.py``); the ``import_max_mw[t]`` bound stays (set to C's largest size,
  0 in outages). Elastic: both limits share the import-limit slack.
- One connection, one direction: with a binary ``grid_exporting[t]``,
  ``grid_import_on[t]``: ``import[t] <= import_max_mw[t] · (1 − exporting[t])`` and
  ``grid_export_on[t]``: ``export[t] <= export_max_mw[t] · exporting[t]``, at the steps of
  ``direction_binary_steps``. Importing and exporting δ MW at once changes no net flow, so
  no limit on net import (ramp, DR cap) asks for it; it costs ``δ · (import_price −
  export_price)`` and only adds to what the import pays (demand and tiered charges,
  emissions). So it pays only where the export price is above the import price (a
  wholesale export beside a retail tariff, an export adder above the import adder): the
  binaries are made there (not in elastic mode, the diagnosis), and ``optimize.solve``
  adds them where a solution imports and exports at once anyway (a tie:
  ``optimize.simultaneous``). Before 2026-12-06 there were none: with an export adder of
  20 USD/MWh above the import's a day of R1 imported 120 MW while exporting 50 MW.
Objective terms (USD): ``Σ_t step_h · (import_price[t] · grid_import_mw[t] −
export_price[t] · grid_export_mw[t])``, plus the demand charges (``Grid.peak_charges``,
equations in ``optimize.demand_charges``), the tiered energy charges
(``Grid.energy_tiers``, equations in ``optimize.energy_tiers``) and a soft DR cap's
``Σ_t step_h · dr_cap_over_usd_per_mwh · grid_dr_cap_over_mw[t]``.
"""

from __future__ import annotations

import math

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum, mark_priced_slack, set_upper_bounds, var_list
from optimize.carried_state import state_as_columns
from optimize.demand_charges import define_peak_charges
from optimize.elastic import add_slack
from optimize.energy_tiers import define_energy_tiers
from optimize.problem import Grid
from optimize.simultaneous import with_extra_steps
from optimize.sizing import capacity, define_cap_rows


def define_grid(m: pyo.Block, grid: Grid, step_h: float, elastic: bool = False) -> list:
    """Add grid variables and constraints to ``m``; return the grid's objective terms (USD)."""
    m.grid_import_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.grid_export_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    set_upper_bounds(m.grid_export_mw, grid.export_max_mw.tolist())
    imp = var_list(m.grid_import_mw)
    exp = var_list(m.grid_export_mw)

    s = None
    if elastic:
        imax = grid.import_max_mw.tolist()
        s = add_slack(m, "slack_import_limit_mw", "import_limit", "grid", "MW", m.T)
        m.grid_import_limit = pyo.Constraint(m.T, rule=lambda m, t: imp[t] - s[t] <= imax[t])
    else:
        set_upper_bounds(m.grid_import_mw, grid.import_max_mw.tolist())
    cap = capacity(m, "grid_import", math.inf)  # a sized import capacity C: imp <= C
    define_cap_rows(m, "grid_import_size_cap", imp, [1.0] * len(imp), cap, slack=s)
    _define_one_direction(m, grid, imp, exp, direction_binary_steps(grid, elastic))

    terms = [
        linear_sum((grid.import_price_usd_per_mwh * step_h).tolist(), imp),
        linear_sum((-grid.export_price_usd_per_mwh * step_h).tolist(), exp),
    ]
    _define_ramp(m, grid, step_h, imp, exp, elastic)
    terms += define_peak_charges(m, grid.peak_charges, imp)
    terms += define_energy_tiers(m, grid.energy_tiers, imp, step_h, grid.import_max_mw)
    terms += _define_dr_cap(m, grid, imp, exp, elastic, step_h)
    _define_reach(m, grid, imp, exp, elastic)
    return terms


def direction_binary_steps(grid: Grid, elastic: bool) -> list[int]:
    """Steps that get a binary for the flow's direction (see the module docstring): the
    export price above the import price, with both flows possible, or a step of
    ``optimize.simultaneous.extra_binary_steps``; none in elastic mode."""
    if elastic:
        return []
    both = (grid.import_max_mw > 0) & (grid.export_max_mw > 0)
    need = with_extra_steps(grid.export_price_usd_per_mwh > grid.import_price_usd_per_mwh)
    return np.flatnonzero(need & both).tolist()


def _define_one_direction(m, grid: Grid, imp: list, exp: list, steps: list[int]) -> None:
    if not steps:
        return
    imax, emax = grid.import_max_mw.tolist(), grid.export_max_mw.tolist()
    m.grid_binary_steps = pyo.Set(initialize=steps, ordered=True)
    m.grid_exporting = pyo.Var(m.grid_binary_steps, within=pyo.Binary)
    d = m.grid_exporting
    m.grid_import_on = pyo.Constraint(
        m.grid_binary_steps,
        rule=lambda m, t: linear_sum((1.0, imax[t]), (imp[t], d[t])) <= imax[t],
    )
    m.grid_export_on = pyo.Constraint(
        m.grid_binary_steps,
        rule=lambda m, t: linear_sum((1.0, -emax[t]), (exp[t], d[t])) <= 0.0,
    )


def _define_ramp(m, grid: Grid, step_h: float, imp: list, exp: list, elastic: bool) -> None:
    if grid.ramp_mw_per_h is None:
        return
    r = float(grid.ramp_mw_per_h) * step_h
    init = grid.initial_net_import_mw
    steps = list(range(0 if init is not None else 1, len(imp)))
    if not steps:
        return

    first = _initial_net_import(m, imp, exp, init)

    def delta(t):
        if t == 0:
            return linear_sum(*first)
        return linear_sum((1.0, -1.0, -1.0, 1.0), (imp[t], exp[t], imp[t - 1], exp[t - 1]))

    if elastic:
        up = add_slack(m, "slack_ramp_up_mw", "ramp_limit_up", "grid", "MW", steps)
        dn = add_slack(m, "slack_ramp_down_mw", "ramp_limit_down", "grid", "MW", steps)
        m.grid_ramp_up = pyo.Constraint(steps, rule=lambda m, t: delta(t) - up[t] <= r)
        m.grid_ramp_down = pyo.Constraint(steps, rule=lambda m, t: delta(t) + dn[t] >= -r)
    else:
        m.grid_ramp_up = pyo.Constraint(steps, rule=lambda m, t: delta(t) <= r)
        m.grid_ramp_down = pyo.Constraint(steps, rule=lambda m, t: delta(t) >= -r)


def _initial_net_import(m, imp: list, exp: list, init: float | None) -> tuple:
    """``net[0] − net[−1]`` as (coefficients, variables, constant): ``net[−1]`` is
    ``initial_net_import_mw``, or within ``optimize.carried_state.state_columns()`` the
    column ``grid_initial_net_import_mw`` fixed at it (the window's carried state)."""
    if init is None:
        return (), (), 0.0
    if not state_as_columns():
        return (1.0, -1.0), (imp[0], exp[0]), -float(init)
    v = float(init)
    m.grid_initial_net_import_mw = pyo.Var(bounds=(v, v))
    return (1.0, -1.0, -1.0), (imp[0], exp[0], m.grid_initial_net_import_mw), 0.0


def _define_dr_cap(m, grid: Grid, imp: list, exp: list, elastic: bool, step_h: float) -> list:
    """``grid_dr_cap`` (module docstring); return the soft cap's objective term (USD)."""
    cap = grid.net_import_cap_mw
    steps = [] if cap is None else np.flatnonzero(~np.isnan(cap)).tolist()
    price = grid.dr_cap_over_usd_per_mwh
    if not steps or (price is not None and elastic):
        return []
    cap_l = cap.tolist()
    if elastic:
        s = add_slack(m, "slack_dr_cap_mw", "dr_cap", "grid", "MW", steps)
        m.grid_dr_cap = pyo.Constraint(steps, rule=lambda m, t: imp[t] - exp[t] - s[t] <= cap_l[t])
        return []
    if price is None:
        m.grid_dr_cap = pyo.Constraint(steps, rule=lambda m, t: imp[t] - exp[t] <= cap_l[t])
        return []
    m.grid_dr_cap_over_mw = pyo.Var(steps, within=pyo.NonNegativeReals)
    over = m.grid_dr_cap_over_mw
    mark_priced_slack(m, over)  # its price is a penalty, not the site's cost
    m.grid_dr_cap = pyo.Constraint(
        steps,
        rule=lambda m, t: linear_sum((1.0, -1.0, -1.0), (imp[t], exp[t], over[t])) <= cap_l[t],
    )
    return [linear_sum([price * step_h] * len(steps), [over[t] for t in steps])]


def _define_reach(m, grid: Grid, imp: list, exp: list, elastic: bool) -> None:
    """``grid_reach_max`` and ``grid_reach_min`` (module docstring); in elastic mode a
    breach is the ramp's (down to a later cap, up to a later floor)."""
    for name, bound, sign, kind in (
        ("max", grid.reach_max_mw, 1.0, "ramp_limit_down"),
        ("min", grid.reach_min_mw, -1.0, "ramp_limit_up"),
    ):
        steps = [] if bound is None else np.flatnonzero(~np.isnan(bound)).tolist()
        if not steps:
            continue
        limit = (sign * bound).tolist()
        s = add_slack(m, f"slack_reach_{name}_mw", kind, "grid", "MW", steps) if elastic else None

        def rule(m, t, sign=sign, limit=limit, s=s):
            net = linear_sum((sign, -sign), (imp[t], exp[t]))
            return (net - s[t] if s is not None else net) <= limit[t]

        setattr(m, f"grid_reach_{name}", pyo.Constraint(steps, rule=rule))
