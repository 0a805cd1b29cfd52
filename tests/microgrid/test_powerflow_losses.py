"""The grid connection (PCC) as the AC power flow sees it: per-step import, reactive power
and losses in the time series, and their sums and maxima in summary.powerflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import small_scenario

from microgrid.network import NetworkParameters, build_network
from microgrid.pipeline import pcc_summary, run
from microgrid.powerflow import run_timeseries

STEP_H = 1.0


@pytest.fixture(scope="module")
def weak_run(tmp_path_factory):
    """One day of R1 on a 14 km feed to the data-center bus (the weak case's network)."""
    sc = small_scenario(**{"network.datacenter_line_km": 14.0})
    sc["period"] = {"start": "2023-08-22T00:00", "end": "2023-08-23T00:00", "step_minutes": 60}
    path = tmp_path_factory.mktemp("weak") / "weak.yaml"
    path.write_text(yaml.safe_dump(sc))
    return run(path, baselines=False)


def test_losses_close_the_balance(weak_run):
    """losses = what the PCC and the sources inject − what the loads take, per step."""
    ts = weak_run.timeseries
    sources_mw = ts.pv_used_mw + ts.wind_used_mw + ts.battery_discharge_mw + ts.backup_gen_mw
    sinks_mw = ts.facility_load_mw + ts.battery_charge_mw
    residual_mw = ts.pcc_import_mw + sources_mw - sinks_mw - ts.losses_mw
    assert ts.losses_mw.notna().all()
    assert (ts.losses_mw > 0).all()
    assert residual_mw.abs().max() < 1e-6


def test_pcc_import_is_plan_plus_losses(weak_run):
    ts = weak_run.timeseries
    plan_net_mw = ts.grid_import_mw - ts.grid_export_mw
    np.testing.assert_allclose(ts.pcc_import_mw, plan_net_mw + ts.losses_mw, atol=1e-5)
    assert ts.pcc_q_mvar.notna().all()


def test_summary_is_the_columns_sums_and_maxima(weak_run):
    ts, pf = weak_run.timeseries, weak_run.summary["powerflow"]
    assert pf["losses_mwh"] == pytest.approx(ts.losses_mw.sum() * STEP_H)
    share = ts.losses_mw.sum() / ts.facility_load_mw.sum()
    assert pf["losses_share"] == pytest.approx(share)
    assert pf["pcc_peak_import_mw"] == pytest.approx(ts.pcc_import_mw.max())
    assert pf["plan_peak_import_mw"] == pytest.approx(ts.grid_import_mw.max())
    assert pf["pcc_peak_import_mw"] > pf["plan_peak_import_mw"]
    assert pf["max_pcc_q_mvar"] == pytest.approx(ts.pcc_q_mvar.abs().max())
    assert pf["pcc_over_import_limit_steps"] == 0  # 120 MW connection, ~60 MW peak


def test_no_powerflow_leaves_the_columns_empty(tmp_path, write_scenario):
    ts = run(write_scenario(), powerflow=False, baselines=False).timeseries
    for column in ("pcc_import_mw", "pcc_q_mvar", "losses_mw"):
        assert ts[column].isna().all()


def test_limit_excess_counts_steps_over_each_limit():
    ts = pd.DataFrame(
        {
            "pcc_import_mw": [10.0, 12.5, -4.0, -7.0, np.nan],
            "pcc_q_mvar": [1.0, -3.0, 0.5, 0.0, np.nan],
            "losses_mw": [0.5, 0.6, 0.1, 0.2, np.nan],
            "facility_load_mw": [20.0, 20.0, 10.0, 10.0, 10.0],
            "grid_import_mw": [9.5, 11.9, 0.0, 0.0, 0.0],
        }
    )
    pf = pcc_summary(ts, 0.25, import_max_mw=11.0, export_max_mw=5.0)
    assert pf["pcc_over_import_limit_steps"] == 1
    assert pf["pcc_max_import_excess_mw"] == pytest.approx(1.5)
    assert pf["pcc_over_export_limit_steps"] == 1
    assert pf["pcc_max_export_excess_mw"] == pytest.approx(2.0)
    assert pf["losses_mwh"] == pytest.approx(1.4 * 0.25)
    assert pf["losses_share"] == pytest.approx(1.4 / 60.0)  # the solved steps only
    assert pf["max_pcc_q_mvar"] == pytest.approx(3.0)
    assert pf["outage_steps_solved"] == 0


def test_a_grid_outage_steps_flow_counts_as_excess():
    """In an outage the power flow still takes the grid as its slack: the PCC's losses and
    reactive power there come from a grid that is out (the limit was once the scenario's
    120 MW at every step, so they passed unnoticed)."""
    ts = pd.DataFrame(
        {
            "pcc_import_mw": [10.0, 0.26, 0.16],
            "pcc_q_mvar": [1.0, 8.0, 8.1],
            "losses_mw": [0.5, 0.26, 0.16],
            "facility_load_mw": [20.0, 20.0, 20.0],
            "grid_import_mw": [9.5, 0.0, 0.0],
        }
    )
    limits = np.array([120.0, 0.0, 0.0])
    pf = pcc_summary(ts, 1.0, import_max_mw=limits, export_max_mw=limits)
    assert pf["pcc_over_import_limit_steps"] == 2 and pf["outage_steps_solved"] == 2
    assert pf["pcc_max_import_excess_mw"] == pytest.approx(0.26)


def test_engines_agree_on_pcc_reactive_power():
    net = build_network(NetworkParameters(datacenter_line_km=14.0, pv_power_factor=0.95))
    inj = pd.DataFrame(
        {
            "facility_load_mw": [60.0, 90.0],
            "pv_used_mw": [30.0, 0.0],
            "wind_used_mw": [10.0, 20.0],
            "battery_discharge_mw": [0.0, 10.0],
            "battery_charge_mw": [5.0, 0.0],
        }
    )
    fast = run_timeseries(net, inj, engine="lightsim2grid")
    slow = run_timeseries(net, inj, engine="pandapower")
    assert fast.pcc_q_mvar.notna().all()
    np.testing.assert_allclose(fast.pcc_q_mvar, slow.pcc_q_mvar, atol=1e-4)
    np.testing.assert_allclose(fast.pcc_p_mw, slow.pcc_p_mw, atol=1e-4)


def test_a_runs_outage_steps_are_held_to_a_zero_limit(write_scenario):
    """The run passed the scenario's fixed 120 MW to the summary: the PCC's flow in an
    outage (the grid taken as the slack) went unreported."""
    outage = [{"start": "2023-08-22T12:00", "end": "2023-08-22T14:00"}]
    res = run(write_scenario(**{"events.outages": outage}), baselines=False)
    pf = res.summary["powerflow"]
    in_outage = res.timeseries["grid_import_mw"].iloc[12:14]  # 17:00-19:00Z: 12-14 CDT
    assert pf["outage_steps_solved"] == 2 and (in_outage == 0).all()
    assert pf["pcc_over_import_limit_steps"] >= 1 and pf["pcc_max_import_excess_mw"] > 0
