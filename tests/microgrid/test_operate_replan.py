"""A re-plan the plant's state leaves without a schedule (microgrid/operate/controller.py):
the ramp from the plant's last net import at the window's first step and the SOC the
window ends at are relaxed by what the diagnosis says they are short; anything else is
raised, its steps counted from the period's start."""

from __future__ import annotations

import numpy as np
import pytest

import optimize
from microgrid.operate.controller import _solve_window
from optimize.problem import Battery, Facility, Grid, Problem

OPTIONS = optimize.SolverOptions(threads=1)


def _window(load_mw: float, n: int, battery: Battery | None = None, **grid_kw) -> Problem:
    """n hourly steps of a fixed load (PUE 1) served by the grid at 10 USD/MWh."""
    grid_kw.setdefault("import_max_mw", np.full(n, 100.0))
    grid = Grid(
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.full(n, 10.0),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        **grid_kw,
    )
    load = np.full(n, load_mw)
    return Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=Facility(inference_it_mw=load, pue=np.ones(n)),
        battery=battery,
    )


def test_the_first_steps_ramp_from_the_plants_import_is_widened_by_its_shortfall():
    # 5 MW of load after a step at 0 MW, 1 MW/h of ramp: 4 MW short at step 0
    window = _window(5.0, 3, ramp_mw_per_h=1.0, initial_net_import_mw=0.0)
    with pytest.raises(optimize.Infeasible):
        optimize.solve(window, OPTIONS)
    d, solved, relaxed = _solve_window(window, OPTIONS, k=10)
    assert relaxed
    assert solved.grid.initial_net_import_mw == pytest.approx(4.0, abs=1e-3)
    assert d.series["grid_import_mw"] == pytest.approx([5.0, 5.0, 5.0], abs=1e-6)


def test_the_windows_final_soc_is_lowered_to_what_the_battery_can_reach():
    # 1 MW of charging for one hour cannot lift 1 MWh to 9 MWh
    bat = Battery(
        power_mw=1.0,
        energy_mwh=10.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        soc_min_frac=0.1,
        soc_max_frac=0.9,
        soc_initial_frac=0.1,
        soc_final_frac=0.9,
    )
    window = _window(2.0, 1, battery=bat)
    d, solved, relaxed = _solve_window(window, OPTIONS, k=0)
    assert relaxed
    assert solved.battery.soc_final_frac == pytest.approx(0.2, abs=1e-4)
    assert d.series["battery_soc_mwh"][-1] == pytest.approx(2.0, abs=1e-4)


def test_other_infeasibilities_are_raised_with_the_periods_steps():
    # no import at all in the window's second step, no battery: the load cannot be served
    window = _window(5.0, 3, import_max_mw=np.array([100.0, 0.0, 100.0]))
    with pytest.raises(optimize.Infeasible) as caught:
        _solve_window(window, OPTIONS, k=7)
    steps = [t for s in caught.value.diagnosis for t in s.steps]
    assert steps and min(steps) >= 7
    assert 8 in steps
