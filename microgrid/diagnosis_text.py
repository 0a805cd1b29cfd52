"""An infeasible problem's diagnosis (``optimize.Infeasible``'s slacks) in a planner's
words: local times, the limits in a job's window, one line (`diagnosis_message`).
Read by a solve's error (`microgrid.dispatch`) and by `validate`'s checks that need no
solve (`microgrid.dr_caps`), which must not load the solver stack."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import optimize
from microgrid.errors import whole_clauses
from microgrid.wall_time import step_of
from optimize.cap_reach import battery_power_mw, onsite_supply_mw
from optimize.step_runs import run_bounds

#: The diagnosis lists its limits whole up to this many characters, then counts the rest
#: (an audit's week of a 150 MW campus at a 30 MW import limit: 9 limits, 1,330
#: characters, had been cut to 600 in the middle of one).
DIAGNOSIS_MAX_CHARS = 2000
#: Its line's bound: the limits plus the file, line and field, an operate re-plan's
#: step, the overrides or the rolling-window wording put before them.
DIAGNOSIS_LINE_CHARS = DIAGNOSIS_MAX_CHARS + 1000


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
        runs = run_bounds(mask)
        text = ", ".join(self.span(a, e - 1) for a, e in runs[:limit])
        if len(runs) > limit:
            text += f" and {len(runs) - limit} more period(s)"
        return text

    def when(self, steps: list[int]) -> str:
        return f" from {self.span(min(steps), max(steps))}" if steps else ""


def diagnosis_message(
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
    low, high = float(values.min()), float(values.max())
    if low == high > 0:
        return f" above its limit of {low:.4g} MW"
    if high > 0:  # steps of several limits: one of them had been named for all
        zero_out = outage is not None and bool(np.asarray(outage)[steps][values == 0].all())
        note = " (0 MW in the outage)" if low == 0 and zero_out else ""
        return f" above its limit of {low:.4g}-{high:.4g} MW{note}"
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
    supply = limit + onsite_supply_mw(problem)[:n] + battery_power_mw(problem)
    return supply / problem.facility.pue - problem.facility.inference_it_mw
