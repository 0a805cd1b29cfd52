"""Coincident-peak charges (microgrid/coincident_peak.py), hand-checked on the tiny scenario.

The rate throughout: 24,000 USD per MW-year over 4 peaks = 6,000 USD per MW of demand in
one interval. The tiny scenario (scenario_factory.TINY) runs 10 MW of inference at PUE 1.10
(11 MW of import when nothing else runs) from Monday 2023-01-02 00:00 UTC for two days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, TINY

import microgrid
import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.coincident_peak import (
    EXPECTED_LINE,
    add_coincident_peaks,
    alert_charges,
    alert_visible_from_step,
    cp_price_usd_per_mwh,
    load_coincident_peaks,
)
from microgrid.coincident_peak_bill import cp_bill, cp_summary
from microgrid.errors import InputError
from optimize.bill import grid_bill, peaks_mw

RATE = {"usd_per_mw_year": 24_000, "n_peaks": 4}
ALERTS = (
    "# synthetic\n"
    "date,probability,window_start_local,window_end_local\n"
    "2023-01-02,0.5,09:00,11:00\n"
    "2023-01-03,1.0,16:00,24:00\n"
)


def tiny_data(cp: dict | None, step_minutes: int = 60) -> dict:
    """TINY without battery or demand charge, the job's hours 08-12 cheap (20 USD/MWh
    instead of 50), with the coincident-peak section `cp`."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    del data["battery"]
    data["grid"]["demand_charge_usd_per_kw_month"] = 0
    data["period"]["step_minutes"] = step_minutes
    data["signals"]["time_of_use"] = [
        {"start_hour": 0, "end_hour": 8, "price_usd_per_mwh": 50},
        {"start_hour": 8, "end_hour": 12, "price_usd_per_mwh": 20},
        {"start_hour": 12, "end_hour": 24, "price_usd_per_mwh": 50},
    ]
    data["signals"]["carbon_g_per_kwh"] = 0  # the bands' carbon (none of their own)
    if cp is not None:
        data["grid"]["coincident_peaks"] = cp
    return data


def load(tmp_path, data: dict):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return microgrid.load_scenario(path), path


def known(intervals, minutes=60) -> dict:
    return {**RATE, "intervals": intervals, "interval_minutes": minutes}


def test_price_part_and_bill_hourly_steps(tmp_path):
    # 09:15 for 15 min inside hour 9 (weight 1); 2023-06-01 is in the year, not the horizon
    sc, _ = load(tmp_path, tiny_data(known(["2023-01-02T09:15", "2023-06-01T17:00"], 15)))
    case = load_coincident_peaks(sc)
    index = sc.index()
    part = cp_price_usd_per_mwh(case, index, sc.step_h)
    assert part[9] == pytest.approx(6_000.0)
    assert np.count_nonzero(part) == 1
    imp = np.full(48, 11.0)
    imp[9] = 22.0
    bill = cp_bill(case, index, imp)
    assert bill.tag_mw == pytest.approx(22.0 / 4)  # one covered interval of four peaks
    assert bill.charge_usd == pytest.approx(24_000 * 5.5)
    assert [r.covered for r in bill.intervals] == [True, False]
    assert bill.intervals[1].import_mw is None
    summary = cp_summary(case, index, imp)
    assert summary["intervals"][0] == {
        "start_local": "2023-01-02T09:15+00:00",
        "covered": True,
        "import_mw": 22.0,
        "charge_usd": 132_000.0,
    }
    assert summary["tag_mw"] == pytest.approx(5.5)


def test_hour_interval_on_quarter_hour_steps(tmp_path):
    sc, _ = load(tmp_path, tiny_data(known(["2023-01-02T09:00"]), step_minutes=15))
    case = load_coincident_peaks(sc)
    index = sc.index()
    part = cp_price_usd_per_mwh(case, index, sc.step_h)
    # weight 1/4 on each of the 4 quarter hours, / step_h 0.25: 6,000 USD/MWh on each
    assert np.flatnonzero(part).tolist() == [36, 37, 38, 39]
    assert part[36:40] == pytest.approx([6_000.0] * 4)
    imp = np.zeros(len(index))
    imp[36:40] = [10.0, 20.0, 30.0, 40.0]
    bill = cp_bill(case, index, imp)
    assert bill.intervals[0].import_mw == pytest.approx(25.0)  # the hour's average
    assert bill.charge_usd == pytest.approx(6_000 * 25.0)
    # the price part bills the same: Σ part × import × step_h
    assert float(np.dot(part, imp)) * 0.25 == pytest.approx(bill.charge_usd)


def test_known_interval_in_grid_price_parts(tmp_path):
    sc, _ = load(tmp_path, tiny_data(known(["2023-01-02T09:00"])))
    grid = optimize.Grid(
        import_max_mw=np.full(48, 100.0),
        export_max_mw=np.zeros(48),
        import_price_usd_per_mwh=np.full(48, 50.0),
        export_price_usd_per_mwh=np.full(48, 50.0),
        carbon_g_per_kwh=np.zeros(48),
    )
    out = add_coincident_peaks(sc, sc.index(), grid)
    assert out.import_price_usd_per_mwh[9] == pytest.approx(6_050.0)
    assert out.import_price_usd_per_mwh[10] == pytest.approx(50.0)
    assert out.import_price_parts["coincident_peak"][9] == pytest.approx(6_000.0)
    total = sum(out.import_price_parts.values())
    assert total == pytest.approx(out.import_price_usd_per_mwh)
    imp, exp = np.full(48, 11.0), np.zeros(48)
    exp[20] = 2.0
    bill = grid_bill(out, 1.0, imp, exp)
    assert bill["coincident_peak_usd"] == pytest.approx(6_000 * 11.0)
    assert bill["energy_usd"] == pytest.approx(50 * 11.0 * 48 - 50 * 2.0)  # export nets here


def _solve_tiny(tmp_path, cp):
    sc, _ = load(tmp_path, tiny_data(cp))
    inputs = load_inputs(sc)
    problem = build_problem(sc, inputs)
    return sc, inputs, optimize.solve(problem, optimize.SolverOptions(mip_rel_gap=0.0))


def test_flexible_job_avoids_the_interval(tmp_path):
    cp = known(["2023-01-02T09:00"])
    sc, inputs, on = _solve_tiny(tmp_path, cp)
    _, _, off = _solve_tiny(tmp_path, None)
    # without the charge the job takes the cheap hours 08-12 whole; with it, not hour 9
    assert off.series["job_train_mw"][8:12] == pytest.approx([10.0] * 4)
    assert on.series["job_train_mw"][9] == pytest.approx(0.0)
    assert on.jobs["train"]["work_done_h"] == pytest.approx(4.0)
    case = load_coincident_peaks(sc)
    bill_on = cp_bill(case, inputs.index, on.series["grid_import_mw"])
    bill_off = cp_bill(case, inputs.index, off.series["grid_import_mw"])
    assert bill_on.tag_mw == pytest.approx(11.0 / 4)  # inference alone: 10 MW x 1.10
    assert bill_off.tag_mw == pytest.approx(22.0 / 4)  # plus the 10 MW job x 1.10
    assert bill_on.charge_usd == pytest.approx(66_000.0)
    # the optimum pays the charge in its energy cost: one interval at 6,000 USD/MW
    base = on.series["grid_import_mw"] @ inputs.frame["price_usd_per_mwh"].to_numpy()
    assert on.costs["energy_usd"] - base == pytest.approx(66_000.0)
    assert on.bill["coincident_peak_usd"] == pytest.approx(66_000.0)


def test_alert_expected_cost_peak_charge(tmp_path):
    (tmp_path / "alerts.csv").write_text(ALERTS)
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    cp["alert_notice_hours"] = 3
    sc, _ = load(tmp_path, tiny_data(cp))
    case = load_coincident_peaks(sc)
    index = sc.index()
    first, second = alert_charges(case, index)
    assert (first.key, first.line_item) == ("cp_alert@2023-01-02", EXPECTED_LINE)
    assert first.usd_per_mw == pytest.approx(0.5 * 6_000)
    assert np.flatnonzero(first.steps).tolist() == [9, 10]
    assert second.usd_per_mw == pytest.approx(6_000)
    assert np.flatnonzero(second.steps).tolist() == list(range(40, 48))  # 16:00-24:00
    # known 3 h before the window: at the start of steps 6 and 37
    assert alert_visible_from_step(case, index) == {
        "cp_alert@2023-01-02": 6,
        "cp_alert@2023-01-03": 37,
    }
    grid = add_coincident_peaks(sc, index, _flat_grid())
    assert [c.key for c in grid.peak_charges] == [first.key, second.key]
    assert grid.import_price_parts is None  # alerts price nothing by the step
    imp = np.full(48, 11.0)
    imp[10] = 22.0
    summary = cp_summary(case, index, imp)
    assert [a["peak_import_mw"] for a in summary["alerts"]] == [22.0, 11.0]
    assert summary["expected_usd"] == pytest.approx(3_000 * 22.0 + 6_000 * 11.0)
    assert summary["tag_mw"] == pytest.approx(22.0 / 4)  # billed on the real interval, 10:00


def test_alert_peak_is_the_interval_mean_the_plan_prices(tmp_path):
    """The plan prices each alert day on its window's highest interval mean, but
    summary["coincident_peak"]["alerts"] took the highest step (an audit at 15-minute
    steps and 30-minute intervals: "alerts priced at 169,722 USD expected" beside the
    plan's expected charge of 127,722 USD)."""
    (tmp_path / "alerts.csv").write_text(ALERTS)
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    sc, _ = load(tmp_path, tiny_data(cp, step_minutes=15))
    case = load_coincident_peaks(sc)
    index = sc.index()
    imp = np.full(len(index), 11.0)
    imp[40] = 31.0  # 10:00-10:15 only: the hour 10:00-11:00 averages 16 MW
    summary = cp_summary(case, index, imp)
    assert [a["peak_import_mw"] for a in summary["alerts"]] == pytest.approx([16.0, 11.0])
    charges = alert_charges(case, index)
    peaks = peaks_mw(charges, imp)
    planned_usd = sum(c.usd_per_mw * peaks[c.key] for c in charges)
    assert summary["expected_usd"] == pytest.approx(planned_usd)
    assert summary["expected_usd"] == pytest.approx(3_000 * 16.0 + 6_000 * 11.0)


def _flat_grid() -> optimize.Grid:
    return optimize.Grid(
        import_max_mw=np.full(48, 100.0),
        export_max_mw=np.zeros(48),
        import_price_usd_per_mwh=np.full(48, 50.0),
        export_price_usd_per_mwh=np.full(48, 50.0),
        carbon_g_per_kwh=np.zeros(48),
    )


def test_interval_outside_the_periods_year_is_one_line(tmp_path, capsys):
    _, path = load_path(tmp_path, tiny_data(known(["2023-01-02T09:00", "2022-08-10T17:00"])))
    line = one_error_line(capsys, ["validate", str(path)])
    assert str(path) in line
    assert "grid.coincident_peaks.intervals.1" in line
    assert "outside the period's year(s) 2023" in line
    assert "line " in line


def test_more_intervals_in_a_year_than_n_peaks_is_one_line(tmp_path, capsys):
    """Six intervals at n_peaks 4 once billed a tag of 35.7 MW (six demands over four)
    where no interval's demand passed 24.05 MW."""
    five = [f"2023-01-0{d}T{h:02d}:00" for d in (2, 3) for h in (9, 17, 19)][:5]
    _, path = load_path(tmp_path, tiny_data(known(five)))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "grid.coincident_peaks.intervals.4" in line and "line " in line
    assert "one more than n_peaks (4) in 2023" in line
    _, path = load_path(tmp_path, tiny_data(known(five[:4])))
    assert microgrid.cli.main(["validate", str(path)]) == 0


def test_overlapping_intervals_are_one_line(tmp_path, capsys):
    """16:00 and 16:30 with 60-minute intervals counted 16:30-17:00 twice in the tag."""
    _, path = load_path(tmp_path, tiny_data(known(["2023-01-02T16:00", "2023-01-02T16:30"])))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "grid.coincident_peaks.intervals.1" in line
    assert "overlaps the one at 2023-01-02T16:00+00:00 (60-minute intervals)" in line


def test_probability_above_one_is_one_line(tmp_path, capsys):
    csv = tmp_path / "alerts.csv"
    csv.write_text(ALERTS.replace("2023-01-03,1.0", "2023-01-03,1.5"))
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    _, path = load_path(tmp_path, tiny_data(cp))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {csv}, line 4, field probability:"), line
    assert "must lie in [0, 1]" in line


def test_interval_csv_bad_time_names_its_line(tmp_path):
    csv = tmp_path / "cp.csv"
    csv.write_text("interval_start_local\n2023-01-02T09:00\nnot a time\n")
    data = tiny_data({**RATE, "intervals_csv": "cp.csv"})
    sc, _ = load(tmp_path, data)
    with pytest.raises(InputError) as exc:
        load_coincident_peaks(sc)
    assert (exc.value.path, exc.value.line) == (str(csv), 3)


@pytest.mark.parametrize("minutes, steps_per", [(60, 4), (30, 2), (15, 1)])
def test_an_alert_windows_peak_is_of_the_cp_interval_average(tmp_path, minutes, steps_per):
    # at 15-minute steps a 60-minute CP interval is the hour's mean, not its highest quarter
    (tmp_path / "alerts.csv").write_text(ALERTS)
    cp = {**known(["2023-01-02T10:00"], minutes), "mode": "alerts", "alerts_csv": "alerts.csv"}
    sc, _ = load(tmp_path, tiny_data(cp, step_minutes=15))
    first, _ = alert_charges(load_coincident_peaks(sc), sc.index())
    assert (first.interval_steps, first.interval_phase) == (steps_per, 0)
    imp = np.full(len(sc.index()), 10.0)
    imp[np.flatnonzero(first.steps)[0]] = 30.0  # one quarter hour of 30 MW
    assert peaks_mw((first,), imp)[first.key] == pytest.approx(10.0 + 20.0 / steps_per)


def test_alerts_mode_needs_alerts_csv(tmp_path):
    with pytest.raises(InputError, match="alerts_csv is needed"):
        load(tmp_path, tiny_data({**known(["2023-01-02T09:00"]), "mode": "alerts"}))


def load_path(tmp_path, data):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return data, path


def test_shipped_ercot_files_read(tmp_path):
    folder = DATA / "coincident-peaks"
    cp = {
        **RATE,
        "intervals_csv": str(folder / "ercot-4cp-2023.csv"),
        "mode": "alerts",
        "alerts_csv": str(folder / "ercot-4cp-alerts-2023.csv"),
        "interval_minutes": 60,
    }
    data = tiny_data(cp)
    data["site"]["timezone"] = "America/Chicago"
    sc, _ = load(tmp_path, data)
    case = load_coincident_peaks(sc)
    assert [iv.label for iv in case.intervals] == [
        "2023-06-20T17:00-05:00",
        "2023-07-31T20:00-05:00",
        "2023-08-25T19:00-05:00",
        "2023-09-07T19:00-05:00",
    ]
    assert len(case.alerts) == 20
    assert case.intervals[0].start_utc == pd.Timestamp("2023-06-20T22:00Z")  # CDT = UTC-5


def test_plan_keeps_the_job_out_of_a_certain_alert_window(tmp_path):
    (tmp_path / "alerts.csv").write_text(
        "date,probability,window_start_local,window_end_local\n2023-01-02,1.0,08:00,12:00\n"
    )
    cp = {**known(["2023-01-02T09:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    sc, inputs, d = _solve_tiny(tmp_path, cp)
    # the cheap hours 08-12 lie in the window: 4 h x 10 MW x 30 USD/MWh more elsewhere
    # beats raising the window's peak by 11 MW at 6,000 USD/MW
    assert d.series["job_train_mw"][8:12] == pytest.approx([0.0] * 4)
    assert d.costs["demand_usd"] == pytest.approx(6_000 * 11.0)
    summary = cp_summary(load_coincident_peaks(sc), inputs.index, d.series["grid_import_mw"])
    assert summary["tag_mw"] == pytest.approx(11.0 / 4)


def test_run_summary_lists_intervals(tmp_path):
    sc, _ = load(tmp_path, tiny_data(known(["2023-01-02T09:00", "2023-07-01T17:00"])))
    res = microgrid.run(sc, powerflow=False, baselines=False)
    section = res.summary["coincident_peak"]
    assert section["mode"] == "known"
    assert [(r["start_local"], r["covered"]) for r in section["intervals"]] == [
        ("2023-01-02T09:00+00:00", True),
        ("2023-07-01T17:00+00:00", False),
    ]
    assert section["intervals"][0]["import_mw"] == pytest.approx(11.0)
    assert section["charge_usd"] == pytest.approx(24_000 * 11.0 / 4)


def test_duplicate_interval_and_alert_day_are_refused(tmp_path):
    sc, _ = load(tmp_path, tiny_data(known(["2023-01-02T09:00", "2023-01-02T09:00"])))
    with pytest.raises(InputError, match="listed twice") as exc:
        load_coincident_peaks(sc)
    assert exc.value.field == "grid.coincident_peaks.intervals.1"
    (tmp_path / "alerts.csv").write_text(ALERTS + "2023-01-02,0.2,12:00,13:00\n")
    cp = {**known(["2023-01-02T10:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    sc, _ = load(tmp_path, tiny_data(cp))
    with pytest.raises(InputError, match="a second alert for 2023-01-02") as exc:
        load_coincident_peaks(sc)
    assert exc.value.line == 5


def test_intervals_in_the_repeated_hour_have_their_own_labels(tmp_path):
    """Chicago reads 01:00 twice on 2023-11-05: the CDT and the CST interval are labelled
    apart by their offsets (both were "2023-11-05T01:00")."""
    data = tiny_data(known(["2023-11-05T01:00:00-05:00", "2023-11-05T01:00:00-06:00"]))
    data["site"]["timezone"] = "America/Chicago"
    data["period"] = {"start": "2023-11-04T00:00", "end": "2023-11-06T00:00", "step_minutes": 60}
    data["jobs"] = {"items": []}
    sc, _ = load(tmp_path, data)
    case = load_coincident_peaks(sc)
    assert [iv.label for iv in case.intervals] == [
        "2023-11-05T01:00-05:00",
        "2023-11-05T01:00-06:00",
    ]


@pytest.mark.parametrize(
    ("rows", "column", "words"),
    [
        ("2023-01-02,0.5,11:00,09:00", "window_end_local", "must be after"),
        ("2023-02-30,0.5,09:00,11:00", "date", "date '2023-02-30' is not a calendar day"),
    ],
)
def test_alert_row_errors_name_their_column(tmp_path, rows, column, words):
    """An end before the start named no column; 2023-02-30 was blamed on
    window_start_local (the date was only checked as a pattern)."""
    (tmp_path / "alerts.csv").write_text(
        f"date,probability,window_start_local,window_end_local\n{rows}\n"
    )
    cp = {**known(["2023-01-02T09:00"]), "mode": "alerts", "alerts_csv": "alerts.csv"}
    sc, _ = load(tmp_path, tiny_data(cp))
    with pytest.raises(InputError, match=words) as err:
        load_coincident_peaks(sc)
    assert (err.value.line, err.value.field) == (2, column)


def test_interval_listed_twice_in_csv_names_its_column(tmp_path):
    (tmp_path / "cp.csv").write_text("interval_start_local\n2023-01-02T09:00\n2023-01-02T09:00\n")
    sc, _ = load(tmp_path, tiny_data({**RATE, "intervals_csv": "cp.csv", "interval_minutes": 60}))
    with pytest.raises(InputError, match="listed twice") as err:
        load_coincident_peaks(sc)
    assert (err.value.line, err.value.field) == (3, "interval_start_local")
