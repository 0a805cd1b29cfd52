"""A hostile EPW gives one error naming the file, the line and the field. Before, a
duplicated or 30-minute record gave only 'duplicate month/day/hour in typical year',
hour 25 or month 13 pandas' 'unconverted data remains ... You might want to try', and a
text cell the file alone."""

from __future__ import annotations

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
