"""Surface pressure of TMY/EPW files: a missing-value code is filled with the standard
atmosphere at the file's altitude; an impossible value (0, negative, huge) is refused
naming file, line and field. Before, both reached the air density and, through it,
zeroed the wind power without a word. Total sky cover, unused beside GHI, is NaN where
its missing code stands."""

from __future__ import annotations

import numpy as np
import pvlib
import pytest
from weather_files import FIELD, FIRST_RECORD_LINE, epw_records, write_epw

from weather import WeatherDataError, read_tmy


def _epw_with_pressure(tmp_path, values: dict[int, str]):
    rows = epw_records()
    for i, text in values.items():
        rows[i][FIELD["pressure"]] = text
    return write_epw(tmp_path / "p.epw", rows, alt=40.0)


def test_epw_missing_code_is_the_standard_atmosphere(tmp_path):
    df = read_tmy(_epw_with_pressure(tmp_path, {5: "999999"}))
    assert df["pressure_pa"].iloc[5] == pytest.approx(pvlib.atmosphere.alt2pres(40.0))
    assert (np.delete(df["pressure_pa"].to_numpy(), 5) == 101325).all()


@pytest.mark.parametrize("text", ["0", "-1", "200000"])
def test_epw_impossible_pressure_names_its_line(tmp_path, text):
    path = _epw_with_pressure(tmp_path, {7: text})
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), FIRST_RECORD_LINE + 7, "pressure_pa")
    assert "outside [30000, 110000]" in e.message


def _tmy3_with_pressure(tmp_path, pvlib_data, mbar: str):
    lines = (pvlib_data / "723170TYA.CSV").read_text().splitlines()
    col = lines[1].split(",").index("Pressure (mbar)")
    cells = lines[2 + 10].split(",")
    cells[col] = mbar
    lines[2 + 10] = ",".join(cells)
    path = tmp_path / "gso.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tmy3_missing_code_and_zero(tmp_path, pvlib_data):
    df = read_tmy(_tmy3_with_pressure(tmp_path, pvlib_data, "-9900"))
    assert df["pressure_pa"].iloc[10] == pytest.approx(pvlib.atmosphere.alt2pres(273.0))
    path = _tmy3_with_pressure(tmp_path, pvlib_data, "0")
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert (info.value.line, info.value.field) == (13, "pressure_pa")


def test_tmy3_message_gives_the_missing_code_as_written(tmp_path, pvlib_data):
    """Before: '(missing is marked -990000 Pa)', a code no TMY3 holds."""
    with pytest.raises(WeatherDataError) as info:
        read_tmy(_tmy3_with_pressure(tmp_path, pvlib_data, "101.3"))  # kPa, not mbar
    assert info.value.message == (
        "value 10130 Pa (101.3 mbar) outside [30000, 110000] (missing is marked -9900 mbar)"
    )


def _tmy2_with_pressure(tmp_path, pvlib_data, mbar: str):
    lines = (pvlib_data / "12839.tm2").read_text().split("\n")
    # Pressure is the 4-character field at columns 84..87 (pvlib's TMY2 layout)
    lines[1 + 10] = lines[1 + 10][:84] + f"{mbar:>4}" + lines[1 + 10][88:]
    path = tmp_path / "miami.tm2"
    path.write_text("\n".join(lines))
    return path


def test_tmy2_missing_code_and_zero(tmp_path, pvlib_data):
    """Before, a zero was refused with '(missing is marked 999900 Pa)'."""
    df = read_tmy(_tmy2_with_pressure(tmp_path, pvlib_data, "9999"))
    assert df["pressure_pa"].iloc[10] == pytest.approx(pvlib.atmosphere.alt2pres(2.0))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(_tmy2_with_pressure(tmp_path, pvlib_data, "0"))
    assert (info.value.line, info.value.field) == (12, "pressure_pa")
    assert info.value.message.endswith("(missing is marked 9999 mbar)")


def test_epw_missing_sky_cover_is_nan_not_990_percent(tmp_path):
    """Total sky cover 99 is EPW's missing code; it had read as 990 % cloud."""
    rows = epw_records()
    rows[5][22], rows[6][22] = "99", "7"
    df = read_tmy(write_epw(tmp_path / "c.epw", rows))
    assert np.isnan(df["cloud_cover_pct"].iloc[5])
    assert df["cloud_cover_pct"].iloc[6] == 70.0
    assert df["cloud_cover_pct"].drop(df.index[[5, 6]]).eq(0.0).all()


def test_tmy3_missing_sky_cover_is_nan(tmp_path, pvlib_data):
    lines = (pvlib_data / "723170TYA.CSV").read_text().splitlines()
    col = lines[1].split(",").index("TotCld (tenths)")
    cells = lines[2 + 10].split(",")
    cells[col] = "-9900"
    lines[2 + 10] = ",".join(cells)
    path = tmp_path / "gso.csv"
    path.write_text("\n".join(lines) + "\n")
    cloud = read_tmy(path)["cloud_cover_pct"]
    assert np.isnan(cloud.iloc[10]) and cloud.drop(cloud.index[10]).between(0, 100).all()
