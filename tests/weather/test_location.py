"""The location a TMY2/TMY3/EPW header states is a finite number in range, or the file is
refused naming line 1 and the field. Before, an EPW latitude `inf` or a TMY3 latitude
`nan` was read and the site-distance check compared NaN and refused nothing; latitude
-214.93, longitude 498.6 and elevation -9999 were taken as given; a time zone of 99 h
failed inside pandas without a line."""

from __future__ import annotations

import pytest
from weather_files import write_epw

from weather import WeatherDataError, read_tmy

EPW_DEFAULTS = {"latitude": "-33.87", "longitude": "151.21", "time zone": "10.0"}


@pytest.mark.parametrize(
    ("field", "text", "needle"),
    [
        ("latitude", "inf", "LOCATION latitude 'inf': not a finite number"),
        ("latitude", "nan", "LOCATION latitude 'nan': not a finite number"),
        ("latitude", "-214.93", "LOCATION latitude '-214.93' outside [-90, 90] degrees"),
        ("longitude", "498.6", "LOCATION longitude '498.6' outside [-180, 180] degrees"),
        ("time zone", "99", "LOCATION time zone '99' outside [-12, 14] hours from UTC"),
        ("time zone", "inf", "LOCATION time zone 'inf': not a finite number"),
        ("elevation", "-9999", "LOCATION elevation '-9999' outside [-500, 9000] m"),
        ("elevation", "9500", "LOCATION elevation '9500' outside [-500, 9000] m"),
    ],
)
def test_epw_location_out_of_range_names_line_1(tmp_path, field, text, needle):
    path = write_epw(tmp_path / "x.epw")
    cells = path.read_text().split("\n", 1)
    location = cells[0].split(",")
    location[{"latitude": 6, "longitude": 7, "time zone": 8, "elevation": 9}[field]] = text
    path.write_text(",".join(location) + "\n" + cells[1])
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), 1, field)
    assert needle in e.message


def test_epw_location_at_its_limits_is_read(tmp_path):
    path = write_epw(tmp_path / "x.epw", lat=-90.0, lon=180.0, tz_h=14.0, alt=-430.0)
    df = read_tmy(path)
    assert (df.attrs["latitude_deg"], df.attrs["longitude_deg"]) == (-90.0, 180.0)
    assert df.attrs["utc_offset_seconds"] == 14 * 3600


def _tmy3_header(tmp_path, pvlib_data, pos: int, text: str):
    lines = (pvlib_data / "723170TYA.CSV").read_text().split("\n")
    cells = lines[0].split(",")  # 723170,"GREENSBORO PIEDMONT TRIAD INT",NC,-5.0,36.100,...
    cells[pos] = text
    lines[0] = ",".join(cells)
    path = tmp_path / "gso.csv"
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize(
    ("pos", "text", "field", "needle"),
    [
        (4, "nan", "latitude", "header latitude 'nan': not a finite number"),
        (5, "-279.95", "longitude", "header longitude '-279.95' outside [-180, 180]"),
        (3, "99", "time zone", "header time zone '99' outside [-12, 14]"),
        (6, "-9999", "elevation", "header elevation '-9999' outside [-500, 9000] m"),
    ],
)
def test_tmy3_header_out_of_range_names_line_1(tmp_path, pvlib_data, pos, text, field, needle):
    path = _tmy3_header(tmp_path, pvlib_data, pos, text)
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), 1, field)
    assert needle in e.message


@pytest.mark.parametrize(
    ("old", "new", "field", "needle"),
    [
        (" -5 N 25 48", " 99 N 25 48", "time zone", "header time zone '99' outside"),
        ("N 25 48", "N 95 48", "latitude", "header latitude '95.8' outside [-90, 90]"),
        ("16     2", "16 -9999", "elevation", "header elevation '-9999.0' outside"),
    ],
)
def test_tmy2_header_out_of_range_names_line_1(tmp_path, pvlib_data, old, new, field, needle):
    lines = (pvlib_data / "12839.tm2").read_text().split("\n")
    assert old in lines[0]
    lines[0] = lines[0].replace(old, new)
    path = tmp_path / "miami.tm2"
    path.write_text("\n".join(lines))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), 1, field)
    assert needle in e.message
