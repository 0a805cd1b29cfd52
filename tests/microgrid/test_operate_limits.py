"""operate keeps the grid's limits: demand-response caps (controller and plant) and the ramp
limit on net import (plant), and reports the steps where the plant cannot keep them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import microgrid
from microgrid.operate import operate_case, simulate
from microgrid.operate.conditions import plant_conditions
from microgrid.operate.plant import LIMIT_TOL_MW, Plant
from microgrid.operate.state import SetPoints, initial_state
from microgrid.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scenario_factory import small_scenario  # noqa: E402

CAP_MW = 10.0
DR = {"start": "2023-08-22T15:00", "end": "2023-08-22T18:00", "cap_mw": CAP_MW}


def scenario(**updates) -> Scenario:
    return Scenario.model_validate(small_scenario()).with_updates(updates)


def net_import(frame) -> np.ndarray:
    return (frame["grid_import_mw"] - frame["grid_export_mw"]).to_numpy()


def dr_steps(sc: Scenario, index) -> np.ndarray:
    return np.asarray((index >= sc.to_utc(DR["start"])) & (index < sc.to_utc(DR["end"])))


def test_operate_mode_keeps_the_demand_response_cap():
    # the bug: --mode operate built its own problem without the caps, so the controller
    # planned (and the plant imported) ~30 MW in the window
    sc = scenario(**{"operate.lookahead_h": 24, "operate.replan_every_steps": 4,
                     "events.demand_response": [DR]})  # fmt: skip
    res = microgrid.run(sc, mode="operate", powerflow=False, baselines=False)
    window = dr_steps(sc, res.timeseries.index)
    assert window.sum() == 3
    assert np.all(net_import(res.timeseries)[window] <= CAP_MW + LIMIT_TOL_MW)
    breaches = res.summary["operate"]["limit_breaches"]
    assert breaches["dr_cap_breach_steps"] == 0 and breaches["ramp_breach_steps"] == 0
    pva = res.extra_tables["planned_vs_actual.csv"]
    planned = (pva["setpoint_grid_import_mw"] - pva["setpoint_grid_export_mw"]).to_numpy()
    assert np.all(planned[window] <= CAP_MW + LIMIT_TOL_MW)  # the controller saw the cap


def test_plant_keeps_the_cap_against_forecast_errors():
    sc = scenario(**{"operate.lookahead_h": 24, "operate.replan_every_steps": 6,
                     "operate.forecast": "noisy", "operate.noise_std_frac": 0.3,
                     "events.demand_response": [DR]})  # fmt: skip
    r = simulate(sc)
    window = dr_steps(sc, r.actual.index)
    assert np.all(net_import(r.actual)[window] <= CAP_MW + LIMIT_TOL_MW)
    assert not r.breaches.dr_cap_excess_mw.any()
    assert r.unserved_mwh == 0.0


def test_plant_keeps_the_ramp_limit_or_reports_the_breach():
    # 15-minute steps, noisy forecasts re-planned every 2 h: before the plant kept the ramp,
    # net import moved by up to 24 MW in a step against 30 MW/h x 0.25 h = 7.5 MW
    sc = scenario(**{"period.end": "2023-08-23T00:00", "period.step_minutes": 15,
                     "operate.lookahead_h": 6, "operate.replan_every_steps": 8,
                     "operate.forecast": "noisy", "operate.noise_std_frac": 0.2,
                     "operate.seed": 7, "operate.event_costs": "none"})  # fmt: skip
    r = simulate(sc)
    limit = sc.grid.ramp_mw_per_h * sc.step_h
    step = np.abs(np.diff(net_import(r.actual)))
    breach = r.breaches.ramp_excess_mw[1:] > 0
    assert np.all(step[~breach] <= limit + LIMIT_TOL_MW + 1e-9)
    np.testing.assert_allclose(r.breaches.ramp_excess_mw[1:][breach], step[breach] - limit)
    assert r.breaches.ramp_excess_mw[0] == 0.0  # no net import before the period to ramp from


def plant_at_night(sc: Scenario):
    case = operate_case(sc)
    conditions = plant_conditions(sc, case.inputs, case.problem, [])
    k = 4  # 04:00 CDT: no PV
    return case.problem, Plant.of(case.problem, conditions), k


def set_points(net_mw: float) -> SetPoints:
    return SetPoints(net_import_mw=net_mw, pv_mw=0.0, wind_mw=0.0, battery_charge_mw=0.0,
                     battery_discharge_mw=0.0, job_power_frac={})  # fmt: skip


def test_plant_step_covers_a_ramp_it_cannot_import_from_the_battery():
    problem, plant, k = plant_at_night(scenario())
    state = initial_state(problem)
    load = plant.step(k, set_points(0.0), state).facility_load_mw
    state.net_import_mw = load - 40.0  # the grid can ramp up by 30 MW: 10 MW short
    step = plant.step(k, set_points(load), state)
    assert step.flows.net_import_mw == pytest.approx(load - 10.0, abs=2 * LIMIT_TOL_MW)
    assert step.flows.discharge_mw == pytest.approx(10.0, abs=2 * LIMIT_TOL_MW)
    assert step.ramp_excess_mw == 0.0 and step.unserved_mw == 0.0


def test_plant_step_reports_a_ramp_it_cannot_keep():
    # the battery at its SOC floor: the load is served from the grid beyond the ramp limit
    problem, plant, k = plant_at_night(scenario(**{"battery.soc_initial_frac": 0.1}))
    state = initial_state(problem)
    load = plant.step(k, set_points(0.0), state).facility_load_mw
    state.net_import_mw = load - 40.0
    step = plant.step(k, set_points(load), state)
    assert step.flows.net_import_mw == pytest.approx(load)
    assert step.ramp_excess_mw == pytest.approx(10.0)
    assert step.unserved_mw == 0.0


def test_plant_step_keeps_a_dr_cap_with_the_battery():
    sc = scenario(**{"events.demand_response": [
        {"start": "2023-08-22T04:00", "end": "2023-08-22T05:00", "cap_mw": CAP_MW}]})  # fmt: skip
    problem, plant, k = plant_at_night(sc)
    state = initial_state(problem)
    load = plant.step(k, set_points(0.0), state).facility_load_mw
    step = plant.step(k, set_points(load), state)
    assert step.flows.net_import_mw <= CAP_MW + LIMIT_TOL_MW
    assert step.flows.discharge_mw == pytest.approx(load - CAP_MW, abs=2 * LIMIT_TOL_MW)
    assert step.dr_cap_excess_mw == 0.0
