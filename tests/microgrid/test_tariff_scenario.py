"""A scenario with a URDB tariff: the CLI refuses a bad rate (exit 2) and runs a good one
end to end, its energy cost splitting into the rate's period lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line

from microgrid.assemble import build_problem, load_inputs
from microgrid.cli import main
from microgrid.scenario import load_scenario
from microgrid.tariffs import scenario_fixed_charge_usd
from optimize.bill import demand_lines, grid_bill

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "caiso-tou-tariff.yaml"
RATE = ROOT / "scenarios" / "data" / "tariffs" / "caiso-b20-like-tou.json"


def two_day_tariff_scenario(tmp_path: Path, **tariff) -> Path:
    """caiso-tou-tariff.yaml cut to Tue-Wed 2023-07-11/12, no jobs, absolute data paths."""
    sc = yaml.safe_load(SCENARIO.read_text())
    data = SCENARIO.parent
    sc["period"] = {"start": "2023-07-11T00:00", "end": "2023-07-13T00:00", "step_minutes": 60}
    sc["signals"]["csv"] = str(data / sc["signals"]["csv"])
    sc["weather"]["path"] = str(data / sc["weather"]["path"])
    sc["jobs"] = {"items": []}
    sc["grid"]["tariff"] = {"urdb": str(RATE), **tariff}
    sc["solver"] = {"mip_rel_gap": 1e-4, "time_limit_s": 120}
    path = tmp_path / "tariff.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "microgrid.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_unsupported_field_exits_2_naming_it(tmp_path):
    rate = json.loads(RATE.read_text())
    rate["coincidentratestructure"] = [[{"rate": 3.0}]]
    bad = tmp_path / "bad-rate.json"
    bad.write_text(json.dumps(rate, indent=1))
    path = two_day_tariff_scenario(tmp_path, urdb=str(bad))
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "bad-rate.json" in line and "coincidentratestructure" in line
    assert "line " in line  # the field's line in the JSON file


def _value_line(text: str, needle: str, nth: int = 1) -> int:
    """The line of the nth line holding ``needle``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth - 1]


def test_an_error_names_the_line_of_the_bad_value(tmp_path, capsys):
    """In a file of two rates the second's bad field was placed at the first's line; a
    bad tier rate at its structure's key; a schedule's bad period at the schedule's key."""
    good = json.loads(RATE.read_text())
    bad = {**good, "label": "second", "fixedchargeunits": "$/year"}
    two = tmp_path / "two.json"
    two.write_text(json.dumps([good, bad], indent=1))
    path = two_day_tariff_scenario(tmp_path, urdb=str(two), label="second")
    line = one_error_line(capsys, ["validate", str(path)])
    where = _value_line(two.read_text(), '"fixedchargeunits"', nth=2)
    assert f"two.json, line {where}, field fixedchargeunits:" in line
    nested = json.loads(RATE.read_text())
    nested["energyratestructure"][1][0]["rate"] = "0.05"
    one = tmp_path / "nested.json"
    one.write_text(json.dumps(nested, indent=1))
    path = two_day_tariff_scenario(tmp_path, urdb=str(one))
    line = one_error_line(capsys, ["validate", str(path)])
    where = _value_line(one.read_text(), '"rate": "0.05"')
    assert f"nested.json, line {where}, field energyratestructure[1][0].rate:" in line
    nested = json.loads(RATE.read_text())
    nested["energyweekdayschedule"][6][17] = 9
    one.write_text(json.dumps(nested, indent=1))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "field energyweekdayschedule[6][17]: uses period 9" in line
    named = int(line.split(", line ")[1].split(",")[0])
    assert one.read_text().splitlines()[named - 1].strip() == "9,"


def test_the_scenarios_own_tariff_mistakes_name_its_fields(tmp_path, capsys):
    path = two_day_tariff_scenario(tmp_path, label="nope")
    line = one_error_line(capsys, ["validate", str(path)])
    assert f"{path}, line " in line and "field grid.tariff.label:" in line
    assert "no rate with label 'nope'" in line
    demand_only = {
        k: v for k, v in json.loads(RATE.read_text()).items() if not k.startswith("energy")
    }
    rate = tmp_path / "demand-only.json"
    rate.write_text(json.dumps(demand_only))
    path = two_day_tariff_scenario(tmp_path, urdb=str(rate), energy="tariff_only")
    line = one_error_line(capsys, ["validate", str(path)])
    assert f"{path}, line " in line and "field grid.tariff.energy:" in line


def test_tariff_with_a_flat_demand_charge_beside_it_refused(tmp_path, capsys):
    path = two_day_tariff_scenario(tmp_path)
    sc = yaml.safe_load(path.read_text())
    sc["grid"]["demand_charge_usd_per_kw_month"] = 8
    path.write_text(yaml.safe_dump(sc))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "grid.demand_charge_usd_per_kw_month" in line and "tariff" in line


def test_missing_rate_file_names_the_scenario_field(tmp_path, capsys):
    path = two_day_tariff_scenario(tmp_path, urdb=str(tmp_path / "nope.json"))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "grid.tariff.urdb" in line and "file not found" in line


def test_prior_peak_months_are_checked(tmp_path, capsys):
    path = two_day_tariff_scenario(tmp_path, prior_monthly_peaks_mw={"2023-13": 5})
    line = one_error_line(capsys, ["validate", str(path)])
    assert "prior_monthly_peaks_mw" in line


@pytest.mark.parametrize(
    ("month", "why"),
    [
        ("2023-08", "the month is after the period's start"),
        ("2023-07", "the period starts at 2023-07's first instant"),
    ],
)
def test_a_prior_peak_the_period_would_ignore_is_refused(tmp_path, capsys, month, why):
    """A later month's entry, or one for a month the period covers from its first day,
    was ignored without a word."""
    path = two_day_tariff_scenario(tmp_path, prior_monthly_peaks_mw={month: 50})
    if month == "2023-07":  # the period from July's first day
        sc = yaml.safe_load(path.read_text())
        sc["period"].update(start="2023-07-01T00:00", end="2023-07-03T00:00")
        path.write_text(yaml.safe_dump(sc))
    line = one_error_line(capsys, ["validate", str(path)])
    assert f"field grid.tariff.prior_monthly_peaks_mw.{month}: {month}: {why}" in line
    assert "line " in line


def test_a_prior_peak_that_no_charge_uses_is_refused(tmp_path, capsys):
    """Accepted and dropped without a word: a month before the period where the rate has
    no ratchet, any month where it has no flat demand charge, and the first month where
    the period starts at its first instant though not at 00:00 (Asuncion skipped 1
    October 2023's midnight: the month began at 01:00)."""
    path = two_day_tariff_scenario(tmp_path, prior_monthly_peaks_mw={"2023-06": 50})
    line = one_error_line(capsys, ["validate", str(path)])
    assert "prior_monthly_peaks_mw.2023-06: 2023-06: the rate has no ratchet" in line
    no_flat = {k: v for k, v in json.loads(RATE.read_text()).items() if "flatdemand" not in k}
    rate = tmp_path / "no-flat.json"
    rate.write_text(json.dumps(no_flat))
    path = two_day_tariff_scenario(tmp_path, urdb=str(rate), prior_monthly_peaks_mw={"2023-07": 5})
    line = one_error_line(capsys, ["validate", str(path)])
    assert "2023-07: the rate has no flat (monthly) demand charge" in line
    path = two_day_tariff_scenario(tmp_path, prior_monthly_peaks_mw={"2023-10": 100})
    sc = yaml.safe_load(path.read_text())
    sc["site"]["timezone"] = "America/Asuncion"
    sc["period"].update(start="2023-10-01T01:00", end="2023-10-03T01:00")
    path.write_text(yaml.safe_dump(sc))
    line = one_error_line(capsys, ["validate", str(path)])
    assert "2023-10: the period starts at 2023-10's first instant" in line


def test_the_months_peak_before_the_period_floors_its_flat_demand(tmp_path):
    """The period starts 11 July: July's entry is the peak reached before it. Billed flat
    demand is at least that, set by it where the plan stays below."""
    path = two_day_tariff_scenario(tmp_path, prior_monthly_peaks_mw={"2023-07": 400})
    scenario = load_scenario(path)
    grid = build_problem(scenario, load_inputs(scenario)).grid
    flat = [c for c in grid.peak_charges if c.key == "demand_flat@2023-07"]
    assert [c.prior_peak_mw for c in flat] == [400.0]
    out = tmp_path / "out"
    proc = cli("run", str(path), "--out", str(out), "--no-powerflow", "--quiet")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    charges = summary["demand_charge"]["months"][0]["charges"]
    entry = next(c for c in charges if c["key"] == "demand_flat@2023-07")
    assert entry["billed_demand_mw"] == 400.0 and entry["set_by"] == "prior_peak"
    assert entry["charge_usd"] == pytest.approx(400.0 * entry["usd_per_mw"])
    assert summary["bill"]["lines"]["demand_flat_usd"] == pytest.approx(entry["charge_usd"])


def test_shipped_tariff_scenario_is_valid(capsys):
    assert main(["validate", str(SCENARIO)]) == 0


def test_run_end_to_end_splits_energy_into_periods(tmp_path):
    path = two_day_tariff_scenario(tmp_path)
    out = tmp_path / "out"
    proc = cli("run", str(path), "--out", str(out), "--no-powerflow", "--quiet")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    ts = pd.read_csv(out / "timeseries.csv")
    scenario = load_scenario(path)
    inputs = load_inputs(scenario)
    grid = build_problem(scenario, inputs).grid
    imp, exp = ts["grid_import_mw"].to_numpy(), ts["grid_export_mw"].to_numpy()
    bill = grid_bill(grid, 1.0, imp, exp)
    # the rate's two energy periods and the wholesale price are separate lines
    assert {"energy_wholesale_usd", "energy_period_1_usd", "energy_period_2_usd"} <= set(bill)
    # period 2 (16-21 local, weekdays) priced at 0.055 USD/kWh on that import
    local = pd.DatetimeIndex(pd.to_datetime(ts["timestamp_utc"])).tz_convert("America/Los_Angeles")
    peak = (local.hour >= 16) & (local.hour < 21)
    assert bill["energy_period_2_usd"] == pytest.approx(55.0 * imp[peak].sum(), abs=1e-6)
    assert bill["energy_period_1_usd"] == pytest.approx(20.0 * imp[~peak].sum(), abs=1e-6)
    demand = demand_lines(grid)
    assert demand == {"demand_flat_usd", "demand_tou_2_usd"}
    energy_usd = sum(v for k, v in bill.items() if k not in demand)
    assert summary["energy_cost_usd"] == pytest.approx(energy_usd, rel=1e-6, abs=1e-3)
    demand_usd = sum(bill[k] for k in demand)
    assert summary["demand_cost_usd"] == pytest.approx(demand_usd, rel=1e-6, abs=1e-3)
    # the fixed charge: 1,500 USD/month times 48 of July's 744 hours
    fixed = scenario_fixed_charge_usd(scenario, inputs.index)
    assert fixed == pytest.approx(1500.0 * 48 / 744)
    # summary.json's bill: the same lines, the fixed charge, in the total cost too
    lines = summary["bill"]["lines"]
    for line, usd in bill.items():
        assert lines[line] == pytest.approx(usd, rel=1e-9, abs=1e-9)
    assert lines["fixed_usd"] == pytest.approx(fixed)
    assert summary["bill"]["total_usd"] == pytest.approx(sum(bill.values()) + fixed)
    assert summary["fixed_cost_usd"] == pytest.approx(fixed)
    parts = ("energy_cost_usd", "demand_cost_usd", "fuel_cost_usd", "wear_cost_usd")
    assert summary["total_cost_usd"] == pytest.approx(sum(summary[k] for k in parts) + fixed)
    assert np.isfinite(list(bill.values())).all()


def test_a_60_minute_demand_window_bills_hourly_averages_at_quarter_hours(tmp_path):
    # the rate's demandwindow set to 60 minutes, the period at 15-minute steps from 00:15
    # local: the demand charges bill the highest average of a local clock hour (the first,
    # 00:15-01:00, on its three steps), however high a single quarter hour goes
    rate = json.loads(RATE.read_text())
    rate["demandwindow"] = 60
    (tmp_path / "rate.json").write_text(json.dumps(rate))
    path = two_day_tariff_scenario(tmp_path, urdb=str(tmp_path / "rate.json"))
    sc = yaml.safe_load(path.read_text())
    sc["period"] = {"start": "2023-07-11T00:15", "end": "2023-07-12T00:00", "step_minutes": 15}
    sc["solver"] = {"mip_rel_gap": 1e-6}
    del sc["pv"]  # the night's import, and a battery too small to hide it
    sc["battery"].update(power_mw=10, energy_mwh=20)
    path.write_text(yaml.safe_dump(sc))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-powerflow", "--quiet"]) == 0
    ts = pd.read_csv(out / "timeseries.csv", index_col=0, parse_dates=True)
    imp = ts["grid_import_mw"].tz_convert("America/Los_Angeles")
    hourly = imp.resample("60min").mean()
    charges = json.loads((out / "summary.json").read_text())["demand_charge"]["months"][0]
    flat = next(c for c in charges["charges"] if c["kind"] == "flat")
    assert flat["peak_import_mw"] == pytest.approx(hourly.max(), rel=1e-9)
    assert charges["peak_import_mw"] == pytest.approx(hourly.max(), rel=1e-9)
    assert imp.max() > hourly.max() + 1.0  # the quarter hours would bill more
