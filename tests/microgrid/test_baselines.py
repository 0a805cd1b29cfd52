"""Rule-based baselines (microgrid/baselines/) and the shared cost accounting.

The tiny scenario (scenario_factory.TINY) is hand-checkable: two days in UTC, a constant
10 MW of inference at PUE 1.10 (clear sky at 15 C), one 10 MW job of 4 h released at 08:00,
time-of-use carbon 300 / 500 / 200 g/kWh in 00-08 / 08-16 / 16-24, a flat $50/MWh, a 5 MW /
20 MWh battery starting at 10 MWh (SOC floor 2 MWh), $1/kW-month demand charge, no renewables.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scenario_factory import TINY

import microgrid
import optimize
from microgrid.assemble import build_problem, load_inputs, solver_options
from microgrid.baselines import run_baselines, schedule_job, trailing_median
from microgrid.cli_summary import _baseline_line
from microgrid.costs import cost_breakdown
from microgrid.results import balance_residual_mw, timeseries_frame


def write(tmp_path, data: dict, name: str = "tiny.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def tiny(tmp_path, **changes):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    for dotted, value in changes.items():
        node = data
        keys = dotted.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        node[keys[-1]] = value
    return microgrid.load_scenario(write(tmp_path, data))


def problem_of(scenario):
    inputs = load_inputs(scenario)
    return inputs, build_problem(scenario, inputs)


def check_rows(problem, ts):
    """Balance, SOC bounds, import/export limits on every row."""
    assert balance_residual_mw(ts).abs().max() <= 1e-6
    b = problem.battery
    soc = ts["battery_soc_mwh"].to_numpy()
    assert np.all(soc >= b.soc_min_frac * b.energy_mwh - 1e-6)
    assert np.all(soc <= b.soc_max_frac * b.energy_mwh + 1e-6)
    assert np.all(ts["grid_export_mw"].to_numpy() <= problem.grid.export_max_mw + 1e-6)
    assert not np.any((ts["battery_charge_mw"] > 1e-6) & (ts["battery_discharge_mw"] > 1e-6))


def test_asap_by_hand(tmp_path):
    inputs, problem = problem_of(tiny(tmp_path))
    res = run_baselines(problem, inputs.index, "UTC")["asap"]
    ts = res.timeseries
    job = ts["job_train_mw"].to_numpy()
    assert np.allclose(job[8:12], 10.0) and job[:8].sum() == 0 and job[12:].sum() == 0
    # first day: discharge above the horizon's mean load (11 + 44/48 MW), 5 MW power cap,
    # then the 2 MWh floor: 10 - 5/0.95 = 4.7368 MWh left, (4.7368 - 2) * 0.95 = 2.6 MW
    dis = ts["battery_discharge_mw"].to_numpy()
    assert dis[8] == pytest.approx(5.0) and dis[9] == pytest.approx(2.6)
    assert np.allclose(np.delete(dis, [8, 9]), 0.0)
    imp = ts["grid_import_mw"].to_numpy()
    assert imp[8:12] == pytest.approx([17.0, 19.4, 22.0, 22.0])
    assert np.allclose(np.delete(imp, range(8, 12)), 11.0)
    # energy 50 $/MWh x (48 x 11 + 44 - 7.6) MWh; demand $1000/MW x 22 MW pro-rated to the
    # period's 48 of January's 744 hours; wear 2 x 7.6
    assert res.costs["energy_usd"] == pytest.approx(50 * 564.4)
    assert res.costs["demand_usd"] == pytest.approx(22_000.0 * 48 / 744)
    assert res.costs["wear_usd"] == pytest.approx(15.2)
    # carbon: day 1 88 x 0.3 + 124.4 x 0.5 + 88 x 0.2, day 2 88 x (0.3 + 0.5 + 0.2)
    assert res.costs["emissions_t"] == pytest.approx(26.4 + 62.2 + 17.6 + 88.0)
    assert res.jobs["train"]["deadline_met"] and res.jobs["train"]["restarts"] == 0
    check_rows(problem, ts)


def test_carbon_threshold_waits_for_clean_hours(tmp_path):
    inputs, problem = problem_of(tiny(tmp_path))
    res = run_baselines(problem, inputs.index, "UTC")["carbon-threshold"]
    job = res.timeseries["job_train_mw"].to_numpy()
    # 08-16 carbon 500 > trailing median (300, then 400 at 15:00); 16:00 is 200: runs 16-20
    assert np.allclose(job[16:20], 10.0) and job.sum() == pytest.approx(40.0)
    assert res.costs["emissions_t"] == pytest.approx(26.4 + 44.0 + 124.4 * 0.2 + 88.0)
    check_rows(problem, res.timeseries)


def test_carbon_threshold_runs_when_deadline_forces_it(tmp_path):
    inputs, problem = problem_of(tiny(tmp_path, **{"jobs.items.0.deadline_h": 14}))
    res = run_baselines(problem, inputs.index, "UTC")["carbon-threshold"]
    job = res.timeseries["job_train_mw"].to_numpy()
    # dirty 08-14; skipping 10:00 would leave 3 h for 4 h of work: runs 10-14
    assert np.allclose(job[10:14], 10.0) and job.sum() == pytest.approx(40.0)
    assert res.jobs["train"]["deadline_met"]


def test_pause_restart_overhead_and_interruption_limit():
    job = optimize.Job(
        id="j",
        full_power_it_mw=8.0,
        work_h=3.0,
        release_step=0,
        deadline_step=10,
        preemptible=True,
        max_interruptions=1,
        restart_overhead_h=0.5,
    )
    dirty = np.array([0, 1, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    frac, info = schedule_job(job, 10, 1.0, dirty)
    # runs 0, pauses 1-2, resumes at 3 (+0.5 h overhead), cannot pause again at 4
    assert frac == pytest.approx([1, 0, 0, 1, 1, 0.5, 0, 0, 0, 0])
    assert info["restarts"] == 1 and info["deadline_met"]
    asap, _ = schedule_job(job, 10, 1.0, None)
    assert asap == pytest.approx([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])


def test_trailing_median_uses_past_24_hours_only():
    c = np.array([100.0] * 24 + [500.0] * 30)
    med = trailing_median(c, 1.0)
    assert med[0] == 100 and med[23] == 100
    # window of 24 steps: 11 of them 500 -> 100; 12 -> mean of the middle two; 13 -> 500
    assert med[34] == 100 and med[35] == 300 and med[36] == 500
    assert med[-1] == 500


def test_cost_accounting_equals_the_optimizers(tmp_path):
    # a generator and a carbon price too, so every term is non-zero (the whole month's
    # demand charge makes the generator shave the peak)
    scenario = tiny(
        tmp_path,
        **{
            "grid.import_max_mw": 18,
            "grid.demand_charge_billing": "full_month",
            "generators": [
                {"name": "gas", "capacity_mw": 10, "fuel_usd_per_mwh": 80, "carbon_g_per_kwh": 600}
            ],
            "objective.carbon_price_usd_per_t": 30,
        },
    )
    inputs, problem = problem_of(scenario)
    d = optimize.solve(problem, solver_options(scenario))
    ts = timeseries_frame(inputs.index, inputs.frame, d)
    mine = cost_breakdown(problem, ts)
    for key, value in d.costs.items():
        assert mine[key] == pytest.approx(value, rel=1e-6, abs=1e-6), key
    assert d.costs["fuel_usd"] > 0 and d.costs["carbon_usd"] > 0 and d.costs["demand_usd"] > 0
    assert mine["objective_usd"] == pytest.approx(d.objective_usd, rel=1e-6)


def test_baselines_in_summary_and_optimum_not_worse(tmp_path):
    scenario = tiny(tmp_path, **{"objective.carbon_price_usd_per_t": 40})
    result = microgrid.run(scenario, powerflow=False)
    s = result.summary
    opt_objective = s["total_cost_usd"] + s["carbon_cost_usd"]
    assert set(s["baselines"]) == {"asap", "carbon-threshold", "storage-optimal"}
    for name, b in s["baselines"].items():
        assert b["keeps_all_limits"] and b["limit_breaches"]["import_breach_steps"] == 0, name
        # the optimum is solved to a zero gap: no baseline that keeps the limits beats it
        assert opt_objective <= b["objective_usd"] + 1e-6, name
        assert b["cost_saving_usd"] == pytest.approx(b["total_cost_usd"] - s["total_cost_usd"])
        assert b["cost_saving_pct"] == pytest.approx(
            100 * (b["total_cost_usd"] - s["total_cost_usd"]) / b["total_cost_usd"]
        )
        assert b["emissions_saving_pct"] == pytest.approx(
            100 * (b["emissions_t"] - s["emissions_t"]) / b["emissions_t"]
        )
        assert b["jobs"]["deadlines_met"] == 1
    # the optimum moves the job to the cleanest hours and shaves the peak with the battery
    assert s["baselines"]["asap"]["emissions_saving_pct"] > 0
    assert s["baselines"]["asap"]["cost_saving_pct"] > 0


def test_cli_run_prints_savings_and_breaches(tmp_path, capsys):
    import json

    from microgrid.cli import main

    data = yaml.safe_load(yaml.safe_dump(TINY))
    # a 3 h outage in the job's asap hours: 22 MW of load, 10 MW of gas and the battery's
    # 5 MW; the optimum moves the job, asap cannot, storage-optimal has no plan
    data["generators"] = [
        {"name": "gas", "capacity_mw": 10, "fuel_usd_per_mwh": 80, "carbon_g_per_kwh": 600}
    ]
    data["events"] = {"outages": [{"start": "2023-01-02T09:00", "end": "2023-01-02T12:00"}]}
    path = write(tmp_path, data)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-powerflow"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    b = summary["baselines"]["asap"]
    assert (
        f"vs asap             saves {b['cost_saving_usd']:,.0f} USD "
        f"({b['cost_saving_pct']:.1f} %) and {b['emissions_saving_pct']:.1f} % carbon; "
        "asap breaks: import 3 steps (max 7.0 MW)"
    ) in out
    assert summary["baselines"]["storage-optimal"]["status"] == "infeasible"
    no_plan = "no plan (infeasible): asap's jobs cannot run within the limits"
    assert f"vs storage-optimal  {no_plan}" in out
    assert "value_of" not in summary and "value of" not in out


def test_baseline_lines_say_what_is_saved_and_broken():
    breaches = {"import_breach_steps": 0, "ramp_breach_steps": 3, "ramp_breach_max_mw": 4.14,
                "dr_cap_breach_steps": 0, "soc_final_short_mwh": 35.44}  # fmt: skip
    b = {"total_cost_usd": 500_000.0, "cost_saving_usd": 412_300.4, "cost_saving_pct": 82.46,
         "emissions_saving_pct": -2.06, "limit_breaches": breaches}  # fmt: skip
    assert _baseline_line("asap", b) == (
        "  vs asap             saves 412,300 USD (82.5 %), 2.1 % more carbon; "
        "asap breaks: ramp 3 steps (max 4.1 MW), final SOC 35.4 MWh short"
    )
    b |= {"cost_saving_usd": -5.0, "cost_saving_pct": None, "emissions_saving_pct": 0.0}
    b["limit_breaches"] = dict(breaches, ramp_breach_steps=0, soc_final_short_mwh=0.0)
    assert _baseline_line("x", b) == (
        "  vs x                costs 5 USD more and 0.0 % carbon; x keeps every limit"
    )
    # a baseline cheaper than the plan (one that leaves priced work undone): a positive
    # share of how much more, where the line said "(-339.2 %)"
    b |= {"cost_saving_usd": -3_747_781.0, "cost_saving_pct": -339.2}
    assert _baseline_line("x", b).startswith(
        "  vs x                costs 3,747,781 USD more (339.2 % more) and 0.0 % carbon"
    )
    failed = {"status": "failed", "reason": "numerics", "jobs": {"n_jobs": 1}}
    assert _baseline_line("storage-optimal", failed) == "  vs storage-optimal  no plan (failed)"


def test_baseline_line_gives_tonnes_where_the_percentage_is_undefined():
    """The audit's tou.yaml: asap emitted 0 t (a grid counted as carbon-free), the optimum
    ran its diesel for 70 t, and the line said nothing of carbon."""
    b = {"total_cost_usd": 134_576.0, "cost_saving_usd": 47_909.0, "cost_saving_pct": 35.6,
         "emissions_saving_pct": None, "emissions_saving_t": -70.0,
         "limit_breaches": {"ramp_breach_steps": 0, "dr_cap_breach_steps": 0,
                            "carbon_budget_over_t": 0.0}}  # fmt: skip
    assert _baseline_line("asap", b) == (
        "  vs asap             saves 47,909 USD (35.6 %), 70.0 t more carbon; "
        "asap keeps every limit"
    )
    b |= {"emissions_saving_t": 0.0}
    b["limit_breaches"]["carbon_budget_over_t"] = 42.31
    assert _baseline_line("asap", b) == (
        "  vs asap             saves 47,909 USD (35.6 %) and 0.0 t carbon; "
        "asap breaks: carbon budget 42.3 t over"
    )
