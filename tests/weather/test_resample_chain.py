"""Resampling onto the scenario step and the ResourceChain end to end."""

import numpy as np
import pandas as pd
import pytest

from weather import (
    PVSystem,
    ResourceChain,
    Site,
    WeatherDataError,
    WindFarm,
    read_site_csv,
    read_tmy,
    to_step,
)
from weather.clearsky import clearsky_irradiance

H = pd.Timedelta(hours=1)


def _hourly(values, start="2023-03-01 00:00"):
    idx = pd.date_range(start, periods=len(values), freq="h", tz="UTC")
    return pd.DataFrame({"temp_air_c": np.asarray(values, dtype=float)}, index=idx)


def test_hourly_is_identity():
    src = _hourly([1, 2, 3, 4, 5])
    out = to_step(src, src.index[1:4])
    assert out["temp_air_c"].tolist() == [2, 3, 4]


def test_quarter_hour_interpolates_between_hour_midpoints():
    src = _hourly([0.0, 4.0, 8.0])
    idx = pd.date_range("2023-03-01 01:00", periods=4, freq="15min", tz="UTC")
    out = to_step(src, idx)["temp_air_c"].to_numpy()
    # step mid-points 01:07.5 .. 01:52.5 between hour mid-points 00:30 (0) / 01:30 (4) / 02:30 (8)
    assert out == pytest.approx([2.5, 3.5, 4.5, 5.5])
    # held flat beyond the first mid-point when there is no earlier hour
    first = to_step(src, pd.date_range("2023-03-01 00:00", periods=2, freq="15min", tz="UTC"))
    assert first["temp_air_c"].tolist() == [0.0, 0.0]


def test_coverage_errors():
    src = _hourly(range(24))
    src.attrs["source"] = "w.csv"
    late = pd.date_range("2023-03-01 20:00", periods=6, freq="h", tz="UTC")
    with pytest.raises(WeatherDataError, match="2023-03-02 00:00 UTC is missing") as info:
        to_step(src, late)
    assert info.value.path == "w.csv"
    filled = to_step(src, late[:5], edge_fill_hours=1)
    assert filled["temp_air_c"].tolist() == [20, 21, 22, 23, 23]
    holed = src.drop(src.index[10])
    with pytest.raises(WeatherDataError, match="10:00 UTC is missing"):
        to_step(holed, src.index[5:15], edge_fill_hours=3)
    with pytest.raises(WeatherDataError, match="UTC"):
        to_step(src, pd.date_range("2023-03-01", periods=3, freq="h"))
    with pytest.raises(WeatherDataError, match="duplicate time stamp 2023-03-01 03:00"):
        to_step(pd.concat([src, src.iloc[[3]]]), src.index[:5])
    with pytest.raises(WeatherDataError, match="divide one hour"):
        to_step(src, pd.date_range("2023-03-01", periods=3, freq="2h", tz="UTC"))


# ----------------------------------------------------------------------------- chain

R1_SITE = Site(32.7944, -96.8215, 142.0)
R1_PV = PVSystem(dc_mw=80.0, ac_mw=65.0, tilt_deg=25.0, azimuth_deg=180.0)
R1_WIND = WindFarm("E-126/4200", hub_height_m=135.0, n_turbines=12)


def _local_week(start, end, tz, freq="h"):
    return pd.date_range(
        pd.Timestamp(start, tz=tz), pd.Timestamp(end, tz=tz), freq=freq, inclusive="left"
    ).tz_convert("UTC")


@pytest.fixture(scope="module")
def dallas(weather_dir):
    return read_site_csv(weather_dir / "dallas-2023.csv")


def test_r1_week_plausible(dallas):
    idx = _local_week("2023-08-21", "2023-08-28", "America/Chicago")
    res = ResourceChain(R1_SITE, R1_PV, R1_WIND).run(idx, dallas)
    assert list(res.columns) == [
        "pv_available_mw",
        "wind_available_mw",
        "temp_air_c",
        "ghi_w_per_m2",
        "wind_speed_hub_m_per_s",
    ]
    assert res.index.equals(idx) and len(res) == 168
    assert res.notna().all().all()
    pv, wind = res["pv_available_mw"], res["wind_available_mw"]
    cf_pv = pv.mean() / 65.0
    assert 0.15 < cf_pv < 0.32, cf_pv  # sunny August week in Texas
    assert 45.0 < pv.max() <= 65.0
    assert wind.min() >= 0.0 and wind.max() <= 50.4 + 1e-9
    # PV energy is centred on local solar noon (~13:27 CDT) and is 0 at 2 am every day
    local = res.tz_convert("America/Chicago")
    mid_h = local.index.hour + 0.5
    centre = (local["pv_available_mw"] * mid_h).sum() / local["pv_available_mw"].sum()
    assert abs(centre - 13.45) < 0.75, centre
    assert (local.loc[local.index.hour == 2, "pv_available_mw"] == 0.0).all()
    # the heat wave: hot afternoons
    assert res["temp_air_c"].max() > 38


def test_r1_quarter_hour_consistent_with_hourly(dallas):
    idx_h = _local_week("2023-08-21", "2023-08-24", "America/Chicago")
    idx_q = _local_week("2023-08-21", "2023-08-24", "America/Chicago", freq="15min")
    chain = ResourceChain(R1_SITE, R1_PV, R1_WIND)
    h, q = chain.run(idx_h, dallas), chain.run(idx_q, dallas)
    assert len(q) == 4 * len(h)
    e_h = h[["pv_available_mw", "wind_available_mw"]].sum()
    e_q = q[["pv_available_mw", "wind_available_mw"]].sum() / 4
    assert e_q.to_numpy() == pytest.approx(e_h.to_numpy(), rel=0.05)
    # interpolated, not repeated: the four quarters of an hour differ
    assert q["temp_air_c"].iloc[40:44].nunique() > 1


def test_clear_sky_only_mode():
    idx = pd.date_range("2023-06-21 00:00", periods=48, freq="h", tz="UTC")
    chain = ResourceChain(R1_SITE, R1_PV, R1_WIND)
    res = chain.run(idx, temp_air_c=25.0)
    assert (res["wind_available_mw"] == 0).all()
    assert res["wind_speed_hub_m_per_s"].isna().all()
    assert (res["temp_air_c"] == 25.0).all()
    cs = clearsky_irradiance(idx + H / 2, *R1_SITE.__dict__.values())
    assert res["ghi_w_per_m2"].to_numpy() == pytest.approx(cs["ghi_w_per_m2"].to_numpy())
    # clear June noon: 80 MW x ~0.95 kW/m2 POA x 0.86 losses x ~0.89 (cells ~55 C)
    # x 0.96 inverter ~ 56 MW, below the 65 MW AC rating
    assert 50.0 < res["pv_available_mw"].max() < 62.0
    with pytest.raises(WeatherDataError, match="temp_air_c"):
        chain.run(idx)


def test_mid_interval_sun_is_symmetric_about_solar_noon():
    """Hour-start stamps with the sun at the mid-point: the two hours either side of
    solar noon get (nearly) the same clear-sky output; at the stamp they would not."""
    site = Site(0.0, 0.0, 0.0)  # solar noon ~ 12:00 UTC (equinox, equation of time ~ -7 min)
    idx = pd.date_range("2023-03-20 00:00", periods=24, freq="h", tz="UTC")
    res = ResourceChain(site, PVSystem(dc_mw=10, ac_mw=10, tilt_deg=0)).run(idx, temp_air_c=20)
    pv = res["pv_available_mw"]
    assert pv.iloc[11] == pytest.approx(pv.iloc[12], rel=0.03)
    assert pv.iloc[11] > pv.iloc[10] > pv.iloc[9]


def test_tmy_measured_irradiance_is_used(pvlib_data):
    tmy = read_tmy(pvlib_data / "723170TYA.CSV", coerce_year=2023)
    meta = tmy.attrs
    site = Site(meta["latitude_deg"], meta["longitude_deg"], meta["altitude_m"])
    idx = pd.date_range("2023-07-01", periods=72, freq="h", tz="UTC")
    chain = ResourceChain(site, R1_PV, R1_WIND)
    res = chain.run(idx, tmy)
    assert res["ghi_w_per_m2"].to_numpy() == pytest.approx(tmy.loc[idx, "ghi_w_per_m2"].to_numpy())
    assert res["temp_air_c"].to_numpy() == pytest.approx(tmy.loc[idx, "temp_air_c"].to_numpy())
    assert (res.loc[tmy.loc[idx, "ghi_w_per_m2"] == 0, "pv_available_mw"] == 0).all()
    q = chain.run(pd.date_range("2023-07-01", periods=72 * 4, freq="15min", tz="UTC"), tmy)
    assert q["pv_available_mw"].sum() / 4 == pytest.approx(res["pv_available_mw"].sum(), rel=0.06)


def test_measured_ghi_alone_at_hourly_steps_is_split_by_erbs(pvlib_data):
    """Hourly on-the-hour GHI without DNI and DHI failed with a KeyError naming them; the
    15-minute steps already split it by Erbs."""
    tmy = read_tmy(pvlib_data / "723170TYA.CSV", coerce_year=2023)
    ghi_only = tmy.drop(columns=["dni_w_per_m2", "dhi_w_per_m2"])
    meta = tmy.attrs
    site = Site(meta["latitude_deg"], meta["longitude_deg"], meta["altitude_m"])
    idx = pd.date_range("2023-07-01", periods=72, freq="h", tz="UTC")
    res = ResourceChain(site, R1_PV).run(idx, ghi_only)
    assert res["ghi_w_per_m2"].to_numpy() == pytest.approx(tmy.loc[idx, "ghi_w_per_m2"].to_numpy())
    measured = ResourceChain(site, R1_PV).run(idx, tmy)["pv_available_mw"].sum()
    assert res["pv_available_mw"].sum() == pytest.approx(measured, rel=0.1)


def test_weather_without_irradiance_or_cloud_fails():
    src = _hourly(np.full(30, 20.0), start="2023-06-21 00:00")
    src["wind_speed_10m_m_per_s"] = 5.0
    with pytest.raises(WeatherDataError, match="neither"):
        ResourceChain(R1_SITE, R1_PV).run(src.index[:24], src)
