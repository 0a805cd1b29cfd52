"""What the baselines' energy rules know before the first step: the plant's limits per
step and two look-ahead figures a plain operator would plan with.

- The **import cap** (MW): the import limit with outages (0) and demand-response caps,
  lowered ahead of a lower cap so that net import can ramp down to it within the ramp
  limit (`cap[t] <= cap[t+1] + ramp`).
- The **battery reserve** (MWh): the energy the battery must hold at the end of each step
  to cover, later on, what neither the grid (within its cap, and within the ramp limit
  when the load jumps or comes back from a low cap) nor the generators can supply, and to
  reach the final state of charge. It is computed backwards from the end, recharging at
  `RECHARGE_SHARE` of the power the battery and the import cap leave, so the recharge
  starts early enough that full power remains as a margin.

The job schedule is fixed before the energy rules run, so the facility load is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import optimize

#: Share of the available charging power the reserve's recharge is planned with.
RECHARGE_SHARE = 0.5
_TOL_MW = 1e-9


@dataclass
class Plant:
    """The rules' view of a problem with a fixed facility load (MW per step): renewables
    available (MW, by name and in total), export limit and look-ahead import cap (MW), the
    ramp limit per step (MW, None: none) and the net import before step 0 (MW, None:
    free), generators in merit order (cheapest fuel + carbon cost first) with their
    available MW per step."""

    step_h: float
    load_mw: np.ndarray
    renewable_names: list[str]
    available_mw: dict[str, np.ndarray]
    renewable_total_mw: np.ndarray
    export_max_mw: np.ndarray
    import_cap_mw: np.ndarray
    ramp_mw: float | None
    initial_net_mw: float | None
    generators: list[optimize.Generator]
    gen_avail_mw: dict[str, np.ndarray]

    @property
    def net_load_mw(self) -> np.ndarray:
        """Facility load less all renewables available (MW; negative: a surplus)."""
        return self.load_mw - self.renewable_total_mw

    def gen_total_mw(self) -> np.ndarray:
        """All generators' available MW per step."""
        return sum(self.gen_avail_mw.values(), np.zeros(len(self.load_mw)))


def import_limit_mw(grid: optimize.Grid) -> np.ndarray:
    """The import limit per step (MW): outages (0) and demand-response caps included."""
    limit = grid.import_max_mw.copy()
    cap = grid.net_import_cap_mw
    if cap is not None:
        limit = np.where(np.isnan(cap), limit, np.minimum(limit, np.maximum(cap, 0.0)))
    return limit


def lookahead_cap_mw(limit_mw: np.ndarray, ramp_mw: float | None) -> np.ndarray:
    """The import limit lowered ahead of lower limits by the ramp limit (MW per step)."""
    cap = limit_mw.copy()
    if ramp_mw is None:
        return cap
    for t in range(len(cap) - 2, -1, -1):
        cap[t] = min(cap[t], cap[t + 1] + ramp_mw)
    return cap


def build_plant(problem: optimize.Problem, load_mw: np.ndarray) -> Plant:
    """The rules' view of `problem` with the facility load `load_mw` (MW)."""
    n, grid, step_h = problem.n_steps, problem.grid, problem.step_h
    names = [r.name for r in problem.renewables]
    avail = {r.name: r.available_mw for r in problem.renewables}
    ramp = None if grid.ramp_mw_per_h is None else grid.ramp_mw_per_h * step_h
    carbon_usd_per_t = problem.objective.carbon_price_usd_per_t
    gens = sorted(
        problem.generators,
        key=lambda g: g.fuel_usd_per_mwh + carbon_usd_per_t * g.carbon_g_per_kwh / 1000.0,
    )
    return Plant(
        step_h=step_h,
        load_mw=load_mw,
        renewable_names=names,
        available_mw=avail,
        renewable_total_mw=sum((avail[k] for k in names), np.zeros(n)),
        export_max_mw=grid.export_max_mw,
        import_cap_mw=lookahead_cap_mw(import_limit_mw(grid), ramp),
        ramp_mw=ramp,
        initial_net_mw=grid.initial_net_import_mw,
        generators=gens,
        gen_avail_mw={
            g.name: g.capacity_mw * (np.ones(n) if g.available_frac is None else g.available_frac)
            for g in gens
        },
    )


def reachable_import_mw(plant: Plant) -> np.ndarray:
    """The most net import each step can reach (MW): the cap, and no more than the ramp
    limit above an import that follows the net load as closely as the ramp and the cap
    allow (from the initial net import when given): a load that jumps, or returns after
    a low cap, is met by the battery and generators until import catches up."""
    cap = plant.import_cap_mw
    if plant.ramp_mw is None:
        return cap.copy()
    r, net_load = plant.ramp_mw, plant.net_load_mw
    reach = cap.copy()
    last = plant.initial_net_mw
    for t in range(len(cap)):
        if last is not None:
            reach[t] = min(cap[t], last + r)
        follow = min(net_load[t], reach[t])
        last = follow if last is None else max(follow, last - r)
    return reach


def battery_reserve_mwh(
    plant: Plant, battery: optimize.Battery, power_mw: np.ndarray
) -> np.ndarray:
    """The stored energy (MWh) to hold at the end of each step: see the module text.
    `power_mw` is the battery's available power per step (MW)."""
    e_lo = battery.soc_min_frac * battery.energy_mwh
    e_hi = battery.soc_max_frac * battery.energy_mwh
    target = e_lo
    if battery.soc_final_frac is not None:
        target = max(e_lo, battery.soc_final_frac * battery.energy_mwh)
    reach = reachable_import_mw(plant)
    short = plant.net_load_mw - reach - plant.gen_total_mw()
    headroom = np.maximum(reach - plant.net_load_mw, 0.0)
    step_h = plant.step_h
    reserve = np.empty(len(short))
    need = min(target, e_hi)
    for t in range(len(short) - 1, -1, -1):
        reserve[t] = need
        if short[t] > _TOL_MW:
            need += min(short[t], power_mw[t]) * step_h / battery.discharge_efficiency
        else:
            charge = RECHARGE_SHARE * min(power_mw[t], headroom[t])
            need -= charge * battery.charge_efficiency * step_h
        need = min(e_hi, max(e_lo, need))
    return reserve
