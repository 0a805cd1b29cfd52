"""Job hours count from Monday 00:00 local of the week holding the period start: that
Monday is found on the local calendar, also across a DST change (``jobs.job_anchor``)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from microgrid.jobs import job_anchor, job_instances
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


def test_hours_count_from_a_midnight_the_clocks_skip(tmp_path):
    """Tehran's clocks jumped from Monday 2021-03-22 00:00 to 01:00 (+03:30 to +04:30).
    The week starts at the change, but hour 24 is Tuesday 00:00 on the wall clock; every
    job hour once counted from the 01:00 the clocks jumped to, an hour late."""
    sc = small_scenario(**{"site.timezone": "Asia/Tehran", "signals": FLAT_SIGNALS, "wind": DELETE})
    sc["period"] = {"start": "2021-03-22T01:00", "end": "2021-03-25T00:00", "step_minutes": 30}
    sc["weather"] = {"source": "clearsky", "temp_air_c": 15.0}
    sc["jobs"] = {
        "items": [{"id": "a", "gpus": 100, "work_h": 3, "release_h": 24, "deadline_h": 48}]
    }
    path = tmp_path / "tehran.yaml"
    path.write_text(yaml.safe_dump(sc))
    scenario = load_scenario(path)
    assert job_anchor(scenario) == pd.Timestamp("2021-03-21T20:30Z")  # the change, 01:00
    [inst], _ = job_instances(scenario)
    assert inst.release_utc == pd.Timestamp("2021-03-22T19:30Z")  # Tuesday 00:00 +04:30
    assert inst.deadline_utc == pd.Timestamp("2021-03-23T19:30Z")  # Wednesday 00:00
