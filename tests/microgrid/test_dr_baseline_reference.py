"""A demand-response baseline fixed on the plan without the program
(`baseline: prior_days_without_program`, microgrid/dispatch.py:reference_baseline).

The tiny scenario without its battery: Jan 2-3 2023 in UTC, 11 MW of inference import,
one 10 MW job of 4 h (22 MW while it runs) released 08:00 Jan 2 and due 24:00, energy at
50 USD/MWh until 16:00 and 40 USD/MWh after. One event on Jan 3 10:00-11:00 whose baseline
is Jan 2 10:00 (one prior day), 10 MW committed, 5,000 USD per MWh delivered.
"""

from __future__ import annotations

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid

JAN2_10H = 10  # the baseline step (UTC hours from Jan 2 00:00)


def _scenario(tmp_path, baseline: str, **top):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.pop("battery")
    for band in data["signals"]["time_of_use"]:
        band["price_usd_per_mwh"] = 40 if band["start_hour"] >= 16 else 50
    data["demand_response_program"] = {
        "capacity_usd_per_mw_month": 0,
        "energy_usd_per_mwh": 5000,
        "commit_mw": 10,
        "baseline": baseline,
        "baseline_days": 1,
        "events": [{"start": "2023-01-03T10:00", "end": "2023-01-03T11:00"}],
    }
    data.update(top)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _plan(tmp_path, baseline: str):
    result = microgrid.run(_scenario(tmp_path, baseline), powerflow=False, baselines=False)
    ts = result.timeseries
    net = (ts["grid_import_mw"] - ts["grid_export_mw"]).to_numpy()
    (event,) = result.summary["demand_response_program"]["events"]
    return net, event


def test_the_own_import_baseline_is_inflated_and_the_reference_one_is_not(tmp_path):
    # own import: the job moves into the baseline hour (22 MW) at 10 USD/MWh more, and the
    # event pays 10 MW x 5,000 USD
    net, event = _plan(tmp_path, "prior_days_average")
    assert net[JAN2_10H] == pytest.approx(22.0, abs=1e-6)
    assert (event["baseline_mw"], event["delivered_mw"]) == pytest.approx((22.0, 10.0))
    assert "metered_baseline_mw" not in event
    # the reference: the plan without the program runs the job in the cheap evening, so
    # the baseline is 11 MW, which no schedule can raise: the job stays in the evening
    net, event = _plan(tmp_path, "prior_days_without_program")
    assert net[JAN2_10H] == pytest.approx(11.0, abs=1e-6)
    assert net[16:24].max() == pytest.approx(22.0, abs=1e-4)
    assert (event["baseline_mw"], event["delivered_mw"]) == pytest.approx((11.0, 0.0))
    assert event["metered_baseline_mw"] == pytest.approx(11.0)


def test_sizing_refuses_a_baseline_fixed_on_the_plan_without_the_program(tmp_path, capsys):
    grid = {"capex_usd_per_mw": 1e5, "lifetime_years": 25, "max_mw": 100}
    path = _scenario(tmp_path, "prior_days_without_program", sizing={"grid_import": grid})
    line = one_error_line(capsys, ["size", str(path), "--out", str(tmp_path / "out")])
    assert "demand_response_program.baseline" in line
    assert "prior_days_without_program" in line
    assert not (tmp_path / "out").exists()
