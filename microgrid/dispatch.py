"""One dispatch solve of a scenario, and its failures in a planner's words.

`optimize_dispatch` chooses one solve or rolling windows from the scenario's solver
section; `solve_dispatch` turns infeasibility (with the elastic model's diagnosis) and
numerical solver failures into one-line input errors; `demand_response_caps` derives the
per-step net-import caps of the demand-response requests (a fractional cap needs a
baseline solve of the same scenario without them); `reference_baseline` fixes a
demand-response program's baseline on the plan without the program; `plan_problem` is
the plan's problem with both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, build_problem, solver_options, window_mask
from microgrid.dr_program import REFERENCE_BASELINE
from microgrid.errors import InputError, allow_long, whole_clauses
from microgrid.jobs import job_anchor_local, job_field_error, wall_clock_utc
from microgrid.scenario import Scenario
from microgrid.scenario_overrides import override_holding
from microgrid.solver_errors import solver_failure
from microgrid.wall_time import step_of
from optimize.cap_reach import unreachable_caps
from optimize.dr_settlement import with_baseline_of
from optimize.progress import progress_series

#: The diagnosis lists its limits whole up to this many characters, then counts the rest
#: (an audit's week of a 150 MW campus at a 30 MW import limit: 9 limits, 1,330
#: characters, had been cut to 600 in the middle of one).
DIAGNOSIS_MAX_CHARS = 2000
#: Its line's bound: the limits plus the file, line and field, an operate re-plan's
#: step, the overrides or the rolling-window wording put before them.
_DIAGNOSIS_LINE_CHARS = DIAGNOSIS_MAX_CHARS + 1000


@dataclass(frozen=True)
class _Clock:
    """The horizon's steps as local times, for messages: UTC `index`, zone `tz`, `step`."""

    index: pd.DatetimeIndex
    tz: str
    step: pd.Timedelta

    def span(self, a_step: int, b_step: int) -> str:
        """Steps a..b inclusive as local times."""
        a = self.index[a_step].tz_convert(self.tz)
        b = (self.index[b_step] + self.step).tz_convert(self.tz)
        end = f"{b:%H:%M}" if b.date() == a.date() else f"{b:%Y-%m-%d %H:%M}"
        return f"{a:%Y-%m-%d %H:%M} to {end} {a:%Z}"

    def runs(self, mask: np.ndarray, limit: int = 2) -> str:
        """The first `limit` runs of consecutive steps in `mask`, and how many more."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return ""
        cuts = np.flatnonzero(np.diff(idx) != 1) + 1
        groups = np.split(idx, cuts)
        text = ", ".join(self.span(int(g[0]), int(g[-1])) for g in groups[:limit])
        if len(groups) > limit:
            text += f" and {len(groups) - limit} more period(s)"
        return text

    def when(self, steps: list[int]) -> str:
        return f" from {self.span(min(steps), max(steps))}" if steps else ""


def _diagnosis_message(
    exc: optimize.Infeasible,
    index: pd.DatetimeIndex,
    tz: str,
    problem: optimize.Problem | None = None,
    outage: np.ndarray | None = None,
) -> str:
    """The solver's slacks in a planner's words, with local times, on one line.

    A job's unfinished work also names the limits in its window: the grid import limit,
    outage and demand-response hours, and the steps where the site cannot supply even the
    job's minimum power beside inference (import limit or DR cap + renewables + battery
    power + generators − inference load). If the exception carries the elastic solution's
    `series` (`grid_import_mw`), the steps where import sits at its limit are named too.
    `outage` (bool per step: the scenario's outages) lets a zero import limit be named an
    outage only where there is one. Limits are listed whole, up to DIAGNOSIS_MAX_CHARS
    characters, then counted.
    """
    clock = _Clock(index, tz, step_of(index))
    series = getattr(exc, "series", None) or {}
    slacks = getattr(exc, "diagnosis", []) or []
    parts = [_slack_text(s, problem, series, clock, outage) for s in slacks]
    if not parts:
        return f"infeasible scenario: {' '.join(str(exc).split())}"
    # whole limits only: the line was once cut in the middle of one ("grid imp...2 h")
    detail, left_out = whole_clauses(parts, DIAGNOSIS_MAX_CHARS)
    if left_out:
        detail += f"; and {left_out} more limit(s) left out of this line"
    return f"infeasible scenario: {detail}"


# slack kinds whose message needs only the amount and the steps
_PLAIN_SLACKS = {
    "soc_min": "battery would fall {amount} below its minimum charge{when}",
    "soc_max": "battery would rise {amount} above its maximum charge{when}",
    "dr_cap": "net import exceeds the demand-response cap by up to {amount}{when}",
    "dr_cap_energy": "net import exceeds the demand-response cap by at least {amount} in "
    "all{when}: more than the battery holds, with the renewables and generators at their "
    "most",
}


def _import_limit_text(grid: optimize.Grid | None, steps: list[int], outage) -> str:
    """The import limit at the slack's steps: an outage only where the scenario has one."""
    if grid is None or not steps:
        return ""
    values = grid.import_max_mw[steps]
    if float(values.max()) > 0:
        return f" above its limit of {float(values.min()):.4g} MW"
    if outage is not None and bool(np.asarray(outage)[steps].all()):
        return " (an outage: no import)"
    return " (import limit 0 MW)"


def _slack_text(
    s: optimize.Slack,
    problem: optimize.Problem | None,
    series: dict,
    clock: _Clock,
    outage: np.ndarray | None = None,
) -> str:
    """One slack of the diagnosis in a planner's words."""
    steps = list(s.steps)
    amount = f"{s.amount:.3g} {s.unit}"
    grid = problem.grid if problem is not None else None
    if s.kind == "job_unfinished":
        return _job_text(s, problem, series, clock)
    if s.kind == "import_limit":
        lim = _import_limit_text(grid, steps, outage)
        return f"grid import needs up to {amount} more{lim}{clock.when(steps)}"
    if s.kind.startswith("ramp_limit"):
        way = "down" if s.kind.endswith("down") else "up"
        rate = ""
        if grid is not None and grid.ramp_mw_per_h is not None:
            rate = f" ({grid.ramp_mw_per_h:.4g} MW/h)"
        return f"net import must ramp {way} {amount} faster than its limit{rate}{clock.when(steps)}"
    if s.kind in _PLAIN_SLACKS:
        return _PLAIN_SLACKS[s.kind].format(amount=amount, when=clock.when(steps))
    if s.kind == "soc_final":
        return f"battery ends {amount} below its required final charge"
    if s.kind == "carbon_budget":
        return _budget_text(s.amount, problem)
    return f"{s.kind} ({s.name}) short by {amount}{clock.when(steps)}"


def _tonnes(t: float) -> str:
    return f"{t:,.0f} t" if abs(t) >= 100 else f"{t:.3g} t"


def _budget_text(short_t: float, problem: optimize.Problem | None) -> str:
    """The carbon budget's slack: by how many tonnes the least emissions the other limits
    allow exceed it (the diagnosis relaxes the budget last, ``optimize.diagnosis``)."""
    budget_t = problem.objective.carbon_budget_t if problem is not None else None
    if budget_t is None:
        return f"emissions exceed the carbon budget by {_tonnes(short_t)}"
    return (
        f"emissions exceed the carbon budget of {_tonnes(budget_t)} by {_tonnes(short_t)} "
        f"(the least emissions found within the other limits: {_tonnes(budget_t + short_t)})"
    )


def _job_text(
    s: optimize.Slack, problem: optimize.Problem | None, series: dict, clock: _Clock
) -> str:
    """A job's unfinished work: its deadline in local time and the limits in its window."""
    jobs = {j.id: j for j in problem.jobs} if problem is not None else {}
    job = jobs.get(s.name)
    if job is None:
        return f"job {s.name} misses its deadline by {s.amount:.3g} h of work"
    due = clock.index[0] + clock.step * int(job.deadline_step)
    return (
        f"job {s.name} misses its deadline {due.tz_convert(clock.tz):%Y-%m-%d %H:%M %Z} "
        f"by {s.amount:.3g} h of work{_job_limits(job, problem, series, clock)}"
    )


def _job_limits(job: optimize.Job, problem: optimize.Problem, series: dict, clock: _Clock) -> str:
    """The clause ` (in its window: ...)` naming the limits in the job's window (or "")."""
    n = len(clock.index)
    lo, hi = max(0, int(job.release_step)), min(int(job.deadline_step), n)
    win = np.zeros(n, dtype=bool)
    win[lo:hi] = True
    imax = problem.grid.import_max_mw
    notes = _import_notes(problem.grid, win, clock)
    need_it = job.f_min * job.full_power_it_mw
    short = win & (_it_room_mw(problem, n) < need_it - 1e-6)
    if short.any():
        notes.append(
            f"the site cannot supply its {need_it:.4g} MW minimum beside inference "
            f"during {clock.runs(short)}"
        )
    imp = series.get("grid_import_mw")
    if imp is not None:
        at_limit = win & (np.asarray(imp) >= imax - 1e-6) & (imax > 0)
        if at_limit.any():
            notes.append(f"import limit binds during {clock.runs(at_limit)}")
    others = [
        o.id
        for o in problem.jobs
        if o.id != job.id and o.release_step < hi and o.deadline_step > lo
    ]
    if others and not short.any():
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        notes.append(f"shared with jobs {', '.join(others[:3])}{more}")
    # in parentheses: the limits of the diagnosis are what "; " separates
    return f" (in its window: {', '.join(notes)})" if notes else ""


def _import_notes(grid: optimize.Grid, win: np.ndarray, clock: _Clock) -> list[str]:
    """The import limit (MW), outages and demand-response caps in the window `win`."""
    imax = grid.import_max_mw
    notes = []
    normal = imax[win & (imax > 0)]
    if len(normal):
        a, b = float(normal.min()), float(normal.max())
        notes.append(f"import limit {a:.4g} MW" if a == b else f"import limit {a:.4g}-{b:.4g} MW")
    if (win & (imax <= 0)).any():
        notes.append(f"no import during {clock.runs(win & (imax <= 0))}")
    cap = grid.net_import_cap_mw
    if cap is not None and (win & ~np.isnan(cap)).any():
        notes.append(f"demand-response cap during {clock.runs(win & ~np.isnan(cap))}")
    return notes


def _it_room_mw(problem: optimize.Problem, n: int) -> np.ndarray:
    """The IT power (MW) the site could supply beside inference in each of the `n` steps,
    at most: (import limit or DR cap + renewables + battery + generators) / PUE − inference."""
    grid = problem.grid
    cap = grid.net_import_cap_mw
    limit = grid.import_max_mw.copy()
    if cap is not None:
        limit = np.where(np.isnan(cap), limit, np.minimum(limit, np.maximum(cap, 0.0)))
    supply = limit + sum((r.available_mw for r in problem.renewables), np.zeros(n))
    b = problem.battery
    if b is not None:
        supply = supply + b.power_mw * (1.0 if b.available_frac is None else b.available_frac)
    for g in problem.generators:
        supply = supply + g.capacity_mw * (1.0 if g.available_frac is None else g.available_frac)
    return supply / problem.facility.pue - problem.facility.inference_it_mw


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
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem, label: str = "plan"
) -> optimize.Dispatch:
    """`optimize_dispatch` (`label`: its progress lines'), with infeasibility and
    numerical solver failures turned into one-line input errors that name the scenario
    fields to look at."""
    try:
        return optimize_dispatch(scenario, problem, label)
    except optimize.Infeasible as exc:
        raise infeasible_error(scenario, inputs, problem, exc) from None
    except optimize.SolveError as exc:
        raise solver_failure(scenario, exc, inputs.index) from None


def infeasible_error(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    exc: optimize.Infeasible,
    where: str = "",
) -> InputError:
    """The one-line input error of an infeasible `problem`, from its diagnosis `exc`
    (steps counted from the period's start); `where` says which solve it was (e.g. "a
    re-plan in operate mode"). The line holds the diagnosis whole (its limits are bounded
    by `_diagnosis_message`), not shortened to an input error's usual length."""
    error = _infeasible_error(scenario, inputs, problem, exc, where)
    return allow_long(error, _DIAGNOSIS_LINE_CHARS)


def _infeasible_error(
    scenario: Scenario,
    inputs: Inputs,
    problem: optimize.Problem,
    exc: optimize.Infeasible,
    where: str,
) -> InputError:
    outage = inputs.frame["outage"].to_numpy(dtype=bool)
    message = _diagnosis_message(exc, inputs.index, scenario.site.timezone, problem, outage)
    if where:
        message = message.replace("infeasible scenario", f"infeasible scenario ({where})", 1)
    slacks = getattr(exc, "diagnosis", []) or []
    if not slacks:
        return scenario.error(message)
    # a limit a `with_updates` override set is the likely cause: the error names it
    fields = [_SLACK_FIELDS.get(s.kind) for s in slacks]
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


def fixed_demand_response_caps(scenario: Scenario, inputs: Inputs) -> np.ndarray | None:
    """The caps per step of the windows in MW (`cap_mw`; NaN: none), which need no
    solve; None without demand-response windows."""
    windows = scenario.events.demand_response
    if not windows:
        return None
    caps = np.full(len(inputs.index), np.nan)
    for w in windows:
        if w.cap_mw is not None:
            mask = window_mask(scenario, inputs.index, w.start, w.end)
            caps[mask] = np.fmin(caps[mask], w.cap_mw)
    return caps


def unreachable_caps_error(
    scenario: Scenario, inputs: Inputs, problem: optimize.Problem
) -> InputError | None:
    """The one-line error of `problem`'s demand-response caps that no schedule can meet,
    found without solving (`optimize.cap_reach`: a cap below the site's least net
    import, or one the battery cannot carry to its end), worded as the plan's diagnosis
    (`infeasible_error`); None where those bounds find none (a solve may still). Said of
    the whole period: a rolling solve's windows have no part in it."""
    slacks = unreachable_caps(problem)
    if not slacks:
        return None
    outage = inputs.frame["outage"].to_numpy(dtype=bool)
    exc = optimize.Infeasible(slacks)
    message = _diagnosis_message(exc, inputs.index, scenario.site.timezone, problem, outage)
    error = scenario.error(message, "events.demand_response")
    return allow_long(error, _DIAGNOSIS_LINE_CHARS)


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
