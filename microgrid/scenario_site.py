"""Scenario sections of the site and what is built on it: place, period, weather, PV,
wind, battery and generators."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from microgrid.scenario_fields import (
    CarbonGPerKWh,
    CostUSDPerMWh,
    Efficiency,
    EnergyMWh,
    Frac,
    Name,
    PowerMW,
    Strict,
    TempC,
    Time,
    TimeZoneName,
    check_end_after_start,
    field_error,
)


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
        check_end_after_start(self.start, self.end)
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
    # Site CSV: what a row holds. "hour_mean": the mean of the hour its stamp starts.
    # "instant": the value at its stamp, as Open-Meteo gives temperature, cloud cover and
    # wind; an hour's mean is then the mean of its two ends (docs/weather.md). The default
    # keeps the results of earlier releases.
    site_csv_values: Literal["hour_mean", "instant"] = "hour_mean"
    # The weather file's own location (TMY/EPW header, shipped site CSV metadata) may lie
    # at most this far from site.latitude_deg/longitude_deg: a file of another place is
    # refused. 100 km: a TMY station stands for its region, not for another climate.
    max_site_distance_km: float = Field(default=100.0, gt=0, le=20_100)

    @model_validator(mode="after")
    def _path_needed(self) -> Weather:
        if self.source != "clearsky" and self.path is None:
            raise ValueError(f"weather source {self.source!r} needs a path")
        return self

    @model_validator(mode="after")
    def _site_csv_only(self) -> Weather:
        """A site CSV's own settings on another source would change nothing: refused."""
        if self.source == "site_csv":
            return self
        for name, default in (("utc_offset_seconds", None), ("site_csv_values", "hour_mean")):
            value = getattr(self, name)
            if value != default:
                raise field_error(
                    name, f"{name} is for source site_csv (this weather is {self.source})", value
                )
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
        lo, hi = self.soc_min_frac, self.soc_max_frac
        if lo > hi:
            raise field_error("soc_min_frac", f"soc_min_frac ({lo}) > soc_max_frac ({hi})", lo)
        for name in ("soc_initial_frac", "soc_final_frac"):
            v = getattr(self, name)
            if v is not None and not lo <= v <= hi:
                raise field_error(name, f"{name} ({v}) outside [soc_min_frac, soc_max_frac]", v)
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
