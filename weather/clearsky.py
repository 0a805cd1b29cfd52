"""Clear-sky irradiance and its attenuation by cloud cover.

* Clear sky: Ineichen & Perez (2002) with the monthly Linke turbidity climatology shipped
  with pvlib (``LinkeTurbidities.h5``, Remund et al. 2003), via ``pvlib.clearsky.ineichen``.
* Cloud cover: Kasten & Czeplak (1980), GHI = GHI_cs * (1 - 0.75 * (C / 100) ** 3.4) with
  C the total cloud cover in % (their N/8 in oktas). At 100 % cloud, 25 % of clear-sky GHI.
* Split of the cloudy GHI into DNI and DHI: Erbs, Klein & Duffie (1982), ``pvlib.irradiance.erbs``.
* Clear-sky indices (measured / clear-sky GHI, DNI, DHI over the same hour) carry
  measured hourly irradiance to shorter steps without re-splitting it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib

#: Kasten-Czeplak coefficients (Kasten & Czeplak 1980, Solar Energy 24:177-189).
KC_A = 0.75
KC_B = 3.4


def solar_position(
    times_utc: pd.DatetimeIndex, latitude_deg: float, longitude_deg: float, altitude_m: float
) -> pd.DataFrame:
    """Solar position (NREL SPA, numpy) at ``times_utc``.

    Returns ``apparent_zenith_deg``, ``zenith_deg``, ``azimuth_deg`` (degrees, azimuth
    clockwise from north) on the same index.
    """
    sp = pvlib.solarposition.get_solarposition(
        times_utc, latitude_deg, longitude_deg, altitude=altitude_m
    )
    return pd.DataFrame(
        {
            "apparent_zenith_deg": sp["apparent_zenith"],
            "zenith_deg": sp["zenith"],
            "azimuth_deg": sp["azimuth"],
        },
        index=times_utc,
    )


def clearsky_irradiance(
    times_utc: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
    *,
    linke_turbidity: float | None = None,
) -> pd.DataFrame:
    """Ineichen clear-sky GHI/DNI/DHI (W/m2) at the instants ``times_utc``.

    ``linke_turbidity`` None looks up pvlib's monthly climatology for the site (offline).
    Returns ``ghi_w_per_m2``, ``dni_w_per_m2``, ``dhi_w_per_m2`` and the solar position
    columns of :func:`solar_position` (needed later for decomposition and transposition).
    For hourly averages pass the interval mid-points (see :mod:`weather.chain`).
    """
    sp = solar_position(times_utc, latitude_deg, longitude_deg, altitude_m)
    if linke_turbidity is None:
        tl = pvlib.clearsky.lookup_linke_turbidity(times_utc, latitude_deg, longitude_deg)
    else:
        tl = linke_turbidity
    airmass_rel = pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith_deg"])
    pressure_pa = pvlib.atmosphere.alt2pres(altitude_m)
    airmass_abs = pvlib.atmosphere.get_absolute_airmass(airmass_rel, pressure_pa)
    dni_extra = pvlib.irradiance.get_extra_radiation(times_utc)
    cs = pvlib.clearsky.ineichen(
        sp["apparent_zenith_deg"], airmass_abs, tl, altitude=altitude_m, dni_extra=dni_extra
    )
    out = pd.DataFrame(
        {
            "ghi_w_per_m2": cs["ghi"].fillna(0.0),
            "dni_w_per_m2": cs["dni"].fillna(0.0),
            "dhi_w_per_m2": cs["dhi"].fillna(0.0),
        },
        index=times_utc,
    )
    return out.join(sp)


def kasten_czeplak_ghi(ghi_clear_w_per_m2, cloud_cover_pct):
    """Cloudy-sky GHI (W/m2) from clear-sky GHI and total cloud cover (0-100 %).

    GHI = GHI_cs * (1 - 0.75 * (C/100)^3.4) (Kasten & Czeplak 1980). Works on scalars,
    arrays and Series; cloud cover is clipped to [0, 100].
    """
    c = np.clip(np.asarray(cloud_cover_pct, dtype=float), 0.0, 100.0) / 100.0
    return ghi_clear_w_per_m2 * (1.0 - KC_A * c**KC_B)


def decompose_ghi(ghi_w_per_m2: pd.Series, zenith_deg: pd.Series) -> pd.DataFrame:
    """Split GHI (W/m2) into DNI and DHI (W/m2) with the Erbs model.

    ``zenith_deg`` is the true solar zenith at the same instants (index must be UTC times;
    the day of year sets the extraterrestrial irradiance).
    """
    erbs = pvlib.irradiance.erbs(ghi_w_per_m2, zenith_deg, ghi_w_per_m2.index)
    return pd.DataFrame(
        {
            "ghi_w_per_m2": ghi_w_per_m2,
            "dni_w_per_m2": erbs["dni"].fillna(0.0).clip(lower=0.0),
            "dhi_w_per_m2": erbs["dhi"].fillna(0.0).clip(lower=0.0),
        },
        index=ghi_w_per_m2.index,
    )


def cloud_attenuated_irradiance(clearsky_df: pd.DataFrame, cloud_cover_pct) -> pd.DataFrame:
    """GHI/DNI/DHI (W/m2) under cloud: Kasten-Czeplak GHI, then the Erbs split.

    ``clearsky_df`` is the output of :func:`clearsky_irradiance` (it carries the solar
    position); ``cloud_cover_pct`` (0-100 %) is aligned with it (Series or array).
    Returns the three irradiance columns plus the solar position columns.
    """
    cloud = np.asarray(cloud_cover_pct, dtype=float)
    ghi = pd.Series(
        kasten_czeplak_ghi(clearsky_df["ghi_w_per_m2"].to_numpy(), cloud), index=clearsky_df.index
    )
    out = decompose_ghi(ghi, clearsky_df["zenith_deg"])
    return out.join(clearsky_df[["apparent_zenith_deg", "zenith_deg", "azimuth_deg"]])


#: Irradiance columns, in the order readers give them.
IRRADIANCE_COLUMNS = ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2")
# Upper bounds of the clear-sky indices, about the 99th percentile of the measured hour
# means in pvlib's TMY3 files (Greensboro, Sand Point) against the hour-mean Ineichen
# clear sky: GHI 1.2-1.45, DNI 1.5-1.9. Beyond them, at low sun, an index interpolated
# into the next hour would blow its clear sky up (PV energy per day of 15 min against 1 h
# steps: bounds 2/3 gave up to 6 % apart, these 4 %). Diffuse light is another matter:
# overcast DHI runs at 5-7.7 times the clear sky's (the files' largest: 5.5 and 7.7; 7.2 at
# a St John's winter noon), and a bound of 5 cut 29 % of winter PV under bright overcast
# and 4.5 % of a Sand Point February week. Its bound, 20, is a guard only: at 20, 100 or
# 1,000 the two files give the same energy (weeks of 15 min within 0.9 % and 1.7 % of 1 h).
CLEAR_SKY_INDEX_MAX = {"ghi_w_per_m2": 1.5, "dni_w_per_m2": 2.0, "dhi_w_per_m2": 20.0}
# below this clear-sky GHI (W/m2) the sun is too low for an index to carry over; the
# GHI decides for all three (a winter DHI_cs at 55 N stays below it all day)
CLEAR_SKY_INDEX_MIN_CLEAR_W_PER_M2 = 20.0


def hour_mean_clearsky(
    hour_starts_utc: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
    *,
    linke_turbidity: float | None = None,
    samples_per_hour: int = 4,
) -> pd.DataFrame:
    """Mean clear-sky GHI/DNI/DHI (W/m2) over each hour [t, t + 1 h), from
    ``samples_per_hour`` evenly spaced mid-points (the measured values are hour means too:
    the sunrise hour, its mid-point still in the dark, has clear sky)."""
    n = samples_per_hour
    offsets = (np.arange(n) + 0.5) / n * pd.Timedelta(hours=1)
    times = pd.DatetimeIndex(np.add.outer(hour_starts_utc.asi8, offsets.astype("int64")).ravel())
    cs = clearsky_irradiance(
        times.tz_localize("UTC"),
        latitude_deg,
        longitude_deg,
        altitude_m,
        linke_turbidity=linke_turbidity,
    )
    means = cs[list(IRRADIANCE_COLUMNS)].to_numpy().reshape(len(hour_starts_utc), n, 3).mean(1)
    return pd.DataFrame(means, index=hour_starts_utc, columns=list(IRRADIANCE_COLUMNS))


def clear_sky_index(measured: pd.DataFrame, clear: pd.DataFrame) -> pd.DataFrame:
    """Measured / clear-sky irradiance per column of ``measured`` (same index, W/m2),
    clipped to [0, CLEAR_SKY_INDEX_MAX]. ``clear`` has the three clear-sky columns. Rows
    whose clear-sky GHI is below CLEAR_SKY_INDEX_MIN_CLEAR_W_PER_M2 take the index of the
    nearest row that has one (the next one at a tie), 1 when none has."""
    out = {}
    pos = np.arange(len(measured), dtype=float)
    ok = clear["ghi_w_per_m2"].to_numpy(float) > CLEAR_SKY_INDEX_MIN_CLEAR_W_PER_M2
    # the row each row takes its index from: the same for every column (the GHI decides)
    prev = pd.Series(np.where(ok, pos, np.nan)).ffill().to_numpy()
    nxt = pd.Series(np.where(ok, pos, np.nan)).bfill().to_numpy()
    take_next = np.isnan(prev) | (nxt - pos <= pos - prev)
    src = np.where(ok, pos, np.where(take_next, nxt, prev))
    have = np.isfinite(src)
    src = np.where(have, src, 0).astype(int)
    for col in measured.columns:
        cs = clear[col].to_numpy(float)
        k = measured[col].to_numpy(float) / np.where(ok & (cs > 0), cs, np.inf)
        k = np.clip(k, 0.0, CLEAR_SKY_INDEX_MAX[col])
        out[col] = np.where(have, k[src], 1.0)
    return pd.DataFrame(out, index=measured.index)
