"""The report's time axes across a clock change: R1's site (America/Chicago) over the week
of the autumn change (2023-10-30 to 2023-11-06, 169 hourly UTC steps, 01:00 twice on
2023-11-05) and the spring one (2023-03-12, 02:00 skipped). Every time figure's x values
increase with time and each step is as wide as it lasts (no zero-width hour, no gap); the
hover names the zone on both sides of the change; the Gantt hover shows integers, energies
with their unit and times with their zone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from microgrid.errors import InputError
from microgrid.report_html import figures
from microgrid.report_html.page import figure_html
from microgrid.report_html.rundir import NetworkLimits, RunData
from microgrid.report_html.timeaxis import time_axis

TZ = "America/Chicago"
HOUR = pd.Timedelta(hours=1)
# (first step's UTC start, steps, the change's UTC instant, the clock before and after it)
AUTUMN = ("2023-10-30T05:00Z", 169, "2023-11-05T07:00Z", "02:00 CDT", "01:00 CST")
SPRING = ("2023-03-06T06:00Z", 167, "2023-03-12T08:00Z", "02:00 CST", "03:00 CDT")


def _week_run(start: str, steps: int) -> RunData:
    """A run's report data for `steps` hours from `start` (UTC) at R1's site: a battery,
    prices, the AC check, one job segment across the period and an operate event."""
    index = pd.date_range(start, periods=steps, freq="h", name="timestamp_utc")
    ramp = np.linspace(0.0, 1.0, steps)
    ts = pd.DataFrame(
        {
            "grid_import_mw": 50 + 10 * ramp,
            "facility_load_mw": 55 + 10 * ramp,
            "price_usd_per_mwh": 30 + ramp,
            "carbon_g_per_kwh": 400 - ramp,
            "battery_soc_mwh": 100 * ramp,
            "dc_bus_vm_pu": 1.0 - 0.01 * ramp,
            "max_line_loading_pct": 40 + ramp,
        },
        index=index,
    )
    segment = {
        "job_id": "pretrain",
        "segment": 1,
        "start_utc": index[1],
        "end_utc": index[-1],
        "gpus": 32768,
        "power_fraction_mean": 0.8512,
        "work_done_h": 160.0,
        "energy_mwh": 1362.25,
    }
    pva = pd.DataFrame(
        {
            "setpoint_grid_import_mw": ts["grid_import_mw"],
            "actual_grid_import_mw": ts["grid_import_mw"] + 1,
            "setpoint_battery_soc_mwh": ts["battery_soc_mwh"],
            "actual_battery_soc_mwh": ts["battery_soc_mwh"],
        }
    )
    first_day = index[0].tz_convert(TZ)
    events = pd.DataFrame(
        {
            "kind": ["grid_outage"],
            "start_local": [f"{first_day:%Y-%m-%d}T12:00"],
            "end_local": [f"{first_day:%Y-%m-%d}T14:00"],
        }
    )
    return RunData(
        folder=Path("/nonexistent"),
        summary={"mode": "operate"},
        timeseries=ts,
        segments=pd.DataFrame([segment]),
        jobs_spec=[
            {
                "id": "pretrain",
                "release_utc": index[0].isoformat(),
                "deadline_utc": (index[-1] + HOUR).isoformat(),
            }
        ],
        timezone=TZ,
        step=HOUR,
        limits=NetworkLimits(0.95, 1.05, 100.0, True),
        planned_vs_actual=pva,
        events=events,
    )


def _time_figures(run: RunData) -> dict:
    return {
        "dispatch": figures.dispatch_figure(run),
        "voltage": figures.voltage_figure(run),
        "operate": figures.planned_actual_figure(run),
    }


def _seconds(x: list[str]) -> np.ndarray:
    return (pd.DatetimeIndex(x) - pd.Timestamp("2000-01-01")) / pd.Timedelta(seconds=1)


@pytest.mark.parametrize("case", [AUTUMN, SPRING], ids=["autumn", "spring"])
def test_every_time_trace_is_monotonic_with_one_hour_per_step(case):
    start, steps, *_ = case
    run = _week_run(start, steps)
    for name, fig in _time_figures(run).items():
        for trace in fig.data:
            dx = np.diff(_seconds(list(trace.x)))
            assert (dx == 3600).all(), (name, trace.name, sorted(set(dx)))
            # a step line: every step's start and the last one's end; SOC: every step's end
            assert len(trace.x) in (steps, steps + 1), (name, trace.name)


@pytest.mark.parametrize("case", [AUTUMN, SPRING], ids=["autumn", "spring"])
def test_the_change_is_marked_and_the_hover_names_the_zone_on_both_sides(case):
    start, steps, change_utc, before, after = case
    run = _week_run(start, steps)
    (change,) = time_axis(run.timeseries.index, run.step, TZ).changes
    assert change.at_utc == pd.Timestamp(change_utc)
    assert (change.before, change.after) == (before, after)
    for name, fig in _time_figures(run).items():
        (clock,) = [t for t in fig.data if t.name == "wall clock"]
        at = list(clock.x).index(figures.run_axis(run).x(pd.DatetimeIndex([change_utc]))[0])
        # the step that ends at the change reads the old zone, the one after it the new
        assert clock.customdata[at - 1].endswith(before[-3:]), (name, clock.customdata[at - 1])
        assert clock.customdata[at].endswith(after[-3:]), (name, clock.customdata[at])
        lines = [s for s in fig.layout.shapes if s.line.dash == "dot"]
        assert [s.x0 for s in lines] == [clock.x[at]], name
        assert any(f"{before} \u2192 {after}" in a.text for a in fig.layout.annotations), name
        titles = [fig.layout[k].title.text for k in fig.layout if k.startswith("xaxis")]
        assert f"{TZ} time on one offset, {before[-3:]}" in " ".join(filter(None, titles))


def _page_traces(div: str, fig) -> list[dict]:
    """The traces of a figure as the page carries them (the JSON passed to Plotly)."""
    html = figure_html(div, fig)
    data = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', html, re.S)
    return json.loads(data.group(1))


def test_autumn_hours_in_the_page_are_each_drawn_one_hour_wide():
    """The page's plotly JSON: R1's autumn week, both 01:00s drawn, an hour each."""
    start, steps, *_ = AUTUMN
    for div, fig in _time_figures(_week_run(start, steps)).items():
        traces = _page_traces(div, fig)
        (clock,) = [t for t in traces if t.get("name") == "wall clock"]
        one_am = [c for c in clock["customdata"] if c.startswith("Sun 2023-11-05 01:00")]
        assert one_am == ["Sun 2023-11-05 01:00 CDT", "Sun 2023-11-05 01:00 CST"], div
        for trace in traces:
            assert (np.diff(_seconds(trace["x"])) == 3600).all(), (div, trace.get("name"))


def test_a_period_without_a_change_is_wall_clock_time_with_its_zone():
    run = _week_run("2023-08-21T05:00Z", 48)
    fig = figures.dispatch_figure(run)
    assert fig.data[0].x[0] == "2023-08-21T00:00:00"  # local midnight, CDT
    assert not [t for t in fig.data if t.name == "wall clock"] and not fig.layout.shapes
    titles = [fig.layout[k].title.text for k in fig.layout if k.startswith("xaxis")]
    assert f"local time ({TZ}, CDT (UTC-05:00))" in titles
    assert fig.layout.xaxis.unifiedhovertitle.text == "%{x|%a %Y-%m-%d %H:%M} CDT"


def test_gantt_spans_the_change_at_its_length_and_hovers_with_units_and_zones():
    start, steps, *_ = AUTUMN
    run = _week_run(start, steps)
    fig = figures.gantt_figure(run)
    bars, release, deadline = fig.data
    # the bar is drawn from its start for its real length, ending where the period does
    base = pd.Timestamp(bars.base[0])
    end = base + pd.Timedelta(milliseconds=float(bars.x[0]))
    assert end == pd.Timestamp(deadline.x[0]) - HOUR
    assert list(bars.customdata[0]) == ["Mon 2023-10-30 01:00 CDT", "Sun 2023-11-05 23:00 CST"]
    assert bars.text[0] == (
        "segment 1<br>GPUs: 32,768<br>mean power fraction: 0.85<br>work done: 160.0 h"
        "<br>energy: 1,362.2 MWh"
    )
    assert "e+" not in bars.text[0]
    assert release.customdata[0] == "Mon 2023-10-30 00:00 CDT"
    assert deadline.customdata[0] == "Mon 2023-11-06 00:00 CST"
    assert "%{customdata}" in release.hovertemplate


def test_an_event_time_the_clocks_repeat_is_one_input_error():
    start, steps, *_ = AUTUMN
    run = _week_run(start, steps)
    run.events.loc[0, "start_local"] = "2023-11-05T01:30"  # CDT or CST: no single instant
    with pytest.raises(InputError) as err:
        figures.planned_actual_figure(run)
    assert "events.csv" in str(err.value) and "start_local" in str(err.value)


def test_a_change_inside_a_long_step_is_found_to_the_second():
    days = pd.date_range("2023-10-30T05:00Z", periods=14, freq="D")
    (change,) = time_axis(days, pd.Timedelta(days=1), TZ).changes
    assert change.at_utc == pd.Timestamp(AUTUMN[2])
    assert change.text == "clocks go back: 02:00 CDT \u2192 01:00 CST"
