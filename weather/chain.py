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

import numpy as np
import pandas as pd

from weather import clearsky, resample
from weather.errors import WeatherDataError
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


@dataclass(frozen=True)
class Site:
    """Location: latitude (deg N), longitude (deg E, west negative), altitude (m a.s.l.)."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0


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

        ``weather``: an hourly DataFrame from :mod:`weather.io` (or None for clear-sky only,
        which needs a constant ``temp_air_c`` in deg C; there is then no wind).
        ``step``: only for a one-element index without freq. ``edge_fill_hours``: see
        :func:`weather.resample.select_period`.

        Returns ``pv_available_mw``, ``wind_available_mw`` (MW averages over each step),
        ``temp_air_c`` (deg C), ``ghi_w_per_m2`` (W/m2) and ``wind_speed_hub_m_per_s``
        (m/s; NaN without a wind farm or without weather).
        """
        step = resample.check_index(index_utc, step)
        mid = pd.DatetimeIndex(index_utc + step / 2)
        s = self.site
        cs = clearsky.clearsky_irradiance(
            mid, s.latitude_deg, s.longitude_deg, s.altitude_m, linke_turbidity=self.linke_turbidity
        )
        n = len(index_utc)
        if weather is None:
            if temp_air_c is None:
                raise WeatherDataError("clear-sky only mode needs a constant temp_air_c")
            irr = cs
            temp = np.full(n, float(temp_air_c))
            wind10 = None
            module_wind = np.full(n, CLEAR_SKY_WIND_M_PER_S)
            pressure = None
        else:
            cols = [c for c in _WEATHER_INPUTS if c in weather.columns]
            for need in ("temp_air_c", "wind_speed_10m_m_per_s"):
                if need not in weather.columns:
                    raise WeatherDataError(
                        f"weather has no column {need!r}", path=weather.attrs.get("source")
                    )
            w = resample.to_step(weather[cols], index_utc, edge_fill_hours=edge_fill_hours)
            irr = self._irradiance(weather, w, cs, step, edge_fill_hours)
            temp = w["temp_air_c"].to_numpy()
            wind10 = w["wind_speed_10m_m_per_s"].to_numpy()
            module_wind = wind10
            pressure = w["pressure_pa"].to_numpy() if "pressure_pa" in w else None

        out = pd.DataFrame(index=index_utc)
        if self.pv is None:
            out["pv_available_mw"] = 0.0
        else:
            out["pv_available_mw"] = pv_ac_mw(self.pv, irr, temp, module_wind).to_numpy()
        if self.wind is None or wind10 is None:
            out["wind_available_mw"] = 0.0
            v_hub = np.full(n, np.nan)
        else:
            f = self.wind
            v_hub = hub_wind_speed_m_per_s(wind10, f.hub_height_m, f.roughness_length_m)
            rho = air_density_kg_per_m3(
                temp, f.hub_height_m, pressure_pa=pressure, altitude_m=s.altitude_m
            )
            out["wind_available_mw"] = wind_farm_mw(f, v_hub, rho)
        out["temp_air_c"] = temp
        out["ghi_w_per_m2"] = irr["ghi_w_per_m2"].to_numpy()
        out["wind_speed_hub_m_per_s"] = np.asarray(v_hub, dtype=float)
        return out

    def _irradiance(self, weather, w, cs, step, edge_fill_hours) -> pd.DataFrame:
        """Irradiance at the step mid-points from measured GHI or from cloud cover."""
        src = weather.attrs.get("source")
        if "ghi_w_per_m2" in weather.columns:
            on_hour = resample.hour_phase(weather.index, src) == pd.Timedelta(0)
            if step == resample.HOUR and on_hour:
                meas = resample.to_step(
                    weather[["ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"]],
                    w.index,
                    edge_fill_hours=edge_fill_hours,
                )
                irr = meas.set_axis(cs.index)
                return irr.join(cs[["apparent_zenith_deg", "zenith_deg", "azimuth_deg"]])
            return self._measured_at_steps(weather, w.index, cs, step, edge_fill_hours)
        if "cloud_cover_pct" in w.columns:
            return clearsky.cloud_attenuated_irradiance(cs, w["cloud_cover_pct"].to_numpy())
        raise WeatherDataError("weather has neither ghi_w_per_m2 nor cloud_cover_pct", path=src)

    def _measured_at_steps(self, weather, index_utc, cs, step, edge_fill_hours) -> pd.DataFrame:
        """Measured hourly irradiance at steps shorter than its hours, or off their grid:
        each column's clear-sky index over its hour (GHI, DNI and DHI each against its
        own clear sky, so the measured split is kept) is interpolated to the step
        mid-points and multiplied by the clear sky there. GHI alone is split by Erbs."""
        cols = [c for c in clearsky.IRRADIANCE_COLUMNS if c in weather.columns]
        hourly = resample.select_period(
            weather[cols], index_utc, edge_fill_hours=edge_fill_hours, step=step
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
        irr = pd.DataFrame({c: k_step[c].to_numpy() * cs[c].to_numpy() for c in cols}, cs.index)
        if cols != list(clearsky.IRRADIANCE_COLUMNS):
            irr = clearsky.decompose_ghi(irr["ghi_w_per_m2"], cs["zenith_deg"])
        return irr.join(cs[["apparent_zenith_deg", "zenith_deg", "azimuth_deg"]])
