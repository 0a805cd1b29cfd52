"""The outputs of mode ``operate``: the run with its event costs, ``summary.operate`` (with
the plan-mode optimum beside the actual cost and the deadlines missed),
``planned_vs_actual.csv``, ``events.csv``, and the actual rows as an ``optimize.Dispatch``
so the plan-mode result tables apply."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs
from microgrid.coincident_peak import load_coincident_peaks
from microgrid.costs import pct_of_cost
from microgrid.dispatch import infeasible_error, optimize_dispatch
from microgrid.dr_program import dr_section
from microgrid.operate.cp_response import alert_response, needs_alert_response
from microgrid.operate.forecast import FORECAST_SERIES
from microgrid.operate.lines import check_event_lines
from microgrid.operate.loop import OperateCase, operate_case, run_loop
from microgrid.operate.record import OperateRun, actual_costs
from microgrid.scenario import Scenario
from microgrid.swings import analyse_swings
from microgrid.wall_time import wall_time_utc

_RUN_COST_KEYS = ("energy_usd", "demand_usd", "fuel_usd", "wear_usd", "carbon_usd",
                  "unfinished_penalty_usd", "dr_program_usd", "unserved_usd")  # fmt: skip
_SETPOINT_VS_ACTUAL = ("grid_import_mw", "grid_export_mw", "pv_used_mw", "wind_used_mw",
                       "battery_charge_mw", "battery_discharge_mw", "backup_gen_mw",
                       "job_it_mw", "facility_load_mw", "battery_soc_mwh")  # fmt: skip
_EVENT_COLUMNS = ("event", "kind", "source", "start_local", "end_local", "detail", "cost_usd",
                  "unserved_mwh_delta")  # fmt: skip
#: What ``summary.operate.plan_reference`` compares the actual cost with.
PLAN_REFERENCE = (
    "plan-mode optimum: one solve of the whole period on the actual data (perfect "
    "foresight) without operate.events, as --mode plan; costed as actual_cost_usd (billed "
    "on the real coincident-peak intervals, not the alerts' expected charges)"
)


def run_cost(costs: dict) -> float:
    """The run's cost: energy + demand + fuel + wear + carbon + unfinished + DR program +
    unserved (USD)."""
    return float(sum(costs.get(k, 0.0) for k in _RUN_COST_KEYS))


def balance_residual(a: pd.DataFrame) -> pd.Series:
    """import − export + pv + wind + discharge − charge + backup − (facility load − unserved)."""
    return (
        a["grid_import_mw"] - a["grid_export_mw"] + a["pv_used_mw"] + a["wind_used_mw"]
        + a["battery_discharge_mw"] - a["battery_charge_mw"] + a["backup_gen_mw"]
        - (a["facility_load_mw"] - a["unserved_mw"])
    )  # fmt: skip


def forecast_errors(run: OperateRun, case: OperateCase) -> dict:
    """MAE, RMSE and bias (forecast − actual, before events) of the forecasts the
    controller used for each step when it decided that step."""
    out = {}
    for name in FORECAST_SERIES:
        err = run.forecast_used[name].to_numpy(float) - case.forecasts.actual[name].to_numpy()
        out[name] = {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "bias": float(np.mean(err)),
        }
    return out


def planned_vs_actual(run: OperateRun) -> pd.DataFrame:
    """``planned_vs_actual.csv`` (its name kept for its readers): per step ``setpoint_*``,
    the controller's set-points (``OperateRun.setpoints``: the row of its latest re-plan,
    not a plan of the period), beside ``actual_*``, what the plant did."""
    out = pd.DataFrame(index=run.actual.index)
    for c in _SETPOINT_VS_ACTUAL:
        out[f"setpoint_{c}"] = run.setpoints[c]
        out[f"actual_{c}"] = run.actual[c]
    # the load the plan in force sheds (an outage it cannot carry), beside what was shed
    out["setpoint_unserved_mw"] = run.setpoints["unserved_mw"]
    out["actual_unserved_mw"] = run.actual["unserved_mw"]
    out["actual_balance_residual_mw"] = balance_residual(run.actual)
    # + 0.0 turns the -0.0 a negated or clipped zero leaves into 0.0: the CSV writes "-0"
    return out + 0.0


def _dispatch_of(run: OperateRun) -> optimize.Dispatch:
    """The actual rows as an ``optimize.Dispatch`` so the plan-mode result tables apply."""
    return optimize.Dispatch(
        status="operate",
        objective_usd=run_cost(run.costs),
        mip_gap=0.0,
        build_s=0.0,
        solve_s=run.solve_s,
        series={c: run.actual[c].to_numpy() for c in run.actual.columns},
        costs=dict(run.costs),
        jobs=run.jobs,
        bill=dict(run.bill),
    )


def local_iso(t, zone: str) -> str:
    """An event's time (the scenario's: wall time in `zone`, or with an offset) as local
    ISO 8601 with its UTC offset, `2023-07-11T14:00:00-04:00`, as the DR program's rows
    give theirs: a bare wall time names no zone in events.csv."""
    return wall_time_utc(t, zone).tz_convert(zone).isoformat()


def event_costs(case: OperateCase, base: OperateRun, rerun: bool = True) -> pd.DataFrame:
    """One row per event: kind, source, window (local, with the UTC offset), and its cost.

    ``operate.events`` (the plant's, unannounced) cost the run's cost minus the cost of the
    same run without that event (re-simulated; ``rerun=False`` leaves it NaN). The
    scenario's ``events.outages`` follow: they are in the plan's grid limits, known to the
    controller ahead, and their cost is not computed (NaN): without one the plan changes."""
    rows = []
    events = list(case.scenario.operate.events)
    total = run_cost(base.costs)
    for i, ev in enumerate(events):
        row = {
            "event": i,
            "kind": ev.kind,
            "source": "operate.events",
            "start_local": local_iso(ev.start, case.scenario.site.timezone),
            "end_local": local_iso(ev.end, case.scenario.site.timezone),
            "detail": ev.line if ev.kind == "line_out" else (ev.factor or ""),
            "cost_usd": np.nan,
            "unserved_mwh_delta": np.nan,
        }
        if rerun:
            other = run_loop(case, events[:i] + events[i + 1 :], f"operate without event {i}")
            row["cost_usd"] = total - run_cost(other.costs)
            row["unserved_mwh_delta"] = base.unserved_mwh - other.unserved_mwh
        rows.append(row)
    rows += _scheduled_outages(case.scenario, first=len(rows))
    return pd.DataFrame(rows, columns=list(_EVENT_COLUMNS))


def _scheduled_outages(scenario: Scenario, first: int) -> list[dict]:
    """The rows of ``events.outages`` (numbered from ``first``), their cost not computed."""
    return [
        {
            "event": i,
            "kind": "grid_outage",
            "source": "events.outages",
            "start_local": local_iso(w.start, scenario.site.timezone),
            "end_local": local_iso(w.end, scenario.site.timezone),
            "detail": "",
            "cost_usd": np.nan,
            "unserved_mwh_delta": np.nan,
        }
        for i, w in enumerate(scenario.events.outages, start=first)
    ]


def plan_reference(case: OperateCase, actual_cost_usd: float) -> dict:
    """``summary.operate.plan_reference``: the plan-mode optimum of the run's problem (one
    more solve of the period, as ``--mode plan``) beside ``actual_cost_usd``, and the
    difference: what the closed loop paid for its forecasts, its look-ahead and the events.
    Its cost is None, with a ``note``, when plan mode finds no schedule (e.g. a job that
    cannot finish and no unfinished-work penalty)."""
    out = {
        "reference": PLAN_REFERENCE,
        "plan_cost_usd": None,
        "plan_gap_usd": None,
        "actual_cost_usd": actual_cost_usd,
        "actual_minus_plan_usd": None,
        "actual_minus_plan_pct": None,
    }
    try:
        plan = optimize_dispatch(case.scenario, case.problem, "plan reference")
    except (optimize.Infeasible, optimize.SolveError) as exc:
        return out | {"note": f"plan mode finds no schedule ({type(exc).__name__})"}
    plan_usd = run_cost(plan_costs(case, plan))
    diff_usd = actual_cost_usd - plan_usd
    gap_usd = (plan.mip_gap or 0.0) * (plan.gap_basis_usd or 0.0)
    return out | {
        "plan_cost_usd": plan_usd,
        # the plan is proven within this of the optimum: a difference below it is noise
        "plan_gap_usd": gap_usd,
        "actual_minus_plan_usd": diff_usd,
        # None where either is a net revenue (R1's week: "+2,750.0 %" of -39,841 USD)
        "actual_minus_plan_pct": pct_of_cost(diff_usd, plan_usd, actual_cost_usd),
    }


def plan_costs(case: OperateCase, plan: optimize.Dispatch) -> dict:
    """The plan-mode dispatch costed as the actual rows are (``record.actual_costs``):
    billed on ``case.billing_grid`` (the real coincident-peak intervals in place of the
    alerts' expected charges, which only the plan's objective holds), the DR program
    settled at its fixed commitment on the plan's net import, each generator priced on
    its own output and the plan's unfinished work at the scenario's penalty; so two
    identical dispatches cost the same."""
    gen_mw = {g.name: plan.series[f"gen_{g.name}_mw"] for g in case.problem.generators}
    unfinished_h = sum(float(j.get("unfinished_h", 0.0)) for j in plan.jobs.values())
    costs = actual_costs(case.problem, case.billing_grid, plan.series, gen_mw, unfinished_h)
    costs.pop("bill")
    return costs


def missed_deadlines(case: OperateCase, run: OperateRun) -> list[dict]:
    """The jobs the closed loop left unfinished at their deadline: ``job``,
    ``deadline_utc``, ``unfinished_h`` (hours of work at full power short) and
    ``penalty_usd``, the scenario's unfinished-work penalty on them as plan mode prices
    unfinished work (in ``actual_cost_usd``), or None when it sets none: plan mode then
    admits no unfinished work and has no price for it, and a closed loop cannot refuse a
    run after the fact, so the miss is reported unpriced."""
    penalty = case.problem.objective.unfinished_work_penalty_usd_per_h
    deadline = {inst.id: inst.deadline_utc for inst in case.inputs.jobs}
    return [
        {
            "job": jid,
            "deadline_utc": deadline[jid].isoformat(),
            "unfinished_h": j["unfinished_h"],
            "penalty_usd": None if penalty is None else penalty * j["unfinished_h"],
        }
        for jid, j in run.jobs.items()
        if not j["deadline_met"]
    ]


def forced_interruptions(run: OperateRun) -> dict[str, int]:
    """Per job, the times a non-preemptible job stopped with work left (a shed by the
    plant, or a re-plan that stopped it): interruptions its rules forbid, after which the
    plant resumed it from its last checkpoint (docs/cosimulation.md); jobs with none left
    out."""
    counts = {jid: int(j.get("forced_interruptions", 0)) for jid, j in run.jobs.items()}
    return {jid: n for jid, n in counts.items() if n}


def replan_figures(replans: tuple[tuple[str, float | None], ...]) -> dict:
    """What a reader needs to judge the re-plans, where the closed loop itself proves no
    gap (``summary.solver.mip_gap`` is null): how many ended with each solver status,
    how many stopped at ``solver.node_limit``, and the largest gap a re-plan proved
    (null without a re-plan that reports one)."""
    statuses = Counter(status for status, _ in replans)
    gaps = [g for _, g in replans if g is not None and math.isfinite(g)]
    return {
        "replan_statuses": dict(sorted(statuses.items())),
        "node_limited_replans": statuses.get("node_limit", 0),
        "max_replan_gap": max(gaps) if gaps else None,
    }


def operate_summary(
    case: OperateCase, run: OperateRun, events: pd.DataFrame, reference: dict
) -> dict:
    """``summary.json["operate"]``; ``reference``: ``plan_reference``."""
    op = case.scenario.operate
    return {
        "forecast": op.forecast,
        "noise_std_frac": op.noise_std_frac if op.forecast == "noisy" else None,
        "seed": op.seed,
        "lookahead_h": op.lookahead_h,
        "replan_every_steps": op.replan_every_steps,
        "replan_on_events": op.replan_on_events,
        "n_solves": run.n_solves,
        "solve_s": run.solve_s,
        "actual_cost_usd": run_cost(run.costs),
        "costs": run.costs,
        "plan_reference": reference,
        # None: unfinished work is not priced (the scenario sets no penalty)
        "unfinished_work_penalty_usd_per_h": (
            case.problem.objective.unfinished_work_penalty_usd_per_h
        ),
        "missed_deadlines": missed_deadlines(case, run),
        "unserved_energy_mwh": run.unserved_mwh,
        "shed_job_steps": run.shed_job_steps,
        # non-preemptible jobs stopped with work left, by job (only those with any)
        "forced_interruptions": forced_interruptions(run),
        "infeasible_replans": run.infeasible_replans,
        # solves stopped by solver.time_limit_s depend on wall time: event costs then carry
        # solver noise (and differ between machines)
        "time_limited_solves": run.time_limited_solves,
        **replan_figures(run.replans),
        "forecast_errors": forecast_errors(run, case),
        "max_balance_residual_mw": float(balance_residual(run.actual).abs().max()),
        # where the plant could not keep the ramp limit or a demand-response cap
        "limit_breaches": run.breaches.summary(run.actual.index),
        "events": events.to_dict(orient="records"),
        "event_cost_method": (
            "re-simulation without the event" if op.event_costs == "rerun" else "not computed"
        )
        + " (operate.events; events.outages are in the plan, their cost is not computed)",
        # the demand-response program settled on the actual import (None without one)
        "demand_response_program": dr_section(
            case.scenario,
            run.actual.index,
            case.problem,
            run.actual["grid_import_mw"] - run.actual["grid_export_mw"],
        ),
    }


def run_operate(
    scenario: Scenario, inputs: Inputs | None = None, problem: optimize.Problem | None = None
) -> dict:
    """The closed loop with its outputs: ``run``, ``dispatch`` (actual rows as a Dispatch),
    ``planned_vs_actual``, ``events``, ``summary`` (``summary.json["operate"]``),
    ``inputs``, ``plant_lines`` (the ``line_out`` steps) and ``billed_grid`` (what the
    actual rows are billed on). ``problem`` is the plan's, with its demand-response caps
    (built when not given)."""
    check_event_lines(scenario)  # before any solve
    case = operate_case(scenario, inputs, problem)
    cp = load_coincident_peaks(scenario)
    try:
        run = run_loop(case)
        ev = event_costs(case, run, rerun=scenario.operate.event_costs == "rerun")
        response = None
        if needs_alert_response(case, cp):  # the same loop again, alerts ignored
            response = alert_response(case, cp, run, run_cost)
    except optimize.Infeasible as exc:
        # A re-plan has no schedule even with the grid back (e.g. a demand-response cap
        # no dispatch meets): a property of the inputs, worded as plan mode words it
        # (local times, the field and its line); the diagnosis counts steps from the start
        where = "a re-plan in operate mode"
        raise infeasible_error(scenario, case.inputs, case.problem, exc, where) from None
    summary = operate_summary(case, run, ev, plan_reference(case, run_cost(run.costs)))
    if response is not None:
        summary["coincident_peak_response"] = response
    return {
        "run": run,
        "dispatch": _dispatch_of(run),
        "planned_vs_actual": planned_vs_actual(run),
        "events": ev,
        "summary": summary,
        "inputs": case.inputs,
        "plant_lines": run.line_out,
        "billed_grid": run.billed_grid,
        # 0 in an outage, operate's `grid_outage` events included: the power-flow summary
        # holds the PCC to them
        "plant_limits_mw": run.grid_limits_mw,
    }


def add_cosim_outputs(scenario, mode: str, cosim: dict, ts: pd.DataFrame, summary: dict) -> dict:
    """Add the mode's sections to ``summary`` (``mode``, ``ac_plan``, ``operate``,
    ``swings``); return the extra tables of the result directory."""
    summary["mode"] = mode
    tables: dict[str, pd.DataFrame] = {}
    if "ac_plan" in cosim:
        summary["ac_plan"] = cosim["ac_plan"]
    if mode == "operate":
        summary["operate"] = cosim["summary"]
        # no one solve bounds the closed loop: no gap (0.0 read as proven optimal); the
        # re-plans' statuses and largest gap are in summary.operate
        summary["solver"]["mip_gap"] = None
        tables["planned_vs_actual.csv"] = cosim["planned_vs_actual"]
        tables["events.csv"] = cosim["events"]
    if scenario.swings is not None:
        summary["swings"], tables["swings_profile.csv"] = analyse_swings(scenario, ts)
    return tables
