"""operate with a demand-response cap that the plant's own state cannot meet: the run
finishes, the plant imports above the cap by the least it must and records it, and a DR
program settles the shortfall; a cap the scenario's inputs cannot meet (even from a full
battery) still stops the run, as plan mode refuses it.

Built on the tiny scenario (scenario_factory.TINY, without its job: UTC, 10 MW of
inference at PUE 1.10, a 5 MW / 20 MWh battery, no renewables, no ramp limit, a flat
price). The expected figures are computed here from the scenario's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.errors import InputError
from microgrid.operate import operate_case
from microgrid.scenario import Scenario

CAP_MW = 7.0
# an unannounced outage 14:00-18:00 empties the battery; the cap follows two hours later
OUTAGE = {"kind": "grid_outage", "start": "2023-01-02T14:00", "end": "2023-01-02T18:00"}
CAP = {"start": "2023-01-02T20:00", "end": "2023-01-02T23:00", "cap_mw": CAP_MW}
SHORTFALL_USD_PER_MWH = 1000.0


def tiny(cap: dict, **operate) -> Scenario:
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["jobs"] = {"items": []}
    data["events"] = {"demand_response": [cap]}
    data["operate"] = {"lookahead_h": 24, "replan_every_steps": 6, "event_costs": "none",
                       **operate}  # fmt: skip
    return Scenario.model_validate(data)


def with_program(sc: Scenario, baseline_mw: float) -> Scenario:
    """``sc`` with a DR program whose event is the cap's window, its declared baseline
    ``baseline_mw`` and its commitment what takes it down to the cap: its shortfall is
    then the import above the cap."""
    program = {
        "capacity_usd_per_mw_month": 0,
        "shortfall_usd_per_mwh": SHORTFALL_USD_PER_MWH,
        "commit_mw": baseline_mw - CAP_MW,
        "baseline": "declared",
        "declared_baseline_mw": baseline_mw,
        "events": [{"start": CAP["start"], "end": CAP["end"]}],
    }
    return sc.with_updates({"demand_response_program": program})


def facts(sc: Scenario) -> dict:
    """The scenario's numbers the expectations are computed from."""
    problem = operate_case(sc).problem
    b, step_h = problem.battery, problem.step_h
    load_mw = problem.facility.inference_it_mw * problem.facility.pue
    assert np.ptp(load_mw) == 0.0  # a constant load: one figure
    return {
        "load_mw": float(load_mw[0]),
        "floor_mwh": b.soc_min_frac * b.energy_mwh,
        "full_mwh": b.soc_max_frac * b.energy_mwh,
        "power_mw": b.power_mw,
        "eta_c": b.charge_efficiency,
        "eta_d": b.discharge_efficiency,
        "step_h": step_h,
    }


def steps_in(res, window: dict) -> np.ndarray:
    index = res.timeseries.index
    sc = res.scenario
    return np.asarray((index >= sc.to_utc(window["start"])) & (index < sc.to_utc(window["end"])))


def test_a_cap_the_drawn_down_battery_cannot_meet_is_breached_by_the_least():
    # the bug: the re-plan after the outage had no schedule under the cap and the run
    # stopped: "net import exceeds the demand-response cap by up to 2.97 MW from
    # 2023-01-02 22:00 to 23:00 UTC" (exit 2)
    base = tiny(CAP, events=[OUTAGE])
    f = facts(base)
    sc = with_program(base, baseline_mw=f["load_mw"])
    res = microgrid.run(sc, mode="operate", powerflow=False, baselines=False)
    # the 4 h outage takes more than the battery holds: it ends at its floor whatever it
    # held, then charges at full power for the 2 h before the cap
    assert 4 * f["power_mw"] / f["eta_d"] > f["full_mwh"] - f["floor_mwh"]
    soc_at_cap_mwh = min(f["floor_mwh"] + 2 * f["power_mw"] * f["eta_c"], f["full_mwh"])
    need_mw = f["load_mw"] - CAP_MW
    assert need_mw <= f["power_mw"]  # the battery's power is not what is short
    need_mwh = 3 * need_mw * f["step_h"]
    short_mwh = need_mwh - f["eta_d"] * (soc_at_cap_mwh - f["floor_mwh"])
    assert short_mwh > 1.0

    op = res.summary["operate"]
    breaches = op["limit_breaches"]
    assert breaches["dr_cap_breach_mwh"] == pytest.approx(short_mwh, abs=1e-3)
    assert 1 <= breaches["dr_cap_breach_steps"] <= 3
    assert breaches["dr_cap_breach_max_mw"] <= short_mwh + 1e-3
    ts = res.timeseries
    net_mw = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy()
    in_cap = steps_in(res, CAP)
    above_mwh = np.maximum(net_mw[in_cap] - CAP_MW, 0.0).sum() * f["step_h"]
    assert above_mwh == pytest.approx(breaches["dr_cap_breach_mwh"], abs=1e-5)
    # nothing shed once the grid is back: the plant imports above the cap instead
    after_outage = ts.index >= sc.to_utc(OUTAGE["end"])
    assert ts["unserved_mw"].to_numpy()[after_outage].max() == 0.0
    assert op["infeasible_replans"] >= 2  # the outage's, and the cap's after it
    # the program settles the import above the cap as its shortfall
    dr = op["demand_response_program"]
    (event,) = dr["events"]
    assert event["shortfall_mwh"] == pytest.approx(short_mwh, abs=1e-3)
    expected_usd = SHORTFALL_USD_PER_MWH * event["shortfall_mwh"]
    assert dr["shortfall_penalty_usd"] == pytest.approx(expected_usd)
    assert op["costs"]["dr_program_usd"] == pytest.approx(expected_usd)


def test_a_cap_out_of_the_look_aheads_reach_is_breached_and_one_out_of_the_inputs_stops():
    # re-plans every 4 h over 4 h see the cap first at its start (20:00), with the battery
    # where the last window left it: the controller's doing, and the run finishes
    seen_late = tiny(CAP, lookahead_h=4, replan_every_steps=4)
    f = facts(seen_late)
    res = microgrid.run(seen_late, mode="operate", powerflow=False, baselines=False)
    ts, in_cap = res.timeseries, steps_in(res, CAP)
    soc_before_mwh = ts["battery_soc_mwh"].to_numpy()[np.flatnonzero(in_cap)[0] - 1]
    need_mwh = in_cap.sum() * (f["load_mw"] - CAP_MW) * f["step_h"]
    short_mwh = need_mwh - f["eta_d"] * (soc_before_mwh - f["floor_mwh"])
    assert short_mwh > 1.0
    breaches = res.summary["operate"]["limit_breaches"]
    assert breaches["dr_cap_breach_mwh"] == pytest.approx(short_mwh, abs=1e-3)
    assert res.summary["operate"]["unserved_energy_mwh"] == 0.0

    # 5 h at 7 MW take more than a full battery gives: the inputs' shortfall, refused in
    # plan mode and in operate (whose re-plan at 16:00 finds it, not the first)
    long_cap = {**CAP, "start": "2023-01-02T18:00"}
    assert 5 * (f["load_mw"] - CAP_MW) > f["eta_d"] * (f["full_mwh"] - f["floor_mwh"])
    for mode, operate in (("plan", {}), ("operate", {"lookahead_h": 4, "replan_every_steps": 4})):
        with pytest.raises(InputError, match="exceeds the demand-response cap"):
            microgrid.run(tiny(long_cap, **operate), mode=mode, powerflow=False,
                          baselines=False)  # fmt: skip
