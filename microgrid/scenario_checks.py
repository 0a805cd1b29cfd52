"""Cross-field checks of a schema-valid scenario: what no single section can check alone.

Each check returns (dotted field, message) pairs, so `validate` can list every problem
with its YAML line. Times without an offset are local wall time at `site.timezone`; one
that falls in a DST gap (does not exist) or overlap (exists twice) names no instant.
An event window (outage, demand-response cap, derate, operate event) that misses the
period would change nothing, as would a derate on an asset the scenario does not have,
and a `swings.hour` outside it would silently profile another hour: all are refused. A
window that overlaps the period in part acts on the steps it overlaps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

Problem = tuple[str, str]  # (dotted field, message)
MAX_PERIOD_DAYS = 3 * 366  # yearly sweeps are the longest use; three years with margin


class Scenario(Protocol):
    """The sections of a `microgrid.scenario.Scenario` the checks read. That module
    imports this one (its loader runs the checks), so the checks take the scenario by
    its shape and the import runs one way."""

    datacenter: Any
    demand_response_program: Any
    events: Any
    generators: Any
    grid: Any
    jobs: Any
    network: Any
    objective: Any
    operate: Any
    period: Any
    site: Any
    swings: Any
    weather: Any
    wind: Any
    pv: Any
    battery: Any
    sizing: Any
    solver: Any


def scenario_problems(scenario: Scenario) -> list[Problem]:
    """Every cross-field problem of the scenario."""
    return [
        *period_problems(scenario),
        *local_time_problems(scenario),
        *event_period_problems(scenario),
        *derate_problems(scenario),
        *section_problems(scenario),
        *dr_program_problems(scenario),
        *budget_problems(scenario),
        *generator_problems(scenario),
        *weather_problems(scenario),
        *job_problems(scenario),
        *sizing_problems(scenario),
    ]


# The event windows that act on the period's steps: (dotted field, noun for messages)
_PERIOD_EVENTS = (
    ("events.outages", "outage"),
    ("events.demand_response", "demand-response window"),
    ("events.derates", "derate"),
    ("operate.events", "operate event"),
)


def _period_windows(scenario: Scenario) -> Iterator[tuple[str, str, Any]]:
    """(dotted field, noun, window) of every event window that acts on the period."""
    for field, noun in _PERIOD_EVENTS:
        section, name = field.split(".")
        for i, w in enumerate(getattr(getattr(scenario, section), name)):
            yield f"{field}.{i}", noun, w


def _local_times(scenario: Scenario) -> Iterator[tuple[str, datetime]]:
    """(dotted field, time) of every time the scenario gives."""
    yield "period.start", scenario.period.start
    yield "period.end", scenario.period.end
    for field, _, w in _period_windows(scenario):
        yield f"{field}.start", w.start
        yield f"{field}.end", w.end
    program = scenario.demand_response_program
    for i, w in enumerate(program.events if program is not None else []):
        yield f"demand_response_program.events.{i}.start", w.start
        yield f"demand_response_program.events.{i}.end", w.end
    cp = scenario.grid.coincident_peaks
    intervals = cp.intervals if cp is not None and cp.intervals is not None else []
    for i, t in enumerate(intervals):
        yield f"grid.coincident_peaks.intervals.{i}", t
    if scenario.swings is not None and scenario.swings.hour is not None:
        yield "swings.hour", scenario.swings.hour


def local_time_problem(t: datetime, zone: str, offset_allowed: bool = True) -> str | None:
    """Why the wall time `t` names no single instant in `zone` (None when it does). The
    advice names a UTC offset only where the value may carry one (`offset_allowed`)."""
    if t.tzinfo is not None:
        return None
    tz = ZoneInfo(zone)
    early, late = t.replace(tzinfo=tz, fold=0), t.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return None
    shown = t.strftime("%Y-%m-%d %H:%M")
    if early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != t:
        advice = "give a time outside the gap or a UTC offset"
        if not offset_allowed:
            advice = "give a time outside the gap"
        return (
            f"local time {shown} does not exist in {zone} (clocks jump forward over it); {advice}"
        )
    advice = f"give a UTC offset: {early.isoformat()} or {late.isoformat()}"
    if not offset_allowed:
        advice = "give a time outside the repeated hour"
    return f"local time {shown} occurs twice in {zone} (clocks fall back over it); {advice}"


def as_utc(t: datetime, zone: str) -> datetime:
    """`t` in UTC; a naive `t` is wall time in `zone` (one without `local_time_problem`)."""
    return (t if t.tzinfo else t.replace(tzinfo=ZoneInfo(zone))).astimezone(UTC)


def local_time_problems(scenario: Scenario) -> list[Problem]:
    zone = scenario.site.timezone
    found = []
    for field, t in _local_times(scenario):
        why = local_time_problem(t, zone)
        if why:
            found.append((field, why))
    return found


def _shown(t: datetime) -> str:
    return t.isoformat(timespec="minutes")


def event_period_problems(scenario: Scenario) -> list[Problem]:
    """Every event window overlaps the period, and `swings.hour` lies inside it. Times
    in a DST gap or overlap are left to local_time_problems."""
    p, zone = scenario.period, scenario.site.timezone
    if local_time_problem(p.start, zone) or local_time_problem(p.end, zone):
        return []
    start, end = as_utc(p.start, zone), as_utc(p.end, zone)
    period = f"the period {_shown(p.start)} to {_shown(p.end)}"
    found = []
    for field, noun, w in _period_windows(scenario):
        if local_time_problem(w.start, zone) or local_time_problem(w.end, zone):
            continue
        if as_utc(w.end, zone) <= start or as_utc(w.start, zone) >= end:
            found.append(
                (
                    f"{field}.start",
                    f"the {noun} {_shown(w.start)} to {_shown(w.end)} lies outside {period}, "
                    "so it would change nothing: move it into the period or remove it",
                )
            )
    hour = scenario.swings.hour if scenario.swings is not None else None
    if hour is None or local_time_problem(hour, zone):
        return found
    if not start <= as_utc(hour, zone) < end:
        found.append(
            (
                "swings.hour",
                f"{_shown(hour)} is outside {period}: give an hour inside it (or leave "
                "swings.hour out to profile the peak-load hour)",
            )
        )
    return found


def derate_problems(scenario: Scenario) -> list[Problem]:
    """A derate acts on an asset the scenario has a section for: on any other it would
    change nothing, like a window outside the period. (A section of 0 MW is accepted: a
    sweep over sizes from 0 keeps one scenario's events.)"""
    found = []
    for i, d in enumerate(scenario.events.derates):
        if getattr(scenario, d.asset) is None:
            found.append(
                (
                    f"events.derates.{i}.asset",
                    f"a {d.asset} derate, but the scenario has no {d.asset} section, so it "
                    "would change nothing: remove it or add the asset",
                )
            )
    return found


def period_problems(scenario: Scenario) -> list[Problem]:
    """Start and end on the step grid in UTC (the data are on UTC hours), length within
    the cap. A local time in a DST gap or overlap is left to local_time_problems."""
    p = scenario.period
    zone = scenario.site.timezone
    found = []
    for name in ("start", "end"):
        t = getattr(p, name)
        if local_time_problem(t, zone):
            continue
        utc = as_utc(t, zone)
        if utc.minute % p.step_minutes or utc.second or utc.microsecond:
            found.append(
                (
                    f"period.{name}",
                    f"{t.isoformat()} is {utc:%H:%M:%S} UTC, not on the {p.step_minutes}-minute "
                    "step grid (steps count from UTC hours, as the data do)",
                )
            )
    if p.end - p.start > timedelta(days=MAX_PERIOD_DAYS):
        found.append(
            (
                "period.end",
                f"the period is longer than {MAX_PERIOD_DAYS} days, the cap (yearly sweeps "
                "are the longest use); split the study into shorter periods",
            )
        )
    return found


#: Why a carbon budget needs the period in one solve (rolling windows, operate's re-plans).
BUDGET_WHOLE_PERIOD = (
    "a carbon budget holds over the whole period, and {what} each see part of it: every "
    "one was given the whole budget, and the period emitted past it without a word (6 % "
    "over on R1's week in 24 h windows); price carbon (objective.carbon_price_usd_per_t) "
    "or solve {instead}"
)


def budget_problems(scenario: Scenario) -> list[Problem]:
    """A carbon budget with rolling windows, which solve the period in parts."""
    if scenario.objective.carbon_budget_t is None or not scenario.solver.window_h:
        return []
    what, instead = "rolling windows (solver.window_h)", "without windows"
    return [("objective.carbon_budget_t", BUDGET_WHOLE_PERIOD.format(what=what, instead=instead))]


def section_problems(scenario: Scenario) -> list[Problem]:
    """Pairs of fields inside one section that contradict each other."""
    found = []
    inf = scenario.datacenter.inference
    if inf.amplitude_mw > inf.mean_mw:
        found.append(
            (
                "datacenter.inference.amplitude_mw",
                f"amplitude_mw ({inf.amplitude_mw}) is above mean_mw ({inf.mean_mw}): the "
                "inference load would be negative at its trough",
            )
        )
    peak_mw = inf.mean_mw + inf.amplitude_mw
    capacity_mw = scenario.datacenter.it_capacity_mw
    if peak_mw > capacity_mw:
        found.append(
            (
                "datacenter.it_capacity_mw",
                f"it_capacity_mw ({capacity_mw:g}) is below the inference load's peak "
                f"mean_mw + amplitude_mw ({peak_mw:g}): the campus cannot hold its inference",
            )
        )
    pue = scenario.datacenter.pue
    if pue.max < pue.base:
        found.append(("datacenter.pue.max", f"max ({pue.max}) is below base ({pue.base})"))
    net = scenario.network
    if net.vm_min_pu >= net.vm_max_pu:
        found.append(
            (
                "network.vm_min_pu",
                f"vm_min_pu ({net.vm_min_pu}) must be below vm_max_pu ({net.vm_max_pu})",
            )
        )
    return found


def dr_program_problems(scenario: Scenario) -> list[Problem]:
    """A fixed `commit_mw` lies within `max_commit_mw`, whose default is the grid's import
    limit (the schema checks an explicit max_commit_mw; the default needs the grid)."""
    p = scenario.demand_response_program
    if p is None or p.commit_mw is None or p.max_commit_mw is not None:
        return []
    top_mw = scenario.grid.import_max_mw
    if p.commit_mw <= top_mw:
        return []
    message = (
        f"commit_mw ({p.commit_mw:g}) > max_commit_mw, which defaults to grid.import_max_mw "
        f"({top_mw:g}): give a smaller commit_mw, or max_commit_mw if the site can deliver "
        "more than its import limit (by exporting)"
    )
    return [("demand_response_program.commit_mw", message)]


def generator_problems(scenario: Scenario) -> list[Problem]:
    """Generator names must be unique as the optimizer sees them ('-' becomes '_')."""
    seen: dict[str, int] = {}
    found = []
    for i, gen in enumerate(scenario.generators):
        key = gen.name.replace("-", "_")
        if key in seen:
            found.append(
                (
                    f"generators.{i}.name",
                    f"generator name {gen.name!r} repeats generator {seen[key]}'s "
                    "('-' and '_' count as one)",
                )
            )
        seen.setdefault(key, i)
    return found


def weather_problems(scenario: Scenario) -> list[Problem]:
    if scenario.wind is not None and scenario.weather.source == "clearsky":
        return [
            (
                "wind",
                "clear-sky weather has no wind speed, so wind would produce 0 MW: use "
                "weather.source site_csv or tmy, or remove wind",
            )
        ]
    return []


def curve_problem(f_min: float, curve: list[tuple[float, float]]) -> str | None:
    """A job's f_min below its curve's first point: the curve says nothing there (a
    single point (1, 1) means throughput proportional to power, defined everywhere)."""
    if len(curve) > 1 and f_min < curve[0][0]:
        return (
            f"f_min ({f_min}) is below the throughput curve's first power fraction "
            f"({curve[0][0]}): add a curve point at or below f_min, or raise f_min"
        )
    return None


def job_problems(scenario: Scenario) -> list[Problem]:
    """Duplicate ids and f_min below the curve, for the YAML job list."""
    found = []
    first_of: dict[str, int] = {}
    default_curve = scenario.datacenter.throughput_curve
    for i, job in enumerate(scenario.jobs.items):
        if job.id in first_of:
            found.append(
                (f"jobs.items.{i}.id", f"duplicate job id {job.id!r} (job {first_of[job.id]})")
            )
        first_of.setdefault(job.id, i)
        why = curve_problem(job.f_min, job.throughput_curve or default_curve)
        if why:
            found.append((f"jobs.items.{i}.f_min", why))
    return found


def sizing_problems(scenario: Scenario) -> list[Problem]:
    """Each asset the `sizing` section sizes needs its technology section: PV and wind
    their per-MW profile (a template of more than 0 MW), the battery its efficiencies and
    state-of-charge limits, a generator its fuel and carbon."""
    sz = scenario.sizing
    if sz is None:
        return []
    found = []
    needs = (
        ("pv", scenario.pv, "the pv section (its per-MW profile: dc_mw > 0, the dc/ac ratio)"),
        ("wind", scenario.wind, "the wind section (its turbine type and hub height)"),
        ("battery_power", scenario.battery, "the battery section (efficiencies, SOC limits)"),
        ("battery_energy", scenario.battery, "the battery section (efficiencies, SOC limits)"),
    )
    for name, section, what in needs:
        if getattr(sz, name) is not None and section is None:
            found.append((f"sizing.{name}", f"sizing {name} needs {what}"))
    if sz.pv is not None and scenario.pv is not None and scenario.pv.dc_mw <= 0:
        found.append(("pv.dc_mw", "sizing pv needs pv.dc_mw > 0: it gives the per-MW profile"))
    if sz.wind is not None and scenario.wind is not None and scenario.wind.n_turbines < 1:
        found.append(
            (
                "wind.n_turbines",
                "sizing wind needs wind.n_turbines >= 1: it gives the per-MW profile",
            )
        )
    names = {gen.name for gen in scenario.generators}
    for name in sz.generators:
        if name not in names:
            found.append(
                (f"sizing.generators.{name}", f"no generator named {name!r} in generators")
            )
    return found
