"""Weather given to ``ResourceChain.run`` as a DataFrame is checked like the files.

Before, a DataFrame skipped the file readers' range checks: a NaN temperature gave 0 MW
of PV and NaN wind, a negative wind speed a negative hub speed and 0 MW, -300 deg C NaN
wind, a NaN clear-sky temperature 0 MW of PV.
"""

import numpy as np
import pandas as pd
import pytest

from weather import PVSystem, ResourceChain, Site, WeatherDataError, WindFarm, read_tmy, to_step

DALLAS = Site(32.7944, -96.8215, 142.0)
# a summer day in Dallas, UTC, with a day of weather either side
DAY = pd.date_range("2023-07-12 05:00", periods=24, freq="h", tz="UTC")


def _chain(**kwargs) -> ResourceChain:
    return ResourceChain(DALLAS, PVSystem(80, 65), WindFarm("E-126/4200", 135, 12), **kwargs)


def _weather(**columns) -> pd.DataFrame:
    """Three days of plausible hourly weather around DAY, columns overridden by keyword."""
    idx = pd.date_range(DAY[0] - pd.Timedelta(days=1), periods=72, freq="h", tz="UTC")
    base = {
        "temp_air_c": 30.0,
        "wind_speed_10m_m_per_s": 6.0,
        "cloud_cover_pct": 20.0,
        "relative_humidity_pct": 50.0,
    }
    base.update(columns)
    return pd.DataFrame({c: np.full(len(idx), v, dtype=float) for c, v in base.items()}, idx)


def _with(frame: pd.DataFrame, col: str, stamp: str, value: float) -> pd.DataFrame:
    out = frame.copy()
    out.loc[pd.Timestamp(stamp, tz="UTC"), col] = value
    return out


@pytest.mark.parametrize(
    ("col", "value", "shown"),
    [
        ("temp_air_c", np.nan, "missing value (NaN)"),
        ("temp_air_c", -300.0, "value -300"),
        ("temp_air_c", np.inf, "value inf"),
        ("wind_speed_10m_m_per_s", -5.5, "value -5.5"),
        ("wind_speed_10m_m_per_s", np.nan, "missing value (NaN)"),
        ("wind_speed_10m_m_per_s", -np.inf, "value -inf"),
        ("cloud_cover_pct", np.nan, "missing value (NaN)"),
        ("cloud_cover_pct", 150.0, "value 150"),
    ],
)
def test_a_bad_value_in_a_weather_frame_is_refused_naming_column_time_and_value(col, value, shown):
    bad = _with(_weather(), col, "2023-07-12 18:00", value)
    bad.attrs["source"] = "mine.csv"
    with pytest.raises(WeatherDataError, match="at 2023-07-12 18:00 UTC") as info:
        _chain().run(DAY, bad)
    assert info.value.field == col
    assert info.value.path == "mine.csv"
    assert shown in str(info.value)


def test_the_first_bad_hour_is_named_in_time_order():
    bad = _with(_weather(), "temp_air_c", "2023-07-12 20:00", np.nan)
    bad = _with(bad, "temp_air_c", "2023-07-12 07:00", 99.0)
    with pytest.raises(WeatherDataError, match="value 99 at 2023-07-12 07:00 UTC"):
        _chain().run(DAY, bad.iloc[::-1])


def test_only_the_hours_the_run_reads_are_checked():
    # a NaN a day away from the period does not touch the result
    far = _with(_weather(), "temp_air_c", "2023-07-13 20:00", np.nan)
    pd.testing.assert_frame_equal(_chain().run(DAY, far), _chain().run(DAY, _weather()))


def test_a_bad_value_is_refused_at_quarter_hour_steps_too():
    steps = pd.date_range(DAY[0], DAY[-1], freq="15min", tz="UTC")
    bad = _with(_weather(), "wind_speed_10m_m_per_s", "2023-07-12 12:00", -1.0)
    with pytest.raises(WeatherDataError, match="value -1 at 2023-07-12 12:00 UTC"):
        _chain().run(steps, bad)


def test_a_nan_is_refused_when_the_edge_hours_are_filled():
    # filling the missing edge hour filled every NaN of the selection as well
    short = _weather().loc[: DAY[-2]]
    bad = _with(short, "temp_air_c", "2023-07-12 10:00", np.nan)
    with pytest.raises(WeatherDataError, match="NaN.*2023-07-12 10:00 UTC"):
        _chain().run(DAY, bad, edge_fill_hours=1)


def test_pressure_out_of_range_is_refused():
    bad = _with(_weather(pressure_pa=101_325.0), "pressure_pa", "2023-07-12 09:00", 0.0)
    with pytest.raises(WeatherDataError, match="value 0 at 2023-07-12 09:00 UTC") as info:
        _chain().run(DAY, bad)
    assert info.value.field == "pressure_pa"


def test_measured_irradiance_is_checked_and_cloud_beside_it_may_be_missing(pvlib_data):
    tmy = read_tmy(pvlib_data / "723170TYA.CSV", coerce_year=1990)
    week = pd.date_range("1990-06-01", periods=24 * 7, freq="h", tz="UTC")
    # total sky cover is NaN where the file marks it missing; it is not used beside GHI
    no_cloud = tmy.assign(cloud_cover_pct=np.nan)
    pd.testing.assert_frame_equal(_chain().run(week, no_cloud), _chain().run(week, tmy))
    for col in ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"):
        bad = _with(tmy, col, "1990-06-03 17:00", np.nan)
        with pytest.raises(WeatherDataError, match="NaN.*1990-06-03 17:00 UTC") as info:
            _chain().run(week, bad)
        assert info.value.field == col


def test_non_numeric_weather_is_refused():
    bad = _weather().astype({"temp_air_c": object})
    bad.loc[bad.index[30], "temp_air_c"] = "warm"
    with pytest.raises(WeatherDataError, match="not numbers") as info:
        _chain().run(DAY, bad)
    assert info.value.field == "temp_air_c"


@pytest.mark.parametrize("temp", [np.nan, np.inf, -300.0, "25"])
def test_clear_sky_temperature_is_checked(temp):
    with pytest.raises(WeatherDataError, match=r"temp_air_c") as info:
        _chain().run(DAY, temp_air_c=temp)
    assert info.value.field == "temp_air_c"


@pytest.mark.parametrize("hours", [-1, 1.5, np.nan, True])
def test_edge_fill_hours_must_be_a_whole_number(hours):
    with pytest.raises(WeatherDataError, match="edge_fill_hours") as info:
        _chain().run(DAY, _weather(), edge_fill_hours=hours)
    assert info.value.field == "edge_fill_hours"
    with pytest.raises(WeatherDataError, match="edge_fill_hours"):
        _chain().run(DAY, temp_air_c=20.0, edge_fill_hours=hours)
    with pytest.raises(WeatherDataError, match="edge_fill_hours"):
        to_step(_weather(), DAY, edge_fill_hours=hours)


def test_a_whole_float_edge_fill_is_taken():
    short = _weather().loc[: DAY[-2]]
    np.testing.assert_array_equal(
        _chain().run(DAY, short, edge_fill_hours=1.0).to_numpy(),
        _chain().run(DAY, short, edge_fill_hours=1).to_numpy(),
    )
