"""The solver side through the real CLI: plan-ac that cannot reach AC feasibility, numbers
that would make HiGHS fail, HiGHS failures after the solve, and the silent HiGHS banner."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys

import pytest
from cli_helpers import one_error_line
from scenario_factory import DATA, ROOT

import optimize
import optimize.ranges
from microgrid.assemble import build_problem, load_inputs
from microgrid.cli import EXIT_LIMITS_NOT_MET, main
from microgrid.scenario import load_scenario
from optimize.network_cuts import LinearCut

ONE_DAY = {"period.end": "2023-08-23T00:00"}


@pytest.mark.slow
def test_plan_ac_that_cannot_meet_voltage_limits_writes_its_best_plan(
    write_scenario, tmp_path, capsys
):
    # a 30 km feeder to the data center: its voltage falls below 0.95 pu at the day's
    # peak whatever the dispatch (the load is fixed: no jobs), so the cuts admit no plan
    path = write_scenario(**ONE_DAY, **{"network.datacenter_line_km": 30})
    out = tmp_path / "out"
    rc = main(["run", str(path), "--mode", "plan-ac", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == EXIT_LIMITS_NOT_MET == 3
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("warning: plan-ac did not reach")
    assert "limits_unreachable" in err and str(out) in err
    a = json.loads((out / "summary.json").read_text())["ac_plan"]
    assert a["converged"] is False and a["stopped_because"] == "limits_unreachable"
    assert a["violations_left"] == len(a["remaining_violations"]) > 0
    v = a["remaining_violations"][0]
    assert v["name"] == "datacenter" and v["quantity"] == "vm_pu" and v["value"] < v["limit"]
    u = a["unreachable_limits"][0]
    assert (u["limit"], u["element"], u["unit"]) == ("vm_min", "datacenter", "pu")
    # the diagnosis names a step of the cut round that failed; the plan returned (fewest
    # violations) may have moved load off that hour, so only the day is sure
    assert u["time_utc"].startswith("2023-08-22")
    assert (out / "timeseries.csv").is_file()


@pytest.mark.slow
def test_plan_ac_goes_on_with_soft_cuts_when_some_limits_are_unreachable(
    write_scenario, tmp_path, capsys
):
    # a 27 km feeder and a flexible 20 MW training job: some low voltages can be removed by
    # moving the job, those at the inference peak cannot; once the hard cuts admit no plan,
    # the priced (soft) cuts still remove the removable ones
    job = {
        "id": "pretrain",
        "gpus": 20480,
        "work_h": 8,
        "release_h": 24,
        "deadline_h": 48,
        "preemptible": True,
        "max_interruptions": 3,
        "restart_overhead_h": 0.0,
        "f_min": 0.6,
    }
    overrides = {"network.datacenter_line_km": 27, "jobs.items": [job]}
    path = write_scenario(**ONE_DAY, **overrides)
    out = tmp_path / "out"
    assert main(["run", str(path), "--mode", "plan-ac", "--quiet", "--out", str(out)]) == 3
    assert capsys.readouterr().err.startswith("warning: plan-ac did not reach")
    summary = json.loads((out / "summary.json").read_text())
    a = summary["ac_plan"]
    assert a["stopped_because"] == "limits_unreachable" and a["unreachable_limits"]
    hard = [h["violations"] for h in a["history"] if not h["soft_cuts"]]
    soft = [h["violations"] for h in a["history"] if h["soft_cuts"]]
    assert soft and min(soft) < min(hard)
    # the plan kept has the smallest violations (their size, then their count)
    kept = a["history"][a["best_iteration"]]
    assert kept["soft_cuts"] and a["violations_left"] == kept["violations"]
    smallest = min(h["violation_excess_pct"] for h in a["history"] if not h["diverged_steps"])
    assert kept["violation_excess_pct"] == smallest
    # the objective excludes the price of missed soft cuts: it is the plan's cost
    assert a["objective_after_usd"] == pytest.approx(summary["total_cost_usd"], rel=1e-9)


@pytest.mark.slow
def test_plan_ac_with_no_power_flow_solution_is_not_called_feasible(
    write_scenario, tmp_path, capsys
):
    # 300 km: the feeder collapses at every step; no solution means no violation rows,
    # which must not read as "AC-feasible"
    path = write_scenario(**ONE_DAY, **{"network.datacenter_line_km": 300})
    out = tmp_path / "out"
    assert main(["run", str(path), "--mode", "plan-ac", "--quiet", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "(limits_unreachable): 24 violations" in err
    a = json.loads((out / "summary.json").read_text())["ac_plan"]
    assert a["converged"] is False and a["stopped_because"] == "limits_unreachable"
    assert a["diverged_steps_left"] == 24 and a["diverged_times_utc"][0].startswith("2023-08-22")
    # the back-off cuts say what the feeder cannot do: hold the campus bus at 0.95 pu
    first = a["unreachable_limits"][0]
    assert (first["limit"], first["element"], first["unit"]) == ("vm_min", "datacenter", "pu")
    assert first["short_by"] > 0.1
    # soft cuts that keep no better plan stop the loop after two re-solves, not eight
    assert a["iterations"] == 2 and a["best_iteration"] == 0


def test_elastic_diagnosis_names_network_cuts_that_no_dispatch_meets(write_scenario):
    sc = load_scenario(write_scenario(**ONE_DAY))
    problem = build_problem(sc, load_inputs(sc))
    # import minus export can never be <= -1000 MW at step 3 (export is at most 50 MW)
    coeffs = {"grid_import_mw": 1.0, "grid_export_mw": -1.0}
    cut = LinearCut(step=3, coeffs=coeffs, upper=-1000.0, name="c", unit="pu")
    problem = dataclasses.replace(problem, network_cuts=(cut,))
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(problem)
    [slack] = info.value.diagnosis
    assert (slack.kind, slack.name, slack.steps, slack.unit) == ("network_cut", "c", [3], "pu")
    assert slack.amount > 900.0


def test_cut_on_a_fixed_load_alone_is_reported_infeasible(write_scenario):
    # no asset the dispatch can move enters the cut: it is a constant, checked at build time
    sc = load_scenario(write_scenario(**ONE_DAY))
    problem = build_problem(sc, load_inputs(sc))
    cut = LinearCut(step=2, coeffs={"facility_load_mw": 1.0}, upper=-1.0, name="fixed", unit="%")
    with pytest.raises(optimize.Infeasible) as info:
        optimize.solve(dataclasses.replace(problem, network_cuts=(cut,)))
    [slack] = info.value.diagnosis
    assert (slack.kind, slack.name, slack.steps, slack.unit) == ("network_cut", "fixed", [2], "%")


def _signals_with_price(tmp_path, price: str) -> str:
    """A copy of the ERCOT signals with `price` from 10:00 to 19:59 UTC on 2023-08-22."""
    lines = (DATA / "grid-signals" / "ercot-2023.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        f = line.split(",")
        if f[0].startswith("2023-08-22T1"):
            f[1] = price
        out.append(",".join(f))
    path = tmp_path / "signals.csv"
    path.write_text("\n".join(out) + "\n")
    return str(path)


def test_price_beyond_the_solvers_range_is_an_input_error(
    write_scenario, tmp_path, capsys, monkeypatch
):
    # the schema caps prices at 1e5 USD/MWh, below the solver-side limit (1e8): lower the
    # limit so that a price the schema allows reaches the check behind it
    monkeypatch.setattr(optimize.ranges, "MAX_ABS_COST", 5e4)
    path = write_scenario(**ONE_DAY, **{"signals.csv": _signals_with_price(tmp_path, "1e5")})
    out = tmp_path / "out"
    line = one_error_line(capsys, ["run", str(path), "--no-powerflow", "--out", str(out)])
    assert line.startswith(f"error: {path}, line ")
    assert "field signals.price_column" in line and "cost 100015 of grid_import_mw[5]" in line
    assert "at 2023-08-22 05:00 CDT" in line  # the first step with that price, local time
    assert not out.exists()


def test_solver_failure_after_the_solve_names_the_suspect_field(
    write_scenario, tmp_path, capsys, monkeypatch
):
    # HiGHS stopping with an odd status and no solution (as with prices of 1e10 beside
    # ordinary ones) is reported on the field behind the model's largest number
    solve_module = importlib.import_module("optimize.solving")

    def failed(h, is_mip, *_, **__):
        return solve_module.HighsResult("Unknown", float("nan"), 0.0, False, 0.0)

    monkeypatch.setattr(solve_module, "run_highs", failed)
    path = write_scenario(**ONE_DAY)
    out = str(tmp_path / "out")
    line = one_error_line(capsys, ["run", str(path), "--no-powerflow", "--out", out])
    assert "the solver failed (HiGHS stopped with status 'Unknown'" in line
    # the small scenario's largest cost is its demand charge, 8000 USD/MW per month
    assert "field grid.demand_charge_usd_per_kw_month" in line and "line " in line


def test_no_solution_within_the_time_limit_names_the_time_limit(
    write_scenario, tmp_path, capsys, monkeypatch
):
    solve_module = importlib.import_module("optimize.solving")

    def out_of_time(h, is_mip, *_, **__):
        return solve_module.HighsResult("time_limit", float("nan"), 0.0, False, 60.0)

    monkeypatch.setattr(solve_module, "run_highs", out_of_time)
    path = write_scenario(**ONE_DAY)
    out = str(tmp_path / "out")
    line = one_error_line(capsys, ["run", str(path), "--no-powerflow", "--out", out])
    assert "field solver.time_limit_s" in line and "within the solver's time limit (60" in line


def test_solver_failure_in_pareto_is_one_line(write_scenario, tmp_path, capsys, monkeypatch):
    # a failure at the front's first point is the scenario's, named as `run` names it
    solve_module = importlib.import_module("optimize.solving")

    def failed(h, is_mip, *_, **__):
        return solve_module.HighsResult("Unknown", float("nan"), 0.0, False, 0.0)

    monkeypatch.setattr(solve_module, "run_highs", failed)
    path = write_scenario(**ONE_DAY)
    out = str(tmp_path / "front")
    assert main(["pareto", str(path), "--points", "2", "--out", out]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith(f"error: {path}, line ")
    assert "field grid.demand_charge_usd_per_kw_month:" in lines[0] and "HiGHS stopped" in lines[0]


def _cli(*args: str) -> subprocess.CompletedProcess:
    # a fresh process: HiGHS prints its banner once per process, at the first Highs()
    return subprocess.run(
        [sys.executable, "-m", "microgrid.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.slow
def test_highs_banner_only_with_verbose(write_scenario, tmp_path):
    path = write_scenario(**ONE_DAY)
    quiet = _cli("run", str(path), "--no-powerflow", "--out", str(tmp_path / "a"))
    assert quiet.returncode == 0, quiet.stderr
    assert "HiGHS" not in quiet.stdout and "HiGHS" not in quiet.stderr
    assert quiet.stdout.startswith("scenario ercot-dallas: optimal")
    loud = _cli("run", str(path), "--no-powerflow", "--verbose", "--out", str(tmp_path / "b"))
    assert loud.returncode == 0, loud.stderr
    assert "Running HiGHS" in loud.stdout


def test_operate_with_no_feasible_re_plan_is_one_line(write_scenario, tmp_path, capsys):
    # 1 MW of import for a campus of tens of MW: no re-plan has a schedule
    path = write_scenario(**ONE_DAY, **{"grid.import_max_mw": 1})
    out = tmp_path / "out"
    line = one_error_line(capsys, ["run", str(path), "--mode", "operate", "--out", str(out)])
    assert line.startswith(f"error: {path}, line ")
    # worded as plan mode words it (before 2026-12-08: "import_limit (grid) at steps ...")
    what = "field grid.import_max_mw: infeasible scenario (a re-plan in operate mode): grid import"
    assert what in line and " CDT" in line
    assert "import_limit" not in line and not out.exists()


@pytest.mark.parametrize(
    ("overrides", "mode", "what"),
    [
        ({"solver.window_h": 24}, "plan", "rolling windows (solver.window_h)"),
        ({}, "operate", "operate's re-plans"),
    ],
)
def test_a_carbon_budget_solved_in_parts_is_refused(
    write_scenario, tmp_path, capsys, overrides, mode, what
):
    """Each window or re-plan was given the whole budget: R1's week emitted 3,497 t under a
    3,300 t budget in 24 h windows, reported optimal."""
    path = write_scenario(**ONE_DAY, **overrides, **{"objective.carbon_budget_t": 300})
    out = tmp_path / "out"
    line = one_error_line(capsys, ["run", str(path), "--mode", mode, "--out", str(out)])
    assert "field objective.carbon_budget_t" in line and what in line
    assert "carbon_price_usd_per_t" in line and not out.exists()


def test_plan_whose_power_flow_finds_no_solution_says_so(write_scenario, tmp_path, capsys):
    # a 1,000 km feeder: no step of the AC check converges; the summary must not read
    # "0 steps with violations" beside NaN voltages, and summary.json stays strict JSON
    path = write_scenario(**ONE_DAY, **{"network.datacenter_line_km": 1000})
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "power flow      no solution at any of 24 steps" in captured.out
    assert captured.err.startswith("warning: the AC power flow found no solution at 24 of 24")
    text = (out / "summary.json").read_text()
    pf = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))["powerflow"]
    assert pf["diverged_steps"] == 24 and pf["min_vm_pu"] is None
