"""Scenario schema: defaults, time zones, dotted updates, the generated reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import microgrid
from microgrid.assemble import solver_options
from microgrid.datacenter import inference_it_mw, pue
from microgrid.scenario_demand import Inference, PUEModel
from microgrid.schema_doc import reference
from microgrid.signals import load_signals

ROOT = Path(__file__).resolve().parents[2]


def test_reference_doc_is_current():
    assert (ROOT / "docs" / "scenario-reference.md").read_text() == reference(), (
        "run: python -m microgrid.schema_doc > docs/scenario-reference.md"
    )


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(path):
    sc = microgrid.load_scenario(path)
    assert len(sc.index()) > 0


def test_period_is_local_wall_time_across_dst():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml").with_updates(
        {"period.start": "2023-11-04T00:00", "period.end": "2023-11-06T00:00"}
    )
    idx = sc.index()
    # 2023-11-05 has 25 local hours in America/Chicago (CDT -> CST)
    assert len(idx) == 49
    assert idx[0] == pd.Timestamp("2023-11-04T05:00Z") and idx[-1] == pd.Timestamp(
        "2023-11-06T05:00Z"
    )


def test_fifteen_minute_step_holds_hourly_signal():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml").with_updates(
        {"period.step_minutes": 15}
    )
    sig = load_signals(sc)
    assert len(sig) == 168 * 4
    hourly = sig["price_usd_per_mwh"].to_numpy().reshape(-1, 4)
    assert (hourly == hourly[:, :1]).all()


def test_time_of_use_signals():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml").with_updates(
        {
            "signals": {
                "time_of_use": [
                    {
                        "start_hour": 0,
                        "end_hour": 16,
                        "price_usd_per_mwh": 30,
                        "carbon_g_per_kwh": 300,
                    },
                    {
                        "start_hour": 16,
                        "end_hour": 21,
                        "price_usd_per_mwh": 200,
                        "carbon_g_per_kwh": 450,
                    },
                    {
                        "start_hour": 21,
                        "end_hour": 24,
                        "price_usd_per_mwh": 30,
                        "carbon_g_per_kwh": 300,
                    },
                ]
            }
        }
    )
    sig = load_signals(sc)
    local_hour = sig.index.tz_convert("America/Chicago").hour
    assert (sig["price_usd_per_mwh"][(local_hour >= 16) & (local_hour < 21)] == 200).all()
    assert (sig["price_usd_per_mwh"][local_hour < 16] == 30).all()


def test_inference_profile_peaks_at_15_local():
    idx = pd.date_range("2023-08-21T05:00Z", periods=24, freq="h")
    mw = inference_it_mw(
        idx, Inference(mean_mw=25, amplitude_mw=5, peak_hour_local=15), "America/Chicago"
    )
    # the hour 14:30-15:30 is not a step; the steps 14-15 and 15-16 straddle the peak equally
    local = idx.tz_convert("America/Chicago").hour
    assert mw[local == 14][0] == pytest.approx(mw[local == 15][0])
    assert mw.mean() == pytest.approx(25.0)
    assert mw.max() == pytest.approx(25 + 5 * np.cos(np.pi / 24))


def test_pue_model_hand_values():
    model = PUEModel()
    assert pue(np.array([10.0, 15.0, 25.0, 40.0, 60.0]), model).tolist() == pytest.approx(
        [1.10, 1.10, 1.18, 1.30, 1.40]
    )


def test_signal_edge_fill_covers_the_local_year_end():
    from microgrid.errors import InputError

    year = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas-2023.yaml")
    sig = load_signals(year)
    assert len(sig) == 8760
    # 2023-12-31 18:00 CST onwards repeats the file's last hour (2023-12-31T23:00Z)
    tail = sig.loc["2024-01-01T00:00Z":]
    assert len(tail) == 6 and (tail["price_usd_per_mwh"] == sig["price_usd_per_mwh"].iloc[-7]).all()
    with pytest.raises(InputError, match="but the period needs"):
        load_signals(year.with_updates({"signals.edge_fill_hours": 5}))


def test_price_shift_reads_later_rows():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml")
    plain = load_signals(sc)
    shifted = load_signals(sc.with_updates({"signals.price_shift_h": 7}))
    assert np.array_equal(
        shifted["price_usd_per_mwh"].to_numpy()[:-7], plain["price_usd_per_mwh"].to_numpy()[7:]
    )
    assert np.array_equal(
        shifted["carbon_g_per_kwh"].to_numpy(), plain["carbon_g_per_kwh"].to_numpy()
    )


def test_solver_edge_search_steps_reach_the_solver_options():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml")
    assert solver_options(sc).edge_search_steps == 2
    off = sc.with_updates({"solver.edge_search_steps": 0})
    assert solver_options(off).edge_search_steps == 0
    with pytest.raises(ValueError, match="edge_search_steps"):
        sc.with_updates({"solver.edge_search_steps": -1})


def test_solver_threads_reach_the_solver_options():
    sc = microgrid.load_scenario(ROOT / "scenarios" / "ercot-dallas.yaml")
    assert solver_options(sc).threads == 1
    assert solver_options(sc.with_updates({"solver.threads": 2})).threads == 2
    with pytest.raises(ValueError, match="threads"):
        sc.with_updates({"solver.threads": 0})  # HiGHS's "automatic": sized by the machine
