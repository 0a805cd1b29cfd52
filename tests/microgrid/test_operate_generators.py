"""operate's backup generators, unit by unit (2026-12 audit): the plant runs each unit as
the plan set it and covers a deviation in merit order (fuel + carbon price × carbon), and
keeps each unit off or between its minimum load and its capacity; fuel and emissions come
from each unit's output.

Built on the tiny scenario (scenario_factory.TINY: UTC, 10 MW of inference at PUE 1.10 =
11 MW at night, a 5 MW / 20 MWh battery at 10 MWh, no renewables, a flat 50 USD/MWh).
"""

from __future__ import annotations

import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.operate import operate_case, simulate
from microgrid.operate.conditions import plant_conditions
from microgrid.operate.plant import Plant
from microgrid.operate.state import SetPoints, initial_state
from microgrid.scenario import Scenario

K = 2  # 02:00 UTC: 11 MW of inference, no job
# an unannounced outage over step K: the plant alone covers the 11 MW
OUTAGE = {"kind": "grid_outage", "start": "2023-01-02T02:00", "end": "2023-01-02T03:00"}


def tiny(generators: list[dict], **updates) -> Scenario:
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["generators"] = generators
    data["jobs"] = {"items": []}
    data["operate"] = {"lookahead_h": 12, "replan_every_steps": 6, "event_costs": "none"}
    return Scenario.model_validate(data).with_updates(updates)


def gen(name: str, mw: float, fuel: float, carbon: float = 0.0, min_load: float = 0.0) -> dict:
    return {"name": name, "capacity_mw": mw, "fuel_usd_per_mwh": fuel,
            "carbon_g_per_kwh": carbon, "min_load_frac": min_load}  # fmt: skip


def plant_step(sc: Scenario, gen_mw: dict[str, float], net_mw: float = 11.0, soc_mwh=None):
    """The plant's step K in the outage, from set-points that import ``net_mw``."""
    case = operate_case(sc)
    conditions = plant_conditions(sc, case.inputs, case.problem, sc.operate.events)
    plant = Plant.of(case.problem, conditions)
    state = initial_state(case.problem)
    if soc_mwh is not None:
        state.soc_mwh = soc_mwh
    sp = SetPoints(net_import_mw=net_mw, pv_mw=0.0, wind_mw=0.0, battery_charge_mw=0.0,
                   battery_discharge_mw=0.0, job_power_frac={}, gen_mw=gen_mw)  # fmt: skip
    return plant.step(K, sp, state)


def test_fuel_and_emissions_follow_each_units_output():
    # the audit's case: a cheap clean unit and a dear dirty one of the same size; the plan
    # runs the cheap one all along, operate charged both half of it (~50x the fuel)
    sc = tiny([gen("cheap", 5, 5.0), gen("dear", 5, 500.0, 900.0)],
              **{"operate.lookahead_h": 48, "operate.replan_every_steps": 48})  # fmt: skip
    plan = microgrid.run(sc, powerflow=False, baselines=False).summary
    assert plan["fuel_cost_usd"] == pytest.approx(48 * 5 * 5.0)
    r = simulate(sc)
    assert r.costs["fuel_usd"] == pytest.approx(plan["fuel_cost_usd"], rel=1e-9)
    assert r.costs["emissions_t"] == pytest.approx(plan["emissions_t"], rel=1e-9)


def test_a_deficit_is_covered_in_merit_order_with_the_carbon_price():
    # at 100 USD/t, "dirty" costs 50 + 100 = 150 USD/MWh against clean's 80: clean first
    units = [gen("dirty", 10, 50.0, 1000.0), gen("clean", 4, 80.0)]
    sc = tiny(units, **{"objective.carbon_price_usd_per_t": 100.0, "operate.events": [OUTAGE]})
    step = plant_step(sc, {})
    assert step.flows.discharge_mw == pytest.approx(5.0)  # the battery first
    assert step.flows.gen_mw == pytest.approx({"clean": 4.0, "dirty": 2.0})
    assert step.unserved_mw == 0.0


def test_a_unit_started_below_its_minimum_runs_at_it_when_the_surplus_is_absorbed():
    # 6 MW short after the battery; the unit's minimum is 10 MW: the battery takes the 4 MW
    # surplus (it discharges 1 MW); before, the plant ran the unit at 6 MW
    sc = tiny([gen("g", 20, 100.0, min_load=0.5)], **{"operate.events": [OUTAGE]})
    step = plant_step(sc, {})
    assert step.flows.gen_mw == pytest.approx({"g": 10.0})
    assert step.flows.discharge_mw == pytest.approx(1.0)
    assert step.unserved_mw == 0.0


def test_a_minimum_load_nothing_absorbs_leaves_the_unit_off_and_the_load_shed():
    # a 30 MW minimum against a 6 MW deficit and 10 MW of battery room: it stays off
    sc = tiny([gen("g", 40, 100.0, min_load=0.75)], **{"operate.events": [OUTAGE]})
    step = plant_step(sc, {})
    assert step.flows.gen_mw == {"g": 0.0}
    assert step.unserved_mw == pytest.approx(6.0)


def test_a_planned_unit_is_not_lowered_below_its_minimum():
    # planned at its 16 MW minimum with the grid gone, 11 MW of load: the battery charges
    # the 5 MW surplus (before, the plant lowered the unit to 11 MW, below its minimum)
    sc = tiny([gen("g", 20, 100.0, min_load=0.8)], **{"operate.events": [OUTAGE]})
    step = plant_step(sc, {"g": 16.0}, net_mw=0.0)
    assert step.flows.gen_mw == pytest.approx({"g": 16.0})
    assert step.flows.charge_mw == pytest.approx(5.0)
    assert step.unserved_mw == 0.0


def test_a_minimum_load_nothing_takes_stops_the_unit():
    # the battery nearly full: the 5 MW surplus has nowhere to go, so the unit stops and
    # the battery carries what it can; the rest is shed
    sc = tiny([gen("g", 20, 100.0, min_load=0.8)], **{"operate.events": [OUTAGE]})
    step = plant_step(sc, {"g": 16.0}, net_mw=0.0, soc_mwh=17.9)
    assert step.flows.gen_mw == {"g": 0.0}
    assert step.flows.discharge_mw == pytest.approx(5.0)
    assert step.unserved_mw == pytest.approx(6.0)


def test_the_closed_loop_keeps_the_minimum_load_in_an_unannounced_outage():
    # the audit's case: the plant ran a unit with a 10 MW minimum at the ~6 MW the battery
    # left short in a surprise outage
    evening = {"kind": "grid_outage", "start": "2023-01-02T18:00", "end": "2023-01-02T21:00"}
    sc = tiny([gen("g", 20, 100.0, min_load=0.5)], **{"operate.events": [evening]})
    backup = simulate(sc).actual["backup_gen_mw"]
    assert backup.max() >= 10.0  # it ran
    assert ((backup == 0.0) | (backup >= 10.0 - 1e-6)).all()


@pytest.mark.parametrize("mode", ["plan", "operate"])
def test_the_time_series_shows_each_units_output(mode):
    # an outage at 02:00 with two units: each unit's column, summing to backup_gen_mw (the
    # total alone could not show the merit order or a minimum load)
    sc = tiny(
        [gen("cheap", 8, 5.0, min_load=0.5), gen("dear", 8, 500.0)],
        **{"events.outages": [{"start": "2023-01-02T02:00", "end": "2023-01-02T04:00"}]},
    )
    ts = microgrid.run(sc, mode=mode, powerflow=False, baselines=False).timeseries
    units = ts[["gen_cheap_mw", "gen_dear_mw"]]
    assert units.sum(axis=1).to_numpy() == pytest.approx(ts["backup_gen_mw"].to_numpy())
    cheap = ts["gen_cheap_mw"].to_numpy()
    assert cheap[2] == pytest.approx(8.0)  # the cheap unit at its capacity in the outage
    assert ((cheap < 1e-9) | (cheap >= 4.0 - 1e-6)).all()  # off or at least its minimum
