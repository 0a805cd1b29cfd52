"""Read, validate and write electricity rates in the U.S. Utility Rate Database's JSON format.

A file holds one rate object, a list of them, or an API response ``{"items": [...]}``;
``label`` picks one when there are several. Units are URDB's: USD/kWh for energy, USD/kW
for demand, kWh per month for energy tier limits. Schedules are 12 x 24 matrices (month x
local hour) of 0-based period indices. Every field is either used (see docs/tariffs.md),
accepted as metadata, or refused by name: nothing is silently ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microgrid.atomic import atomic_write_text
from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.json_lines import json_line_map
from microgrid.yamlio import line_of

# Descriptive fields: accepted, written back, not used by the model. The eligibility
# limits (peakkw*, peakkwh*, voltage*) decide whether a site may take the rate, not the bill.
METADATA_FIELDS = frozenset(
    [
        "_id",
        "label",
        "name",
        "utility",
        "utility_id",
        "eiaid",
        "sector",
        "servicetype",
        "description",
        "source",
        "sourceparent",
        "uri",
        "startdate",
        "enddate",
        "supersedes",
        "approved",
        "is_default",
        "country",
        "designsector",
        "basicinformationcomments",
        "energycomments",
        "demandcomments",
        "dgrules",
        "revisions",
        "latest_update",
        "peakkwcapacitymin",
        "peakkwcapacitymax",
        "peakkwcapacityhistory",
        "peakkwhusagemin",
        "peakkwhusagemax",
        "peakkwhusagehistory",
        "voltageminimum",
        "voltagemaximum",
        "voltagecategory",
        "phasewiring",
    ]
)
SCHEDULE_FIELDS = (
    "energyweekdayschedule",
    "energyweekendschedule",
    "demandweekdayschedule",
    "demandweekendschedule",
)
STRUCTURE_FIELDS = ("energyratestructure", "demandratestructure", "flatdemandstructure")
SCALAR_FIELDS = {
    "flatdemandunit": ("kW",),
    "demandrateunit": ("kW",),
    "fixedchargeunits": ("$/month", "$/day"),
    "minchargeunits": ("$/month", "$/day"),
}
NUMBER_FIELDS = ("fixedchargefirstmeter", "demandwindow", "mincharge", "lookbackpercent")
SUPPORTED_FIELDS = frozenset(
    [*SCHEDULE_FIELDS, *STRUCTURE_FIELDS, *SCALAR_FIELDS, *NUMBER_FIELDS]
    + ["flatdemandmonths", "demandratchetpercentage", "lookbackrange", "lookbackmonths"]
    + ["usenetmetering"]
)
TIER_KEYS = {"energy": ("max", "unit", "rate", "adj", "sell"), "demand": ("max", "rate", "adj")}
MAX_RATE = 1_000.0  # USD per kWh or per kW: far above any real rate, catches typos


@dataclass(frozen=True)
class Tier:
    """One tier of a period: ``rate`` + ``adj`` (USD/kWh or USD/kW) up to ``max`` (kWh per
    month, or kW); ``sell`` (USD/kWh) is paid for exports. None: absent in the file."""

    rate: float | None = None
    adj: float | None = None
    max: float | None = None
    unit: str | None = None
    sell: float | None = None

    @property
    def total(self) -> float:
        """rate + adj (USD per kWh or per kW); an absent value counts 0."""
        return (self.rate or 0.0) + (self.adj or 0.0)


Structure = tuple[tuple[Tier, ...], ...]  # per period (0-based) its tiers
Schedule = tuple[tuple[int, ...], ...]  # 12 months x 24 local hours -> 0-based period


@dataclass(frozen=True)
class UrdbRate:
    """One URDB rate: the fields the model uses, plus the metadata to write it back.

    A None field (or empty structure) was absent from the file."""

    path: str  # the file it came from, for error messages
    metadata: dict[str, Any] = field(default_factory=dict)
    # where the rate sits in its file (("items", 1) in a list of rates): errors' lines
    origin: tuple = field(default=(), compare=False)
    energyweekdayschedule: Schedule | None = None
    energyweekendschedule: Schedule | None = None
    energyratestructure: Structure = ()
    demandweekdayschedule: Schedule | None = None
    demandweekendschedule: Schedule | None = None
    demandratestructure: Structure = ()
    flatdemandstructure: Structure = ()
    flatdemandmonths: tuple[int, ...] | None = None
    flatdemandunit: str | None = None
    demandrateunit: str | None = None
    fixedchargefirstmeter: float | None = None
    fixedchargeunits: str | None = None
    mincharge: float | None = None
    minchargeunits: str | None = None
    demandwindow: float | None = None  # minutes; demand averaged over it (to_grid)
    demandratchetpercentage: tuple[float, ...] | None = None  # fraction per month
    lookbackpercent: float | None = None  # fraction
    lookbackrange: int | None = None  # months
    lookbackmonths: tuple[bool, ...] | None = None
    usenetmetering: bool | None = None

    @property
    def has_ratchet(self) -> bool:
        """A ratchet on the flat monthly demand: a month's percentage or a look-back."""
        return bool(any(self.demandratchetpercentage or ()) or self.lookbackpercent)

    @property
    def label(self) -> str:
        return str(self.metadata.get("label", ""))

    def error(self, message: str, field_name: str | None = None, at: tuple = ()) -> InputError:
        """An InputError naming this rate's file, the line of the value at
        ``(field_name, *at)`` in this rate (``at``: indices and keys inside the field) and
        that value's path (``energyratestructure[3][0].rate``)."""
        if not field_name:
            return InputError(message, path=self.path)
        shown = field_name + "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in at)
        line = self._line((field_name, *at))
        return InputError(message, path=self.path, line=line, field=shown)

    def _line(self, loc: tuple) -> int | None:
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return line_of(json_line_map(text), (*self.origin, *loc))


def _is_empty(value: Any) -> bool:
    """Absent in substance: null, "", [], {}, 0 or false (a zero charge changes no bill)."""
    return (
        value is None
        or value == ""
        or value == []
        or value == {}
        or value is False
        or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)
    )


class NoSuchLabel(InputError):
    """The file holds no rate with the label asked for (a scenario's `grid.tariff.label`)."""


def pick_rate(data: Any, label: str | None, path: str) -> tuple[dict, tuple]:
    """The one rate object of a file (a rate, a list, or ``{"items": [...]}``) and where it
    sits in the file (``()``, ``(i,)`` or ``("items", i)``)."""
    prefix: tuple = ()
    if isinstance(data, dict) and "items" in data and "energyratestructure" not in data:
        data, prefix = data["items"], ("items",)
    if not isinstance(data, list):
        data, prefix = [data], None
    if not all(isinstance(r, dict) for r in data) or not data:
        raise InputError("expected a URDB rate object, a list of them or {items: [...]}", path=path)
    found = [i for i, r in enumerate(data) if label is None or r.get("label") == label]
    if not found:
        raise NoSuchLabel(f"no rate with label {label!r}", path=path, field="label")
    if len(found) > 1:
        labels = ", ".join(str(data[i].get("label")) for i in found[:5])
        raise InputError(f"{len(found)} rates ({labels}, ...): name one by label", path=path)
    return data[found[0]], (() if prefix is None else (*prefix, found[0]))


def read_urdb(path: Path, label: str | None = None) -> UrdbRate:
    """The rate in the URDB JSON file ``path`` (InputError naming file, line and field)."""
    rate, origin = pick_rate(read_json_file(Path(path)), label, str(path))
    return rate_from_dict(rate, str(path), origin)


def rate_from_dict(d: dict, path: str, origin: tuple = ()) -> UrdbRate:
    """Validate one URDB rate object; refuse every unsupported non-empty field by name.
    ``origin``: where it sits in the file ``path`` (see ``pick_rate``), for errors' lines."""
    rate = UrdbRate(path=path, origin=origin)  # for error messages while parsing
    for key, value in d.items():
        if key not in METADATA_FIELDS and key not in SUPPORTED_FIELDS and not _is_empty(value):
            raise rate.error(f"unsupported URDB field {key!r}: {_why_refused(key)}", key)
    meta = {k: v for k, v in d.items() if k in METADATA_FIELDS}
    values: dict[str, Any] = {}
    for key in SCHEDULE_FIELDS:
        if d.get(key) is not None:
            values[key] = _schedule(rate, key, d[key])
    for key in STRUCTURE_FIELDS:
        if d.get(key) is not None:
            values[key] = _structure(rate, key, d[key])
    for key, allowed in SCALAR_FIELDS.items():
        if d.get(key) is not None:
            values[key] = _choice(rate, key, d[key], allowed)
    for key in NUMBER_FIELDS:
        if d.get(key) is not None:
            values[key] = _number(rate, key, d[key], 0.0, 1e9)
    values.update(_ratchet_fields(rate, d))
    if d.get("flatdemandmonths") is not None:
        values["flatdemandmonths"] = _month_list(rate, "flatdemandmonths", d, int)
    if d.get("usenetmetering") is not None:
        if not isinstance(d["usenetmetering"], bool):
            raise rate.error("must be true or false", "usenetmetering")
        values["usenetmetering"] = d["usenetmetering"]
    rate = UrdbRate(path=path, metadata=meta, origin=origin, **values)
    check_rate(rate)
    return rate


def _why_refused(key: str) -> str:
    reasons = {
        "coincidentratestructure": "coincident demand charges are not modelled from URDB",
        "coincidentrateschedule": "coincident demand charges are not modelled from URDB",
        "fueladjustmentsmonthly": "monthly fuel adjustments are not modelled",
        "demandreactivepowercharge": "reactive power is not modelled",
        "energyattrs": "energy attributes are not modelled",
        "demandattrs": "demand attributes are not modelled",
    }
    return reasons.get(key, "not modelled; remove it or set it empty to accept the rate")


def _number(rate: UrdbRate, key: str, v: Any, lo: float, hi: float, at: tuple = ()) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise rate.error(f"must be a number, got {v!r}", key, at)
    if not lo <= v <= hi:
        raise rate.error(f"{v} is outside [{lo:g}, {hi:g}]", key, at)
    return v


def _choice(rate: UrdbRate, key: str, v: Any, allowed: tuple[str, ...]) -> str:
    if v not in allowed:
        raise rate.error(f"{v!r} is not supported (supported: {', '.join(allowed)})", key)
    return v


def _schedule(rate: UrdbRate, key: str, v: Any) -> Schedule:
    message = "must be 12 lists (months) of 24 period indices (hours, 0-based)"
    if not (isinstance(v, list) and len(v) == 12):
        raise rate.error(message, key)
    for m, row in enumerate(v):
        if not (isinstance(row, list) and len(row) == 24):
            raise rate.error(message, key, (m,))
        for h, p in enumerate(row):
            if not (type(p) is int and 0 <= p < 1000):
                raise rate.error(f"{message}; month {m} hour {h} holds {p!r}", key, (m, h))
    return tuple(tuple(row) for row in v)


def _tier(rate: UrdbRate, key: str, at: tuple, t: Any, kind: str) -> Tier:
    """Tier ``at`` = (period, tier) of structure ``key``."""
    if not isinstance(t, dict):
        raise rate.error("a tier must be an object", key, at)
    extra = sorted(set(t) - set(TIER_KEYS[kind]))
    if extra:
        raise rate.error(f"unsupported tier key {extra[0]!r} in {kind} tiers", key, (*at, extra[0]))
    nums = {}
    for k, lo, hi in (("rate", -MAX_RATE, MAX_RATE), ("adj", -MAX_RATE, MAX_RATE),
                      ("sell", -MAX_RATE, MAX_RATE), ("max", 0.0, 1e12)):  # fmt: skip
        if t.get(k) is not None:
            nums[k] = _number(rate, key, t[k], lo, hi, (*at, k))
    if t.get("unit") is not None and t["unit"] != "kWh":
        message = f"tier unit {t['unit']!r} is not supported (only monthly 'kWh')"
        raise rate.error(message, key, (*at, "unit"))
    return Tier(unit=t.get("unit"), **nums)


def _structure(rate: UrdbRate, key: str, v: Any) -> Structure:
    kind = "energy" if key == "energyratestructure" else "demand"
    if not isinstance(v, list) or not all(isinstance(p, list) and p for p in v):
        raise rate.error("must be a list of periods, each a non-empty list of tiers", key)
    return tuple(
        tuple(_tier(rate, key, (i, j), t, kind) for j, t in enumerate(period))
        for i, period in enumerate(v)
    )


def _month_list(rate: UrdbRate, key: str, d: dict, kind: type) -> tuple:
    v = d[key]
    if not isinstance(v, list) or len(v) != 12:
        raise rate.error("must list 12 values, one per month", key)
    if kind is bool:
        bad = next((i for i, x in enumerate(v) if not isinstance(x, bool)), None)
        if bad is not None:
            raise rate.error("must be 12 true/false values", key, (bad,))
        return tuple(v)
    if kind is int:
        bad = next((i for i, x in enumerate(v) if not (type(x) is int and x >= 0)), None)
        if bad is not None:
            raise rate.error("must be 12 period indices (0-based)", key, (bad,))
        return tuple(v)
    return tuple(_number(rate, key, x, 0.0, 1.0, (i,)) for i, x in enumerate(v))


def _ratchet_fields(rate: UrdbRate, d: dict) -> dict:
    out: dict[str, Any] = {}
    if d.get("demandratchetpercentage") is not None:
        out["demandratchetpercentage"] = _month_list(rate, "demandratchetpercentage", d, float)
    if d.get("lookbackmonths") is not None:
        out["lookbackmonths"] = _month_list(rate, "lookbackmonths", d, bool)
    if d.get("lookbackrange") is not None:
        v = d["lookbackrange"]
        if type(v) is not int or not 0 <= v <= 11:
            raise rate.error("must be a whole number of months in 0..11", "lookbackrange")
        out["lookbackrange"] = v
    if d.get("lookbackpercent") is not None:
        _number(rate, "lookbackpercent", d["lookbackpercent"], 0.0, 1.0)
    return out


def _check_periods(rate: UrdbRate, names: tuple[str, str], structure: str) -> None:
    """Both schedules or neither; every period they use exists in the structure."""
    sched = [getattr(rate, n) for n in names]
    n_periods = len(getattr(rate, structure))
    if (sched[0] is None) != (sched[1] is None):
        raise rate.error(f"{names[0]} and {names[1]} come together", names[0])
    if sched[0] is None:
        if n_periods and structure != "flatdemandstructure":
            raise rate.error(f"{structure} needs {names[0]} and {names[1]}", structure)
        return
    for name, s in zip(names, sched, strict=True):
        worst = max(p for row in s for p in row)
        if worst >= n_periods:
            at = next((m, h) for m, row in enumerate(s) for h, p in enumerate(row) if p == worst)
            message = f"uses period {worst} but {structure} has {n_periods}"
            raise rate.error(message, name, at)


def check_rate(rate: UrdbRate) -> None:
    """Cross-field checks (InputError naming the field)."""
    _check_periods(rate, SCHEDULE_FIELDS[:2], "energyratestructure")
    _check_periods(rate, SCHEDULE_FIELDS[2:], "demandratestructure")
    _check_energy_tiers(rate)
    for key in ("demandratestructure", "flatdemandstructure"):
        for i, period in enumerate(getattr(rate, key)):
            if len(period) > 1:
                raise rate.error(
                    f"period {i} has {len(period)} tiers: tiered demand charges are not "
                    "supported (one tier per period)",
                    key,
                    (i, 1),
                )
            if period[0].total < 0:
                message = f"period {i}: a negative demand rate is not supported"
                raise rate.error(message, key, (i, 0, "rate"))
    months = rate.flatdemandmonths
    if rate.flatdemandstructure and months is None:
        raise rate.error("flatdemandstructure needs flatdemandmonths", "flatdemandstructure")
    if months is not None and max(months) >= len(rate.flatdemandstructure):
        bad = next(i for i, p in enumerate(months) if p >= len(rate.flatdemandstructure))
        message = "names a period flatdemandstructure does not have"
        raise rate.error(message, "flatdemandmonths", (bad,))
    if rate.has_ratchet and not rate.flatdemandstructure:
        raise rate.error(
            "ratchets apply to the flat monthly demand: give flatdemandstructure",
            "lookbackpercent" if rate.lookbackpercent else "demandratchetpercentage",
        )
    if rate.lookbackpercent and not rate.lookbackrange and rate.lookbackmonths is None:
        raise rate.error("needs lookbackrange or lookbackmonths", "lookbackpercent")
    if rate.mincharge:
        raise rate.error("minimum charges are not modelled (set mincharge 0)", "mincharge")


def _check_energy_tiers(rate: UrdbRate) -> None:
    """Tiered periods share one set of limits (monthly kWh over all periods together)."""
    limits = {tuple(t.max for t in p[:-1]) for p in rate.energyratestructure if len(p) > 1}
    if len(limits) > 1:
        raise rate.error(
            "periods have different tier limits: only one set of monthly kWh limits is supported",
            "energyratestructure",
        )
    for lim in limits:
        if any(m is None for m in lim) or any(b <= a for a, b in zip(lim, lim[1:], strict=False)):
            raise rate.error("tier max values must be given and increase", "energyratestructure")


def _tier_dict(t: Tier) -> dict:
    return {
        k: getattr(t, k)
        for k in ("max", "unit", "rate", "adj", "sell")
        if getattr(t, k) is not None
    }


def rate_to_dict(rate: UrdbRate) -> dict:
    """The rate as a URDB JSON object: metadata and the supported fields it holds."""
    out = dict(rate.metadata)
    for key in sorted(SUPPORTED_FIELDS):
        v = getattr(rate, key)
        if v is None or (key in STRUCTURE_FIELDS and not v):
            continue
        if key in STRUCTURE_FIELDS:
            v = [[_tier_dict(t) for t in p] for p in v]
        elif key in SCHEDULE_FIELDS:
            v = [list(row) for row in v]
        elif isinstance(v, tuple):
            v = list(v)
        out[key] = v
    return out


def urdb_json(d: dict) -> str:
    """A rate object as JSON text, one key a line and a schedule's month a line."""
    lines = []
    for key, value in d.items():
        if key in SCHEDULE_FIELDS and value is not None:
            rows = ",\n".join(f"  {json.dumps(row)}" for row in value)
            text = f"[\n{rows}\n ]"
        else:
            text = json.dumps(value)
        lines.append(f" {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_urdb(path: Path, rate: UrdbRate) -> None:
    """Write ``rate`` as a one-rate URDB JSON file (temp file + rename)."""
    atomic_write_text(Path(path), urdb_json(rate_to_dict(rate)))
