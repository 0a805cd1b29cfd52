"""A typical year (TMY/EPW) serves any period inside the local years it is laid on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weather_files import record_starts, write_epw

from weather import read_tmy, to_step


def _temp_of_local_hour(local: pd.Timestamp) -> float:
    """The synthetic file's temperature of a local standard hour (its hour of the year)."""
    i = record_starts().get_loc(local.replace(year=1999))
    return round(i / 1000.0, 3)


def test_sydney_local_calendar_year_is_covered(tmp_path):
    """UTC+10: local 2023 starts at 2022-12-31 14:00 UTC; laid on one UTC year (the old
    coerce_year) the data were 2022 or 2023 UTC and a local year was always short."""
    path = write_epw(tmp_path / "syd.epw")
    df = read_tmy(path, years=(2022, 2024))
    idx = pd.date_range(
        "2022-12-31 14:00", "2023-12-31 14:00", freq="h", inclusive="left", tz="UTC"
    )
    out = to_step(df, idx)
    assert len(out) == 8760 and out.notna().all().all()
    # local 1 Jan 00:00 is the first record, local 31 Dec 23:00 the last
    assert out["temp_air_c"].iloc[0] == 0.0
    assert out["temp_air_c"].iloc[-1] == pytest.approx(8.759)


@pytest.mark.parametrize("year", [2023, 2024])
def test_period_across_the_new_year_wraps_the_typical_year(tmp_path, year):
    """Greensboro-like UTC-5: local 29 Dec .. 3 Jan crosses the UTC and the local new year;
    each hour holds the record of its local month/day/hour (29 Feb repeats 28 Feb)."""
    path = write_epw(tmp_path / "gso.epw", lat=36.1, lon=-79.95, tz_h=-5)
    df = read_tmy(path, years=(year - 1, year + 1))
    local = pd.date_range(f"{year - 1}-12-29", f"{year}-03-03", freq="h", inclusive="left")
    idx = (local + pd.Timedelta(hours=5)).tz_localize("UTC")
    out = to_step(df, idx)
    want = [
        _temp_of_local_hour(t - pd.Timedelta(days=int(t.month == 2 and t.day == 29))) for t in local
    ]
    np.testing.assert_array_equal(out["temp_air_c"].to_numpy(), want)


def test_years_rejects_a_reversed_span(tmp_path):
    path = write_epw(tmp_path / "x.epw")
    with pytest.raises(ValueError, match="first <= last"):
        read_tmy(path, years=(2024, 2023))
