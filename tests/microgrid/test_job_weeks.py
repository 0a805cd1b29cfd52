"""Job hours count from Monday 00:00 local of the week holding the period start: that
Monday is found on the local calendar, also across a DST change (``jobs.job_anchor``)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from microgrid.jobs import job_anchor
from microgrid.scenario import load_scenario
from tests.scenario_factory import DELETE, small_scenario

FLAT_SIGNALS = {
    "time_of_use": [
        {"start_hour": 0, "end_hour": 24, "price_usd_per_mwh": 50, "carbon_g_per_kwh": 300}
    ]
}


@pytest.mark.parametrize(
    ("zone", "start", "end", "monday_utc"),
    [
        # Israel's clocks went forward on Friday 2023-03-24 and back on Sunday 2023-10-29:
        # 24 h steps back from 00:00 land at 23:00 the day before
        ("Asia/Jerusalem", "2023-03-25T00:00", "2023-03-26T00:00", "2023-03-19T22:00Z"),
        ("Asia/Jerusalem", "2023-10-29T00:00", "2023-10-30T00:00", "2023-10-22T21:00Z"),
        ("America/Chicago", "2023-03-12T12:00", "2023-03-13T12:00", "2023-03-06T06:00Z"),
        ("America/Chicago", "2023-08-21T00:00", "2023-08-22T00:00", "2023-08-21T05:00Z"),
    ],
)
def test_the_week_starts_on_the_local_monday_across_a_dst_change(
    tmp_path, zone, start, end, monday_utc
):
    sc = small_scenario(**{"site.timezone": zone, "signals": FLAT_SIGNALS, "wind": DELETE})
    sc["period"] = {"start": start, "end": end, "step_minutes": 60}
    sc["weather"] = {"source": "clearsky", "temp_air_c": 15.0}
    path = tmp_path / "week.yaml"
    path.write_text(yaml.safe_dump(sc))
    anchor = job_anchor(load_scenario(path))
    assert anchor == pd.Timestamp(monday_utc)
    local = anchor.tz_convert(zone)
    assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
