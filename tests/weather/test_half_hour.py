"""Hourly data stamped off the whole hour (half-hour zones: St John's, Adelaide, India)
are hour means at their own mid-points, interpolated to the steps' mid-points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weather import PVSystem, ResourceChain, Site, WeatherDataError, read_site_csv, to_step
from weather.clearsky import clearsky_irradiance
from weather.resample import hour_phase

HEADER = "time_local,temp_air_c,relative_humidity_pct,cloud_cover_pct,wind_speed_10m_kmh\n"
ADELAIDE = Site(-34.93, 138.6, 50.0)


def _site_csv(tmp_path, n=48):
    rows = [
        f"{t:%Y-%m-%dT%H:%M},{i},50,20,18"
        for i, t in enumerate(pd.date_range("2023-07-10", periods=n, freq="h"))
    ]
    path = tmp_path / "stjohns.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_half_hour_site_csv_on_hourly_steps(tmp_path):
    """UTC-2:30: the rows are stamped at :30 UTC; an hour step takes the two rows it
    meets, half each (before: 'hour ... is missing' though the data covered it)."""
    wx = read_site_csv(_site_csv(tmp_path), timezone="America/St_Johns", utc_offset_seconds=-9000)
    assert hour_phase(wx.index) == pd.Timedelta(minutes=30)
    idx = pd.date_range("2023-07-10 03:00", periods=24, freq="h", tz="UTC")
    out = to_step(wx, idx)["temp_air_c"].to_numpy()
    # step 03:00-04:00 meets the rows of 02:30 (value 0) and 03:30 (value 1)
    np.testing.assert_allclose(out, np.arange(24) + 0.5)
    quarter = pd.date_range("2023-07-10 03:00", periods=4, freq="15min", tz="UTC")
    np.testing.assert_allclose(to_step(wx, quarter)["temp_air_c"], [0.125, 0.375, 0.625, 0.875])


def test_half_hour_coverage_error_names_the_data_grid(tmp_path):
    wx = read_site_csv(_site_csv(tmp_path), timezone="America/St_Johns", utc_offset_seconds=-9000)
    late = pd.date_range("2023-07-12 00:00", periods=4, freq="h", tz="UTC")
    with pytest.raises(WeatherDataError, match="hour 2023-07-12 02:30 UTC is missing"):
        to_step(wx, late)


def test_mixed_grids_are_refused():
    idx = pd.DatetimeIndex(["2023-01-01 00:00", "2023-01-01 01:30"], tz="UTC")
    with pytest.raises(WeatherDataError, match="01:30 UTC is off the hourly grid"):
        hour_phase(idx)


def _true_hour_means(site: Site, starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Clear-sky hour means of GHI/DNI/DHI over [s, s + 1 h), from 1-minute values."""
    minutes = pd.date_range(starts[0], periods=len(starts) * 60, freq="min") + pd.Timedelta("30s")
    cs = clearsky_irradiance(minutes, site.latitude_deg, site.longitude_deg, site.altitude_m)
    cols = ["ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"]
    means = cs[cols].to_numpy().reshape(len(starts), 60, 3).mean(axis=1)
    df = pd.DataFrame(means, index=starts, columns=cols)
    df["temp_air_c"], df["wind_speed_10m_m_per_s"] = 15.0, 3.0
    return df


@pytest.mark.parametrize("step", ["60min", "15min"])
def test_half_hour_tmy_pv_matches_on_hour_data(step):
    """An Adelaide (UTC+9:30) typical year stamped at :30 UTC gives the daily PV energy of
    the same sky given as on-the-hour means, within 2 %."""
    pv = ResourceChain(ADELAIDE, PVSystem(dc_mw=100, ac_mw=80, tilt_deg=30, azimuth_deg=0))
    idx = pd.date_range("2023-01-10", "2023-01-13", freq=step, inclusive="left", tz="UTC")
    span = pd.date_range("2023-01-09 00:30", periods=24 * 5, freq="h", tz="UTC")
    half = pv.run(idx, _true_hour_means(ADELAIDE, span))["pv_available_mw"]
    whole = pv.run(idx, _true_hour_means(ADELAIDE, span - pd.Timedelta("30min")))
    hours = pd.Timedelta(step) / pd.Timedelta("1h")
    day_half = half.groupby(half.index.date).sum() * hours
    day_whole = whole["pv_available_mw"].groupby(whole.index.date).sum() * hours
    assert day_half.sum() > 1000  # MWh over the three days: the sun is up
    np.testing.assert_allclose(day_half.to_numpy(), day_whole.to_numpy(), rtol=0.02)


ST_JOHNS = Site(47.56, -52.71, 50.0)


@pytest.mark.parametrize("step", ["60min", "15min"])
def test_bright_overcast_keeps_its_diffuse_light(step):
    """Overcast St John's in January (GHI = DHI = 0.6 of the clear sky's, no beam),
    stamped at :30 UTC: the diffuse clear-sky index runs at 5-7 there, and its bound of 5
    once cut 29 % of the PV, at 1 h steps too. Against the same sky on the hour."""
    pv = ResourceChain(ST_JOHNS, PVSystem(dc_mw=100, ac_mw=80, tilt_deg=30, azimuth_deg=180))
    idx = pd.date_range("2023-01-10", "2023-01-13", freq=step, inclusive="left", tz="UTC")

    def overcast(starts: pd.DatetimeIndex) -> pd.DataFrame:
        sky = _true_hour_means(ST_JOHNS, starts)
        sky["dhi_w_per_m2"] = sky["ghi_w_per_m2"] = 0.6 * sky["ghi_w_per_m2"]
        sky["dni_w_per_m2"] = 0.0
        return sky

    span = pd.date_range("2023-01-09 00:30", periods=24 * 5, freq="h", tz="UTC")
    half = pv.run(idx, overcast(span))["pv_available_mw"].sum()
    whole = pv.run(idx, overcast(span - pd.Timedelta("30min")))["pv_available_mw"].sum()
    assert whole > 0 and half == pytest.approx(whole, rel=0.01)
