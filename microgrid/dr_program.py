"""Demand-response program: the scenario's `demand_response_program` as an
`optimize.DemandResponseProgram` on the run's steps, and its summary section.

- Events: the listed windows, or `events_csv` (columns `start,end`; local times or with an
  offset, both alike; `#` comments). An event holds the steps that overlap its window,
  and one in the horizon starts and ends on step boundaries (a step covered in part
  would be settled whole); events may not overlap. The list may be the program's year:
  an event outside the period's local year(s) is refused (a typo), one outside the
  period is left out. A local time in a DST gap or overlap is refused, as in the YAML.
- Capacity payment for the horizon: `capacity_usd_per_mw_month` × Σ_k share_k, the shares
  of the local calendar months the horizon covers (microgrid/billing.py, pro-rated).
- Baseline `declared`: `declared_baseline_mw` at every event step.
- Baseline `prior_days_average`: at an event step on local day D at local time τ, the
  mean net import at τ over the `baseline_days` (N) most recent days before D that are
  not event days (a day with any event step). Days inside the horizon enter as the
  model's own net import (linear in the decisions); when the horizon has fewer than N
  such days, `prior_baseline_mw` stands for each missing day, or, without it, the mean
  is over the days there are (an event with none is an input error).
- Baseline `prior_days_without_program`: the same mean, on the net import of the plan of
  the scenario solved without the program (`microgrid.dispatch.reference_baseline`), then
  fixed: no schedule can raise its baseline by importing more on those days. The summary
  gives each event's `metered_baseline_mw` beside it: the prior-days mean on the
  schedule's own import, what a meter read on those days would give.
- Notice (mode `operate`): an event is announced at the first step at or after its start
  − `notice_minutes`; re-plans before that do not see it (`optimize.dr_program`).
- Rolling windows (`solver.window_h`) need `commit_mw`: the commitment is one number for
  the period, which no window sees whole (optimize/rolling.py keeps it fixed and cuts the
  events and baselines per window, past days at their committed import).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import demand_charge_shares
from microgrid.datafiles import read_small_csv
from microgrid.errors import InputError
from microgrid.scenario import Scenario
from microgrid.scenario_events import DemandResponseProgram
from microgrid.wall_time import (
    check_order,
    local_minute_label,
    overlap_mask,
    parse_time_utc,
    step_of,
)
from optimize.dr_settlement import DrSettlement, settle

FIELD = "demand_response_program"
#: the baseline method fixed on the plan without the program (`reference_baseline`)
REFERENCE_BASELINE = "prior_days_without_program"


@dataclass(frozen=True)
class DrEventWindow:
    """One event as the scenario gives it (UTC) and its steps in the horizon."""

    key: str
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    steps: tuple[int, ...]
    announced_step: int  # the first step at or after start − notice (operate)


def dr_program(
    scenario: Scenario, index: pd.DatetimeIndex
) -> optimize.DemandResponseProgram | None:
    """The scenario's program on the steps of `index` (None without one)."""
    p = scenario.demand_response_program
    if p is None:
        return None
    if scenario.solver.window_h and p.commit_mw is None:
        raise scenario.error(
            "rolling windows (solver.window_h) cannot decide one commitment for the period: "
            "give commit_mw",
            FIELD,
        )
    windows = event_windows(scenario, index)
    fixed, terms = _baseline(scenario, p, index, windows)
    shares = demand_charge_shares(index, scenario.site.timezone, scenario.step_h, "prorated")
    months = sum(shares.values()) if shares else 0.0
    return optimize.DemandResponseProgram(
        events=tuple(
            optimize.DemandResponseEvent(w.key, w.steps, w.announced_step) for w in windows
        ),
        capacity_usd_per_mw=p.capacity_usd_per_mw_month * months,
        energy_usd_per_mwh=p.energy_usd_per_mwh,
        shortfall_usd_per_mwh=p.shortfall_usd_per_mwh,
        max_commit_mw=(
            p.max_commit_mw if p.max_commit_mw is not None else scenario.grid.import_max_mw
        ),
        commit_mw=p.commit_mw,
        baseline_fixed_mw=fixed,
        baseline_terms=tuple(terms),
    )


def event_windows(scenario: Scenario, index: pd.DatetimeIndex) -> list[DrEventWindow]:
    """The program's events with their steps in `index` (events outside it left out),
    in time order; InputError if two overlap or one lies outside the period's year(s)."""
    p = scenario.demand_response_program
    years = scenario.local_years()
    if p.events_csv is not None:
        raw = _csv_events(scenario, scenario.resolve(p.events_csv), years)
    else:
        raw = []
        for i, w in enumerate(p.events):
            s, e = scenario.to_utc(w.start), scenario.to_utc(w.end)
            why = _outside_years(scenario, s, e, years)
            if why:
                raise scenario.error(why, f"{FIELD}.events.{i}.start")
            raw.append((s, e, i))
    raw.sort(key=lambda x: (x[0], x[2]))  # ties: the one listed later is blamed
    _check_no_overlap(scenario, raw)
    local = scenario.site.timezone
    notice = pd.Timedelta(minutes=p.notice_minutes)
    out = []
    for s, e, at in raw:
        steps = np.flatnonzero(overlap_mask(index, s, e))
        if steps.size:
            _check_on_steps(scenario, index, s, e, at)
            key = "dr@" + local_minute_label(s, local)  # unique in the repeated hour
            told = int(np.searchsorted(index, s - notice, side="left"))
            out.append(DrEventWindow(key, s, e, tuple(int(t) for t in steps), told))
    return out


def _check_no_overlap(scenario: Scenario, raw: list[tuple[pd.Timestamp, pd.Timestamp, int]]):
    """Events (start UTC, end UTC, where; sorted by start) do not overlap: a step in two
    would be settled twice. The error names the later event: its `events_csv` line and
    `start` column, or its index in `events`, with both windows in local time."""
    p = scenario.demand_response_program
    for (s0, e0, at0), (s1, e1, at1) in zip(raw, raw[1:], strict=False):
        if s1 >= e0:
            continue
        where = f"line {at0}" if p.events_csv is not None else f"events.{at0}"
        message = (
            f"event {_local_span(scenario, s1, e1)} overlaps the event "
            f"{_local_span(scenario, s0, e0)} of {where}: a step in both would be settled twice"
        )
        if p.events_csv is not None:
            path = str(scenario.resolve(p.events_csv))
            raise InputError(message, path=path, line=at1, field="start")
        raise scenario.error(message, f"{FIELD}.events.{at1}.start")


def _local_span(scenario: Scenario, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """ "2023-08-25T15:00-05:00 to 2023-08-25T17:00-05:00": local, with offsets (the
    repeated hour of the autumn clock change reads the same without them)."""
    tz = scenario.site.timezone
    return f"{local_minute_label(start, tz)} to {local_minute_label(end, tz)}"


def _check_on_steps(
    scenario: Scenario, index: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, at: int
) -> None:
    """An event in the horizon starts and ends on step boundaries: a step holds one import
    figure, so a step the event covers in part would be paid (and penalised) whole. `at`:
    the event's line in `events_csv`, or its index in `events`."""
    step = step_of(index)
    inside = (("start", max(start, index[0])), ("end", min(end, index[-1] + step)))
    # the part in the horizon counts: an event across its edge is whole steps inside
    off = [name for name, t in inside if (t - index[0]) % step]
    if not off:
        return
    minutes = int(step / pd.Timedelta(minutes=1))
    local = scenario.site.timezone
    span = f"{start.tz_convert(local):%Y-%m-%d %H:%M} to {end.tz_convert(local):%H:%M}"
    message = (
        f"event {span} ({local}) does not fall on the {minutes}-minute steps: a step it "
        "covers in part would be settled whole; give times on the steps, or a "
        "period.step_minutes that divides them"
    )
    p = scenario.demand_response_program
    if p.events_csv is not None:
        raise InputError(message, path=str(scenario.resolve(p.events_csv)), line=at, field=off[0])
    raise scenario.error(message, f"{FIELD}.events.{at}.{off[0]}")


def _outside_years(
    scenario: Scenario, s: pd.Timestamp, e: pd.Timestamp, years: set[int]
) -> str | None:
    """Why the event [s, e) lies outside the local years `years` (None when it touches one)."""
    tz = scenario.site.timezone
    first, last = s.tz_convert(tz), (e - pd.Timedelta(1)).tz_convert(tz)
    if first.year in years or last.year in years:
        return None
    shown = ", ".join(str(y) for y in sorted(years))
    return (
        f"demand-response event {first:%Y-%m-%dT%H:%M} to {e.tz_convert(tz):%Y-%m-%dT%H:%M} "
        f"is outside the period's year(s) {shown}"
    )


def _csv_events(
    scenario: Scenario, path, years: set[int]
) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """(start UTC, end UTC, line) of each row of an events CSV (header `start,end`)."""
    out = []
    tz = scenario.site.timezone
    for i, row in read_small_csv(scenario, path, f"{FIELD}.events_csv", ("start", "end")):
        times = {}
        for column in ("start", "end"):
            try:
                times[column] = parse_time_utc(row[column], tz)
            except ValueError as exc:
                raise InputError(str(exc), path=str(path), line=i, field=column) from None
        try:  # both with an offset or both local, end after start: as in the YAML
            check_order(pd.Timestamp(row["start"]), pd.Timestamp(row["end"]))
        except ValueError as exc:
            raise InputError(str(exc), path=str(path), line=i, field="end") from None
        why = _outside_years(scenario, times["start"], times["end"], years)
        if why:
            raise InputError(why, path=str(path), line=i, field="start")
        out.append((times["start"], times["end"], i))
    return out


def _baseline(
    scenario: Scenario,
    p: DemandResponseProgram,
    index: pd.DatetimeIndex,
    windows: list[DrEventWindow],
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """The baseline's fixed part (MW per step) and its terms (event step, step, weight)."""
    fixed = np.zeros(len(index))
    steps = [t for w in windows for t in w.steps]
    if p.baseline == "declared":
        fixed[steps] = p.declared_baseline_mw
        return fixed, []
    local = index.tz_convert(scenario.site.timezone)
    at = {(d, tod): t for t, (d, tod) in enumerate(zip(local.date, local.time, strict=True))}
    event_days = {local[t].date() for t in steps}
    first_day = local[0].date()
    terms: list[tuple[int, int, float]] = []
    for t in steps:
        day, tod = local[t].date(), local[t].time()
        found = _prior_days(at, event_days, first_day, day, tod, p.baseline_days)
        missing = p.baseline_days - len(found) if p.prior_baseline_mw is not None else 0
        n = len(found) + missing
        if n == 0:
            raise scenario.error(
                f"the event step at {local[t]} has no earlier non-event day in the period "
                "for its baseline: give prior_baseline_mw",
                FIELD,
            )
        fixed[t] = (p.prior_baseline_mw or 0.0) * missing / n
        terms += [(t, j, 1.0 / n) for j in found]
    return fixed, terms


def _prior_days(at: dict, event_days: set, first_day, day, tod, n_days: int) -> list[int]:
    """The steps at local time `tod` of the `n_days` most recent non-event days before
    `day` that the horizon has (a day without a step at `tod` is passed over)."""
    found = []
    d = day - timedelta(days=1)
    while len(found) < n_days and d >= first_day:
        j = at.get((d, tod))
        if d not in event_days and j is not None:
            found.append(j)
        d -= timedelta(days=1)
    return found


def dr_summary(settlement: DrSettlement, windows: list[DrEventWindow], scenario: Scenario) -> dict:
    """`summary.json["demand_response_program"]`: the commitment, the money (USD; payments
    positive) and per event its local window, baseline, delivery and settlement."""
    p = scenario.demand_response_program
    tz = scenario.site.timezone
    by_key = {w.key: w for w in windows}
    events = []
    for ev in settlement.events:
        w = by_key[ev.key]
        events.append(
            {
                "start_local": w.start_utc.tz_convert(tz).isoformat(),
                "end_local": w.end_utc.tz_convert(tz).isoformat(),
                "baseline_mw": ev.baseline_mw,
                "net_import_mw": ev.net_import_mw,
                "delivered_mw": ev.delivered_mw,
                "shortfall_mwh": ev.shortfall_mwh,
                "energy_payment_usd": ev.energy_payment_usd,
                "shortfall_penalty_usd": ev.shortfall_penalty_usd,
            }
        )
    return {
        "baseline": p.baseline,
        "notice_minutes": p.notice_minutes,
        "commit_mw": settlement.commit_mw,
        "capacity_payment_usd": settlement.capacity_payment_usd,
        "energy_payment_usd": settlement.energy_payment_usd,
        "shortfall_penalty_usd": settlement.shortfall_penalty_usd,
        "net_revenue_usd": -settlement.net_cost_usd,
        "events": events,
    }


def with_fixed_commit(
    scenario: Scenario, problem: optimize.Problem, options: optimize.SolverOptions
) -> optimize.Problem:
    """`problem` with its program's commitment fixed for the closed loop: the scenario's
    `commit_mw`, else the plan's (one solve of the whole period, every event known)."""
    p = problem.dr_program
    if p is None or p.commit_mw is not None:
        return problem
    commit_mw = optimize.solve(problem, options).dr_commit_mw
    return replace(problem, dr_program=replace(p, commit_mw=commit_mw))


def dr_section(
    scenario: Scenario,
    index: pd.DatetimeIndex,
    problem: optimize.Problem,
    net_import_mw,
    commit_mw: float | None = None,
) -> dict | None:
    """`summary.json["demand_response_program"]` of a schedule's net import (MW per step
    of `index`) at `commit_mw` (a plan's `Dispatch.dr_commit_mw`; None: the program's
    fixed commitment, as in the closed loop). None without a program."""
    p = problem.dr_program
    if p is None:
        return None
    c = commit_mw if commit_mw is not None else (p.commit_mw or 0.0)
    net = np.asarray(net_import_mw, dtype=float)
    s = settle(p, problem.step_h, net, c)
    out = dr_summary(s, event_windows(scenario, index), scenario)
    if scenario.demand_response_program.baseline == REFERENCE_BASELINE:
        metered = settle(dr_program(scenario, index), problem.step_h, net, c)
        for event, own in zip(out["events"], metered.events, strict=True):
            event["metered_baseline_mw"] = own.baseline_mw
    return out
