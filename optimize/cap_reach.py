"""Demand-response caps out of reach of every schedule, found without solving: bounds
that any schedule of the problem must keep, so a cap they break has no schedule (the
solve would find the problem infeasible); a cap they keep may still have none (ramp
limits, a generator's minimum load, a battery full before the cap, the jobs: the solve's
to find).

Net import at step t is at least its floor with no job running, every renewable and
generator at its available power and the battery discharging at full power:
``floor[t] = inference_it_mw[t] · pue[t] − Σ renewable[t] − Σ generator[t] − P_d[t]``.

- Power (``dr_cap``, MW): a capped step whose floor lies above the cap, by
  ``min(floor[t], import_max[t]) − cap[t]`` (the cap's part; an import limit below the
  floor is the import limit's).
- Energy (``dr_cap_energy``, MWh): over a run of capped steps, the battery must supply
  ``d[t] = floor_without_battery[t] − limit[t]`` where positive (``limit``: the cap, or
  the import limit below it) and can recharge ``η_c · min(P_c[t], −d[t])`` where negative;
  its charge falls by at least ``step_h · Σ (d[t] / η_d or −η_c · min(P_c[t], −d[t]))``
  from its best start (at step 0 its initial charge, later its maximum) and must stay above
  its minimum after every step. Reported only where the same run without its caps keeps
  the bound (else an outage or the import limit is to blame).
"""

from __future__ import annotations

import numpy as np

from optimize.errors import Slack
from optimize.problem import Problem
from optimize.step_runs import run_bounds

#: Breaks smaller than this are the solver's tolerance, not a cap out of reach (MW, MWh)
TOL = 1e-4


def unreachable_caps(problem: Problem) -> list[Slack]:
    """The caps of ``problem.grid.net_import_cap_mw`` that no schedule meets by the bounds
    of the module docstring: per-step power slacks, else per-run energy slacks; none
    without caps or with a sizing (the sizes are the solve's)."""
    cap = problem.grid.net_import_cap_mw
    if cap is None or problem.sizing is not None:
        return []
    capped = ~np.isnan(cap)
    imax = problem.grid.import_max_mw
    floor = _floor_without_battery_mw(problem) - battery_power_mw(problem)
    over = np.where(capped & (cap < imax), np.minimum(floor, imax) - cap, 0.0)
    power = [_slack("dr_cap", over, steps, "MW") for steps in _runs(over > TOL)]
    if power or problem.battery is None:
        return power
    return [s for a, e in run_bounds(capped) if (s := _energy_slack(problem, a, e))]


def _floor_without_battery_mw(problem: Problem) -> np.ndarray:
    """Net import with no job, every renewable and generator at its available power (MW)."""
    f = problem.facility
    return f.inference_it_mw * f.pue - onsite_supply_mw(problem)


def onsite_supply_mw(problem: Problem) -> np.ndarray:
    """The most the site's renewables and generators supply in each step (MW): each at
    its available power (the battery apart: ``battery_power_mw``)."""
    supply = np.zeros(problem.n_steps)
    for r in problem.renewables:
        supply = supply + r.available_mw
    for g in problem.generators:
        supply = supply + g.capacity_mw * (1.0 if g.available_frac is None else g.available_frac)
    return supply


def battery_power_mw(problem: Problem) -> np.ndarray | float:
    """The battery's charge and discharge power limit per step (MW; 0 without one)."""
    b = problem.battery
    if b is None:
        return 0.0
    return b.power_mw * (1.0 if b.available_frac is None else b.available_frac)


def _energy_slack(problem: Problem, a: int, e: int) -> Slack | None:
    """The energy slack of the capped steps ``[a, e)``, or None where the bound holds or
    holds not without the caps either."""
    grid = problem.grid
    imax = grid.import_max_mw[a:e]
    short_mwh = _battery_short_mwh(problem, a, e, np.minimum(grid.net_import_cap_mw[a:e], imax))
    if short_mwh.max() <= TOL or _battery_short_mwh(problem, a, e, imax).max() > TOL:
        return None
    last = int(np.argmax(short_mwh))  # from the run's start to where it falls shortest
    return Slack(
        "dr_cap_energy", "grid", list(range(a, a + last + 1)), float(short_mwh[last]), "MWh"
    )


def _battery_short_mwh(problem: Problem, a: int, e: int, limit_mw: np.ndarray) -> np.ndarray:
    """After each step of ``[a, e)``: how far (MWh) the battery's charge would fall below
    its minimum at the least, with net import at most ``limit_mw`` (negative: room left)."""
    b = problem.battery
    need = _floor_without_battery_mw(problem)[a:e] - limit_mw
    power = np.broadcast_to(battery_power_mw(problem), (problem.n_steps,))[a:e]
    fall = np.where(
        need > 0, need / b.discharge_efficiency, -b.charge_efficiency * np.minimum(power, -need)
    )
    start = b.soc_initial_frac if a == 0 else b.soc_max_frac
    room_mwh = (start - b.soc_min_frac) * b.energy_mwh
    return problem.step_h * np.cumsum(fall) - room_mwh


def _slack(kind: str, amount: np.ndarray, steps: list[int], unit: str) -> Slack:
    return Slack(kind, "grid", steps, float(amount[steps].max()), unit)


def _runs(mask: np.ndarray) -> list[list[int]]:
    """The runs of consecutive steps where ``mask`` holds."""
    return [list(range(a, e)) for a, e in run_bounds(mask)]
