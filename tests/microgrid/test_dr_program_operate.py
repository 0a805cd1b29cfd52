"""Demand-response delivery in the closed loop: the controller learns of an event only
`notice_minutes` before it starts.

The tiny scenario (scenario_factory.TINY) on one day without its battery: 11 MW of
inference load (10 MW at PUE 1.10), one non-preemptible 10 MW job of 4 h released at
08:00 (22 MW while it runs), energy at 40 USD/MWh in 08-12 and 60 after (50 before). An
event 10:00-12:00 against a declared 22 MW baseline, 11 MW committed, 1,000 USD/MWh short.
- 120 min notice: the 08:00 re-plan knows the event and runs the job 12-16 (4 h × 11 MW ×
  20 USD = 880 USD more energy): 11 MW delivered, no shortfall.
- no notice: the job starts at 08:00 (the cheap hours) and cannot stop at 10:00: nothing
  delivered, 2 h × 11 MW = 22 MWh short, 22,000 USD.
"""

from __future__ import annotations

import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.operate import run_operate


def _scenario(tmp_path, notice_minutes: int):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.pop("battery")
    data["period"]["end"] = "2023-01-03T00:00"
    data["signals"] = {
        "time_of_use": [
            {"start_hour": 0, "end_hour": 8, "price_usd_per_mwh": 50},
            {"start_hour": 8, "end_hour": 12, "price_usd_per_mwh": 40},
            {"start_hour": 12, "end_hour": 24, "price_usd_per_mwh": 60},
        ],
        "carbon_g_per_kwh": 0,  # the bands' carbon (a band has no default of its own)
    }
    data["jobs"]["items"][0]["preemptible"] = False
    data["demand_response_program"] = {
        "capacity_usd_per_mw_month": 100,
        "shortfall_usd_per_mwh": 1000,
        "commit_mw": 11.0,
        "notice_minutes": notice_minutes,
        "baseline": "declared",
        "declared_baseline_mw": 22.0,
        "events": [{"start": "2023-01-02T10:00", "end": "2023-01-02T12:00"}],
    }
    data["operate"] = {"lookahead_h": 24, "event_costs": "none"}
    path = tmp_path / f"notice{notice_minutes}.yaml"
    path.write_text(yaml.safe_dump(data))
    return microgrid.load_scenario(path)


@pytest.mark.parametrize(
    ("notice_minutes", "delivered_mw", "shortfall_mwh"), [(120, 11.0, 0.0), (0, 0.0, 22.0)]
)
def test_delivery_depends_on_the_notice(tmp_path, notice_minutes, delivered_mw, shortfall_mwh):
    out = run_operate(_scenario(tmp_path, notice_minutes))
    dr = out["summary"]["demand_response_program"]
    (ev,) = dr["events"]
    assert dr["commit_mw"] == 11.0
    assert ev["baseline_mw"] == pytest.approx(22.0)
    assert ev["delivered_mw"] == pytest.approx(delivered_mw, abs=1e-6)
    assert ev["shortfall_mwh"] == pytest.approx(shortfall_mwh, abs=1e-6)
    assert dr["shortfall_penalty_usd"] == pytest.approx(1000.0 * shortfall_mwh, abs=1e-3)
    assert dr["capacity_payment_usd"] == pytest.approx(11 * 100 * 24 / 744)
    parts = dr["capacity_payment_usd"] + dr["energy_payment_usd"]
    assert dr["net_revenue_usd"] == pytest.approx(parts - dr["shortfall_penalty_usd"])
