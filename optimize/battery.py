"""Battery: charge/discharge power, state of charge, wear, no-simultaneous binaries.

Variables: ``battery_charge_mw[t]``, ``battery_discharge_mw[t]`` in
``[0, power_mw · available_frac[t]]``; ``battery_soc_mwh[t]`` (end of step t) in
``[soc_min_frac · E, soc_max_frac · E]``; with ``no_simultaneous`` a binary
``battery_charging[t]``.
Constraints:
- ``battery_soc_balance[t]``:
  ``soc[t] = soc[t−1] + step_h · (η_c · charge[t] − discharge[t] / η_d)``
  with ``soc[−1] = soc_initial_frac · E``.
- ``battery_soc_final``: ``soc[n−1] >= soc_final_frac · E`` (if ``soc_final_frac`` is set).
- ``battery_charge_on[t]``: ``charge[t] <= P_t · charging[t]``; ``battery_discharge_on[t]``:
  ``discharge[t] <= P_t · (1 − charging[t])`` (only with ``no_simultaneous``, and only at the
  steps of ``binary_steps``: see below).

No-simultaneous binaries where they can matter: charging and discharging at once only
burns energy (``(1 − η_c·η_d)`` of the charge is lost) and costs wear, so an optimum uses it
only when consuming more energy pays: at a negative import or export price, or when a
limit forces consumption (the ramp-down limit on net import with all other ways to consume,
i.e. less export, less curtailment, more job power, already used up). The binaries are
therefore created at the steps with a negative import or export price and at the steps of
``optimize.simultaneous.extra_binary_steps`` (a context manager); ``optimize.solve`` then
checks the solution (``optimize.simultaneous.simultaneous_steps``) and, if it charges and
discharges at once anywhere, rebuilds with binaries at those steps and solves again, so the
result always satisfies the no-simultaneous rule (the model without the other binaries is a
relaxation, so its bound stays valid). In elastic mode (diagnosis) every step gets its binary.
Objective term (USD): ``wear_usd_per_mwh · step_h · Σ discharge[t]``.
Elastic: SOC min/max and the final SOC get slacks (MWh).

Sized power P and/or energy E (``optimize/sizing.py``; ``P_t = avail[t] · P``): the variables'
bounds and the binaries' big-M are built at the largest sizes (``avail[t] · U_P``,
``[soc_min_frac · L_E, soc_max_frac · U_E]``) and rows tie them to the sizes:
``battery_charge_size_cap[t]``/``battery_discharge_size_cap[t]``: ``charge[t], discharge[t] <=
avail[t] · P``; ``battery_soc_min[t]``/``battery_soc_max[t]``: ``soc_min_frac · E <= soc[t] <=
soc_max_frac · E``; and E enters ``battery_soc_balance[0]`` (``soc[−1] = soc_initial_frac · E``)
and ``battery_soc_final`` (``soc[n−1] >= soc_final_frac · E``) as a variable.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum, set_upper_bounds, var_list
from optimize.carried_state import initial_soc_mwh, state_as_columns
from optimize.elastic import add_slack
from optimize.problem import Battery
from optimize.simultaneous import with_extra_steps
from optimize.sizing import Capacity, capacity, define_cap_rows


def binary_steps(m: pyo.Block, n: int, elastic: bool) -> list[int]:
    """Steps that get a no-simultaneous binary (see the module docstring)."""
    if elastic:
        return list(range(n))
    need = np.zeros(n, dtype=bool)
    grid = getattr(getattr(m, "problem", None), "grid", None)
    if grid is None:
        need[:] = True
    else:
        need |= np.asarray(grid.import_price_usd_per_mwh) < 0
        need |= np.asarray(grid.export_price_usd_per_mwh) < 0
    return np.flatnonzero(with_extra_steps(need)).tolist()


def define_battery(m: pyo.Block, b: Battery, step_h: float, elastic: bool = False) -> list:
    n = len(m.T)
    avail = np.ones(n) if b.available_frac is None else b.available_frac
    power = capacity(m, "battery_power", b.power_mw)
    energy = capacity(m, "battery_energy", b.energy_mwh)
    p_max = (power.upper * avail).tolist()

    m.battery_charge_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    m.battery_discharge_mw = pyo.Var(m.T, within=pyo.NonNegativeReals)
    set_upper_bounds(m.battery_charge_mw, p_max)
    set_upper_bounds(m.battery_discharge_mw, p_max)
    ch = var_list(m.battery_charge_mw)
    dis = var_list(m.battery_discharge_mw)
    define_cap_rows(m, "battery_charge_size_cap", ch, avail, power)
    define_cap_rows(m, "battery_discharge_size_cap", dis, avail, power)
    soc = _define_soc_bounds(m, b, energy, elastic)

    kc = step_h * b.charge_efficiency
    kd = step_h / b.discharge_efficiency
    e0_coefs, e0_vars, e0_const = _initial_soc_terms(m, b, energy)  # −soc[−1]

    def soc_rule(m, t):
        if t == 0:
            coefs = (1.0, -kc, kd, *e0_coefs)
            return linear_sum(coefs, (soc[0], ch[0], dis[0], *e0_vars), e0_const) == 0.0
        return linear_sum((1.0, -1.0, -kc, kd), (soc[t], soc[t - 1], ch[t], dis[t])) == 0.0

    m.battery_soc_balance = pyo.Constraint(m.T, rule=soc_rule)

    if b.soc_final_frac is not None:
        _define_soc_final(m, b.soc_final_frac, energy, soc[n - 1], elastic)

    if b.no_simultaneous:
        steps = binary_steps(m, n, elastic)
        m.battery_binary_steps = pyo.Set(initialize=steps, ordered=True)
        m.battery_charging = pyo.Var(m.battery_binary_steps, within=pyo.Binary)
        u = m.battery_charging
        m.battery_charge_on = pyo.Constraint(
            m.battery_binary_steps,
            rule=lambda m, t: linear_sum((1.0, -p_max[t]), (ch[t], u[t])) <= 0.0,
        )
        m.battery_discharge_on = pyo.Constraint(
            m.battery_binary_steps,
            rule=lambda m, t: linear_sum((1.0, p_max[t]), (dis[t], u[t])) <= p_max[t],
        )

    m.bus_injections.append((1.0, dis))
    m.bus_injections.append((-1.0, ch))
    if b.wear_usd_per_mwh > 0:
        return [linear_sum([b.wear_usd_per_mwh * step_h] * n, dis)]
    return []


def _initial_soc_terms(m: pyo.Block, b: Battery, energy: Capacity) -> tuple[list, list, float]:
    """``−soc[−1]`` as linear terms: ``−soc_initial_frac · E``, or within
    ``optimize.carried_state.state_columns()`` minus the column
    ``battery_soc_initial_mwh`` fixed at that value (the window's carried state)."""
    if not state_as_columns():
        return energy.scaled(-b.soc_initial_frac)
    if energy.sized:
        raise ValueError("the carried state as columns needs a battery of fixed energy")
    v = initial_soc_mwh(b)
    m.battery_soc_initial_mwh = pyo.Var(bounds=(v, v))
    return [-1.0], [m.battery_soc_initial_mwh], 0.0


def _define_soc_final(m: pyo.Block, frac: float, energy: Capacity, soc_end, elastic: bool) -> None:
    """``battery_soc_final``: ``soc[n−1] (+ slack) >= frac · E``."""
    coefs, vars_, const = energy.scaled(-frac)  # soc[n−1] − frac·E >= 0
    coefs, vars_ = [1.0, *coefs], [soc_end, *vars_]
    if elastic:
        n = len(m.T)
        s = add_slack(m, "slack_soc_final_mwh", "soc_final", "battery", "MWh", step=n - 1)
        coefs, vars_ = [*coefs, 1.0], [*vars_, s]
    m.battery_soc_final = pyo.Constraint(expr=linear_sum(coefs, vars_, const) >= 0.0)


def _define_soc_bounds(m: pyo.Block, b: Battery, energy: Capacity, elastic: bool) -> list:
    """``battery_soc_mwh`` in ``[soc_min_frac · E, soc_max_frac · E]``: variable bounds for a
    fixed E; rows ``battery_soc_min``/``battery_soc_max`` for a sized E (bounds at its
    smallest/largest size) and in elastic mode (with slacks). Returns the SOC VarData."""
    if elastic:
        m.battery_soc_mwh = pyo.Var(m.T, within=pyo.Reals)
    else:
        bounds = (b.soc_min_frac * energy.lower, b.soc_max_frac * energy.upper)
        m.battery_soc_mwh = pyo.Var(m.T, bounds=bounds)
    soc = var_list(m.battery_soc_mwh)
    if not (elastic or energy.sized):
        return soc
    lo = hi = None
    if elastic:
        lo = add_slack(m, "slack_soc_min_mwh", "soc_min", "battery", "MWh", m.T)
        hi = add_slack(m, "slack_soc_max_mwh", "soc_max", "battery", "MWh", m.T)
    min_coefs, min_vars, min_const = energy.scaled(-b.soc_min_frac)  # soc − min·E >= 0
    max_coefs, max_vars, max_const = energy.scaled(-b.soc_max_frac)  # soc − max·E <= 0

    def soc_min(m, t):
        coefs, vars_ = [1.0, *min_coefs], [soc[t], *min_vars]
        if lo is not None:
            coefs, vars_ = [*coefs, 1.0], [*vars_, lo[t]]
        return linear_sum(coefs, vars_, min_const) >= 0.0

    def soc_max(m, t):
        coefs, vars_ = [1.0, *max_coefs], [soc[t], *max_vars]
        if hi is not None:
            coefs, vars_ = [*coefs, -1.0], [*vars_, hi[t]]
        return linear_sum(coefs, vars_, max_const) <= 0.0

    m.battery_soc_min = pyo.Constraint(m.T, rule=soc_min)
    m.battery_soc_max = pyo.Constraint(m.T, rule=soc_max)
    return soc
