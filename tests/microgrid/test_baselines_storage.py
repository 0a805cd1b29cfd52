"""The storage-optimal baseline (jobs as asap, everything else optimised) and the split of
the optimum's saving into what storage buys and what job flexibility buys on top."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from scenario_factory import TINY, small_scenario
from test_baselines import problem_of, tiny, write

import microgrid
import optimize
from microgrid.baselines import run_baselines
from microgrid.baselines.limits import keeps_all
from microgrid.baselines.storage import fixed_jobs_problem
from microgrid.cli import main
from microgrid.costs import cost_breakdown
from microgrid.results import balance_residual_mw


def test_storage_optimal_on_tiny_by_hand(tmp_path):
    # flat $50/MWh, no final SOC: the battery fills to its 18 MWh top before the job and
    # shaves the job's 22 MW peak by all it holds above the 2 MWh floor over 4 h:
    # (18 - 2) x 0.95 / 4 = 3.8 MW, worth $1000/MW x 48/744 of a month's demand charge
    inputs, problem = problem_of(tiny(tmp_path))
    res = run_baselines(problem, inputs.index, "UTC")
    store, asap = res["storage-optimal"], res["asap"]
    ts = store.timeseries
    assert store.status == "optimal"
    assert ts["grid_import_mw"].max() == pytest.approx(22 - 3.8, abs=1e-6)
    assert ts["battery_discharge_mw"].sum() == pytest.approx(15.2, abs=1e-6)
    charged_mwh = 8 / 0.95
    assert ts["battery_charge_mw"].sum() == pytest.approx(charged_mwh, abs=1e-6)
    energy = 50 * (48 * 11 + 44 - 15.2 + charged_mwh)
    demand = 1000 * 18.2 * 48 / 744
    assert store.costs["total_cost_usd"] == pytest.approx(energy + demand + 2 * 15.2, rel=1e-9)
    # the jobs and the facility load are asap's, to the watt
    for c in ("job_train_mw", "it_load_mw", "facility_load_mw"):
        assert np.array_equal(ts[c].to_numpy(), asap.timeseries[c].to_numpy()), c
    assert balance_residual_mw(ts).abs().max() <= 1e-6
    assert store.costs["total_cost_usd"] < asap.costs["total_cost_usd"]


def test_fixed_load_copy_prices_as_the_optimizer(tmp_path):
    # the copy with asap's jobs as fixed IT load: its dispatch's own costs equal the shared
    # accounting on the original problem (the facility/PUE accounting is the same)
    inputs, problem = problem_of(tiny(tmp_path, **{"objective.carbon_price_usd_per_t": 30}))
    asap = run_baselines(problem, inputs.index, "UTC")["asap"]
    copy = fixed_jobs_problem(problem, asap.timeseries["it_load_mw"].to_numpy())
    assert copy.jobs == () and problem.jobs
    d = optimize.solve(copy, optimize.SolverOptions(mip_rel_gap=0.0))
    assert np.allclose(d.series["facility_load_mw"], asap.timeseries["facility_load_mw"])
    mine = cost_breakdown(problem, d.series)
    for key, value in d.costs.items():
        assert mine[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_value_of_storage_and_flexibility_add_up(tmp_path):
    scenario = tiny(tmp_path, **{"objective.carbon_price_usd_per_t": 40})
    s = microgrid.run(scenario, powerflow=False).summary
    v, b = s["value_of"], s["baselines"]
    asap, store = b["asap"]["total_cost_usd"], b["storage-optimal"]["total_cost_usd"]
    assert v["storage_usd"] == pytest.approx(asap - store)
    assert v["job_flexibility_usd"] == pytest.approx(store - s["total_cost_usd"])
    assert v["storage_usd"] + v["job_flexibility_usd"] == pytest.approx(
        b["asap"]["cost_saving_usd"]
    )
    # the carbon price moves the job from 500 to 200 g/kWh hours: flexibility cuts carbon
    assert v["storage_usd"] > 0 and v["job_flexibility_emissions_t"] > 0
    assert v["asap_keeps_all_limits"] and s["solver"]["mip_gap"] == 0.0


def test_storage_optimal_between_asap_and_optimum_on_real_data(tmp_path):
    # two days of R1 (ERCOT prices, PV, wind, 50 MW / 200 MWh battery, ramp limit) and one
    # 39 MW job of 10 h that asap starts at its release
    job = {"id": "train", "gpus": 40000, "kw_per_gpu": 0.98, "work_h": 10, "release_h": 30,
           "deadline_h": 46, "preemptible": True, "f_min": 0.6}  # fmt: skip
    data = small_scenario(**{"jobs": {"items": [job]}})
    data["solver"] = {"mip_rel_gap": 1e-4, "time_limit_s": 60}
    s = microgrid.run(write(tmp_path, data, "r1-2d.yaml"), powerflow=False).summary
    b = s["baselines"]
    asap, store = b["asap"], b["storage-optimal"]
    assert asap["keeps_all_limits"] and store["keeps_all_limits"]
    tol = s["solver"]["mip_gap"] * s["solver"]["gap_basis_usd"] + 1e-6
    assert store["objective_usd"] <= asap["objective_usd"]
    assert store["objective_usd"] >= s["total_cost_usd"] + s["carbon_cost_usd"] - tol
    assert s["value_of"]["storage_usd"] > 0 and s["value_of"]["job_flexibility_usd"] > 0


def test_storage_optimal_infeasible_is_reported(tmp_path):
    # a 3 h outage while asap runs the job: 22 MW with 5 MW of battery, no generator
    outage = {"outages": [{"start": "2023-01-02T09:00", "end": "2023-01-02T12:00"}]}
    inputs, problem = problem_of(tiny(tmp_path, events=outage))
    store = run_baselines(problem, inputs.index, "UTC")["storage-optimal"]
    assert store.status == "infeasible" and store.timeseries is None
    assert "import" in store.reason


def test_a_carbon_budget_is_a_limit_the_baselines_keep_or_break(tmp_path):
    """Budget 190 t: asap emits 194.2 t (the job at 08-12, 500 g/kWh), 4.2 t over; the
    audit found asap over its budget reported as keeping every limit. Storage-optimal
    (at least 188.7 t with asap's jobs) keeps it."""
    inputs, problem = problem_of(tiny(tmp_path, **{"objective.carbon_budget_t": 190}))
    res = run_baselines(problem, inputs.index, "UTC")
    asap, store = res["asap"], res["storage-optimal"]
    assert asap.costs["emissions_t"] == pytest.approx(194.2, abs=1e-6)
    assert asap.breaches["carbon_budget_over_t"] == pytest.approx(4.2, abs=1e-6)
    assert not keeps_all(asap.breaches)
    assert store.status == "optimal" and store.costs["emissions_t"] <= 190 + 1e-6
    assert store.breaches["carbon_budget_over_t"] == 0.0 and keeps_all(store.breaches)
    # no budget: no such key (the summaries of runs without one are unchanged)
    inputs, problem = problem_of(tiny(tmp_path))
    assert (
        "carbon_budget_over_t" not in run_baselines(problem, inputs.index, "UTC")["asap"].breaches
    )


def test_storage_optimal_infeasible_under_the_budget_names_it(tmp_path, capsys):
    """Budget 185 t: the optimum keeps it (175.5 t at the least); asap's jobs emit at
    least 188.7 t with the battery's help, 3.7 t over. The audit's line blamed "asap's jobs
    cannot run within the limits" with the budget unnamed, and said asap keeps every limit."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["objective"] = {"carbon_budget_t": 185}
    path = write(tmp_path, data)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-powerflow"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    asap = summary["baselines"]["asap"]
    assert not asap["keeps_all_limits"]
    assert asap["limit_breaches"]["carbon_budget_over_t"] == pytest.approx(9.2, abs=1e-6)
    assert "asap breaks: carbon budget 9.2 t over" in out
    assert summary["baselines"]["storage-optimal"]["status"] == "infeasible"
    assert (
        "vs storage-optimal  no plan (infeasible): asap's jobs cannot run within the carbon "
        "budget (objective.carbon_budget_t) of 185.0 t: the least emissions found with them "
        "are 188.7 t, 3.7 t over"
    ) in out
