"""Coincident-peak alerts in the closed loop: the controller sees an alert only from its
notice time (alert_notice_hours before its window), then keeps the job out of it.

Scenario: tests/microgrid/test_coincident_peak.py's tiny one (11 MW of inference import,
a 10 MW job of 4 h released 08:00 UTC, cheap hours 08-12), with one certain alert
(probability 1) over 09:00-11:00 on 2023-01-02 and the real interval at 10:00.
"""

from __future__ import annotations

import pytest
from test_coincident_peak import known, load, tiny_data

import microgrid
from microgrid.coincident_peak import load_coincident_peaks
from microgrid.coincident_peak_bill import cp_summary
from microgrid.operate.conditions import plant_conditions
from microgrid.operate.cp_response import alert_response
from microgrid.operate.loop import new_controller, operate_case, run_loop
from microgrid.operate.report import run_cost, run_operate
from microgrid.operate.state import initial_state

ALERT = "date,probability,window_start_local,window_end_local\n2023-01-02,1.0,09:00,11:00\n"


def _case(tmp_path, notice_h: float, preemptible: bool = True):
    (tmp_path / "alerts.csv").write_text(ALERT)
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    cp["alert_notice_hours"] = notice_h
    data = tiny_data(cp)
    data["operate"] = {"lookahead_h": 24, "replan_every_steps": 1}
    data["jobs"]["items"][0]["preemptible"] = preemptible
    sc, _ = load(tmp_path, data)
    return operate_case(sc)


def _keys_planned_at(case, k: int) -> list[str]:
    c = new_controller(case)
    conditions = plant_conditions(case.scenario, case.inputs, case.problem, [])
    plan = c.replan(k, initial_state(case.problem), conditions)
    return [ch.key for ch in plan.window.grid.peak_charges if ch.line_item.startswith("coin")]


def test_controller_does_not_see_an_alert_before_its_notice(tmp_path):
    case = _case(tmp_path, notice_h=3)
    assert case.visible_from_step == {"cp_alert@2023-01-02": 6}
    assert _keys_planned_at(case, 5) == []
    assert _keys_planned_at(case, 6) == ["cp_alert@2023-01-02"]


@pytest.mark.parametrize(("notice_h", "tag_mw"), [(3, 11.0 / 4), (0, 22.0 / 4)])
def test_non_preemptible_job_curtails_only_with_notice(tmp_path, notice_h, tag_mw):
    # notice 3 h (known at 06:00): the job starts after the window, at 11:00. Notice 0 h
    # (known at 09:00): it started at 08:00 in the cheap hours and cannot stop, so the
    # real interval sees it: 10 MW inference + 10 MW job at PUE 1.10
    case = _case(tmp_path, notice_h, preemptible=False)
    run = run_loop(case)
    job = run.actual["job_train_mw"].to_numpy()
    assert job.sum() == pytest.approx(40.0)  # 4 h at 10 MW
    assert (job[9:11] == 0).all() == (notice_h == 3)
    section = cp_summary(load_coincident_peaks(case.scenario), case.inputs.index,
                         run.actual["grid_import_mw"].to_numpy())  # fmt: skip
    assert section["tag_mw"] == pytest.approx(tag_mw)


def test_alert_response_reports_the_tag_and_what_the_curtailment_cost(tmp_path):
    # responding (notice 3 h): the job runs 11:00-15:00, one cheap hour (20 USD/MWh) and
    # three dear ones (50); ignoring the alert it runs 08:00-12:00, all cheap. Its 11 MW
    # (10 MW at PUE 1.10) cost 11 × (20 + 3 × 50 − 4 × 20) = 990 USD more; the real
    # interval at 10:00 sees 11 MW of inference instead of 22 MW: a tag of 11/4 MW less
    case = _case(tmp_path, notice_h=3, preemptible=False)
    cp = load_coincident_peaks(case.scenario)
    responding = run_loop(case)
    out = alert_response(case, cp, responding, run_cost)
    assert out["responding"]["tag_mw"] == pytest.approx(11.0 / 4)
    assert out["ignoring"]["tag_mw"] == pytest.approx(22.0 / 4)
    assert out["ignoring"]["charge_usd"] == pytest.approx(24_000 * 22.0 / 4)
    assert out["curtailment_cost_usd"] == pytest.approx(990.0)
    assert out["saving_usd"] == pytest.approx(24_000 * 11.0 / 4 - 990.0)
    # the run is billed on the real interval, not on the alert's expected charge
    assert "coincident_peak_expected_usd" not in responding.bill
    assert responding.bill["coincident_peak_usd"] == pytest.approx(24_000 / 4 * 11.0)


def test_plan_reference_bills_the_plan_on_the_real_intervals(tmp_path):
    """The loop's actual rows are billed on the real interval (10:00), not the alert's
    expected charge; so is the plan-mode reference. With perfect forecasts and one plan
    over the period the two dispatches are the same and so are their costs (an outside
    audit's two days of ERCOT alerts read 'actual -74,538 USD (-8.6 %)' against plan mode,
    the expected alert charges less the real one)."""
    (tmp_path / "alerts.csv").write_text(ALERT.replace("1.0,09:00", "0.5,09:00"))
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    cp["alert_notice_hours"] = 48
    data = tiny_data(cp)
    data["operate"] = {"lookahead_h": 48, "replan_every_steps": 48, "event_costs": "none"}
    sc, _ = load(tmp_path, data)
    ref = run_operate(sc)["summary"]["plan_reference"]
    assert ref["actual_minus_plan_usd"] == pytest.approx(0.0, abs=1e-6)
    assert ref["plan_cost_usd"] == pytest.approx(ref["actual_cost_usd"], rel=1e-12)


def test_baselines_are_billed_on_the_real_intervals_as_the_run_is(tmp_path):
    """The closed loop's total cost bills the real interval; the baselines it is set
    against had kept the alerts' expected charges (an outside audit's four days of Dallas
    alerts at 15-minute steps: 'vs storage-optimal costs 46,072 USD more' and 'job
    flexibility -46,072 USD', the real charge against an expected one)."""
    (tmp_path / "alerts.csv").write_text(ALERT.replace("1.0,09:00", "0.5,09:00"))
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    data = tiny_data(cp)
    data["operate"] = {"lookahead_h": 48, "replan_every_steps": 48, "event_costs": "none"}
    sc, _ = load(tmp_path, data)
    res = microgrid.run(sc, mode="operate", powerflow=False)
    # asap runs the job 08:00-12:00: 11 MW of inference and 11 MW of job in the real
    # interval (10:00), billed at 6,000 USD/MW, not 0.5 x 6,000 USD/MW on the window's peak
    asap = res.baselines["asap"].costs
    assert asap["bill"]["coincident_peak_usd"] == pytest.approx(6_000 * 22.0)
    assert "coincident_peak_expected_usd" not in asap["bill"]
    assert res.summary["baselines"]["asap"]["demand_cost_usd"] == pytest.approx(0.0)
    # storage-optimal runs asap's jobs as the loop's plan would: billed the same way too
    storage = res.baselines["storage-optimal"].costs["bill"]
    assert storage["coincident_peak_usd"] == pytest.approx(6_000 * 22.0)
