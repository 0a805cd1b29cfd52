"""The scenario schema's building blocks: limits, unit-named number types, names and
times, and `Strict`, the base of every section (unknown keys, inf, nan and booleans given
as numbers are refused)."""

from __future__ import annotations

import math
import types
import typing
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from microgrid.carbon_units import CARBON_CEILING_G_PER_KWH, scalar_problem
from microgrid.errors import first_control_char
from microgrid.scenario_checks import MAX_PERIOD_DAYS
from microgrid.wall_time import check_order, known_timezone

# Upper bounds: generous but finite, so a mistyped or hostile number (1e308) is refused
# here, naming its field, instead of overflowing the solver's scaling later.
MAX_POWER_MW = 100_000.0  # about 50 times the largest campus planned today
MAX_ENERGY_MWH = 10_000_000.0  # MAX_POWER_MW for 100 h
MAX_PRICE_USD_PER_MWH = 100_000.0  # 20 times the highest market price cap (ERCOT 5,000)
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


def _carbon_not_too_high(value: object) -> object:
    """Refuse an intensity above the ceiling with the unit it looks like (lb/MWh, g/MWh):
    before the bound's own check, whose words name no unit."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    problem = scalar_problem(float(value)) if number and math.isfinite(value) else None
    if problem is not None:
        raise ValueError(problem)
    return value


# A value below the floor is warned of where the series it belongs to is known (the
# grid's carbon over the period, a generator's: microgrid/input_warnings.py)
CarbonGPerKWh = Annotated[
    float, Field(ge=0, le=CARBON_CEILING_G_PER_KWH), BeforeValidator(_carbon_not_too_high)
]
JobHours = Annotated[float, Field(ge=0, le=MAX_JOB_HOURS)]
LineKm = Annotated[float, Field(gt=0, le=1_000)]  # beyond 1,000 km it is not a site feeder
TempC = Annotated[float, Field(ge=-90, le=70)]  # the coldest and hottest air ever measured
# Throughput curve: (power fraction in (0, 1], throughput fraction in [0, 1]).
CurvePoint = tuple[Annotated[float, Field(gt=0, le=1)], Frac]
Curve = Annotated[tuple[CurvePoint, ...], Field(max_length=MAX_CURVE_POINTS)]


def _sane_year(t: datetime) -> datetime:
    if not YEARS[0] <= t.year <= YEARS[1]:
        raise ValueError(f"year {t.year} is outside {YEARS[0]}-{YEARS[1]}")
    return t


def _no_controls(text: str, allowed: str = "") -> str:
    """Refuse control and Unicode format characters (NUL, escapes, bidi overrides such as
    U+202E): they hide what a name or command says in terminals, files and scripts."""
    ch = first_control_char(text, allowed)
    if ch is not None:
        raise ValueError(f"contains the control or format character U+{ord(ch):04X}")
    return text


def _no_controls_but_lines(text: str) -> str:
    return _no_controls(text, allowed="\n\t")


#: How a job's date-time is written, for the errors that refuse one
_DATE_TIME_FORM = (
    "give ISO 8601, such as 2024-12-03T09:00 (wall time at site.timezone) or 2024-12-03T15:00Z"
)


def _job_date_time(value: object, handler: ValidatorFunctionWrapHandler) -> datetime:
    """A job's date-time, refusing a number: pydantic would read `deadline_at: 100` (or a
    CSV cell "100") as seconds since 1970, where the user meant hours (`deadline_h`). Text
    that is no date-time is named with the form to give (a spreadsheet's "1/2/2023 8:00")."""
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = True
    else:
        number = text is not None and text.lstrip("+-").replace(".", "", 1).isdigit()
    if number:
        raise ValueError(
            f"not a date-time: {value!r}; give ISO 8601, such as 2024-12-03T09:00 (hours "
            "from the job anchor are release_h and deadline_h)"
        )
    try:
        return handler(value)
    except ValidationError as exc:
        why = (exc.errors()[0].get("ctx") or {}).get("error")
        if text is None or why is None:
            raise
        raise ValueError(f"not a date-time: {value!r} ({why}); {_DATE_TIME_FORM}") from None


Time = Annotated[datetime, AfterValidator(_sane_year)]
# A job's release_at / deadline_at: ISO 8601; no offset: wall time at site.timezone
JobTime = Annotated[datetime, WrapValidator(_job_date_time), AfterValidator(_sane_year)]
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


class FrozenDict(dict):
    """A frozen scenario's mapping (``grid.tariff.prior_monthly_peaks_mw``,
    ``sizing.generators``): it refuses changes in place, as the scenario's lists are
    tuples. A month's peak set in place had skipped every check, and the next
    ``with_updates`` blamed the scenario file's line for it. Plain dicts come out of
    ``model_dump``; a copy or a pickle is a FrozenDict again."""

    def _refuse(self, *args: object, **kwargs: object) -> typing.NoReturn:
        raise TypeError("a scenario is frozen: change it with with_updates, which checks it")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[type, tuple[dict]]:
        # pickle and copy rebuild a dict subclass item by item, through __setitem__
        return (FrozenDict, (dict(self),))


#: marks a scenario's mapping field (a default too: ``= FrozenDict()``)
Frozen = AfterValidator(FrozenDict)


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


def field_error(field: str | int | tuple, message: str, value: object) -> ValidationError:
    """A model validator's error located at one of its fields (or list items; a tuple: an
    item of a list field, `("time_of_use", 1)`), so the error line names that field and
    its YAML line rather than the whole section's."""
    kind = PydanticCustomError("field_check", "{message}", {"message": message})
    loc = field if isinstance(field, tuple) else (field,)
    return ValidationError.from_exception_data(
        "scenario", [InitErrorDetails(type=kind, loc=loc, input=value)]
    )


def check_end_after_start(start: datetime, end: datetime) -> None:
    """`check_order`, an end not after the start located at `end` (a mix of offsets stays
    the section's problem: neither field alone is wrong)."""
    try:
        check_order(start, end)
    except ValueError as exc:
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise
        raise field_error("end", str(exc), end) from None


class Window(Strict):
    """A time window [start, end)."""

    start: Time
    end: Time

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        check_end_after_start(self.start, self.end)
        return self
