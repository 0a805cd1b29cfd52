"""ResourceChain: site + weather + PV/wind parameters -> available MW on a UTC step index.

Like pvlib's ModelChain, it only wires the small models together:

* irradiance: measured GHI/DNI/DHI when the weather has them (TMY); otherwise Ineichen
  clear sky attenuated by cloud cover (Kasten-Czeplak) and split by Erbs; with no
  weather at all ("clear-sky only"), the clear sky itself;
* time: every output row is the average over the step that starts at its stamp, so the
  sun is evaluated at the step **mid-point** (t + step/2). Evaluating at the stamp would
  shift hourly PV by half an hour (morning too low, afternoon too high);
* sub-hourly steps: the weather inputs are interpolated (see :mod:`weather.resample`);
  measured GHI, DNI and DHI are carried as clear-sky indices (each over its hour against
  the hour-mean clear sky), interpolated, then multiplied by the clear sky of the step;
* PV: :func:`weather.pv.pv_ac_mw`; wind: :mod:`weather.wind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from weather import clearsky, resample
from weather.errors import WeatherDataError
from weather.limits import WEATHER_RANGES, check_range, check_weather_values, check_whole
from weather.location import LOCATION_RANGES
from weather.pv import PVSystem, pv_ac_mw
from weather.wind import WindFarm, air_density_kg_per_m3, hub_wind_speed_m_per_s, wind_farm_mw

#: Output columns of :meth:`ResourceChain.run`.
OUTPUT_COLUMNS = (
    "pv_available_mw",
    "wind_available_mw",
    "temp_air_c",
    "ghi_w_per_m2",
    "wind_speed_hub_m_per_s",
)
_WEATHER_INPUTS = (
    "temp_air_c",
    "wind_speed_10m_m_per_s",
    "cloud_cover_pct",
    "pressure_pa",
    "relative_humidity_pct",
)
#: Module wind speed (m/s) assumed in clear-sky-only mode (pvlib's Faiman default).
CLEAR_SKY_WIND_M_PER_S = 1.0
#: Range of a fixed Linke turbidity (-): pvlib's monthly climatology spans 0.65 to 7.65;
#: the top, twice its highest, only guards against a wrong unit. A negative one made the
#: Ineichen clear sky grow without bound.
LINKE_TURBIDITY_RANGE = (0.0, 15.0)


@dataclass(frozen=True)
class Site:
    """Location: latitude (deg N), longitude (deg E, west negative), altitude (m a.s.l.)."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0

    def __post_init__(self) -> None:
        # Unchecked, an altitude of -5000 m gave a clear-sky GHI of 4e152 W/m2 and a
        # latitude of 95 or NaN failed inside pvlib with no field named.
        for name, key in (
            ("latitude_deg", "latitude"),
            ("longitude_deg", "longitude"),
            ("altitude_m", "elevation"),
        ):
            lo, hi, unit = LOCATION_RANGES[key]
            check_range(f"Site.{name}", name, getattr(self, name), (lo, hi), unit)


class _Drivers(NamedTuple):
    """What the PV and wind models read at each step: irradiance (W/m2, with the solar
    position), air temperature (deg C), 10 m wind (m/s; None without weather), module
    wind (m/s) and surface pressure (Pa; None for the standard atmosphere)."""

    irradiance: pd.DataFrame
    temp_air_c: np.ndarray
    wind_10m_m_per_s: np.ndarray | None
    module_wind_m_per_s: np.ndarray
    pressure_pa: np.ndarray | None


def _clear_sky_drivers(cs: pd.DataFrame, temp_air_c: float | None) -> _Drivers:
    """Clear-sky only: the clear sky itself, a constant air temperature (deg C), no wind."""
    if temp_air_c is None:
        raise WeatherDataError("clear-sky only mode needs a constant temp_air_c")
    # a NaN temperature gave 0 MW of PV
    check_range("temp_air_c", "temp_air_c", temp_air_c, WEATHER_RANGES["temp_air_c"], "deg C")
    n = len(cs)
    return _Drivers(
        cs, np.full(n, float(temp_air_c)), None, np.full(n, CLEAR_SKY_WIND_M_PER_S), None
    )


def _check_used_weather(weather: pd.DataFrame, index_utc, step, edge_fill_hours) -> None:
    """Raise :class:`WeatherDataError` for a value out of its physical range, or NaN, in a
    column the run uses, on the hours it reads (``weather.limits``). A DataFrame given
    directly skips the readers' checks: a NaN temperature gave 0 MW of PV and NaN wind, a
    negative wind speed a negative hub speed. Cloud cover is used only without GHI, so a
    NaN beside GHI (a TMY's missing total sky cover) is no error; relative humidity is
    not used."""
    cols = weather.columns
    used = [c for c in ("temp_air_c", "wind_speed_10m_m_per_s", "pressure_pa") if c in cols]
    if "ghi_w_per_m2" in cols:
        used += [c for c in clearsky.IRRADIANCE_COLUMNS if c in cols]
    elif "cloud_cover_pct" in cols:
        used.append("cloud_cover_pct")
    # The hours the run selects, as the frame gives them: the selection fills every NaN
    # when it holds an edge hour. A row with nothing in the columns read is a missing
    # hour, which the selection refuses inside the period and fills at its edges.
    read = [c for c in (*_WEATHER_INPUTS, *clearsky.IRRADIANCE_COLUMNS) if c in cols]
    hours = resample.select_period(
        weather[read], index_utc, edge_fill_hours=edge_fill_hours, step=step
    ).index
    rows = weather.loc[weather.index.isin(hours), read].sort_index()
    rows = rows[rows.notna().any(axis=1).to_numpy()]
    check_weather_values(rows, used, weather.attrs.get("source"))


class ResourceChain:
    """Available PV and wind power of one site.

    Parameters
    ----------
    site : Site
    pv : PVSystem or None (no PV: ``pv_available_mw`` is 0)
    wind : WindFarm or None (no wind: ``wind_available_mw`` is 0)
    linke_turbidity : fixed Linke turbidity, or None for pvlib's monthly climatology
    """

    def __init__(
        self,
        site: Site,
        pv: PVSystem | None = None,
        wind: WindFarm | None = None,
        *,
        linke_turbidity: float | None = None,
    ) -> None:
        if linke_turbidity is not None:
            check_range(
                "linke_turbidity",
                "linke_turbidity",
                linke_turbidity,
                LINKE_TURBIDITY_RANGE,
                "",
                low_open=True,
            )
        self.site = site
        self.pv = pv
        self.wind = wind
        self.linke_turbidity = linke_turbidity

    def run(
        self,
        index_utc: pd.DatetimeIndex,
        weather: pd.DataFrame | None = None,
        *,
        temp_air_c: float | None = None,
        step: pd.Timedelta | None = None,
        edge_fill_hours: int = 0,
    ) -> pd.DataFrame:
        """Resource series on ``index_utc`` (UTC, step 1 h or a divisor of 1 h).

        ``weather``: an hourly DataFrame from :mod:`weather.io` or
        :mod:`weather.site_csv` (or None for clear-sky only, which needs a constant
        ``temp_air_c`` in deg C; there is then no wind). On the hours the run reads,
        the columns it uses must lie in their physical ranges
        (:data:`weather.limits.WEATHER_RANGES`), NaN refused: a frame given directly
        skips the readers' checks. ``edge_fill_hours`` is a whole number >= 0.
        ``step``: only for a one-element index without freq. ``edge_fill_hours``: see
        :func:`weather.resample.select_period`.

        Returns ``pv_available_mw``, ``wind_available_mw`` (MW averages over each step),
        ``temp_air_c`` (deg C), ``ghi_w_per_m2`` (W/m2) and ``wind_speed_hub_m_per_s``
        (m/s; NaN without a wind farm or without weather).
        """
        # a negative or fractional count of hours was taken as given
        check_whole("edge_fill_hours", "edge_fill_hours", edge_fill_hours)
        step = resample.check_index(index_utc, step)
        mid = pd.DatetimeIndex(index_utc + step / 2)
        s = self.site
        cs = clearsky.clearsky_irradiance(
            mid, s.latitude_deg, s.longitude_deg, s.altitude_m, linke_turbidity=self.linke_turbidity
        )
        if weather is None:
            drivers = _clear_sky_drivers(cs, temp_air_c)
        else:
            drivers = self._weather_drivers(weather, index_utc, cs, step, edge_fill_hours)
        return self._power(index_utc, drivers)

    def _power(self, index_utc: pd.DatetimeIndex, d: _Drivers) -> pd.DataFrame:
        """The output columns of :meth:`run` from the step drivers ``d``."""
        out = pd.DataFrame(index=index_utc)
        if self.pv is None:
            out["pv_available_mw"] = 0.0
        else:
            out["pv_available_mw"] = pv_ac_mw(
                self.pv, d.irradiance, d.temp_air_c, d.module_wind_m_per_s
            ).to_numpy()
        if self.wind is None or d.wind_10m_m_per_s is None:
            out["wind_available_mw"] = 0.0
            v_hub = np.full(len(index_utc), np.nan)
        else:
            f = self.wind
            v_hub = hub_wind_speed_m_per_s(d.wind_10m_m_per_s, f.hub_height_m, f.roughness_length_m)
            rho = air_density_kg_per_m3(
                d.temp_air_c,
                f.hub_height_m,
                pressure_pa=d.pressure_pa,
                altitude_m=self.site.altitude_m,
            )
            out["wind_available_mw"] = wind_farm_mw(f, v_hub, rho)
        out["temp_air_c"] = d.temp_air_c
        out["ghi_w_per_m2"] = d.irradiance["ghi_w_per_m2"].to_numpy()
        out["wind_speed_hub_m_per_s"] = np.asarray(v_hub, dtype=float)
        return out

    def _weather_drivers(self, weather, index_utc, cs, step, edge_fill_hours) -> _Drivers:
        """The drivers of an hourly weather frame on the steps of ``index_utc``."""
        for need in ("temp_air_c", "wind_speed_10m_m_per_s"):
            if need not in weather.columns:
                raise WeatherDataError(
                    f"weather has no column {need!r}", path=weather.attrs.get("source")
                )
        _check_used_weather(weather, index_utc, step, edge_fill_hours)
        cols = [c for c in _WEATHER_INPUTS if c in weather.columns]
        w = resample.to_step(weather[cols], index_utc, edge_fill_hours=edge_fill_hours)
        wind10 = w["wind_speed_10m_m_per_s"].to_numpy()
        return _Drivers(
            irradiance=self._irradiance(weather, w, cs, step, edge_fill_hours),
            temp_air_c=w["temp_air_c"].to_numpy(),
            wind_10m_m_per_s=wind10,
            module_wind_m_per_s=wind10,
            pressure_pa=w["pressure_pa"].to_numpy() if "pressure_pa" in w else None,
        )

    def _irradiance(self, weather, w, cs, step, edge_fill_hours) -> pd.DataFrame:
        """Irradiance at the step mid-points from measured GHI or from cloud cover.
        Measured GHI without DNI and DHI is split by Erbs at the steps."""
        src = weather.attrs.get("source")
        if "ghi_w_per_m2" in weather.columns:
            cols = [c for c in clearsky.IRRADIANCE_COLUMNS if c in weather.columns]
            on_hour = resample.hour_phase(weather.index, src) == pd.Timedelta(0)
            if step == resample.HOUR and on_hour:
                meas = resample.to_step(weather[cols], w.index, edge_fill_hours=edge_fill_hours)
                irr = meas.set_axis(cs.index)
            else:
                irr = self._measured_at_steps(weather[cols], w.index, cs, step, edge_fill_hours)
            if cols != list(clearsky.IRRADIANCE_COLUMNS):
                irr = clearsky.decompose_ghi(irr["ghi_w_per_m2"], cs["zenith_deg"])
            return irr.join(cs[["apparent_zenith_deg", "zenith_deg", "azimuth_deg"]])
        if "cloud_cover_pct" in w.columns:
            return clearsky.cloud_attenuated_irradiance(cs, w["cloud_cover_pct"].to_numpy())
        raise WeatherDataError("weather has neither ghi_w_per_m2 nor cloud_cover_pct", path=src)

    def _measured_at_steps(self, measured, index_utc, cs, step, edge_fill_hours) -> pd.DataFrame:
        """Measured hourly irradiance (``measured``: its irradiance columns) at steps
        shorter than its hours, or off their grid: each column's clear-sky index over its
        hour (GHI, DNI and DHI each against its own clear sky, so the measured split is
        kept) is interpolated to the step mid-points and multiplied by the clear sky
        there."""
        hourly = resample.select_period(
            measured, index_utc, edge_fill_hours=edge_fill_hours, step=step
        )
        s = self.site
        clear_h = clearsky.hour_mean_clearsky(
            hourly.index,
            s.latitude_deg,
            s.longitude_deg,
            s.altitude_m,
            linke_turbidity=self.linke_turbidity,
        )
        k_step = resample.to_step(clearsky.clear_sky_index(hourly, clear_h), index_utc, step=step)
        return pd.DataFrame(
            {c: k_step[c].to_numpy() * cs[c].to_numpy() for c in measured.columns}, cs.index
        )
