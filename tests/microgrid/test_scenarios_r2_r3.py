"""R2 pjm-virginia-outage and R3 caiso-solar-heavy end to end (docs/reference-cases.md).

Each is a week with the 8 reference jobs. To keep the file short each solve stops at a
6 % MIP gap or after 30 s, whichever comes first. R3 reaches the gap in ~15 s even on a
loaded machine (incumbent within 5.5 %); R2's root node is slow (HiGHS found an incumbent
within 32 % after ~7 s and one within 2.5 % only after ~78 s on a loaded 2-core machine),
so R2 usually stops at the time limit with a feasible, not optimal, plan. Every property
below holds for any feasible plan and is checked on every row; "not worse than the
baselines" is asserted only for solves that reached the gap (the tiny scenario of
test_baselines.py checks it exactly).

R2's demand-response cap is 75 % of the same scenario's import without the request. The
test computes those caps with `demand_response_caps` (the baseline solve `run` would do)
and runs R2 with them as absolute one-hour caps, so the rows can be checked against the
exact caps with two solves in all, as in a plain `run`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import microgrid
from microgrid.assemble import build_problem, load_inputs
from microgrid.costs import cost_breakdown
from microgrid.dispatch import demand_response_caps
from microgrid.results import balance_residual_mw
from microgrid.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
FAST = {"solver.mip_rel_gap": 0.06, "solver.time_limit_s": 30}

pytestmark = pytest.mark.slow  # two week-long solves (R2, R3)


@pytest.fixture(scope="module")
def r2():
    scenario = load_scenario(ROOT / "scenarios" / "pjm-virginia-outage.yaml").with_updates(FAST)
    inputs = load_inputs(scenario)
    caps = demand_response_caps(scenario, inputs)
    steps = np.flatnonzero(~np.isnan(caps))
    assert len(steps) == 3  # 16:00-19:00 local
    windows = [
        {
            "start": inputs.index[t].isoformat(),
            "end": (inputs.index[t] + pd.Timedelta(hours=1)).isoformat(),
            "cap_mw": float(caps[t]),
        }
        for t in steps
    ]
    fixed = scenario.with_updates({"events.demand_response": windows})
    result = microgrid.run(fixed, powerflow=False)
    return scenario, inputs, caps, result


@pytest.fixture(scope="module")
def r3():
    scenario = load_scenario(ROOT / "scenarios" / "caiso-solar-heavy.yaml").with_updates(FAST)
    return scenario, microgrid.run(scenario, powerflow=False)


def local_mask(ts: pd.DataFrame, tz: str, start: str, end: str) -> np.ndarray:
    lo = pd.Timestamp(start).tz_localize(tz)
    hi = pd.Timestamp(end).tz_localize(tz)
    return np.asarray((ts.index >= lo) & (ts.index < hi))


def check_rows(scenario, ts: pd.DataFrame, outage: np.ndarray) -> None:
    assert balance_residual_mw(ts).abs().max() <= 1e-6
    b = scenario.battery
    soc = ts["battery_soc_mwh"].to_numpy()
    assert soc.min() >= b.soc_min_frac * b.energy_mwh - 1e-6
    assert soc.max() <= b.soc_max_frac * b.energy_mwh + 1e-6
    assert soc[-1] >= b.soc_final_frac * b.energy_mwh - 1e-6
    for col in ("battery_charge_mw", "battery_discharge_mw"):
        assert ts[col].max() <= b.power_mw + 1e-6
    imp, exp = ts["grid_import_mw"].to_numpy(), ts["grid_export_mw"].to_numpy()
    assert np.all(imp <= np.where(outage, 0.0, scenario.grid.import_max_mw) + 1e-6)
    assert np.all(exp <= np.where(outage, 0.0, scenario.grid.export_max_mw) + 1e-6)
    assert np.all(np.abs(np.diff(imp - exp)) <= scenario.grid.ramp_mw_per_h + 1e-6)
    # no simultaneous charge and discharge
    assert not np.any((ts["battery_charge_mw"] > 1e-6) & (ts["battery_discharge_mw"] > 1e-6))
    # inflexible inference is served on every row: IT load covers it, facility = IT x PUE
    jobs = ts[[c for c in ts.columns if c.startswith("job_")]].sum(axis=1)
    assert np.allclose(ts["it_load_mw"], ts["inference_it_mw"] + jobs, atol=1e-6)
    assert np.allclose(ts["facility_load_mw"], ts["it_load_mw"] * ts["pue"], atol=1e-6)
    renew = ts["pv_used_mw"] <= ts["pv_available_mw"] + 1e-6
    assert renew.all()


def check_jobs(result) -> None:
    s = result.summary
    assert s["jobs"]["n_jobs"] == 8 and s["jobs"]["deadlines_met"] == 8
    jobs = result.jobs
    assert jobs["deadline_met"].all()
    assert (pd.to_datetime(jobs["end_utc"]) <= pd.to_datetime(jobs["deadline_utc"])).all()
    assert set(jobs["job_id"]) == {spec["id"] for spec in result.jobs_spec}


def check_against_baselines(scenario, result) -> None:
    s = result.summary
    opt = s["total_cost_usd"] + s["carbon_cost_usd"]
    assert set(s["baselines"]) == {"asap", "carbon-threshold", "storage-optimal"}
    for name, b in s["baselines"].items():
        assert b["jobs"]["deadlines_met"] == 8, name
        if "total_cost_usd" not in b:  # storage-optimal when asap's load cannot be served
            continue
        saving = 100 * (b["total_cost_usd"] - s["total_cost_usd"]) / b["total_cost_usd"]
        if min(b["total_cost_usd"], s["total_cost_usd"]) < 0:  # a net revenue: no share
            saving = None
        assert b["cost_saving_pct"] == pytest.approx(saving), name
        if s["solver"]["status"] == "optimal":  # within the optimum's proven gap
            assert opt <= b["objective_usd"] + s["solver"]["mip_gap"] * s["solver"]["gap_basis_usd"]
    # the summary's costs are the shared accounting applied to the optimum's rows
    problem = build_problem(scenario, load_inputs(scenario))
    c = cost_breakdown(problem, result.timeseries)
    assert c["total_cost_usd"] == pytest.approx(s["total_cost_usd"], rel=1e-6)
    assert c["emissions_t"] == pytest.approx(s["emissions_t"], rel=1e-6)


def test_r2_rows(r2):
    scenario, _, caps, result = r2
    ts = result.timeseries
    tz = scenario.site.timezone
    outage = local_mask(ts, tz, "2023-07-11 14:00", "2023-07-11 18:00")
    assert outage.sum() == 4
    check_rows(scenario, ts, outage)
    # outage: nothing crosses the connection; inference is met by PV, battery, gensets
    assert np.all(ts.loc[outage, ["grid_import_mw", "grid_export_mw"]].to_numpy() == 0.0)
    local = (
        ts.loc[outage, ["pv_used_mw", "battery_discharge_mw", "backup_gen_mw"]].sum(axis=1)
        - ts.loc[outage, "battery_charge_mw"]
    )
    assert np.allclose(local, ts.loc[outage, "facility_load_mw"], atol=1e-6)
    assert np.all(ts.loc[outage, "it_load_mw"] >= ts.loc[outage, "inference_it_mw"] - 1e-9)
    assert ts["backup_gen_mw"].max() <= 60 + 1e-6
    # demand response: net import <= 75 % of the no-request baseline in 16:00-19:00
    dr = local_mask(ts, tz, "2023-07-12 16:00", "2023-07-12 19:00")
    assert dr.sum() == 3 and np.array_equal(dr, ~np.isnan(caps))
    net = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy()
    assert np.all(net[dr] <= caps[dr] + 1e-6)
    assert np.all(caps[dr] > 0)


def test_r2_jobs_and_baselines(r2):
    scenario, _, _, result = r2
    check_jobs(result)
    check_against_baselines(scenario, result)
    asap = result.summary["baselines"]["asap"]
    # ASAP keeps 70 %+ of the campus running through the outage: its battery reserve,
    # charged before the known outage, and the gensets carry it, so it keeps every limit
    # (before the reserve rule it imported 158 MWh over the zero limit)
    assert asap["keeps_all_limits"], asap["limit_breaches"]


def test_r3_rows(r3):
    scenario, result = r3
    ts = result.timeseries
    check_rows(scenario, ts, np.zeros(len(ts), dtype=bool))
    assert ts["grid_export_mw"].max() <= 100 + 1e-6
    # negative prices: never pay to export (curtail instead); the week has some
    neg = ts["price_usd_per_mwh"].to_numpy() < 0
    assert neg.sum() >= 1
    assert np.all(ts.loc[neg, "grid_export_mw"] <= 1e-6)
    # solar-heavy: the plan exports surplus PV in the middle of the day
    assert ts["grid_export_mw"].max() > 50


def test_r3_jobs_and_baselines(r3):
    scenario, result = r3
    check_jobs(result)
    check_against_baselines(scenario, result)
