"""Scenario schema: one YAML file describes a site, its assets, its grid and its jobs.

Every field has a unit in its name. Unknown keys are errors. Relative paths resolve
against the scenario file's folder. Times without an offset are local to `site.timezone`.
"""

from __future__ import annotations

import os
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
from microgrid.scenario_settings import Export, Network, Objective, Sizing, Solver
from microgrid.scenario_site import PV, Battery, Generator, Period, Site, Weather, Wind
from microgrid.wall_time import wall_time_utc
from microgrid.yamlio import LineMap, line_of, load_yaml


class Scenario(Strict):
    name: Name = Field(min_length=1)
    description: Text = ""
    site: Site
    period: Period
    signals: Signals
    weather: Weather
    pv: PV | None = None
    wind: Wind | None = None
    battery: Battery | None = None
    generators: Annotated[list[Generator], Field(max_length=MAX_GENERATORS)] = []
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

    def error(self, message: str, field: str | None = None) -> InputError:
        """An InputError naming this scenario's file and the line of `field`."""
        loc = tuple(int(p) if p.isdigit() else p for p in field.split(".")) if field else ()
        line = line_of(self.source_lines, loc) if field else None
        path = str(self.source_path) if self.source_path else None
        return InputError(message, path=path, line=line, field=field)

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    def with_updates(self, updates: dict[str, object]) -> Scenario:
        """A copy with fields replaced by dotted path, validated again."""
        data = self.model_dump(mode="python", exclude={"base_dir"})
        for dotted, value in updates.items():
            set_dotted(data, dotted, value)
        scenario = Scenario.model_validate(
            {
                **data,
                "base_dir": self.base_dir,
                "source_path": self.source_path,
                "source_lines": self.source_lines,
            }
        )
        return _checked(scenario)


def set_dotted(data: dict, dotted: str, value: object) -> None:
    """Set `a.b.c` in nested dicts (lists by integer index); KeyError on unknown paths,
    list indexes that are not 0..len-1 and paths through plain values included."""
    keys = dotted.split(".")
    node: object = data
    for k in keys[:-1]:
        node = _child(node, k, dotted)
        if node is None:
            raise KeyError(dotted)
    last = keys[-1]
    if isinstance(node, list):
        node[_list_index(node, last, dotted)] = value
    elif isinstance(node, dict) and last in node:
        node[last] = value
    else:
        raise KeyError(dotted)


def _list_index(node: list, key: str, dotted: str) -> int:
    if not (key.isdigit() and int(key) < len(node)):
        raise KeyError(dotted)
    return int(key)


def _child(node: object, key: str, dotted: str) -> object:
    if isinstance(node, list):
        return node[_list_index(node, key, dotted)]
    if isinstance(node, dict) and key in node:
        return node[key]
    raise KeyError(dotted)


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def validation_errors(exc: ValidationError, path: Path, lines: LineMap) -> InputErrors:
    """Every pydantic error as an InputError naming the field and its YAML line."""
    found = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required field is missing"
        found.append(
            InputError(msg, path=str(path), line=line_of(lines, loc), field=_format_loc(loc))
        )
    return InputErrors(sorted(found, key=lambda e: e.line or 0))


def _checked(scenario: Scenario) -> Scenario:
    """The scenario, or InputErrors listing every cross-field problem found."""
    problems = [scenario.error(message, field) for field, message in scenario_problems(scenario)]
    if problems:
        raise InputErrors(problems)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML; raise InputErrors naming file, line and field of
    every schema error, else of every cross-field problem (scenario_checks.py)."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", path=str(path), line=1)
    try:
        scenario = Scenario.model_validate(
            {**data, "base_dir": path.resolve().parent, "source_path": path, "source_lines": lines}
        )
    except ValidationError as exc:
        raise validation_errors(exc, path, lines) from None
    return _checked(scenario)


def scenario_and_path(scenario: Scenario | str | os.PathLike) -> tuple[Scenario, Path | None]:
    """The scenario, and the resolved path of its file (None when given as an object): what
    `microgrid.run` and `microgrid.size` take."""
    if isinstance(scenario, Scenario):
        return scenario, None
    path = Path(scenario).resolve()
    return load_scenario(path), path
