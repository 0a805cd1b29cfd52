"""Scenario sections of the grid side: price and carbon signals, coincident peaks, the
utility tariff and the grid connection."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from microgrid.scenario_fields import (
    MAX_TOU_BANDS,
    CarbonGPerKWh,
    Frozen,
    FrozenDict,
    Name,
    PowerMW,
    PriceUSDPerMWh,
    Strict,
    Time,
    field_error,
)


class TimeOfUseBand(Strict):
    """Price and carbon from `start_hour` (local, inclusive) to `end_hour` (exclusive); a
    band whose `start_hour` is after its `end_hour` runs through midnight (22 to 6: the
    night rate from 22:00 to 06:00). A band from an hour to the same hour is empty and is
    refused (a whole day is 0 to 24), as are bands that overlap; together the bands cover
    every local hour of the period. A band without `carbon_g_per_kwh` takes the bands'
    default, `signals.carbon_g_per_kwh`; with neither it is refused (no 0 g/kWh unsaid)."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    price_usd_per_mwh: PriceUSDPerMWh
    carbon_g_per_kwh: CarbonGPerKWh | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TimeOfUseBand:
        if self.start_hour == self.end_hour:
            raise ValueError(
                f"start_hour and end_hour are both {self.start_hour}: the band is empty "
                "(a whole day is 0 to 24; a band through midnight starts after it ends)"
            )
        return self

    @property
    def hours(self) -> tuple[int, ...]:
        """The local clock hours (0-23) the band covers, through midnight if it wraps."""
        if self.start_hour < self.end_hour:
            return tuple(range(self.start_hour, self.end_hour))
        return (*range(self.start_hour, 24), *range(self.end_hour))

    def span(self) -> str:
        """The band's hours as written, e.g. "22-6"."""
        return f"{self.start_hour}-{self.end_hour}"


def _no_overlaps(bands: tuple[TimeOfUseBand, ...]) -> tuple[TimeOfUseBand, ...]:
    """Each local hour takes one band: a later band overlapping an earlier one is refused
    (it would win silently)."""
    for i, band in enumerate(bands):
        for j, earlier in enumerate(bands[:i]):
            common = sorted(set(band.hours) & set(earlier.hours))
            if common:
                # located at band i (`signals.time_of_use.<i>`, its YAML line): the
                # list's validator alone sees every band
                raise field_error(
                    i,
                    f"band {i} ({band.span()}) overlaps band {j} ({earlier.span()}) at local "
                    f"hour(s) {common}: each hour of the day takes one band",
                    band,
                )
    return bands


# Units a signal column's name may state (tokens of the name, see `_stated_units`). The
# CSV's values are read as USD/MWh and g/kWh (= kg/MWh), so a column whose name states
# another unit would be read wrongly: it is refused (there is no unit setting).
_MONEY_UNITS = frozenset(["usd", "eur", "gbp", "cad", "aud", "jpy", "cny", "cents"])
_MASS_UNITS = frozenset(["g", "kg", "t", "lb"])
_ENERGY_UNITS = frozenset(["wh", "kwh", "mwh", "gwh", "twh", "kw", "mw", "mmbtu", "gj", "mj"])
# other spellings of a unit -> its token above
_SYNONYMS = {
    "dollar": "usd", "dollars": "usd", "euro": "eur", "euros": "eur", "cent": "cents",
    "ct": "cents", "gram": "g", "grams": "g", "gr": "g", "kilogram": "kg", "kilograms": "kg",
    "kgs": "kg", "ton": "t", "tons": "t", "tonne": "t", "tonnes": "t", "mt": "t",
    "lbs": "lb", "pound": "lb", "pounds": "lb",
}  # fmt: skip
# a unit written as one word: "kgco2perkwh", "lbspermwh", "gco2e", "tco2", "permwh"
_AMOUNT_WORDS = sorted(_MONEY_UNITS | _MASS_UNITS | _SYNONYMS.keys(), key=len, reverse=True)
_UNIT_WORD = re.compile(
    rf"(?P<amount>{'|'.join(_AMOUNT_WORDS)})?(?:co2(?:e|eq)?)?(?:per)?"
    rf"(?P<energy>{'|'.join(sorted(_ENERGY_UNITS, key=len, reverse=True))})?"
)
# the (amount, energy) a name may state (None: not stated) for each expected unit
_PRICE_UNITS = frozenset([(None, None), ("usd", None), (None, "mwh"), ("usd", "mwh")])
_CARBON_UNITS = frozenset(
    [(None, None), ("g", None), (None, "kwh"), ("g", "kwh"), ("kg", "mwh")]
)  # fmt: skip


def _unit_token(word: str) -> tuple[str | None, str | None]:
    """The amount (money or mass) and energy unit one word of a column name states, or
    (None, None): "kgco2perkwh" -> (kg, kwh), "pounds" -> (lb, None), "carbon" -> none."""
    if word in _ENERGY_UNITS:  # "gwh", "twh": an energy, not g or t per Wh
        return None, word
    found = _UNIT_WORD.fullmatch(word)
    if not found:
        return None, None
    amount = found["amount"]
    return (_SYNONYMS.get(amount, amount) if amount else None), found["energy"]


def _stated_units(column: str) -> tuple[set[str], set[str]]:
    """The money or mass units and the energy units a column name states, from its words
    ("price ($/kWh)" -> usd, kwh; "carbon_gco2e_per_kwh" -> g, kwh; "carbon_kgco2perkwh"
    -> kg, kwh; "carbon_pounds_per_mwh" -> lb, mwh)."""
    text = column.lower().replace("$", " usd ").replace("\u00a2", " cents ").replace("/", " per ")
    amounts: set[str] = set()
    energies: set[str] = set()
    for word in re.split(r"[^a-z0-9]+", text):
        amount, energy = _unit_token(word)
        amounts |= {amount} if amount else set()
        energies |= {energy} if energy else set()
    return amounts, energies


def _column_unit(column: str, expected: frozenset, unit: str) -> str:
    """`column`, unless its name states a unit other than `unit` (`expected`: the
    (amount, energy) pairs a name may state, None where it states none)."""
    amounts, energies = _stated_units(column)
    if len(amounts) <= 1 and len(energies) <= 1:
        stated_pair = (next(iter(amounts), None), next(iter(energies), None))
        if stated_pair in expected:
            return column
    stated = "/".join(sorted(amounts) + sorted(energies))
    raise ValueError(
        f"column {column!r} states the unit {stated}, but its values are read as {unit}: "
        f"convert the column to {unit} and name it so (there is no unit setting)"
    )


class Signals(Strict):
    """Price and carbon intensity: a CSV file, constants, or a time-of-use table. The CSV's
    price column is read in USD/MWh and its carbon column in g/kWh (= kg/MWh); a column
    name that states another unit (`price_usd_per_kwh`, `carbon_lb_per_mwh`) is refused.
    `carbon_g_per_kwh` is the constant carbon beside `price_usd_per_mwh`, or beside
    `time_of_use` the carbon of every band that gives none; beside `csv` (whose carbon
    column is read) it is refused, as it is where every band gives its own. The carbon is
    an average intensity of the grid's supply, CO2-equivalent (the shipped files:
    Electricity Maps, direct or life-cycle columns), not the marginal one. A value above
    1,600 g/kWh is refused (lb/MWh or g/MWh); carbon whose largest value in the period is
    above 0 but below 2 is warned of (kg/kWh?; docs/data-quality.md)."""

    csv: Path | None = None
    timestamp_column: Name = "timestamp_utc"
    price_column: Name = "price_usd_per_mwh"
    carbon_column: Name = "carbon_direct_g_per_kwh"
    price_usd_per_mwh: PriceUSDPerMWh | None = None
    carbon_g_per_kwh: CarbonGPerKWh | None = None
    time_of_use: Annotated[tuple[TimeOfUseBand, ...], Field(max_length=MAX_TOU_BANDS)] | None = None
    # Hours past either end of the CSV that may repeat its first/last value. A local
    # calendar year west of UTC runs a few hours past a UTC-year file (Chicago: 6 h);
    # 0 makes any shortfall an error.
    edge_fill_hours: int = Field(default=0, ge=0, le=24)
    # Correct a price column whose stamps are late by this many hours (the price at t is
    # read from the row t + price_shift_h); see docs/data-quality.md. The hours shifted
    # past the file's end repeat its last price.
    price_shift_h: int = Field(default=0, ge=-24, le=24)

    @field_validator("time_of_use")
    @classmethod
    def _bands_apart(
        cls, bands: tuple[TimeOfUseBand, ...] | None
    ) -> tuple[TimeOfUseBand, ...] | None:
        return None if bands is None else _no_overlaps(bands)

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
        if self.csv is not None and self.carbon_g_per_kwh is not None:
            raise field_error(
                "carbon_g_per_kwh",
                f"carbon_g_per_kwh is not used beside csv: the carbon intensity is the "
                f"file's column {self.carbon_column!r} (carbon_column); remove it",
                self.carbon_g_per_kwh,
            )
        if self.time_of_use is not None:
            _bands_carbon(self.time_of_use, self.carbon_g_per_kwh)
        return self

    def band_carbon_g_per_kwh(self, band: TimeOfUseBand) -> float:
        """The carbon of a time-of-use `band`: its own, else the bands' default."""
        own = band.carbon_g_per_kwh
        return float(self.carbon_g_per_kwh if own is None else own)


def _bands_carbon(bands: tuple[TimeOfUseBand, ...], default_g_per_kwh: float | None) -> None:
    """Every band has a carbon intensity (its own or the default), and a default is used."""
    missing = [i for i, band in enumerate(bands) if band.carbon_g_per_kwh is None]
    if missing and default_g_per_kwh is None:
        i = missing[0]
        raise field_error(
            ("time_of_use", i),
            f"band {i} ({bands[i].span()}) gives no carbon_g_per_kwh: give it one, or "
            "give signals.carbon_g_per_kwh as the default of the bands without one "
            "(0 for a grid counted as carbon-free)",
            bands[i],
        )
    if not missing and default_g_per_kwh is not None:
        raise field_error(
            "carbon_g_per_kwh",
            "carbon_g_per_kwh (the default of time-of-use bands without one) is not used: "
            "every band gives its own; remove it",
            default_g_per_kwh,
        )


MAX_CP_INTERVALS = 1_000  # coincident-peak intervals listed in the scenario


class CoincidentPeaks(Strict):
    """Coincident-peak charges (ERCOT 4CP, PJM 5CP; microgrid/coincident_peak.py): the
    tag is the average import over the `n_peaks` intervals, billed at `usd_per_mw_year`."""

    # USD per MW of tag per year (ERCOT 4CP transmission: about 25,000)
    usd_per_mw_year: float = Field(ge=0, le=10_000_000)
    n_peaks: int = Field(ge=1, le=100)  # 4 for ERCOT 4CP, 5 for PJM 5CP
    # The intervals' local start times (the truth the bill uses), or a CSV of them
    intervals: Annotated[tuple[Time, ...], Field(max_length=MAX_CP_INTERVALS)] | None = None
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
    prior_monthly_peaks_mw: Annotated[dict[MonthLabel, PowerMW], Field(max_length=24), Frozen] = (
        FrozenDict()
    )


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
    # The utility's demand interval (minutes): the monthly charge bills the highest
    # average import over intervals of the local clock where it is longer than the step
    # (None: each step's average; a URDB tariff gives its own `demandwindow`).
    demand_window_minutes: Literal[15, 30, 60] | None = None
    ramp_mw_per_h: PowerMW | None = None
    coincident_peaks: CoincidentPeaks | None = None
    tariff: Tariff | None = None
