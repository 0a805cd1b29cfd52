"""Scenario schema: one YAML file describes a site, its assets, its grid and its jobs.

Every field has a unit in its name. Unknown keys are errors. Relative paths resolve
against the scenario file's folder. Times without an offset are local to `site.timezone`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import Field, ValidationError

from microgrid.errors import InputError, InputErrors
from microgrid.scenario_checks import scenario_problems
from microgrid.scenario_demand import DataCenter, Jobs
from microgrid.scenario_events import DemandResponseProgram, Events, Operate, Swings
from microgrid.scenario_fields import MAX_GENERATORS, Name, Strict, Text
from microgrid.scenario_grid import GridConnection, Signals
from microgrid.scenario_overrides import (
    OverrideErrors,
    blame,
    blame_file,
    merged_overrides,
    nested_overrides,
    override_error,
    override_holding,
    set_dotted,
)
from microgrid.scenario_settings import Export, Network, Objective, Sizing, Solver
from microgrid.scenario_site import PV, Battery, Generator, Period, Site, Weather, Wind
from microgrid.wall_time import wall_time_utc
from microgrid.yamlio import LineMap, line_of, load_yaml


class Scenario(Strict):
    """One study: a site, its PV, wind, battery and generators, its grid connection and
    tariff, its price and carbon signals, its data center and training jobs, over one
    period: what every command and `microgrid.run` / `microgrid.size` take.

    Units are in the field names (`_mw`, `_mwh`, `_usd_per_mwh`, `_g_per_kwh`, `_frac`
    = fraction 0..1, `_pct` = percent, `_h` = hours); times without a UTC offset are
    local wall time at `site.timezone`; relative paths resolve against the scenario
    file's folder (`base_dir`).

    From Python: `microgrid.load_scenario(path)` reads and validates a file (InputErrors
    naming file, line and field); `scenario.with_updates({"battery.power_mw": 60})`
    returns a validated copy with fields replaced by dotted path (OverrideErrors naming
    the override); a scenario is frozen, so every change is a copy.
    `Scenario.model_validate(dict)` checks the schema only (pydantic's ValidationError):
    the cross-field rules run in `load_scenario` and `with_updates`.
    """

    name: Name = Field(min_length=1)
    description: Text = ""
    site: Site
    period: Period
    signals: Signals
    weather: Weather
    pv: PV | None = None
    wind: Wind | None = None
    battery: Battery | None = None
    generators: Annotated[tuple[Generator, ...], Field(max_length=MAX_GENERATORS)] = ()
    grid: GridConnection
    datacenter: DataCenter
    jobs: Jobs = Jobs()
    events: Events = Events()
    demand_response_program: DemandResponseProgram | None = None
    objective: Objective = Objective()
    solver: Solver = Solver()
    network: Network = Network()
    export: Export = Export()
    operate: Operate = Operate()
    swings: Swings | None = None
    sizing: Sizing | None = None
    # Folder of the scenario file: relative paths resolve against it.
    base_dir: Path = Field(default=Path("."), exclude=True)
    # The file and its key lines, for errors found after validation (data, solver).
    source_path: Path | None = Field(default=None, exclude=True)
    source_lines: dict = Field(default_factory=dict, exclude=True, repr=False)
    # The `with_updates` overrides behind this copy (dotted path -> value, of every call
    # so far): an error found later in a value they set names the override, not the line.
    overrides: dict = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def step_h(self) -> float:
        return self.period.step_minutes / 60.0

    def to_utc(self, t: datetime) -> pd.Timestamp:
        """A scenario time as UTC: naive times are local wall time at the site (ValueError
        for one in a DST gap or overlap, see `wall_time_utc`)."""
        return wall_time_utc(t, self.site.timezone)

    def local_years(self) -> set[int]:
        """The local calendar years the period's steps fall in."""
        index = self.index()
        if len(index) == 0:
            return set()
        local = index[[0, -1]].tz_convert(self.site.timezone)
        return set(range(local[0].year, local[1].year + 1))

    def index(self) -> pd.DatetimeIndex:
        """UTC step starts of the horizon [start, end)."""
        start, end = self.to_utc(self.period.start), self.to_utc(self.period.end)
        freq = pd.Timedelta(minutes=self.period.step_minutes)
        idx = pd.date_range(start, end, freq=freq, inclusive="left", name="timestamp_utc")
        return idx

    def period_record(self) -> dict[str, object]:
        """The horizon as result files state it: UTC start and end, step, site zone."""
        index = self.index()
        return {
            "start_utc": index[0].isoformat(),
            "end_utc": (index[-1] + pd.Timedelta(hours=self.step_h)).isoformat(),
            "step_minutes": self.period.step_minutes,
            "timezone": self.site.timezone,
        }

    def error(self, message: str, field: str | None = None) -> InputError:
        """An InputError naming this scenario's file and the line of `field`; an
        OverrideError naming the override instead when a `with_updates` override set
        `field` or a section holding it (the file never held that value)."""
        override = override_holding(field, self.overrides) if field else None
        if override is not None:
            return override_error(message, field, override, self.overrides[override])
        line = _line(self.source_lines, field) if field else None
        path = str(self.source_path) if self.source_path else None
        return InputError(message, path=path, line=line, field=field)

    def file_error(self, err: InputError) -> InputError:
        """`err`, found in a data file: an OverrideError naming the `with_updates` override
        that named the file (the scenario file's line would be the wrong place)."""
        return blame_file(err, self.overrides, self.resolve)

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    def with_updates(self, updates: Mapping[str, object]) -> Scenario:
        """A copy with fields replaced by dotted path (``{"battery.power_mw": 60}``; list
        items by index: ``"jobs.items.0.gpus"``), validated again as a file is.

        A whole section may be set (``{"sizing": {...}}``), also one the scenario lacks; a
        field inside a section the scenario lacks may not. A relative path (e.g.
        ``"signals.csv": "data/prices.csv"``) resolves against the scenario file's folder
        (``base_dir``; the current folder for a scenario built from a dict), not against
        the caller's.

        Raises ``OverrideErrors`` (an ``InputErrors``, ``microgrid.errors``) with one
        ``OverrideError`` per problem: an unknown path (with the nearest field names), a
        path into a section absent in the scenario, a path inside another override of the
        same call (``battery`` and ``battery.power_mw``), a bad value (type or bounds) or
        a cross-field rule it breaks. Each names the override's dotted path and value, not a
        line of the scenario file, which never held that value. The copy remembers its
        overrides (``overrides``, through further ``with_updates`` calls): an error found
        later in a value one set (a data file it names that is missing, when the scenario
        runs) names the override too. ``InputError`` when ``updates`` is no mapping.
        """
        if not isinstance(updates, Mapping):
            kind = type(updates).__name__
            raise InputError(f"updates must be a mapping of dotted path -> value, not a {kind}")
        data = self.model_dump(mode="python", exclude={"base_dir"})
        bad_paths = nested_overrides(updates) or [
            e for e in (set_dotted(data, k, v) for k, v in updates.items()) if e
        ]
        if bad_paths:
            raise OverrideErrors(bad_paths)
        try:
            scenario = Scenario.model_validate(
                {
                    **data,
                    "base_dir": self.base_dir,
                    "source_path": self.source_path,
                    "source_lines": self.source_lines,
                    "overrides": merged_overrides(self.overrides, updates),
                }
            )
        except ValidationError as exc:
            found = [
                blame(self, updates, field, message) for field, message in _pydantic_errors(exc)
            ]
            raise OverrideErrors(found) from None
        return _checked(scenario, updates)


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def _pydantic_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """Every pydantic error as (dotted field, message in the scenario's words)."""
    found = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = field_message(err)
        found.append((_format_loc(loc), msg))
    return found


def field_message(err: dict) -> str:
    """A pydantic error about a field's value in the scenario's words (its validators'
    own text; a choice not offered quoted beside the choices). Also a jobs CSV cell's."""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error":  # name what was given beside what may be
        msg = f"{msg}, got {err['input']!r}"
    return msg


def validation_errors(
    exc: ValidationError, path: Path, lines: LineMap, section: str = ""
) -> InputErrors:
    """Every pydantic error as an InputError naming the field and its YAML line; with
    `section`, `exc` is of that section's model alone (`export` of a result's copy)."""
    within = [(f"{section}.{f}" if section else f, msg) for f, msg in _pydantic_errors(exc)]
    found = [
        InputError(msg, path=str(path), line=_line(lines, field), field=field)
        for field, msg in within
    ]
    return InputErrors(sorted(found, key=lambda e: e.line or 0))


def _line(lines: LineMap, field: str) -> int | None:
    """The YAML line of dotted `field` (list items by index)."""
    return line_of(lines, tuple(int(p) if p.isdigit() else p for p in field.split(".")))


def _checked(scenario: Scenario, updates: Mapping[str, object] | None = None) -> Scenario:
    """The scenario, or InputErrors listing every cross-field problem found (those a
    `with_updates` override causes blamed on it)."""
    updates = updates or {}
    problems = [
        blame(scenario, updates, field, message) for field, message in scenario_problems(scenario)
    ]
    if problems:
        raise (OverrideErrors if updates else InputErrors)(problems)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML; raise InputErrors naming file, line and field of
    every schema error, else of every cross-field problem (scenario_checks.py).
    TypeError when `path` is no path (a dict had failed inside pathlib, naming nothing)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path: the path of a scenario YAML file, not {type(path).__name__} "
            "(a scenario as a dict: Scenario.model_validate)"
        )
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", path=str(path), line=1)
    try:
        scenario = Scenario.model_validate(
            {
                **data,
                "base_dir": path.resolve().parent,
                "source_path": path,
                "source_lines": lines,
                "overrides": {},
            }
        )
    except ValidationError as exc:
        raise validation_errors(exc, path, lines) from None
    return _checked(scenario)


def scenario_and_path(scenario: Scenario | str | os.PathLike) -> tuple[Scenario, Path | None]:
    """The scenario, and the resolved path of its file (None when given as an object): what
    `microgrid.run`, `microgrid.size` and `microgrid.headroom` take. A Scenario object
    is checked across its sections again: one made by `Scenario.model_validate` passed
    its schema alone (a PUE maximum below its base had been solved as given)."""
    if isinstance(scenario, Scenario):
        return _checked(scenario), None
    if not isinstance(scenario, (str, os.PathLike)):
        raise TypeError(
            f"scenario: a Scenario or the path of its YAML file, not {type(scenario).__name__}"
        )
    path = Path(scenario).resolve()
    return load_scenario(path), path
