"""`microgrid.run(scenario)`: inputs → dispatch optimisation → AC power flow → results."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd

import optimize
from microgrid.acplan import plan_ac
from microgrid.assemble import Inputs, load_inputs, network_parameters
from microgrid.baselines import STORAGE_OPTIMAL, BaselineResult, add_baselines
from microgrid.bill_summary import bill_table, site_bill
from microgrid.billing import demand_charge_summary
from microgrid.coincident_peak import hindsight_grid
from microgrid.coincident_peak_bill import coincident_peak_section
from microgrid.costs import insert_emissions_t
from microgrid.dispatch import optimize_dispatch, plan_problem, solve_dispatch
from microgrid.dr_program import dr_section
from microgrid.errors import InputError
from microgrid.input_warnings import input_warnings
from microgrid.network import INJECTION_COLUMNS, build_network, clear_results
from microgrid.operate import actual_powerflow, add_cosim_outputs, run_operate
from microgrid.output import Result
from microgrid.powerflow import PowerflowCheck, check_timeseries
from microgrid.results import (
    POWERFLOW_COLUMNS,
    job_segments,
    missed_deadlines,
    power_capping,
    summarize,
    timeseries_frame,
)
from microgrid.scenario import Scenario, scenario_and_path
from microgrid.scenario_checks import BUDGET_WHOLE_PERIOD
from microgrid.scenario_yaml import scenario_digest, scenario_file_name


def check_network(scenario: Scenario, ts: pd.DataFrame) -> tuple[object, PowerflowCheck]:
    """AC power flow of every step of the plan on the scenario's pandapower network: the
    net and the check (per-step summary, violations, engine)."""
    net = build_network(network_parameters(scenario))
    injections = ts[list(INJECTION_COLUMNS)]
    return net, check_timeseries(net, injections, engine=scenario.network.engine)


def powerflow_summary(check: PowerflowCheck) -> dict:
    """`summary.json["powerflow"]`: the engine that solved it, extremes over the steps
    whose power flow converged (None when none did), limit violations, and the steps with
    no power-flow solution."""
    pf = check.summary
    ok = pf[pf["converged"].astype(bool)]

    def extreme(column: str, how: str) -> float | None:
        return float(getattr(ok[column], how)()) if len(ok) else None

    return {
        "engine": check.engine,
        "converged_steps": len(ok),
        "steps": len(pf),
        "diverged_steps": len(pf) - len(ok),
        "min_vm_pu": extreme("min_vm_pu", "min"),
        "max_vm_pu": extreme("max_vm_pu", "max"),
        "max_line_loading_pct": extreme("max_line_loading_pct", "max"),
        "max_trafo_loading_pct": extreme("trafo_loading_pct", "max"),
        "violation_steps": int((pf["n_violations"] > 0).sum()),
        "violations": int(pf["n_violations"].sum()),
    }


def pcc_summary(ts: pd.DataFrame, step_h: float, import_max_mw, export_max_mw) -> dict:
    """The grid connection (PCC) as the power flow saw it, for `summary["powerflow"]`:
    losses (MWh, and as a fraction of the facility's energy over the same steps), the
    PCC's peak import beside the plan's (`grid_import_mw`, which the bill prices), and
    the steps where the PCC's net import (`pcc_import_mw`, < 0 export) exceeds the grid
    connection's import or export limit of that step (MW, a number or one per step: 0 in
    a grid outage), with the largest excess (MW). Steps without a power-flow solution
    (NaN) are left out; None where no step has one.

    `outage_steps_solved`: solved steps whose limits are both 0 (the grid is out). The
    power flow still takes the grid as its slack there, so their PCC flow (the losses and
    the reactive power an island would have to cover on site) counts as an excess."""
    solved = ts["losses_mw"].notna()
    pcc_mw = ts.loc[solved, "pcc_import_mw"]
    import_max = np.broadcast_to(np.asarray(import_max_mw, dtype=float), len(ts))[solved]
    export_max = np.broadcast_to(np.asarray(export_max_mw, dtype=float), len(ts))[solved]
    losses_mwh = float(ts.loc[solved, "losses_mw"].sum() * step_h)
    facility_mwh = float(ts.loc[solved, "facility_load_mw"].sum() * step_h)
    return {
        "losses_mwh": losses_mwh if solved.any() else None,
        "losses_share": losses_mwh / facility_mwh if facility_mwh > 0 else None,
        "pcc_peak_import_mw": float(pcc_mw.max()) if solved.any() else None,
        "plan_peak_import_mw": float(ts["grid_import_mw"].max()),
        "max_pcc_q_mvar": float(ts.loc[solved, "pcc_q_mvar"].abs().max()) if solved.any() else None,
        **_limit_excess("import", pcc_mw - import_max),
        **_limit_excess("export", -pcc_mw - export_max),
        "outage_steps_solved": int(((import_max == 0) & (export_max == 0)).sum()),
    }


def _limit_excess(direction: str, excess_mw: pd.Series) -> dict:
    """Steps with `excess_mw` > 0 and the largest excess (0.0 when none)."""
    over = excess_mw[excess_mw > 0]
    return {
        f"pcc_over_{direction}_limit_steps": len(over),
        f"pcc_max_{direction}_excess_mw": float(over.max()) if len(over) else 0.0,
    }


MODES = ("plan", "plan-ac", "operate")
# The time series' power-flow columns (results.POWERFLOW_COLUMNS) named otherwise in the
# check's per-step summary (powerflow.SUMMARY_COLUMNS)
_CHECK_COLUMN = {"pcc_import_mw": "pcc_p_mw"}
# Columns of `Result.violations` and violations.csv (see `violations_table`).
VIOLATION_COLUMNS = (
    "timestamp_utc",
    "element_type",
    "element",
    "name",
    "quantity",
    "value",
    "limit",
)


def run(
    scenario: Scenario | str | os.PathLike,
    *,
    powerflow: bool = True,
    baselines: bool = True,
    mode: str = "plan",
) -> Result:
    """Solve a scenario end to end and return its `Result` (nothing is written: use
    `Result.write`).

    `scenario`: a `Scenario` or the path of its YAML file.
    `powerflow`: check the plan with an AC power flow (`summary["powerflow"]`, the
    time series' `dc_bus_vm_pu` and `max_line_loading_pct`, `Result.violations`).
    `baselines`: also run the baselines (microgrid/baselines/: asap, carbon-threshold,
    storage-optimal) and add their costs, limit breaches and the optimum's savings to
    `summary["baselines"]`, and what storage and job flexibility buy to
    `summary["value_of"]`; each one's rows are in `Result.baselines` (docs/baselines.md).
    `mode`: "plan", "plan-ac" (AC-feasible plan, microgrid/acplan.py) or "operate"
    (closed loop; the time series are the actual rows, microgrid/operate/).

    Units are in the names: powers in MW (step averages), energies in MWh, money in USD,
    emissions in t, voltages in pu, loadings in % (`Result` says which figures are
    fractions).

    Raises `microgrid.errors.InputError` (several at once: `InputErrors`) for bad input:
    an unknown mode, the scenario's schema or cross-field rules, a data file, a plan with
    no feasible schedule (the message names the limits to relax) or a number the solver
    cannot handle in the plan's solve. The solves beyond the plan's own (plan-ac's
    re-solves, operate's re-plans and DR commitment) can raise `optimize.SolveError`
    (HiGHS stopped without an answer; the CLI reports it as bad input, exit 2) or
    `optimize.Infeasible` (no schedule, with its `diagnosis`)."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
    for name, flag in (("powerflow", powerflow), ("baselines", baselines)):
        if not isinstance(flag, bool):  # "no" is true: the power flow had run
            raise InputError(f"{name}: True or False, not {flag!r}")
    scenario, scenario_path = scenario_and_path(scenario)
    if mode == "operate" and scenario.objective.carbon_budget_t is not None:
        what, instead = "operate's re-plans", "in plan mode"
        message = BUDGET_WHOLE_PERIOD.format(what=what, instead=instead)
        raise scenario.error(message, "objective.carbon_budget_t")
    inputs = load_inputs(scenario)
    problem = plan_problem(scenario, inputs)
    dispatch, cosim = _solve(scenario, inputs, problem, mode)
    bill_grid = cosim.get("billed_grid", problem.grid)  # operate: the plant's prices
    ts = timeseries_frame(inputs.index, inputs.frame, dispatch)
    insert_emissions_t(ts, problem, bill_grid)
    jobs, summary = _summarise(scenario, inputs, problem, dispatch, ts, bill_grid)
    baseline_results = {}
    if baselines:
        baseline_results = _add_baselines(scenario, inputs, problem, summary, mode)
    net, violations = None, pd.DataFrame(columns=list(VIOLATION_COLUMNS))
    if powerflow:
        net, violations = _check_plan_network(scenario, mode, cosim, ts, summary, problem.grid)
    extra_tables = add_cosim_outputs(scenario, mode, cosim, ts, summary)
    extra_tables["bill.csv"] = bill_table(summary["bill"])
    summary["scenario"] = {
        "name": scenario.name,
        "path": scenario_file_name(scenario_path),  # the name alone: no user's folders
        "sha256": scenario_digest(scenario),  # its fields, data files by their content
    }
    summary["period"] = scenario.period_record()
    summary["result_id"] = _result_id(summary["scenario"]["sha256"], ts)
    return Result(
        scenario=scenario,
        timeseries=ts,
        jobs=jobs,
        summary=summary,
        net=net,
        violations=violations,
        jobs_spec=_jobs_spec(inputs),
        scenario_path=scenario_path,
        extra_tables=extra_tables,
        baselines=baseline_results,
    )


def _solve(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem, mode: str
) -> tuple[optimize.Dispatch, dict]:
    """The dispatch of `mode` and the closed loop's or AC plan's extra outputs."""
    cosim: dict = {}
    if mode == "operate":
        cosim = run_operate(scenario, inputs, problem)
        dispatch = cosim["dispatch"]
    else:
        dispatch = solve_dispatch(scenario, inputs, problem)
    if mode == "plan-ac":
        dispatch, cosim["ac_plan"] = plan_ac(scenario, inputs, problem, dispatch)
    return dispatch, cosim


def _summarise(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    dispatch: optimize.Dispatch,
    ts: pd.DataFrame,
    bill_grid: optimize.Grid,
) -> tuple[pd.DataFrame, dict]:
    """The job segments and the summary; the bill prices `ts` on `bill_grid`."""
    gpus_of = {inst.id: inst.spec.gpus for inst in inputs.jobs}
    jobs = job_segments(inputs.index, dispatch, inputs.jobs, gpus_of)
    summary = summarize(ts, dispatch, scenario.step_h, jobs)
    # the gap asked, against which the status says "optimal" or "heuristic"
    summary["solver"]["mip_rel_gap"] = scenario.solver.mip_rel_gap
    summary["jobs"]["instances_outside_period"] = inputs.jobs_dropped
    summary["jobs"]["missed_deadlines"] = missed_deadlines(dispatch, inputs.jobs)
    summary["jobs"]["power_capping"] = power_capping(dispatch, problem)
    summary["demand_charge"] = demand_charge_summary(
        bill_grid,  # the charges in demand_cost_usd (operate: no alert days' estimates)
        inputs.index,
        scenario.site.timezone,
        scenario.grid.demand_charge_billing,
        ts["grid_import_mw"].to_numpy(),
    )
    cp = coincident_peak_section(scenario, inputs.index, ts["grid_import_mw"].to_numpy())
    if cp is not None:
        summary["coincident_peak"] = cp
    if dispatch.dr_commit_mw is not None:  # a plan's DR commitment (operate: its section)
        net_import_mw = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy()
        summary["demand_response_program"] = dr_section(
            scenario, inputs.index, problem, net_import_mw, dispatch.dr_commit_mw
        )
    _add_bill(summary, scenario, inputs.index, bill_grid, dispatch.bill, ts)
    # what the figures cannot show (a demand window or coincident-peak interval shorter
    # than the step, ...): the CLI prints each as a `warning:` line
    summary["warnings"] = input_warnings(scenario, inputs)
    return jobs, summary


def _add_baselines(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem, summary: dict, mode: str
) -> dict[str, BaselineResult]:
    """The baselines on the plan's problem (`Result.baselines`), their figures added to
    `summary`; storage-optimal is solved as the optimum is (options, windows). In operate
    mode they are billed as the closed loop's rows are, on the real coincident-peak
    intervals (`hindsight_grid`) in place of the alerts' expected charges: an audit's
    operate run read "job flexibility -46,072 USD", its real charge against their
    expected one."""
    billing = hindsight_grid(scenario, inputs.index, problem.grid) if mode == "operate" else None
    return add_baselines(
        summary,
        problem,
        inputs.index,
        scenario.site.timezone,
        price_usd_per_mwh=inputs.frame["price_usd_per_mwh"].to_numpy(),
        solve=lambda p: optimize_dispatch(scenario, p, f"baseline {STORAGE_OPTIMAL}"),
        fixed_usd=summary["fixed_cost_usd"],
        billing_grid=billing,
    )


def _add_bill(
    summary: dict,
    scenario: Scenario,
    index: pd.DatetimeIndex,
    grid: optimize.Grid,
    dispatch_bill: dict[str, float],
    ts: pd.DataFrame,
) -> None:
    """`summary["bill"]` (microgrid/bill_summary.py), and the tariff's fixed charge in
    `fixed_cost_usd` and the total (no schedule changes it, so the optimiser leaves it
    out)."""
    summary["bill"] = site_bill(scenario, index, grid, ts, dispatch_bill)
    summary["fixed_cost_usd"] = summary["bill"]["lines"].get("fixed_usd", 0.0)
    summary["total_cost_usd"] += summary["fixed_cost_usd"]


def _check_plan_network(
    scenario: Scenario,
    mode: str,
    cosim: dict,
    ts: pd.DataFrame,
    summary: dict,
    problem_grid: optimize.Grid,
) -> tuple[object, pd.DataFrame]:
    """AC power flow of the plan (plan-ac: of the AC plan kept; operate: of the actual
    rows); adds its columns to `ts` and `summary["powerflow"]`; returns the network and
    the violations table (`violations_table`)."""
    if mode == "operate":
        net, check = actual_powerflow(scenario, cosim["run"].actual, cosim["plant_lines"])
    else:
        net, check = check_network(scenario, ts)
    for column in POWERFLOW_COLUMNS:
        ts[column] = check.summary[_CHECK_COLUMN.get(column, column)].to_numpy()
    # each step's limits: zero in a grid outage (the plan's, or operate's plant's)
    limits = cosim.get("plant_limits_mw") or (
        problem_grid.import_max_mw,
        problem_grid.export_max_mw,
    )
    summary["powerflow"] = powerflow_summary(check) | pcc_summary(ts, scenario.step_h, *limits)
    clear_results(net)  # handed over with no step applied and no results (docs/network.md)
    return net, violations_table(check.violations)


def violations_table(violations: pd.DataFrame) -> pd.DataFrame:
    """`Result.violations` (violations.csv): one row per step and element outside its
    limit, from `powerflow.list_violations` with its step (the time series' UTC start)
    as `timestamp_utc`. `element_type` is bus, line or trafo, `element` its pandapower
    index; `quantity` names the unit of `value` and `limit`: `vm_pu` (bus voltage, pu;
    `limit` the bound crossed) or `loading_pct` (% of the rated current)."""
    return violations.rename(columns={"step": "timestamp_utc"})[list(VIOLATION_COLUMNS)]


def _jobs_spec(inputs: Inputs) -> list[dict]:
    """The job instances as written to jobs_spec.json."""
    return [
        {
            "id": inst.id,
            "gpus": inst.spec.gpus,
            "command": inst.spec.command,
            "release_utc": inst.release_utc.isoformat(),
            "deadline_utc": inst.deadline_utc.isoformat(),
            "preemptible": inst.spec.preemptible,
            "max_interruptions": inst.spec.max_interruptions,
            "restart_overhead_h": inst.spec.restart_overhead_h,
            # the work it needs: an export names a job its plan leaves short of it
            "work_h": inst.spec.work_h,
        }
        for inst in inputs.jobs
    ]


def _result_id(scenario_sha256: str, ts: pd.DataFrame) -> str:
    """A content hash of the scenario's digest (`scenario_yaml.scenario_digest`: its
    fields, data files by their bytes) and the dispatch: equal plans of equal inputs give
    equal ids on any machine, from any folder, by any entry point (CLI, API, sweep)."""
    h = hashlib.sha256()
    h.update(scenario_sha256.encode())
    h.update(np.ascontiguousarray(ts.drop(columns=list(POWERFLOW_COLUMNS)).to_numpy()).tobytes())
    return h.hexdigest()[:16]
