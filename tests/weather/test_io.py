import numpy as np
import pandas as pd
import pvlib
import pytest

from weather import (
    SITE_METADATA,
    WeatherDataError,
    read_site_csv,
    read_tmy,
    resample,
    site_metadata,
)
from weather.io import COLUMNS

HEADER = "time_local,temp_air_c,relative_humidity_pct,cloud_cover_pct,wind_speed_10m_kmh\n"


def test_error_str_names_path_line_column():
    e = WeatherDataError("not a number: 'abc'", path="x.csv", line=12, field="temp_air_c")
    assert str(e) == "x.csv, line 12, column temp_air_c: not a number: 'abc'"
    assert isinstance(e, ValueError)
    assert (e.path, e.line, e.field) == ("x.csv", 12, "temp_air_c")
    assert str(WeatherDataError("plain")) == "plain"


@pytest.mark.parametrize("name", sorted(SITE_METADATA))
def test_site_csv_maps_fixed_offset_to_utc(weather_dir, name):
    path = weather_dir / name
    df = read_site_csv(path)
    offset = SITE_METADATA[name]["utc_offset_seconds"]
    assert str(df.index.tz) == "UTC"
    assert len(df) == 8760 and df.index.is_unique and df.index.is_monotonic_increasing
    assert (np.diff(df.index.asi8) == 3600 * 10**9).all()
    # first stamp: 2023-01-01T00:00 in the file, minus the (negative) offset
    assert df.index[0] == pd.Timestamp("2023-01-01", tz="UTC") - pd.Timedelta(seconds=offset)
    raw = pd.read_csv(path, nrows=1)
    assert df["temp_air_c"].iloc[0] == raw["temp_air_c"][0]
    assert df["wind_speed_10m_m_per_s"].iloc[0] == pytest.approx(raw["wind_speed_10m_kmh"][0] / 3.6)
    assert set(df.columns) <= set(COLUMNS)
    assert df.attrs["latitude_deg"] == SITE_METADATA[name]["latitude_deg"]
    assert df.attrs["timezone"] == SITE_METADATA[name]["timezone"]


@pytest.mark.parametrize("name", sorted(SITE_METADATA))
def test_site_csv_temperature_peaks_after_solar_noon(weather_dir, name):
    """Evidence for the time mapping: in every month the mean daily temperature maximum
    lies 1.5-4 h after solar noon in UTC. Reading the stamps as UTC (or as local
    standard time shifted by a wrong sign) would put it before noon or far after it."""
    df = read_site_csv(weather_dir / name)
    meta = site_metadata(name)
    eot_min = pvlib.solarposition.equation_of_time_spencer71(df.index.dayofyear)
    noon_utc_h = 12.0 - meta["longitude_deg"] / 15.0 - np.asarray(eot_min) / 60.0
    hour_utc = df.index.hour + df.index.minute / 60.0
    for month in range(1, 13):
        m = df.index.month == month
        curve = pd.Series(df["temp_air_c"].to_numpy()[m]).groupby(hour_utc[m]).mean()
        # phase of the first harmonic = hour of the diurnal maximum
        h = curve.index.to_numpy()
        c = np.sum(curve.to_numpy() * np.exp(-2j * np.pi * h / 24))
        t_max = (-np.angle(c) * 24 / (2 * np.pi)) % 24
        lag = (t_max - noon_utc_h[m].mean() + 12) % 24 - 12
        assert 1.5 < lag < 4.0, (month, lag)


def test_site_metadata_unknown_name():
    with pytest.raises(WeatherDataError, match="no site metadata"):
        site_metadata("nowhere.csv")


def test_site_csv_explicit_offset(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text(HEADER + "2023-06-01T00:00,20,50,0,36\n2023-06-01T01:00,19,50,0,18\n")
    df = read_site_csv(p, timezone="Europe/Berlin", utc_offset_seconds=7200)
    assert df.index[0] == pd.Timestamp("2023-05-31 22:00", tz="UTC")
    assert df["wind_speed_10m_m_per_s"].tolist() == pytest.approx([10.0, 5.0])
    assert df.attrs["utc_offset_seconds"] == 7200


GOOD = ["2023-06-01T00:00,20,50,0,36", "2023-06-01T01:00,19,50,0,18", "2023-06-01T02:00,18,50,0,18"]


def _bad(tmp_path, rows, header=HEADER):
    p = tmp_path / "bad.csv"
    p.write_text(header + "\n".join(rows) + "\n")
    with pytest.raises(WeatherDataError) as info:
        read_site_csv(p, timezone="UTC", utc_offset_seconds=0)
    e = info.value
    assert e.path == str(p) and str(p) in str(e)
    return e


def test_bad_missing_column(tmp_path):
    e = _bad(tmp_path, [r.rsplit(",", 1)[0] for r in GOOD], header=HEADER.rsplit(",", 1)[0] + "\n")
    assert (e.line, e.field) == (1, "wind_speed_10m_kmh")
    assert "missing column" in str(e)


def test_bad_not_a_number(tmp_path):
    rows = GOOD.copy()
    rows[1] = "2023-06-01T01:00,abc,50,0,18"
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (3, "temp_air_c")
    assert str(e).endswith("line 3, column temp_air_c: not a number: 'abc'")


def test_bad_empty_cell(tmp_path):
    rows = GOOD.copy()
    rows[2] = "2023-06-01T02:00,18,50,,18"
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (4, "cloud_cover_pct")
    assert "empty" in e.message


def test_bad_gap(tmp_path):
    rows = [GOOD[0], GOOD[2]]
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (3, "time_local")
    assert "gap" in e.message


def test_bad_duplicate(tmp_path):
    rows = [GOOD[0], GOOD[1], GOOD[1], GOOD[2]]
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (4, "time_local")
    assert "duplicate" in e.message


def test_bad_time_and_range(tmp_path):
    rows = GOOD.copy()
    rows[1] = "2023-06-01 1am,19,50,0,18"
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (3, "time_local")
    rows = GOOD.copy()
    rows[0] = "2023-06-01T00:00,20,150,0,36"
    e = _bad(tmp_path, rows)
    assert (e.line, e.field) == (2, "relative_humidity_pct")


# ----------------------------------------------------------------------------- TMY


def test_tmy3_hour_start_and_utc(pvlib_data):
    path = pvlib_data / "723170TYA.CSV"
    df = read_tmy(path, coerce_year=2023)
    raw, meta = pvlib.iotools.read_tmy3(str(path))
    assert str(df.index.tz) == "UTC" and len(df) == 8760
    assert df.index[0] == pd.Timestamp("2023-01-01 00:00", tz="UTC")
    assert df.index.is_monotonic_increasing and df.index.is_unique
    # raw record "01/01 01:00" (the hour 00:00-01:00 local, UTC-5) is 05:00 UTC
    first = df.loc[pd.Timestamp("2023-01-01 05:00", tz="UTC")]
    assert first["temp_air_c"] == raw["temp_air"].iloc[0]
    assert first["pressure_pa"] == raw["pressure"].iloc[0] * 100
    assert first["cloud_cover_pct"] == raw["TotCld (tenths)"].iloc[0] * 10
    assert df.attrs["utc_offset_seconds"] == -5 * 3600
    assert df.attrs["latitude_deg"] == pytest.approx(36.1)


@pytest.mark.parametrize("name", ["723170TYA.CSV", "703165TY.csv", "12839.tm2"])
def test_tmy_noon_irradiance_is_centred_on_solar_noon(pvlib_data, name):
    """With hour-start UTC stamps, the yearly mean GHI profile peaks in the hour that
    contains solar noon (hour-ending stamps would move it one hour late)."""
    df = read_tmy(pvlib_data / name, coerce_year=2023)
    assert {"ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2", "temp_air_c"} <= set(df.columns)
    lon = df.attrs["longitude_deg"]
    profile = df["ghi_w_per_m2"].groupby(df.index.hour).mean()
    h = profile.index.to_numpy() + 0.5  # hour mid-points
    centroid = np.angle(np.sum(profile.to_numpy() * np.exp(2j * np.pi * h / 24))) * 24 / (2 * np.pi)
    noon = 12.0 - lon / 15.0
    assert abs(((centroid - noon) + 12) % 24 - 12) < 0.5
    assert df["temp_air_c"].between(-50, 50).all()
    assert df["wind_speed_10m_m_per_s"].between(0, 40).all()


def test_tmy2_units(pvlib_data):
    df = read_tmy(pvlib_data / "12839.tm2", coerce_year=2023)
    raw, _ = pvlib.iotools.read_tmy2(str(pvlib_data / "12839.tm2"))
    # Miami: tenths of deg C and of m/s are converted
    assert 15 < df["temp_air_c"].mean() < 30
    assert df["temp_air_c"].max() == raw["DryBulb"].max() / 10
    assert df["pressure_pa"].between(95000, 105000).all()


def test_tmy_coerce_leap_year(pvlib_data):
    df = read_tmy(pvlib_data / "703165TY.csv", coerce_year=2024)
    assert len(df) == 8784 and df.index.is_unique
    assert df.index[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert df.index[-1] == pd.Timestamp("2024-12-31 23:00", tz="UTC")
    # 29 Feb repeats 28 Feb (same local hours, UTC-9)
    feb29 = df.loc["2024-02-29 09:00":"2024-03-01 08:00", "temp_air_c"].to_numpy()
    feb28 = df.loc["2024-02-28 09:00":"2024-02-29 08:00", "temp_air_c"].to_numpy()
    assert np.array_equal(feb29, feb28)


def test_tmy_unknown_format(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("nothing")
    with pytest.raises(WeatherDataError, match="unknown TMY format"):
        read_tmy(p)


def test_site_csv_instants_give_each_hour_the_mean_of_its_ends(tmp_path):
    """Open-Meteo's temperature, cloud cover and wind are instants at their stamps; read as
    hour means, each hour took the value at its start (a half-hour shift)."""
    p = tmp_path / "x.csv"
    p.write_text(HEADER + "\n".join(GOOD) + "\n")
    df = read_site_csv(p, timezone="UTC", utc_offset_seconds=0, values="instant")
    assert df.index[0] == pd.Timestamp("2023-05-31 23:30", tz="UTC")
    assert df.attrs["values"] == "instant"
    hour = pd.DatetimeIndex([pd.Timestamp("2023-06-01 00:00", tz="UTC")], freq="h")
    temp = resample.to_step(df, hour)["temp_air_c"]
    assert temp.tolist() == pytest.approx([19.5])  # (20 + 19) / 2
    with pytest.raises(WeatherDataError, match="values must be one of hour_mean, instant"):
        read_site_csv(p, timezone="UTC", utc_offset_seconds=0, values="mean")
