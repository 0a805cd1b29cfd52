"""Scenario schema: one YAML file describes a site, its assets, its grid and its jobs.

Every field has a unit in its name. Unknown keys are errors. Relative paths resolve
against the scenario file's folder. Times without an offset are local to `site.timezone`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from microgrid.errors import InputError
from microgrid.yamlio import LineMap, line_of, load_yaml

NonNeg = Annotated[float, Field(ge=0)]
Frac = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(Strict):
    name: str = ""
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    altitude_m: float = Field(default=0.0, ge=-500, le=9000)
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as UTC)") from None
        return v


class Period(Strict):
    """Horizon [start, end); times without an offset are local wall time at the site."""

    start: datetime
    end: datetime
    step_minutes: Literal[60, 30, 15] = 60

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class TimeOfUseBand(Strict):
    """Price and carbon from `start_hour` (local, inclusive) to `end_hour` (exclusive)."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    price_usd_per_mwh: float
    carbon_g_per_kwh: NonNeg = 0.0


class Signals(Strict):
    """Price and carbon intensity: a CSV file, constants, or a time-of-use table."""

    csv: Path | None = None
    timestamp_column: str = "timestamp_utc"
    price_column: str = "price_usd_per_mwh"
    carbon_column: str = "carbon_direct_g_per_kwh"
    price_usd_per_mwh: float | None = None
    carbon_g_per_kwh: NonNeg | None = None
    time_of_use: list[TimeOfUseBand] | None = None
    # Hours past either end of the CSV that may repeat its first/last value. A local
    # calendar year west of UTC runs a few hours past a UTC-year file (Chicago: 6 h);
    # 0 makes any shortfall an error.
    edge_fill_hours: int = Field(default=0, ge=0, le=24)
    # Correct a price column whose stamps are late by this many hours (the price at t is
    # read from the row t + price_shift_h); see docs/data-quality.md. The hours shifted
    # past the file's end repeat its last price.
    price_shift_h: int = Field(default=0, ge=-24, le=24)

    @model_validator(mode="after")
    def _one_source(self) -> Signals:
        sources = [
            self.csv is not None,
            self.price_usd_per_mwh is not None,
            self.time_of_use is not None,
        ]
        if sum(sources) != 1:
            raise ValueError("give exactly one of csv, price_usd_per_mwh, time_of_use")
        if self.price_usd_per_mwh is not None and self.carbon_g_per_kwh is None:
            raise ValueError("constant signals need carbon_g_per_kwh too")
        return self


class Weather(Strict):
    """Weather source: a pvlib-readable TMY2/TMY3/EPW file, a shipped site CSV, or none."""

    source: Literal["site_csv", "tmy", "clearsky"]
    path: Path | None = None
    # Clear-sky only: no measured weather; a constant air temperature.
    temp_air_c: float = 25.0
    # Site CSV: the fixed UTC offset of its `time_local` stamps (see docs/weather.md).
    utc_offset_seconds: int | None = None

    @model_validator(mode="after")
    def _path_needed(self) -> Weather:
        if self.source != "clearsky" and self.path is None:
            raise ValueError(f"weather source {self.source!r} needs a path")
        return self


class PV(Strict):
    dc_mw: NonNeg
    ac_mw: NonNeg
    tilt_deg: float = Field(default=25.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360)
    gamma_pdc_per_c: float = Field(default=-0.0037, ge=-0.01, le=0)
    losses_pct: float = Field(default=14.0, ge=0, lt=100)
    inverter_efficiency: Efficiency = 0.96


class Wind(Strict):
    turbine_type: str
    n_turbines: int = Field(ge=0)
    hub_height_m: float = Field(gt=0)


class Battery(Strict):
    power_mw: NonNeg
    energy_mwh: NonNeg
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min_frac: Frac = 0.1
    soc_max_frac: Frac = 0.9
    soc_initial_frac: Frac = 0.5
    soc_final_frac: Frac | None = 0.5
    wear_usd_per_mwh: NonNeg = 0.0
    no_simultaneous_charge_discharge: bool = True

    @model_validator(mode="after")
    def _soc_order(self) -> Battery:
        if self.soc_min_frac > self.soc_max_frac:
            raise ValueError(
                f"soc_min_frac ({self.soc_min_frac}) > soc_max_frac ({self.soc_max_frac})"
            )
        for name in ("soc_initial_frac", "soc_final_frac"):
            v = getattr(self, name)
            if v is not None and not self.soc_min_frac <= v <= self.soc_max_frac:
                raise ValueError(f"{name} ({v}) outside [soc_min_frac, soc_max_frac]")
        return self


class Generator(Strict):
    name: str = "backup"
    capacity_mw: NonNeg
    fuel_usd_per_mwh: NonNeg
    carbon_g_per_kwh: NonNeg
    min_load_frac: Frac = 0.0


class GridConnection(Strict):
    import_max_mw: NonNeg
    export_max_mw: NonNeg = 0.0
    import_adder_usd_per_mwh: float = 0.0
    export_adder_usd_per_mwh: float = 0.0
    demand_charge_usd_per_kw_month: NonNeg = 0.0
    ramp_mw_per_h: NonNeg | None = None


class Inference(Strict):
    """Inflexible IT load: mean ± amplitude, a daily sine peaking at `peak_hour_local`."""

    mean_mw: NonNeg
    amplitude_mw: NonNeg = 0.0
    peak_hour_local: float = Field(default=15.0, ge=0, lt=24)


class PUEModel(Strict):
    """PUE = base + slope × max(0, T_air − threshold), capped at `max`."""

    base: float = Field(default=1.10, ge=1.0)
    slope_per_c: NonNeg = 0.008
    threshold_c: float = 15.0
    max: float = Field(default=1.40, ge=1.0)


class DataCenter(Strict):
    it_capacity_mw: NonNeg
    kw_per_gpu: float = Field(default=0.98, gt=0)
    inference: Inference
    pue: PUEModel = PUEModel()
    # Power fraction -> throughput fraction, concave; the default for every job.
    throughput_curve: list[tuple[float, float]] = [
        (0.6, 0.78),
        (0.7, 0.87),
        (0.8, 0.94),
        (0.9, 0.98),
        (1.0, 1.00),
    ]

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return _check_curve(pts)


def _check_curve(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(pts) < 1 or pts[-1] != (1.0, 1.0):
        raise ValueError("throughput curve must end at (1.0, 1.0)")
    xs = [p[0] for p in pts]
    if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
        raise ValueError("throughput curve power fractions must increase")
    slopes = [(y2 - y1) / (x2 - x1) for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False)]
    if any(s2 > s1 + 1e-12 for s1, s2 in zip(slopes, slopes[1:], strict=False)):
        raise ValueError("throughput curve must be concave (slopes must not increase)")
    return pts


class Job(Strict):
    """A training job; hours count from the job anchor (the period start's week, Monday 00:00
    local, see `jobs_anchor`)."""

    id: str = Field(min_length=1)
    gpus: int = Field(gt=0)
    kw_per_gpu: float | None = Field(default=None, gt=0)
    work_h: float = Field(gt=0)
    release_h: NonNeg = 0.0
    deadline_h: float = Field(gt=0)
    preemptible: bool = True
    max_interruptions: int | None = Field(default=None, ge=0)
    restart_overhead_h: NonNeg = 0.0
    f_min: float = Field(default=1.0, gt=0, le=1)
    throughput_curve: list[tuple[float, float]] | None = None
    # Command run by the exported batch script; {job_id}, {segment} and
    # {power_fraction} are also available as environment variables.
    command: str = "echo training {job_id}"

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        return None if pts is None else _check_curve(pts)

    @model_validator(mode="after")
    def _window(self) -> Job:
        if self.deadline_h <= self.release_h:
            raise ValueError(f"deadline_h ({self.deadline_h}) <= release_h ({self.release_h})")
        if self.work_h > self.deadline_h - self.release_h:
            raise ValueError(
                f"work_h ({self.work_h}) exceeds the window deadline_h - release_h "
                f"({self.deadline_h - self.release_h})"
            )
        if not self.preemptible and self.max_interruptions not in (None, 0):
            raise ValueError("a non-preemptible job cannot have max_interruptions > 0")
        return self


class Jobs(Strict):
    """Training jobs from the YAML list and/or a CSV file (one row per job)."""

    csv: Path | None = None
    items: list[Job] = []
    # "once": hours count from the week of the period start; "weekly": the list is a
    # template repeated every week of the period.
    repeat: Literal["once", "weekly"] = "once"

    @model_validator(mode="after")
    def _unique(self) -> Jobs:
        ids = [j.id for j in self.items]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate job id(s): {', '.join(dup)}")
        return self


class Window(Strict):
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class DemandResponse(Window):
    """Net import cap in the window: an absolute MW value or a fraction of the baseline
    run's import (the same scenario without this window)."""

    cap_mw: NonNeg | None = None
    cap_fraction_of_baseline: Frac | None = None

    @model_validator(mode="after")
    def _one_cap(self) -> DemandResponse:
        if (self.cap_mw is None) == (self.cap_fraction_of_baseline is None):
            raise ValueError("give exactly one of cap_mw, cap_fraction_of_baseline")
        return self


class Derate(Window):
    asset: Literal["pv", "wind", "battery"]
    available_frac: Frac


class Events(Strict):
    outages: list[Window] = []
    demand_response: list[DemandResponse] = []
    derates: list[Derate] = []


class Objective(Strict):
    carbon_price_usd_per_t: NonNeg = 0.0
    carbon_budget_t: NonNeg | None = None
    unfinished_work_penalty_usd_per_h: NonNeg | None = None


class Solver(Strict):
    time_limit_s: float | None = Field(default=600.0, gt=0)
    mip_rel_gap: float = Field(default=1e-3, ge=0, lt=1)
    # "milp": HiGHS's branch and bound to mip_rel_gap, started from the price-fix schedule;
    # "price-fix": that schedule alone (optimize/price_fix.py: feasible, with a proven gap,
    # about a second per week of jobs; status "heuristic" when the gap exceeds mip_rel_gap)
    method: Literal["milp", "price-fix"] = "milp"
    # Rolling horizon for long periods: window and look-ahead in hours (None: one solve).
    window_h: int | None = Field(default=None, gt=0)
    overlap_h: int = Field(default=0, ge=0)


class Network(Strict):
    """pandapower network parameters; see docs/network.md for values and sources."""

    grid_kv: float = Field(default=138.0, gt=0)
    collector_kv: float = Field(default=34.5, gt=0)
    transformer_mva: float = Field(default=150.0, gt=0)
    datacenter_line_km: float = Field(default=2.0, ge=0)
    pv_line_km: float = Field(default=5.0, ge=0)
    wind_line_km: float = Field(default=15.0, ge=0)
    battery_line_km: float = Field(default=0.0, ge=0)
    vm_min_pu: float = Field(default=0.95, gt=0)
    vm_max_pu: float = Field(default=1.05, gt=0)
    max_loading_pct: float = Field(default=100.0, gt=0)
    load_power_factor: float = Field(default=0.98, gt=0, le=1)
    engine: Literal["auto", "lightsim2grid", "pandapower"] = "auto"


class SlurmExport(Strict):
    timezone: str | None = None  # the cluster's wall-clock zone; default: site timezone
    partition: str | None = None
    account: str | None = None
    gpus_per_node: int | None = Field(default=None, gt=0)
    request_gpus: bool = True


class Export(Strict):
    slurm: SlurmExport = SlurmExport()


class OperateEvent(Window):
    """A plant-only event of mode `operate` (the controller is not warned; it sees the event
    at its next re-plan). `line_out` takes one circuit of the named pandapower line out of
    service (the whole line when it has one); `price_spike` multiplies the LMP by `factor`."""

    kind: Literal["grid_outage", "pv_trip", "wind_trip", "line_out", "price_spike"]
    line: str | None = None
    factor: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _detail(self) -> OperateEvent:
        if self.kind == "line_out" and not self.line:
            raise ValueError("a line_out event needs `line` (a pandapower line name)")
        if self.kind == "price_spike" and self.factor is None:
            raise ValueError("a price_spike event needs `factor`")
        return self


class Operate(Strict):
    """Closed-loop co-simulation (mode `operate`, see docs/cosimulation.md)."""

    lookahead_h: float = Field(default=48.0, gt=0)
    replan_every_steps: int = Field(default=1, ge=1)
    forecast: Literal["perfect", "persistence", "noisy"] = "perfect"
    noise_std_frac: NonNeg = 0.1
    seed: int = 0
    events: list[OperateEvent] = []
    value_of_lost_load_usd_per_mwh: NonNeg = 10000.0
    # "rerun": each event's cost is the run's cost minus a re-simulation without it
    event_costs: Literal["rerun", "none"] = "rerun"


class Swings(Strict):
    """Sub-hourly training power swings (microgrid/swings.py)."""

    hour: datetime | None = None  # local start of the hour profiled; None: peak-load hour
    resolution_s: float = Field(default=1.0, gt=0)
    period_s: float = Field(default=20.0, gt=0)  # compute + communication cycle
    compute_frac: Frac = 0.7  # share of the cycle at full power
    depth_frac: Frac = 0.3  # power dip in the communication phase (fraction of job IT)
    checkpoint_interval_s: float = Field(default=1800.0, gt=0)
    checkpoint_duration_s: NonNeg = 60.0
    checkpoint_depth_frac: Frac = 0.8
    ramp_limit_mw_per_min: NonNeg = 10.0
    smoothing_window_s: float = Field(default=300.0, gt=0)


class Scenario(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    site: Site
    period: Period
    signals: Signals
    weather: Weather
    pv: PV | None = None
    wind: Wind | None = None
    battery: Battery | None = None
    generators: list[Generator] = []
    grid: GridConnection
    datacenter: DataCenter
    jobs: Jobs = Jobs()
    events: Events = Events()
    objective: Objective = Objective()
    solver: Solver = Solver()
    network: Network = Network()
    export: Export = Export()
    operate: Operate = Operate()
    swings: Swings | None = None
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
        """A scenario time as UTC: naive times are local wall time at the site."""
        ts = pd.Timestamp(t)
        if ts.tzinfo is None:
            ts = ts.tz_localize(self.site.timezone, ambiguous="raise", nonexistent="raise")
        return ts.tz_convert("UTC")

    def index(self) -> pd.DatetimeIndex:
        """UTC step starts of the horizon [start, end)."""
        start, end = self.to_utc(self.period.start), self.to_utc(self.period.end)
        freq = pd.Timedelta(minutes=self.period.step_minutes)
        idx = pd.date_range(start, end, freq=freq, inclusive="left", name="timestamp_utc")
        return idx

    def error(self, message: str, field: str | None = None) -> InputError:
        """An InputError naming this scenario's file and the line of `field`."""
        line = line_of(self.source_lines, tuple(field.split("."))) if field else None
        path = str(self.source_path) if self.source_path else None
        return InputError(message, path=path, line=line, field=field)

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    def with_updates(self, updates: dict[str, object]) -> Scenario:
        """A copy with fields replaced by dotted path, validated again."""
        data = self.model_dump(mode="python", exclude={"base_dir"})
        for dotted, value in updates.items():
            set_dotted(data, dotted, value)
        return Scenario.model_validate(
            {
                **data,
                "base_dir": self.base_dir,
                "source_path": self.source_path,
                "source_lines": self.source_lines,
            }
        )


def step_of(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The step of a regular UTC index (its freq, else its first difference, else 1 h)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq)
    return index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)


def set_dotted(data: dict, dotted: str, value: object) -> None:
    """Set `a.b.c` in nested dicts (lists by integer index); KeyError on unknown paths."""
    keys = dotted.split(".")
    node = data
    for k in keys[:-1]:
        if isinstance(node, list):
            node = node[int(k)]
        elif k in node and node[k] is not None:
            node = node[k]
        else:
            raise KeyError(dotted)
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict) and last in node:
        node[last] = value
    else:
        raise KeyError(dotted)


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def validation_error(exc: ValidationError, path: Path, lines: LineMap) -> InputError:
    """The first pydantic error as an InputError naming the field and its YAML line."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required field is missing"
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return InputError(msg, path=str(path), line=line_of(lines, loc), field=_format_loc(loc))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML; raise InputError naming file, line and field."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", path=str(path), line=1)
    try:
        return Scenario.model_validate(
            {**data, "base_dir": path.resolve().parent, "source_path": path, "source_lines": lines}
        )
    except ValidationError as exc:
        raise validation_error(exc, path, lines) from None
