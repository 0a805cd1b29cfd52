"""A hostile EPW gives one error naming the file, the line and the field. Before, a
duplicated or 30-minute record gave only 'duplicate month/day/hour in typical year',
hour 25 or month 13 pandas' 'unconverted data remains ... You might want to try', and a
text cell the file alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weather_files import FIELD, FIRST_RECORD_LINE, epw_records, write_epw

from weather import WeatherDataError, read_tmy


def _mutated(tmp_path, change):
    rows = epw_records()
    rows = change(rows) or rows
    return write_epw(tmp_path / "bad.epw", rows)


def _set(i, field, text):
    def change(rows):
        rows[i][FIELD.get(field, 4)] = text

    return change


CASES = {
    "hour 25": (_set(100, "hour", "25"), 100, "hour", "hour '25': expected a whole number 1..24"),
    "hour 0": (_set(100, "hour", "0"), 100, "hour", "hour '0'"),
    "month 13": (_set(5, "month", "13"), 5, "month", "month '13': expected a whole number 1..12"),
    "text GHI": (_set(7, "ghi", "abc"), 7, "ghi_w_per_m2", "not a number: 'abc'"),
    "30-minute record": (_set(3, "minute", "30"), 3, "minute", "expected 0 or 60"),
    "duplicate": (
        lambda r: r[:11] + [list(r[10])] + r[11:],
        11,
        "hour",
        "duplicate record 1/1 hour 11",
    ),
    "dropped": (lambda r: r[:10] + r[11:], 10, "hour", "record 1/1 hour 12 follows 1/1 hour 10"),
    "31 April": (_set(2160, "day", "31"), 2160, "day", "day 31 of month 4 does not exist in 1999"),
    "truncated": (lambda r: r[:2400], 2399, "hour", "2400 hourly records end at 4/10 hour 24"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_names_line_and_field(tmp_path, case):
    change, record, field, needle = CASES[case]
    path = _mutated(tmp_path, change)
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path, years=(2023, 2023))
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), FIRST_RECORD_LINE + record, field)
    assert needle in e.message


def test_location_text_names_line_1(tmp_path):
    path = write_epw(tmp_path / "x.epw")
    path.write_text(path.read_text().replace("-33.87", "south", 1))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert (info.value.line, info.value.field) == (1, "latitude")
    assert "not a number: 'south'" in info.value.message


def test_a_leap_typical_year_with_29_february_is_read(tmp_path):
    rows = epw_records()
    feb29 = [list(r) for r in rows[58 * 24 : 59 * 24]]
    for r in feb29:
        r[0], r[FIELD["day"]] = "2000", "29"  # a typical year's February from a leap year
    path = write_epw(tmp_path / "leap.epw", rows[: 59 * 24] + feb29 + rows[59 * 24 :])
    assert len(read_tmy(path, years=(2024, 2024))) == 8784


def test_29_february_of_a_common_year_names_its_line(tmp_path):
    path = _mutated(tmp_path, _set(1397, "day", "29"))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert (info.value.line, info.value.field) == (FIRST_RECORD_LINE + 1397, "day")


def test_relative_humidity_text_names_line_and_field(tmp_path):
    """Before: 'cannot read EPW file: ValueError: could not convert string to float: 'abc''."""
    path = _mutated(tmp_path, _set(100, "relative_humidity", "abc"))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.line, e.field) == (FIRST_RECORD_LINE + 100, "relative_humidity_pct")
    assert e.message == "not a number: 'abc'"


@pytest.mark.parametrize("n_cells", [40, 36, 12])
def test_a_record_with_the_wrong_cell_count_names_its_line(tmp_path, n_cells):
    """Before: 40 cells gave pandas' 'Expected 35 fields in line 208, saw 40' for the record
    on line 209 (no field); 12 cells a NaN irradiance."""

    def change(rows):
        rows[200] = (rows[200] + ["1"] * 10)[:n_cells]

    path = _mutated(tmp_path, change)
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    e = info.value
    assert (e.path, e.line, e.field) == (str(path), FIRST_RECORD_LINE + 200, None)
    assert e.message.startswith(f"{n_cells} cells: an EPW record has 35")


def _with_blank_line(tmp_path, before_record: int, rows=None):
    """An EPW with an empty line in front of record ``before_record`` (0-based)."""
    path = write_epw(tmp_path / "blank.epw", rows)
    lines = path.read_text().split("\n")
    lines.insert(FIRST_RECORD_LINE - 1 + before_record, "")
    path.write_text("\n".join(lines))
    return path


def test_line_numbers_after_a_blank_line_are_the_file_lines(tmp_path):
    """Before: a blank line in the data made later errors name the line before the one
    meant (pandas skips blank lines; the row was counted from line 9)."""
    rows = epw_records()
    rows[200][FIELD["pressure"]] = "0"
    path = _with_blank_line(tmp_path, 100, rows)
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert (info.value.line, info.value.field) == (FIRST_RECORD_LINE + 201, "pressure_pa")


def test_blank_lines_in_the_data_are_skipped(tmp_path):
    path = _with_blank_line(tmp_path, 100)
    np.testing.assert_array_equal(read_tmy(path)["temp_air_c"].to_numpy(), np.arange(8760) / 1000.0)


def test_a_byte_order_mark_is_read(tmp_path):
    """A UTF-8 EPW saved with a byte-order mark (as pvlib and the reader before the text
    check read it) was refused: 'line 1 is not its LOCATION line'."""
    plain = write_epw(tmp_path / "plain.epw")
    bom = tmp_path / "bom.epw"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    df = read_tmy(bom, years=(2023, 2023))
    pd.testing.assert_frame_equal(df, read_tmy(plain, years=(2023, 2023)))
    assert df.attrs["latitude_deg"] == -33.87


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (6, 'COMMENTS 1,"Adelaide Airport station'),
        (8, 'DATA PERIODS,1,1,"Data,Sunday, 1/ 1,12/31'),
    ],
)
def test_an_unclosed_quote_in_the_header_names_its_line(tmp_path, line, text):
    """pvlib reads no record at all past such a quote (pandas looks for its end); the text
    check's csv reader raised 'field larger than field limit (131072)': internal error."""
    path = write_epw(tmp_path / "q.epw")
    lines = path.read_text().split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert (info.value.path, info.value.line) == (str(path), line)
    assert "quote opened on this line is never closed" in info.value.message


@pytest.mark.parametrize(
    "comment",
    [
        'COMMENTS 1,"Data from station 94672, 5" rain gauge',
        'COMMENTS 1,Data from station 94672 "Adelaide Airport',
        'COMMENTS 1,"Custom/User Format -- WMO#946720; Data ""quoted"", with commas"',
    ],
)
def test_comments_with_closed_or_inner_quotes_are_read(tmp_path, comment):
    path = write_epw(tmp_path / "c.epw")
    path.write_text(path.read_text().replace("COMMENTS 1,synthetic", comment))
    assert len(read_tmy(path, years=(2023, 2023))) == 8760


def test_an_unclosed_quote_in_a_record_names_its_line(tmp_path):
    path = _mutated(tmp_path, _set(300, "ghi", '"12'))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert info.value.line == FIRST_RECORD_LINE + 300
    assert "never closed" in info.value.message


@pytest.mark.parametrize("line", [4, 8])
def test_a_blank_header_line_names_its_line(tmp_path, line):
    """pvlib skips six lines after LOCATION and takes the next as its header: a blank
    one among them shifts the records."""
    path = write_epw(tmp_path / "h.epw")
    lines = path.read_text().split("\n")
    lines[line - 1] = ""
    path.write_text("\n".join(lines))
    with pytest.raises(WeatherDataError) as info:
        read_tmy(path)
    assert info.value.line == line
    assert "is blank: an EPW has eight header lines" in info.value.message
