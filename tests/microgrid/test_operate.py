"""operate: the closed loop reproduces the plan with perfect forecasts; outages are carried
by the battery or reported as unserved energy; a 15-minute run works."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import microgrid
from microgrid.operate import balance_residual, run_cost, run_operate, simulate
from microgrid.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scenario_factory import small_scenario  # noqa: E402

COLS = [
    "grid_import_mw",
    "grid_export_mw",
    "pv_used_mw",
    "wind_used_mw",
    "battery_charge_mw",
    "battery_discharge_mw",
    "battery_soc_mwh",
    "facility_load_mw",
]


def scenario(**updates) -> Scenario:
    return Scenario.model_validate(small_scenario()).with_updates(updates)


def test_perfect_forecast_reproduces_the_plan():
    sc = scenario(**{"operate.lookahead_h": 48, "operate.replan_every_steps": 48})
    plan = microgrid.run(sc, powerflow=False)
    r = simulate(sc)
    assert r.n_solves == 1
    for c in COLS:
        np.testing.assert_allclose(r.actual[c], plan.timeseries[c], atol=1e-6, rtol=0, err_msg=c)
    assert run_cost(r.costs) == pytest.approx(plan.summary["total_cost_usd"], rel=1e-9)
    assert r.unserved_mwh == 0.0


def test_replanning_with_perfect_forecasts_keeps_the_optimal_cost():
    # without a demand charge the cost-to-go from the plan's own state is the plan's
    sc = scenario(
        **{
            "operate.lookahead_h": 48,
            "operate.replan_every_steps": 6,
            "grid.demand_charge_usd_per_kw_month": 0.0,
        }
    )
    plan = microgrid.run(sc, powerflow=False)
    r = simulate(sc)
    assert r.n_solves == 8
    assert run_cost(r.costs) == pytest.approx(plan.summary["total_cost_usd"], rel=1e-6)


OUTAGE = {"kind": "grid_outage", "start": "2023-08-22T12:00", "end": "2023-08-22T14:00"}


def test_outage_carried_by_the_battery():
    sc = scenario(**{"operate.replan_every_steps": 1, "operate.lookahead_h": 24,
                     "operate.events": [OUTAGE]})  # fmt: skip
    out = run_operate(sc)
    r = out["run"]
    mask = (r.actual.index >= sc.to_utc(sc.period.start).replace(hour=17)) & (
        r.actual.index < sc.to_utc(sc.period.start).replace(hour=19)
    )  # 12:00-14:00 CDT
    assert np.all(r.actual.loc[mask, "grid_import_mw"] == 0.0)
    assert np.all(r.actual.loc[mask, "grid_export_mw"] == 0.0)
    assert r.actual.loc[mask, "battery_discharge_mw"].sum() > 0
    assert r.unserved_mwh == 0.0
    assert balance_residual(r.actual).abs().max() < 1e-6
    ev = out["events"]
    assert len(ev) == 1 and ev.loc[0, "kind"] == "grid_outage"
    assert np.isfinite(ev.loc[0, "cost_usd"])


@pytest.mark.parametrize(("on_events", "solves"), [(True, 4), (False, 2)])
def test_an_event_starting_or_ending_is_replanned_at_once(on_events, solves):
    # re-plans every 24 steps over 48: at 0 and 24; on events also at the outage's start
    # (step 12) and end (14), and then 24 steps after that (38). Perfect forecasts: the
    # plan reacting to the outage at once is the cheaper (41,040 against 41,614 USD)
    sc = scenario(**{"operate.replan_every_steps": 24, "operate.lookahead_h": 48,
                     "operate.events": [OUTAGE], "operate.event_costs": "none",
                     "operate.replan_on_events": on_events})  # fmt: skip
    r = simulate(sc)
    assert r.n_solves == solves
    assert r.unserved_mwh == 0.0
    assert (run_cost(r.costs) < 41_100.0) == on_events


def test_outage_with_a_small_battery_reports_unserved_energy():
    sc = scenario(**{"operate.replan_every_steps": 1, "operate.lookahead_h": 24,
                     "operate.events": [OUTAGE], "battery.power_mw": 5.0,
                     "battery.energy_mwh": 10.0, "operate.event_costs": "none"})  # fmt: skip
    r = simulate(sc)
    # the facility draws ~35 MW; PV plus 5 MW of battery cannot carry it off grid
    assert r.unserved_mwh > 1.0
    assert balance_residual(r.actual).abs().max() < 1e-6
    assert (r.actual["unserved_mw"] > 0).sum() <= 2  # only in the outage hours


def test_fifteen_minute_noisy_run_is_reproducible():
    sc = scenario(
        **{
            "period.end": "2023-08-23T00:00",
            "period.step_minutes": 15,
            "operate.lookahead_h": 6,
            "operate.replan_every_steps": 8,
            "operate.forecast": "noisy",
            "operate.noise_std_frac": 0.2,
            "operate.seed": 7,
            "operate.event_costs": "none",
        }
    )
    a = run_operate(sc)
    b = simulate(sc)
    assert len(a["run"].actual) == 96 and a["run"].n_solves == 12
    pd_a = a["run"].actual
    assert np.array_equal(pd_a.to_numpy(), b.actual.to_numpy())  # bit for bit
    err = a["summary"]["forecast_errors"]["pv_available_mw"]
    assert err["mae"] > 0 and err["rmse"] >= err["mae"]
    assert a["summary"]["max_balance_residual_mw"] < 1e-6
    pva = a["planned_vs_actual"]
    assert {"setpoint_grid_import_mw", "actual_grid_import_mw", "actual_battery_soc_mwh"} <= set(
        pva.columns
    )


def test_operate_result_directory_has_its_tables_and_plots(tmp_path):
    sc = scenario(
        **{
            "period.end": "2023-08-23T00:00",
            "operate.lookahead_h": 12,
            "operate.replan_every_steps": 6,
        }
    )
    res = microgrid.run(sc, mode="operate", baselines=False)
    out = res.write(tmp_path / "out")
    names = {p.name for p in out.iterdir()}
    assert {"planned_vs_actual.csv", "events.csv", "voltage.png", "timeseries.csv"} <= names
    # written inside the atomic swap: nothing is left beside the result directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replanning_with_a_demand_charge_keeps_the_optimal_cost():
    # the controller is told the month's peak so far, so re-planning cannot "reset" it
    sc = scenario(**{"operate.lookahead_h": 48, "operate.replan_every_steps": 6})
    assert sc.grid.demand_charge_usd_per_kw_month > 0
    plan = microgrid.run(sc, powerflow=False, baselines=False)
    r = simulate(sc)
    assert r.n_solves == 8
    assert r.costs["demand_usd"] == pytest.approx(plan.summary["demand_cost_usd"], rel=1e-4)
    assert run_cost(r.costs) == pytest.approx(plan.summary["total_cost_usd"], rel=1e-4)


def test_events_without_economic_effect_cost_exactly_zero():
    # Two MILP jobs at the default 1 % gap: each re-plan stops on the gap (never on the
    # clock), so the run without an event that changes nothing re-plans the same way and
    # the event's cost is 0, not the solver's noise. A PV line out at night and a price
    # "spike" of factor 1 change nothing.
    jobs = [
        {"id": "a", "gpus": 16384, "work_h": 14, "release_h": 24, "deadline_h": 70,
         "preemptible": True, "max_interruptions": 2, "restart_overhead_h": 0.5, "f_min": 0.6},
        {"id": "b", "gpus": 8192, "work_h": 8, "release_h": 30, "deadline_h": 66,
         "preemptible": False, "f_min": 0.7},
    ]  # fmt: skip
    events = [
        {"kind": "line_out", "line": "line_pv", "start": "2023-08-22T01:00",
         "end": "2023-08-22T04:00"},
        {"kind": "price_spike", "factor": 1.0, "start": "2023-08-23T02:00",
         "end": "2023-08-23T04:00"},
    ]  # fmt: skip
    sc = scenario(**{"jobs.items": jobs, "jobs.repeat": "once", "solver.mip_rel_gap": 0.01,
                     "solver.time_limit_s": None, "operate.replan_every_steps": 4,
                     "operate.lookahead_h": 24, "operate.events": events})  # fmt: skip
    ev = run_operate(sc)["events"]
    assert list(ev["kind"]) == ["line_out", "price_spike"]
    assert list(ev["cost_usd"]) == [0.0, 0.0]
    assert list(ev["unserved_mwh_delta"]) == [0.0, 0.0]
