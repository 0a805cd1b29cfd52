"""Small synthetic dispatch problems for the optimize tests (no scenario files, no data)."""

from __future__ import annotations

import numpy as np

from optimize.problem import Battery, Facility, Grid, Objective, Problem, Renewable


def small_problem(n=48, jobs=(), ramp=None, demand=0.0, battery=True, penalty=None):
    """n hourly steps of a daily price wave (cheap at night) and PV peaking at 8 MW, 5 MW of
    inference at PUE 1.2, a 40 MW import / 5 MW export grid, and (battery=True) a 5 MW /
    20 MWh battery; ramp in MW/h, demand charge in USD/MW, penalty in USD per unfinished
    job-hour."""
    t = np.arange(n)
    price = 40 + 30 * np.sin(2 * np.pi * (t - 6) / 24)  # cheap at night
    pv = np.clip(8 * np.sin(2 * np.pi * (t - 6) / 24), 0, None)
    grid = Grid(
        import_max_mw=np.full(n, 40.0),
        export_max_mw=np.full(n, 5.0),
        import_price_usd_per_mwh=price + 5,
        export_price_usd_per_mwh=price,
        carbon_g_per_kwh=np.full(n, 400.0),
        ramp_mw_per_h=ramp,
        demand_charge_usd_per_mw=demand,
        month_of_step=(t // 36).astype(int),
    )
    bat = None
    if battery:
        bat = Battery(
            power_mw=5.0,
            energy_mwh=20.0,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
            soc_min_frac=0.1,
            soc_max_frac=0.9,
            soc_initial_frac=0.5,
            soc_final_frac=0.5,
            wear_usd_per_mwh=1.0,
        )
    return Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=Facility(inference_it_mw=np.full(n, 5.0), pue=np.full(n, 1.2)),
        renewables=(Renewable("pv", pv),),
        battery=bat,
        jobs=tuple(jobs),
        objective=Objective(unfinished_work_penalty_usd_per_h=penalty),
    )
