"""One dispatch solve of a scenario, and its failures in a planner's words.

`optimize_dispatch` chooses one solve or rolling windows from the scenario's solver
section; `solve_dispatch` turns infeasibility (with the elastic model's diagnosis, worded
by `microgrid.diagnosis_text`) and numerical solver failures into one-line input errors,
naming the scenario field of the limit; `demand_response_caps` derives the
per-step net-import caps of the demand-response requests (a fractional cap needs a
baseline solve of the same scenario without them); `reference_baseline` fixes a
demand-response program's baseline on the plan without the program; `plan_problem` is
the plan's problem with both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, build_problem, solver_options, window_mask
from microgrid.diagnosis_text import DIAGNOSIS_LINE_CHARS, diagnosis_message
from microgrid.dr_caps import fixed_demand_response_caps
from microgrid.dr_program import REFERENCE_BASELINE
from microgrid.errors import InputError, allow_long
from microgrid.jobs import job_anchor_local, job_field_error, wall_clock_utc
from microgrid.scenario import Scenario
from microgrid.scenario_overrides import override_holding
from microgrid.solver_errors import solver_failure
from optimize.dr_settlement import with_baseline_of
from optimize.progress import progress_series


def optimize_dispatch(
    scenario: Scenario, problem: optimize.Problem, label: str = "plan"
) -> optimize.Dispatch:
    """One solve, or rolling windows when `solver.window_h` is set (starting where
    `window_starts` says); raises `optimize.Infeasible` (with its diagnosis) when no
    schedule exists. `label`: what is solved, at the head of each window's progress line
    (`plan: window 1/53 ...`; a baseline's series says so)."""
    options = solver_options(scenario)
    if scenario.solver.window_h:
        steps_per_h = round(1.0 / scenario.step_h)
        with progress_series(label):
            # optimize's lazy name: `validate` reads this module without loading Pyomo
            return optimize.solve_rolling(
                problem,
                window_steps=scenario.solver.window_h * steps_per_h,
                overlap_steps=scenario.solver.overlap_h * steps_per_h,
                options=options,
                boundaries=window_starts(scenario, problem.n_steps),
            )
    return optimize.solve(problem, options)


def window_starts(scenario: Scenario, n_steps: int) -> list[int] | None:
    """The steps where rolling windows start with `solver.window_anchor: job_week`: step 0,
    then every `window_h` hours of local wall-clock time from the jobs' anchor (Monday
    00:00 local of the period's first week, `microgrid.jobs.job_anchor`), converted as
    weekly jobs are placed (`microgrid.jobs.wall_clock_utc`); a window across a clock
    change is an hour longer or shorter. None with `period_start` (every `window_h` hours
    from step 0).

    Why: jobs released on Monday and due within the week then lie inside one window, so
    no job carries work across a commit (the yearly scenario: 38.4 -> 26.1 s and 2.4 %
    cheaper, docs/model_jobs_history.md), and with `solver.threads: 2` the next window is built
    while one solves."""
    if scenario.solver.window_anchor == "period_start":
        return None
    tz = scenario.site.timezone
    start = scenario.to_utc(scenario.period.start)
    anchor = job_anchor_local(scenario)
    step = pd.Timedelta(hours=scenario.step_h)
    starts, k = [0], 1
    while True:
        at = wall_clock_utc(anchor + pd.Timedelta(hours=k * scenario.solver.window_h), tz)
        s = (at - start) // step
        if s >= n_steps:
            return starts
        if s > starts[-1]:  # (two local hours skipped by a clock change are one step)
            starts.append(int(s))
        k += 1


def solve_dispatch(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    label: str = "plan",
    slack_fields: Mapping[str, str] | None = None,
) -> optimize.Dispatch:
    """`optimize_dispatch` (`label`: its progress lines'), with infeasibility and
    numerical solver failures turned into one-line input errors that name the scenario
    fields to look at (`slack_fields`: as `infeasible_error`)."""
    try:
        return optimize_dispatch(scenario, problem, label)
    except optimize.Infeasible as exc:
        raise infeasible_error(scenario, inputs, problem, exc, slack_fields=slack_fields) from None
    except optimize.SolveError as exc:
        raise solver_failure(scenario, exc, inputs.index) from None


def infeasible_error(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    exc: optimize.Infeasible,
    where: str = "",
    slack_fields: Mapping[str, str] | None = None,
) -> InputError:
    """The one-line input error of an infeasible `problem`, from its diagnosis `exc`
    (steps counted from the period's start); `where` says which solve it was (e.g. "a
    re-plan in operate mode"); `slack_fields` names the field of a limit kind where the
    problem took it from another one than `_SLACK_FIELDS` says (a sized connection's
    limit is its sizing bound). The line holds the diagnosis whole (its limits are
    bounded by `_diagnosis_message`), not shortened to an input error's usual length."""
    fields = {**_SLACK_FIELDS, **(slack_fields or {})}
    error = _infeasible_error(scenario, inputs, problem, exc, where, fields)
    return allow_long(error, DIAGNOSIS_LINE_CHARS)


def _infeasible_error(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    exc: optimize.Infeasible,
    where: str,
    slack_fields: Mapping[str, str],
) -> InputError:
    outage = inputs.frame["outage"].to_numpy(dtype=bool)
    message = diagnosis_message(exc, inputs.index, scenario.site.timezone, problem, outage)
    if where:
        message = message.replace("infeasible scenario", f"infeasible scenario ({where})", 1)
    slacks = getattr(exc, "diagnosis", []) or []
    if not slacks:
        return scenario.error(message)
    # a limit a `with_updates` override set is the likely cause: the error names it
    fields = [slack_fields.get(s.kind) for s in slacks]
    overridden = [f for f in fields if f and override_holding(f, scenario.overrides)]
    if overridden:
        return scenario.error(message, overridden[0])
    if scenario.overrides:  # said first, before the limits (a long list is cut at its end)
        after = f"infeasible scenario (after the overrides {', '.join(scenario.overrides)}):"
        message = message.replace("infeasible scenario:", after, 1)
    if scenario.solver.window_h:
        # a window sees no limit past its end and must finish what the ones before left:
        # the period as a whole may have a schedule (one whole solve had)
        message = message.replace("infeasible scenario", ROLLING_INFEASIBLE, 1)
        return scenario.error(message, "solver.window_h")
    first = slacks[0]  # the line names the field of the first limit it lists
    if first.kind == "job_unfinished":
        return job_field_error(scenario, first.name, message, "work_h")
    return scenario.error(message, fields[0])


#: How an infeasible rolling window is worded: not the scenario's verdict.
ROLLING_INFEASIBLE = (
    "no schedule in a rolling window (solver.window_h; the whole period may still have one: a "
    "window sees no limit past its end and must finish the work the windows before it left; "
    "try solver.overlap_h, a longer window_h or no windows)"
)

# the scenario field whose number a relaxed limit is (the line of an infeasible scenario)
_SLACK_FIELDS = {
    "import_limit": "grid.import_max_mw",
    "ramp_limit_up": "grid.ramp_mw_per_h",
    "ramp_limit_down": "grid.ramp_mw_per_h",
    "dr_cap": "events.demand_response",
    "dr_cap_energy": "events.demand_response",
    "soc_min": "battery.soc_min_frac",
    "soc_max": "battery.soc_max_frac",
    "soc_final": "battery.soc_final_frac",
    "carbon_budget": "objective.carbon_budget_t",
    "it_capacity": "datacenter.it_capacity_mw",
}


def demand_response_caps(scenario: Scenario, inputs: Inputs) -> np.ndarray | None:
    """Net-import caps per step (NaN: none). Fractional caps need a baseline run of the
    same scenario without any of the requests (the schema's `DemandResponse` states the
    rule); it is solved here once when needed."""
    caps = fixed_demand_response_caps(scenario, inputs)
    fractional = [w for w in scenario.events.demand_response if w.cap_mw is None]
    if not fractional:
        return caps
    label = "demand-response baseline (no requests)"
    base = solve_dispatch(scenario, inputs, build_problem(scenario, inputs), label)
    baseline_net = base.series["grid_import_mw"] - base.series["grid_export_mw"]
    for w in fractional:
        mask = window_mask(scenario, inputs.index, w.start, w.end)
        cap = w.cap_fraction_of_baseline * np.maximum(baseline_net[mask], 0.0)
        caps[mask] = np.fmin(caps[mask], cap)
    return caps


def reference_baseline(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem
) -> optimize.Problem:
    """`problem` with its demand-response program's baseline fixed on the plan of the
    same problem without the program, where the scenario's baseline is
    `prior_days_without_program`: the site imports on the baseline days what it would
    without the program, and no schedule can inflate its baseline (docs/dr_program.md)."""
    program = problem.dr_program
    if program is None or scenario.demand_response_program.baseline != REFERENCE_BASELINE:
        return problem
    without = replace(problem, dr_program=None)
    plan = solve_dispatch(scenario, inputs, without, "program baseline (no program)")
    net_mw = plan.series["grid_import_mw"] - plan.series["grid_export_mw"]
    return replace(problem, dr_program=with_baseline_of(program, net_mw))


def plan_problem(scenario: Scenario, inputs: Inputs) -> optimize.Problem:
    """The plan's problem: with the demand-response requests' caps
    (`demand_response_caps`) and a program's baseline fixed where the scenario asks
    (`reference_baseline`)."""
    caps = demand_response_caps(scenario, inputs)
    problem = build_problem(scenario, inputs, net_import_cap_mw=caps)
    return reference_baseline(scenario, inputs, problem)
