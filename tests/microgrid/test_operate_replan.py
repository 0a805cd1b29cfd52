"""A re-plan the plant's state leaves without a schedule (microgrid/operate/controller.py):
the ramp from the plant's last net import at the window's first step and the SOC the
window ends at are relaxed by what the diagnosis says they are short; anything else is
raised, its steps counted from the period's start."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize
from microgrid.operate.controller import _solve_window
from optimize.problem import Battery
from tests.optimize.small_problems import grid_problem

OPTIONS = optimize.SolverOptions(threads=1)


def _battery(**fields) -> Battery:
    """A lossless 10 MWh battery between 10 and 90 % with ``fields`` set."""
    lossless = {"charge_efficiency": 1.0, "discharge_efficiency": 1.0}
    return Battery(energy_mwh=10.0, soc_min_frac=0.1, soc_max_frac=0.9, **lossless, **fields)


def test_the_first_steps_ramp_from_the_plants_import_is_widened_by_its_shortfall():
    # 5 MW of load after a step at 0 MW, 1 MW/h of ramp: 4 MW short at step 0
    window = grid_problem([5.0] * 3, 10.0, ramp_mw_per_h=1.0, initial_net_import_mw=0.0)
    with pytest.raises(optimize.Infeasible):
        optimize.solve(window, OPTIONS)
    d, solved, relaxed = _solve_window(window, OPTIONS, k=10)
    assert relaxed
    assert solved.grid.initial_net_import_mw == pytest.approx(4.0, abs=1e-3)
    assert d.series["grid_import_mw"] == pytest.approx([5.0, 5.0, 5.0], abs=1e-6)


def test_the_windows_final_soc_is_lowered_to_what_the_battery_can_reach():
    # 1 MW of charging for one hour cannot lift 1 MWh to 9 MWh
    bat = _battery(power_mw=1.0, soc_initial_frac=0.1, soc_final_frac=0.9)
    window = grid_problem([2.0], 10.0, battery=bat)
    d, solved, relaxed = _solve_window(window, OPTIONS, k=0)
    assert relaxed
    assert solved.battery.soc_final_frac == pytest.approx(0.2, abs=1e-4)
    assert d.series["battery_soc_mwh"][-1] == pytest.approx(2.0, abs=1e-4)


def test_other_infeasibilities_are_raised_with_the_periods_steps():
    # a net import cap of 0 in the window's second step, no battery: the load cannot be served
    window = grid_problem([5.0] * 3, 10.0, net_import_cap_mw=np.array([100.0, 0.0, 100.0]))
    with pytest.raises(optimize.Infeasible) as caught:
        _solve_window(window, OPTIONS, k=7)
    steps = [t for s in caught.value.diagnosis for t in s.steps]
    assert steps and min(steps) >= 7
    assert 8 in steps


def test_a_battery_floor_broken_under_the_ramp_at_quarter_hours_raises_the_import():
    """At 15-minute steps the diagnosis blamed the battery's floor (an MWh weighs a quarter
    of an MW there) beside the first step's ramp, and the run stopped as infeasible; the
    same shortfall at hourly steps had been blamed on the ramp and relaxed."""
    bat = _battery(power_mw=20.0, soc_initial_frac=0.15, soc_final_frac=None)
    hourly = grid_problem([20.0] * 8, 10.0, battery=bat, ramp_mw_per_h=30.0)
    window = dataclasses.replace(hourly, step_h=0.25)
    window = dataclasses.replace(
        window, grid=dataclasses.replace(window.grid, initial_net_import_mw=0.0)
    )
    with pytest.raises(optimize.Infeasible) as caught:
        optimize.solve(window, OPTIONS)
    assert "soc_min" in {s.kind for s in caught.value.diagnosis}
    d, solved, relaxed = _solve_window(window, OPTIONS, k=0)
    assert relaxed and solved.grid.initial_net_import_mw > 0.0
    assert min(d.series["battery_soc_mwh"]) >= 1.0 - 1e-6


def _capped_window(energy_mwh: float, initial_net_import_mw: float) -> optimize.Problem:
    """20 MW of load, a 10 MW battery half full, a 4 MW/h ramp from the plant's last net
    import and a 14 MW demand-response cap over the window's first two hours."""
    bat = _battery(power_mw=10.0, soc_initial_frac=0.5, soc_final_frac=None)
    bat = dataclasses.replace(bat, energy_mwh=energy_mwh)
    cap_mw = np.array([14.0, 14.0, np.nan, np.nan])
    return grid_problem(
        [20.0] * 4,
        10.0,
        battery=bat,
        ramp_mw_per_h=4.0,
        initial_net_import_mw=initial_net_import_mw,
        net_import_cap_mw=cap_mw,
    )


def test_a_dr_cap_the_ramp_from_the_plants_import_cannot_reach_is_relaxed_like_the_ramp():
    """An outside audit's operate run (DR cap, ramp, outage, 15-minute steps, noisy
    forecasts) stopped as infeasible at the cap's first step: the plant's last import
    minus one step of ramp was above the cap, and the diagnosis blamed the cap. Here
    20 MW − 4 MW/h leaves the 14 MW cap 2 MW out of reach: the import the ramp starts
    from moves down to 18 MW and the plan keeps the cap (the plant, keeping the cap
    before the ramp, then records a ramp breach)."""
    window = _capped_window(energy_mwh=100.0, initial_net_import_mw=20.0)
    with pytest.raises(optimize.Infeasible) as caught:
        optimize.solve(window, OPTIONS)
    assert "dr_cap" in {s.kind for s in caught.value.diagnosis}
    d, solved, relaxed = _solve_window(window, OPTIONS, k=72)
    assert relaxed
    assert solved.grid.initial_net_import_mw == pytest.approx(18.0, abs=1e-3)
    assert d.series["grid_import_mw"][0] == pytest.approx(14.0, abs=1e-3)
    assert max(d.series["grid_import_mw"][:2]) <= 14.0 + 1e-6


def test_a_dr_cap_short_beyond_the_ramp_stays_an_error():
    """The same cap with a 10 MWh battery: beyond the ramp's 2 MW at the first step, the
    battery cannot hold 20 MW of load at 14 MW for two hours; that is raised."""
    window = _capped_window(energy_mwh=10.0, initial_net_import_mw=20.0)
    with pytest.raises(optimize.Infeasible) as caught:
        _solve_window(window, OPTIONS, k=72)
    caps = [s for s in caught.value.diagnosis if s.kind == "dr_cap"]
    assert caps and caps[0].steps[0] == 72
