"""Scenario schema: one YAML file describes a site, its assets, its grid and its jobs.

Every field has a unit in its name. Unknown keys are errors. Relative paths resolve
against the scenario file's folder. Times without an offset are local to `site.timezone`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from microgrid.errors import InputError, InputErrors, first_control_char
from microgrid.scenario_checks import MAX_PERIOD_DAYS, local_time_problem, scenario_problems
from microgrid.yamlio import LineMap, line_of, load_yaml

# Upper bounds: generous but finite, so a mistyped or hostile number (1e308) is refused
# here, naming its field, instead of overflowing the solver's scaling later.
MAX_POWER_MW = 100_000.0  # about 50 times the largest campus planned today
MAX_ENERGY_MWH = 10_000_000.0  # MAX_POWER_MW for 100 h
MAX_PRICE_USD_PER_MWH = 100_000.0  # 20 times the highest market price cap (ERCOT 5,000)
MAX_CARBON_G_PER_KWH = 10_000.0  # ten times a coal plant's intensity
# Job hours count from the Monday before the period start: the period cap plus a week.
MAX_JOB_HOURS = 24.0 * (MAX_PERIOD_DAYS + 7)
YEARS = (1900, 2200)  # dates far outside this are typos (9999) and overflow pandas' ns range
MAX_NAME_CHARS = 64  # names, ids, time zones, column names
MAX_TEXT_CHARS = 4096  # descriptions and commands
MAX_CURVE_POINTS = 100
MAX_JOBS = 10_000  # job instances, weekly repeats included (a busy year is ~2,500)
MAX_EVENTS = 1_000  # per event list
MAX_GENERATORS = 100
MAX_TOU_BANDS = 48

Frac = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]
PowerMW = Annotated[float, Field(ge=0, le=MAX_POWER_MW)]
EnergyMWh = Annotated[float, Field(ge=0, le=MAX_ENERGY_MWH)]
PriceUSDPerMWh = Annotated[float, Field(ge=-MAX_PRICE_USD_PER_MWH, le=MAX_PRICE_USD_PER_MWH)]
CostUSDPerMWh = Annotated[float, Field(ge=0, le=MAX_PRICE_USD_PER_MWH)]
CarbonGPerKWh = Annotated[float, Field(ge=0, le=MAX_CARBON_G_PER_KWH)]
JobHours = Annotated[float, Field(ge=0, le=MAX_JOB_HOURS)]
LineKm = Annotated[float, Field(gt=0, le=1_000)]  # beyond 1,000 km it is not a site feeder
TempC = Annotated[float, Field(ge=-90, le=70)]  # the coldest and hottest air ever measured
# Throughput curve: (power fraction in (0, 1], throughput fraction in [0, 1]).
CurvePoint = tuple[Annotated[float, Field(gt=0, le=1)], Frac]
Curve = Annotated[list[CurvePoint], Field(max_length=MAX_CURVE_POINTS)]


def _sane_year(t: datetime) -> datetime:
    if not YEARS[0] <= t.year <= YEARS[1]:
        raise ValueError(f"year {t.year} is outside {YEARS[0]}-{YEARS[1]}")
    return t


def known_timezone(name: str) -> str:
    """An IANA zone that both zoneinfo and pandas accept (pandas refuses `localtime`)."""
    try:
        ZoneInfo(name)
        pd.Timestamp("2000-01-01").tz_localize(name)
    except (ZoneInfoNotFoundError, KeyError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as UTC)") from None
    return name


def _no_controls(text: str, allowed: str = "") -> str:
    """Refuse control and Unicode format characters (NUL, escapes, bidi overrides such as
    U+202E): they hide what a name or command says in terminals, files and scripts."""
    ch = first_control_char(text, allowed)
    if ch is not None:
        raise ValueError(f"contains the control or format character U+{ord(ch):04X}")
    return text


def _no_controls_but_lines(text: str) -> str:
    return _no_controls(text, allowed="\n\t")


Time = Annotated[datetime, AfterValidator(_sane_year)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(_no_controls)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS), AfterValidator(_no_controls_but_lines)]
TimeZoneName = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(known_timezone)]


def _numeric(annotation: object) -> bool:
    """An int or float type, or a Literal of numbers (after Annotated is stripped)."""
    if typing.get_origin(annotation) is Literal:
        return any(isinstance(a, int | float) for a in typing.get_args(annotation))
    return annotation in (int, float)


def _stray_bool(value: object, annotation: object) -> bool:
    """Whether `value` holds true/false where `annotation` expects a number (pydantic's
    lax mode would read it as 1 or 0), in lists, tuples and dict values too."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _stray_bool(value, args[0])
    if origin in (typing.Union, types.UnionType):
        if isinstance(value, bool) and bool in args:
            return False
        return any(_stray_bool(value, a) for a in args)
    if isinstance(value, bool):
        return _numeric(annotation)
    if isinstance(value, list | tuple) and origin in (list, tuple) and args:
        if origin is tuple and args[-1] is not Ellipsis:
            return any(_stray_bool(v, a) for v, a in zip(value, args, strict=False))
        return any(_stray_bool(v, args[0]) for v in value)
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return any(_stray_bool(v, args[1]) for v in value.values())
    return False


class Strict(BaseModel):
    # Finite numbers only: inf and nan pass no physical check and break the solver.
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=MAX_TEXT_CHARS
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: object, info: ValidationInfo) -> object:
        """Refuse true/false as a number: `power_mw: true` is a slip, not 1 MW."""
        if not isinstance(value, bool | list | tuple | dict):  # most values: no walk
            return value
        if _stray_bool(value, cls.model_fields[info.field_name].annotation):
            raise ValueError("true/false is not a number: give a number")
        return value


class Site(Strict):
    name: Name = ""
    latitude_deg: float = Field(ge=-90, le=90)
    longitude_deg: float = Field(ge=-180, le=180)
    altitude_m: float = Field(default=0.0, ge=-500, le=9000)
    timezone: TimeZoneName


class Period(Strict):
    """Horizon [start, end); times without an offset are local wall time at the site."""

    start: Time
    end: Time
    step_minutes: Literal[60, 30, 15] = 60

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        check_order(self.start, self.end)
        return self


def check_order(start: datetime, end: datetime) -> None:
    """End after start; both local (no offset) or both with an offset, so they compare."""
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError("give start and end both with a UTC offset or both without")
    if end <= start:
        raise ValueError("end must be after start")


class TimeOfUseBand(Strict):
    """Price and carbon from `start_hour` (local, inclusive) to `end_hour` (exclusive)."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    price_usd_per_mwh: PriceUSDPerMWh
    carbon_g_per_kwh: CarbonGPerKWh = 0.0


# Units a signal column's name may state (tokens of the name, see `_stated_units`). The
# CSV's values are read as USD/MWh and g/kWh (= kg/MWh), so a column whose name states
# another unit would be read wrongly: it is refused (there is no unit setting).
_MONEY_UNITS = frozenset(["usd", "eur", "euro", "gbp", "cad", "aud", "jpy", "cny", "cents", "ct"])
_MASS_UNITS = frozenset(["g", "kg", "t", "mt", "ton", "tons", "tonne", "tonnes", "lb", "lbs"])
_ENERGY_UNITS = frozenset(["wh", "kwh", "mwh", "gwh", "twh", "kw", "mw", "mmbtu", "gj", "mj"])
_PRICE_UNITS = ((frozenset(["usd"]), frozenset(["mwh"])),)
_CARBON_UNITS = (
    (frozenset(["g"]), frozenset(["kwh"])),
    (frozenset(["kg"]), frozenset(["mwh"])),
)


def _stated_units(column: str) -> tuple[set[str], set[str]]:
    """The money or mass units and the energy units a column name states: its tokens
    ("price ($/kWh)" -> usd, kwh; "carbon_gco2e_per_kwh" -> g, kwh)."""
    text = column.lower().replace("$", " usd ").replace("\u00a2", " cents ").replace("/", " per ")
    tokens = {re.sub(r"co2(e|eq)?$", "", t) for t in re.split(r"[^a-z0-9]+", text)}
    tokens = {"usd" if t in ("dollar", "dollars") else t for t in tokens}
    amounts = tokens & (_MONEY_UNITS | _MASS_UNITS)
    return amounts, tokens & _ENERGY_UNITS


def _column_unit(column: str, expected: tuple, unit: str) -> str:
    """`column`, unless its name states a unit other than `unit` (the `expected` token
    sets: any stated amount and energy unit must belong to one of them)."""
    amounts, energies = _stated_units(column)
    if any(amounts <= a and energies <= e for a, e in expected):
        return column
    stated = "/".join(sorted(amounts) + sorted(energies))
    raise ValueError(
        f"column {column!r} states the unit {stated}, but its values are read as {unit}: "
        f"convert the column to {unit} and name it so (there is no unit setting)"
    )


class Signals(Strict):
    """Price and carbon intensity: a CSV file, constants, or a time-of-use table. The CSV's
    price column is read in USD/MWh and its carbon column in g/kWh (= kg/MWh); a column
    name that states another unit (`price_usd_per_kwh`, `carbon_lb_per_mwh`) is refused."""

    csv: Path | None = None
    timestamp_column: Name = "timestamp_utc"
    price_column: Name = "price_usd_per_mwh"
    carbon_column: Name = "carbon_direct_g_per_kwh"
    price_usd_per_mwh: PriceUSDPerMWh | None = None
    carbon_g_per_kwh: CarbonGPerKWh | None = None
    time_of_use: Annotated[list[TimeOfUseBand], Field(max_length=MAX_TOU_BANDS)] | None = None
    # Hours past either end of the CSV that may repeat its first/last value. A local
    # calendar year west of UTC runs a few hours past a UTC-year file (Chicago: 6 h);
    # 0 makes any shortfall an error.
    edge_fill_hours: int = Field(default=0, ge=0, le=24)
    # Correct a price column whose stamps are late by this many hours (the price at t is
    # read from the row t + price_shift_h); see docs/data-quality.md. The hours shifted
    # past the file's end repeat its last price.
    price_shift_h: int = Field(default=0, ge=-24, le=24)

    @field_validator("price_column")
    @classmethod
    def _price_unit(cls, column: str) -> str:
        return _column_unit(column, _PRICE_UNITS, "USD/MWh")

    @field_validator("carbon_column")
    @classmethod
    def _carbon_unit(cls, column: str) -> str:
        return _column_unit(column, _CARBON_UNITS, "g/kWh")

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
    temp_air_c: TempC = 25.0
    # Site CSV: the fixed UTC offset of its `time_local` stamps (see docs/weather.md);
    # +-18 h is the widest offset datetime and ISO 8601 allow.
    utc_offset_seconds: int | None = Field(default=None, ge=-18 * 3600, le=18 * 3600)

    @model_validator(mode="after")
    def _path_needed(self) -> Weather:
        if self.source != "clearsky" and self.path is None:
            raise ValueError(f"weather source {self.source!r} needs a path")
        return self


class PV(Strict):
    dc_mw: PowerMW
    ac_mw: PowerMW
    tilt_deg: float = Field(default=25.0, ge=0, le=90)
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360)
    gamma_pdc_per_c: float = Field(default=-0.0037, ge=-0.01, le=0)
    losses_pct: float = Field(default=14.0, ge=0, lt=100)
    inverter_efficiency: Efficiency = 0.96


class Wind(Strict):
    turbine_type: Name
    n_turbines: int = Field(ge=0, le=100_000)
    hub_height_m: float = Field(gt=0, le=500)  # the tallest turbines stand below 300 m


class Battery(Strict):
    power_mw: PowerMW
    energy_mwh: EnergyMWh
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min_frac: Frac = 0.1
    soc_max_frac: Frac = 0.9
    soc_initial_frac: Frac = 0.5
    soc_final_frac: Frac | None = 0.5
    wear_usd_per_mwh: CostUSDPerMWh = 0.0
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
    name: Name = "backup"
    capacity_mw: PowerMW
    fuel_usd_per_mwh: CostUSDPerMWh
    carbon_g_per_kwh: CarbonGPerKWh
    min_load_frac: Frac = 0.0

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        # The optimizer names its variables after the generator ('-' becomes '_').
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", v):
            raise ValueError(
                "a generator name uses letters, digits, '_' and '-', starting with a letter or '_'"
            )
        return v


MAX_CP_INTERVALS = 1_000  # coincident-peak intervals listed in the scenario


class CoincidentPeaks(Strict):
    """Coincident-peak charges (ERCOT 4CP, PJM 5CP; microgrid/coincident_peak.py): the
    tag is the average import over the `n_peaks` intervals, billed at `usd_per_mw_year`."""

    # USD per MW of tag per year (ERCOT 4CP transmission: about 25,000)
    usd_per_mw_year: float = Field(ge=0, le=10_000_000)
    n_peaks: int = Field(ge=1, le=100)  # 4 for ERCOT 4CP, 5 for PJM 5CP
    # The intervals' local start times (the truth the bill uses), or a CSV of them
    intervals: Annotated[list[Time], Field(max_length=MAX_CP_INTERVALS)] | None = None
    intervals_csv: Path | None = None
    interval_minutes: Literal[15, 30, 60] = 15
    # "known": the intervals are priced (hindsight); "alerts": only daily peak alerts are
    # (an expected-cost charge on each alert window), the intervals bill in hindsight
    mode: Literal["known", "alerts"] = "known"
    alerts_csv: Path | None = None  # date, probability, window_start_local, window_end_local
    alert_notice_hours: float = Field(default=24.0, ge=0, le=24 * 31)

    @model_validator(mode="after")
    def _sources(self) -> CoincidentPeaks:
        if (self.intervals is None) == (self.intervals_csv is None):
            raise ValueError("give exactly one of intervals, intervals_csv")
        if (self.mode == "alerts") != (self.alerts_csv is not None):
            raise ValueError("alerts_csv is needed in mode 'alerts' and used only there")
        return self


MonthLabel = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Tariff(Strict):
    """A utility rate in URDB JSON (microgrid/tariffs, docs/tariffs.md)."""

    urdb: Path  # a rate object, a list of them, or an API response {"items": [...]}
    label: Name | None = None  # picks the rate when the file holds several
    # "add_to_wholesale": import price = wholesale + import adder + the rate's energy charge;
    # "tariff_only": import price = import adder + the rate's energy charge
    energy: Literal["add_to_wholesale", "tariff_only"] = "add_to_wholesale"
    # Flat-demand peaks (MW) of local months before the period ("2023-05": 80), for the
    # rate's ratchets; a month not listed counts 0
    prior_monthly_peaks_mw: Annotated[dict[MonthLabel, PowerMW], Field(max_length=24)] = {}


class GridConnection(Strict):
    import_max_mw: PowerMW
    export_max_mw: PowerMW = 0.0
    import_adder_usd_per_mwh: PriceUSDPerMWh = 0.0
    export_adder_usd_per_mwh: PriceUSDPerMWh = 0.0
    # USD per kW of the month's peak: real tariffs are below 100.
    demand_charge_usd_per_kw_month: float = Field(default=0.0, ge=0, le=10_000)
    # A month the period covers in part: "prorated" bills the period's share of the
    # month's hours, "full_month" the whole month's charge (microgrid/billing.py).
    demand_charge_billing: Literal["prorated", "full_month"] = "prorated"
    ramp_mw_per_h: PowerMW | None = None
    coincident_peaks: CoincidentPeaks | None = None
    tariff: Tariff | None = None


class Inference(Strict):
    """Inflexible IT load: mean ± amplitude, a daily sine peaking at `peak_hour_local`."""

    mean_mw: PowerMW
    amplitude_mw: PowerMW = 0.0
    peak_hour_local: float = Field(default=15.0, ge=0, lt=24)


class PUEModel(Strict):
    """PUE = base + slope × max(0, T_air − threshold), capped at `max`."""

    # PUE above 5 is no data center's; the cap keeps facility power finite.
    base: float = Field(default=1.10, ge=1.0, le=5.0)
    slope_per_c: float = Field(default=0.008, ge=0, le=1)
    threshold_c: TempC = 15.0
    max: float = Field(default=1.40, ge=1.0, le=5.0)


class DataCenter(Strict):
    """The campus. `it_capacity_mw` is its installed IT capacity (MW, above 0 and at
    least the inference peak `mean_mw + amplitude_mw`): the campus size of `microgrid
    headroom` (the inference share is `inference_it_mw / it_capacity_mw`) and of the sweep
    stand-in's load. A dispatch (`run`, `size`, `operate`) does not cap the IT load by it:
    inference draws its profile and each job `gpus x kw_per_gpu / 1000` MW at full power."""

    it_capacity_mw: float = Field(gt=0, le=MAX_POWER_MW)
    kw_per_gpu: float = Field(default=0.98, gt=0, le=100)  # a GPU node's share, in kW
    inference: Inference
    pue: PUEModel = PUEModel()
    # Power fraction -> throughput fraction, concave; the default for every job.
    throughput_curve: Curve = [
        (0.6, 0.78),
        (0.7, 0.87),
        (0.8, 0.94),
        (0.9, 0.98),
        (1.0, 1.00),
    ]

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: list[CurvePoint]) -> list[CurvePoint]:
        return _check_curve(pts)


def _check_curve(pts: list[CurvePoint]) -> list[CurvePoint]:
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

    id: Name = Field(min_length=1)
    gpus: int = Field(gt=0, le=10_000_000)
    kw_per_gpu: float | None = Field(default=None, gt=0, le=100)
    work_h: JobHours = Field(gt=0)
    release_h: JobHours = 0.0
    deadline_h: JobHours = Field(gt=0)
    preemptible: bool = True
    max_interruptions: int | None = Field(default=None, ge=0, le=100_000)
    restart_overhead_h: JobHours = 0.0
    f_min: float = Field(default=1.0, gt=0, le=1)
    throughput_curve: Curve | None = None
    # Command run by the exported batch script; {job_id}, {segment} and
    # {power_fraction} are also available as environment variables.
    command: Text = "echo training {job_id}"

    @field_validator("throughput_curve")
    @classmethod
    def _concave(cls, pts: list[CurvePoint] | None) -> list[CurvePoint] | None:
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
    items: Annotated[list[Job], Field(max_length=MAX_JOBS)] = []
    # "once": hours count from the week of the period start; "weekly": the list is a
    # template repeated every week of the period.
    repeat: Literal["once", "weekly"] = "once"


class Window(Strict):
    """A time window [start, end)."""

    start: Time
    end: Time

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        check_order(self.start, self.end)
        return self


class DemandResponse(Window):
    """Net import cap in the window: an absolute MW value or a fraction of the baseline
    run's import (the same scenario without this window)."""

    cap_mw: PowerMW | None = None
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
    """Windows that act on the period's steps: each must overlap the period (one that does
    not would change nothing and is refused); one that overlaps it in part acts on the
    steps it overlaps."""

    outages: Annotated[list[Window], Field(max_length=MAX_EVENTS)] = []
    demand_response: Annotated[list[DemandResponse], Field(max_length=MAX_EVENTS)] = []
    derates: Annotated[list[Derate], Field(max_length=MAX_EVENTS)] = []


class DemandResponseProgram(Strict):
    """A capacity demand-response program (microgrid/dr_program.py, docs/dr_program.md):
    commit MW (paid per MW-month), reduce against the baseline in events (paid per MWh),
    pay for each MWh short of the commitment. Not the `events.demand_response` caps.
    Events (`events` or `events_csv`) may list the program's year: each must lie in the
    period's local year(s); those outside the period are left out, one that overlaps it in
    part holds the steps it overlaps."""

    capacity_usd_per_mw_month: float = Field(ge=0, le=1_000_000)
    energy_usd_per_mwh: CostUSDPerMWh = 0.0
    shortfall_usd_per_mwh: CostUSDPerMWh = 0.0
    # None: the plan decides the commitment in [0, max_commit_mw] (default: import_max_mw)
    commit_mw: PowerMW | None = None
    max_commit_mw: PowerMW | None = None
    # operate: the controller learns of an event this long before its start
    notice_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    baseline: Literal["prior_days_average", "declared"] = "prior_days_average"
    baseline_days: int = Field(default=10, ge=1, le=60)  # prior_days_average: N days
    # prior_days_average: the net import (MW) of days before the period; None: only the
    # days inside the period count
    prior_baseline_mw: PowerMW | None = None
    declared_baseline_mw: PowerMW | None = None  # declared: the baseline
    events: Annotated[list[Window], Field(max_length=MAX_EVENTS)] = []
    events_csv: Path | None = None  # columns start, end (local, or with an offset)

    @model_validator(mode="after")
    def _consistent(self) -> DemandResponseProgram:
        if (self.baseline == "declared") != (self.declared_baseline_mw is not None):
            raise ValueError("declared_baseline_mw goes with baseline 'declared', and only there")
        if self.events and self.events_csv is not None:
            raise ValueError("give events or events_csv, not both")
        c, top = self.commit_mw, self.max_commit_mw
        if c is not None and top is not None and c > top:
            raise ValueError(f"commit_mw ({c}) > max_commit_mw ({top})")
        return self


class Objective(Strict):
    # Carbon prices in use are below 200 USD/t. Budgets stop at the solver's largest finite
    # bound (optimize/ranges.py), 1e9 t: a fiftieth of the world's yearly emissions.
    carbon_price_usd_per_t: float = Field(default=0.0, ge=0, le=100_000)
    carbon_budget_t: float | None = Field(default=None, ge=0, le=1e9)
    # Per hour of unfinished job work; above 1e7 it only worsens the solver's scaling.
    unfinished_work_penalty_usd_per_h: float | None = Field(default=None, ge=0, le=1e7)


class Solver(Strict):
    # Off by default: a wall-clock limit makes the result depend on the machine's speed.
    time_limit_s: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)  # a week
    # 1 %: proven within 1 % of the optimum (the gap is reported); 0.001 or 0 for exactness
    mip_rel_gap: float = Field(default=1e-2, ge=0, lt=1)
    # Branch-and-bound nodes per solve: a stop that is the same on every machine (None: none)
    node_limit: int | None = Field(default=1_000, ge=1, le=10**9)
    # "milp": HiGHS's branch and bound to mip_rel_gap, started from the price-fix schedule;
    # "price-fix": that schedule alone (optimize/price_fix.py: feasible, with a proven gap,
    # about a second per week of jobs; status "heuristic" when the gap exceeds mip_rel_gap)
    method: Literal["milp", "price-fix"] = "milp"
    # "milp": before branch and bound, the start's job runs may move this many steps at
    # each edge in a sub-MIP (optimize/edge_search.py; 0: off)
    edge_search_steps: int = Field(default=2, ge=0, le=24)
    # "milp": a start not proven within mip_rel_gap is probed before branch and bound: at most
    # this many one-step on/off disjunctions on the LP relaxation per probe, branched on where
    # none fixes a step (optimize/probing.py; 0: off)
    probe_limit: int = Field(default=200, ge=0, le=100_000)
    # "milp": a start the probe does not prove is rebuilt by price-fix with the demand-charge
    # peaks held at the LP relaxation's while the jobs are fixed (optimize/peak_cap.py)
    peak_cap_restart: bool = True
    # HiGHS's threads. From 2 its branch and bound searches with several workers in rounds
    # synchronised in a fixed order, so the answer depends on this number, not on the
    # machine's cores or load (docs/model_jobs.md); a sweep case uses this many cores.
    threads: int = Field(default=1, ge=1, le=64)
    # Rolling horizon for long periods: window and look-ahead in hours (None: one solve).
    window_h: int | None = Field(default=None, gt=0, le=24 * MAX_PERIOD_DAYS)
    overlap_h: int = Field(default=0, ge=0, le=24 * MAX_PERIOD_DAYS)


class Network(Strict):
    """pandapower network parameters; see docs/network.md for values and sources."""

    # Up to 1,100 kV: the highest transmission voltage in service.
    grid_kv: float = Field(default=138.0, gt=0, le=1_100)
    collector_kv: float = Field(default=34.5, gt=0, le=1_100)
    transformer_mva: float = Field(default=150.0, gt=0, le=MAX_POWER_MW)
    datacenter_line_km: LineKm = 2.0
    pv_line_km: LineKm = 5.0
    wind_line_km: LineKm = 15.0
    battery_line_km: float = Field(default=0.0, ge=0, le=1_000)  # 0: at the substation
    # Voltage limits (pu): a power flow outside 0.5-1.5 pu has no meaning for a site.
    vm_min_pu: float = Field(default=0.95, ge=0.5, le=1.5)
    vm_max_pu: float = Field(default=1.05, ge=0.5, le=1.5)
    max_loading_pct: float = Field(default=100.0, gt=0, le=1_000)
    load_power_factor: float = Field(default=0.98, gt=0, le=1)
    engine: Literal["auto", "lightsim2grid", "pandapower"] = "auto"


class SlurmExport(Strict):
    timezone: TimeZoneName | None = None  # the cluster's wall-clock zone; default: site's
    partition: Name | None = None
    account: Name | None = None
    gpus_per_node: int | None = Field(default=None, gt=0, le=1_024)
    request_gpus: bool = True


class Export(Strict):
    slurm: SlurmExport = SlurmExport()


class OperateEvent(Window):
    """A plant-only event of mode `operate` (the controller is not warned; it sees the event
    at its next re-plan). `line_out` takes one circuit of the named pandapower line out of
    service (the whole line when it has one); `price_spike` multiplies the LMP by `factor`.
    Like `events`, it must overlap the period."""

    kind: Literal["grid_outage", "pv_trip", "wind_trip", "line_out", "price_spike"]
    line: Name | None = None
    factor: float | None = Field(default=None, gt=0, le=1_000)

    @model_validator(mode="after")
    def _detail(self) -> OperateEvent:
        if self.kind == "line_out" and not self.line:
            raise ValueError("a line_out event needs `line` (a pandapower line name)")
        if self.kind == "price_spike" and self.factor is None:
            raise ValueError("a price_spike event needs `factor`")
        return self


class Operate(Strict):
    """Closed-loop co-simulation (mode `operate`, see docs/cosimulation.md)."""

    lookahead_h: float = Field(default=48.0, gt=0, le=24 * MAX_PERIOD_DAYS)
    replan_every_steps: int = Field(default=1, ge=1, le=1_000_000)
    forecast: Literal["perfect", "persistence", "noisy"] = "perfect"
    noise_std_frac: float = Field(default=0.1, ge=0, le=10)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)  # numpy's seed range
    events: Annotated[list[OperateEvent], Field(max_length=MAX_EVENTS)] = []
    value_of_lost_load_usd_per_mwh: CostUSDPerMWh = 10000.0
    # "rerun": each event's cost is the run's cost minus a re-simulation without it
    event_costs: Literal["rerun", "none"] = "rerun"


class Swings(Strict):
    """Sub-hourly training power swings (microgrid/swings.py); `hour` must lie inside the
    period."""

    # local start of the hour profiled, inside the period; None: the peak-load hour
    hour: Time | None = None
    # At least 10 ms: a step of an hour is then at most 360,000 samples.
    resolution_s: float = Field(default=1.0, ge=0.01, le=3600)
    period_s: float = Field(default=20.0, gt=0, le=3600)  # compute + communication cycle
    compute_frac: Frac = 0.7  # share of the cycle at full power
    depth_frac: Frac = 0.3  # power dip in the communication phase (fraction of job IT)
    checkpoint_interval_s: float = Field(default=1800.0, gt=0, le=1e6)
    checkpoint_duration_s: float = Field(default=60.0, ge=0, le=1e6)
    checkpoint_depth_frac: Frac = 0.8
    ramp_limit_mw_per_min: PowerMW = 10.0
    smoothing_window_s: float = Field(default=300.0, gt=0, le=86_400)


# Sizing cost inputs: generous but finite (the dearest technologies cost a few million
# USD per MW; docs/sizing_costs.md gives the shipped values and their sources).
MAX_CAPEX_USD_PER_UNIT = 1e8  # USD per MW or per MWh
MAX_FIXED_OM_USD_PER_UNIT_YEAR = 1e7  # USD per MW-year or MWh-year
Lifetime = Annotated[float, Field(gt=0, le=100)]  # years


def _check_sized_bounds(min_size: float, max_size: float, existing: float, unit: str) -> None:
    """min <= max and existing <= max (what exists is never removed)."""
    if min_size > max_size:
        raise ValueError(f"min_{unit} ({min_size}) > max_{unit} ({max_size})")
    if existing > max_size:
        raise ValueError(f"existing_{unit} ({existing}) > max_{unit} ({max_size})")


class SizedPower(Strict):
    """An asset sized in MW (PV MWdc, wind nameplate, battery power, grid import, a
    generator): capital cost USD/MW, fixed O&M USD/MW-year, bounds and the existing MW."""

    capex_usd_per_mw: float = Field(ge=0, le=MAX_CAPEX_USD_PER_UNIT)
    fixed_om_usd_per_mw_year: float = Field(default=0.0, ge=0, le=MAX_FIXED_OM_USD_PER_UNIT_YEAR)
    lifetime_years: Lifetime
    min_mw: PowerMW = 0.0
    max_mw: PowerMW
    existing_mw: PowerMW = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> SizedPower:
        _check_sized_bounds(self.min_mw, self.max_mw, self.existing_mw, "mw")
        return self


class SizedEnergy(Strict):
    """Battery energy sized in MWh: capital cost USD/MWh, fixed O&M USD/MWh-year."""

    capex_usd_per_mwh: float = Field(ge=0, le=MAX_CAPEX_USD_PER_UNIT)
    fixed_om_usd_per_mwh_year: float = Field(default=0.0, ge=0, le=MAX_FIXED_OM_USD_PER_UNIT_YEAR)
    lifetime_years: Lifetime
    min_mwh: EnergyMWh = 0.0
    max_mwh: EnergyMWh
    existing_mwh: EnergyMWh = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> SizedEnergy:
        _check_sized_bounds(self.min_mwh, self.max_mwh, self.existing_mwh, "mwh")
        return self


class Sizing(Strict):
    """What to build (`microgrid size`, microgrid/sizing/, docs/sizing.md): the listed
    assets are sized with the dispatch; the others keep the scenario's fixed sizes."""

    discount_rate: float = Field(default=0.07, ge=0, le=1)  # real, per year (fraction)
    analysis_years: int = Field(default=20, ge=1, le=100)  # NPV horizon
    # the sizing solve: "price-fix" or "milp" (one model of the whole horizon: weeks), or
    # "parts" (the horizon cut into parts of about part_h hours, linked by the sizes through
    # Benders cuts, first with the jobs relaxed, then with whole-job schedules: a year;
    # optimize/sizing_parts.py)
    method: Literal["price-fix", "milp", "parts"] = "price-fix"
    part_h: int = Field(default=168, ge=24, le=24 * 92)  # "parts": hours per part
    # also size with the jobs inflexible (asap at full power) and report the difference
    flexibility: bool = False
    pv: SizedPower | None = None
    wind: SizedPower | None = None
    battery_power: SizedPower | None = None
    battery_energy: SizedEnergy | None = None
    grid_import: SizedPower | None = None
    # scenario generator name -> its sizing
    generators: Annotated[dict[Name, SizedPower], Field(max_length=MAX_GENERATORS)] = {}


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


def wall_time_utc(t: datetime, zone: str, offset_allowed: bool = True) -> pd.Timestamp:
    """`t` as UTC; a naive `t` is wall time in `zone`. ValueError in the words the YAML's
    own times get (`local_time_problem`) when that wall time falls in a DST gap or overlap."""
    why = local_time_problem(pd.Timestamp(t).to_pydatetime(warn=False), zone, offset_allowed)
    if why:
        raise ValueError(why)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize(zone)
    return ts.tz_convert("UTC")


def parse_time_utc(text: str, zone: str, offset_allowed: bool = True) -> pd.Timestamp:
    """An ISO 8601 time from a data file as UTC; without an offset it is wall time in
    `zone`. ValueError naming the text when it is no time or no single instant."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"not a time: {text!r} ({exc})") from None
    if pd.isna(ts):
        raise ValueError(f"not a time: {text!r} (ISO 8601, such as 2023-08-25T19:00)")
    return wall_time_utc(ts, zone, offset_allowed)


def step_of(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The step of a regular UTC index (its freq, else its first difference, else 1 h)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq)
    return index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)


def overlap_mask(
    index: pd.DatetimeIndex, start_utc: pd.Timestamp, end_utc: pd.Timestamp
) -> np.ndarray:
    """bool per step of a regular UTC index: the step overlaps [start_utc, end_utc)."""
    step = step_of(index)
    return np.asarray((index < end_utc) & (index + step > start_utc))


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
