"""Each baseline's time series in the run folder (baselines/<name>/timeseries.csv and
.parquet) and on `Result.baselines`: the plan's columns and times, then the limit
breaches; its sums are the baseline's totals in summary.json.

The scenario is the tiny one (scenario_factory.TINY: 1 h steps, a flat $50/MWh, no
export, $1/kW-month demand charge, 2 days of January's 744 h) with a $10/MWh import adder
and two generators. With the 3 h outage at 09-12, asap runs its job through it: 22 MW
against 5 MW of battery and 10 MW of generators, so it imports 7 MW over the limit of 0,
and storage-optimal, with asap's jobs, has no plan.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from scenario_factory import TINY

import microgrid
from microgrid.baselines.limits import LIMITS
from microgrid.cli import main
from microgrid.parquet_files import read_parquet
from microgrid.scenario import Scenario

ADDER_USD_PER_MWH = 10.0
GENERATORS = [
    {"name": "gas", "capacity_mw": 6, "fuel_usd_per_mwh": 80, "carbon_g_per_kwh": 450},
    {"name": "diesel", "capacity_mw": 4, "fuel_usd_per_mwh": 120, "carbon_g_per_kwh": 700},
]
OUTAGE = {"outages": [{"start": "2023-01-02T09:00", "end": "2023-01-02T12:00"}]}
BREACH_COLUMNS = [f"{name}_breach_mw" for name in LIMITS]


def scenario(outage: bool) -> Scenario:
    data = copy.deepcopy(TINY)
    data["generators"] = copy.deepcopy(GENERATORS)
    data["grid"]["import_adder_usd_per_mwh"] = ADDER_USD_PER_MWH
    if outage:
        data["events"] = copy.deepcopy(OUTAGE)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def outage_run(tmp_path_factory):
    result = microgrid.run(scenario(outage=True), powerflow=False)
    return result, result.write(tmp_path_factory.mktemp("outage") / "run")


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    result = microgrid.run(scenario(outage=False), powerflow=False)
    return result, result.write(tmp_path_factory.mktemp("plain") / "run")


def read_rows(out, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline's CSV and parquet, each on its `timestamp_utc` (tz-aware UTC)."""
    folder = out / "baselines" / name
    csv = pd.read_csv(folder / "timeseries.csv")
    csv.index = pd.DatetimeIndex(pd.to_datetime(csv.pop("timestamp_utc"), utc=True))
    pq = read_parquet(folder / "timeseries.parquet")
    assert str(pq["timestamp_utc"].dtype) == "datetime64[us, UTC]"  # as the plan's
    pq.index = pd.DatetimeIndex(pq.pop("timestamp_utc"))
    return csv, pq


def check_totals(rows: pd.DataFrame, b: dict) -> None:
    """The rows' sums against the baseline's summary.json figures (1 h steps), each
    total from the columns it is made of, written out by hand."""
    assert rows["grid_import_mw"].sum() == pytest.approx(b["grid_import_mwh"], rel=1e-9)
    assert rows["grid_export_mw"].sum() == pytest.approx(b["grid_export_mwh"], abs=1e-9)
    assert rows["facility_load_mw"].sum() == pytest.approx(b["facility_energy_mwh"], rel=1e-9)
    gens = {g["name"]: rows[f"gen_{g['name']}_mw"] for g in GENERATORS}
    np.testing.assert_allclose(rows["backup_gen_mw"], sum(gens.values()), atol=1e-9)
    grams = rows["grid_import_mw"] * rows["carbon_g_per_kwh"]
    grams += sum(gens[g["name"]] * g["carbon_g_per_kwh"] for g in GENERATORS)
    np.testing.assert_allclose(rows["emissions_t"], grams / 1000, rtol=1e-9, atol=1e-12)
    assert rows["emissions_t"].sum() == pytest.approx(b["emissions_t"], rel=1e-9)
    price = rows["price_usd_per_mwh"] + ADDER_USD_PER_MWH  # no export (TINY)
    energy = float((rows["grid_import_mw"] * price).sum())
    demand = 1000 * rows["grid_import_mw"].max() * 48 / 744
    fuel = sum(float(gens[g["name"]].sum()) * g["fuel_usd_per_mwh"] for g in GENERATORS)
    wear = 2 * rows["battery_discharge_mw"].sum()
    assert energy == pytest.approx(b["energy_cost_usd"], rel=1e-9)
    assert demand == pytest.approx(b["demand_cost_usd"], rel=1e-9)
    assert fuel == pytest.approx(b["fuel_cost_usd"], rel=1e-9, abs=1e-9)
    assert wear == pytest.approx(b["wear_cost_usd"], rel=1e-9, abs=1e-9)
    total = energy + demand + fuel + wear
    assert total == pytest.approx(b["total_cost_usd"], rel=1e-9)


def check_breaches(rows: pd.DataFrame, breaches: dict) -> None:
    """Each `<limit>_breach_mw` column against the summary's `limit_breaches`."""
    for limit, col in zip(LIMITS, BREACH_COLUMNS, strict=True):
        over = rows[col] > 0
        assert over.sum() == breaches.get(f"{limit}_breach_steps", 0), col
        assert rows[col].max() == pytest.approx(breaches.get(f"{limit}_breach_max_mw", 0.0))
        times = [t.isoformat() for t in rows.index[over]]
        assert times == breaches.get(f"{limit}_breach_times_utc", []), col
    assert rows["import_breach_mw"].sum() == pytest.approx(breaches["import_breach_mwh"])


def check_baseline_files(result, out, names: tuple[str, ...]) -> None:
    summary = json.loads((out / "summary.json").read_text())
    plan_csv = pd.read_csv(out / "timeseries.csv")
    for name in names:
        csv, pq = read_rows(out, name)
        # the plan's columns in the plan's order, then the breaches; the plan's times
        assert [*csv.columns] == [*plan_csv.columns[1:], *BREACH_COLUMNS]
        assert [*csv.index.strftime("%Y-%m-%dT%H:%M:%SZ")] == [*plan_csv["timestamp_utc"]]
        assert csv["dc_bus_vm_pu"].isna().all()  # baselines get no power flow
        mine = result.baselines[name].timeseries  # the Python result: the same rows
        pd.testing.assert_frame_equal(pq, mine, check_index_type=False, check_freq=False)
        assert mine.index.equals(result.timeseries.index)
        # the CSV: the same rows to its 9 significant figures (whole MW read as integers)
        pd.testing.assert_frame_equal(
            csv, mine, check_dtype=False, check_index_type=False, check_freq=False, rtol=1e-8
        )
        b = summary["baselines"][name]
        check_totals(pq, b)
        check_breaches(pq, b["limit_breaches"])


def test_asap_breaking_the_import_limit_step_by_step(outage_run):
    result, out = outage_run
    check_baseline_files(result, out, ("asap", "carbon-threshold"))
    _, rows = read_rows(out, "asap")
    breach = rows["import_breach_mw"]
    assert list(breach[breach > 0].index.hour) == [9, 10, 11]  # the outage's steps
    assert breach.max() == pytest.approx(7.0)  # 22 MW less 5 MW battery, 10 MW generators
    assert rows["gen_gas_mw"].max() == pytest.approx(6.0)
    assert rows["gen_diesel_mw"].max() == pytest.approx(4.0)


def test_a_baseline_without_a_plan_has_no_series(outage_run):
    result, out = outage_run
    summary = json.loads((out / "summary.json").read_text())
    store = summary["baselines"]["storage-optimal"]
    assert store["status"] == "infeasible" and "import_limit" in store["reason"]
    assert result.baselines["storage-optimal"].timeseries is None
    assert result.baselines["storage-optimal"].reason == store["reason"]
    assert sorted(p.name for p in (out / "baselines").iterdir()) == ["asap", "carbon-threshold"]


def test_every_baseline_written_when_all_have_a_plan(plain_run):
    result, out = plain_run
    names = ("asap", "carbon-threshold", "storage-optimal")
    assert tuple(result.baselines) == names
    check_baseline_files(result, out, names)
    marker = json.loads((out / ".microgrid-result.json").read_text())
    assert "baselines" in marker["entries"]  # the folder is the run's own


def test_no_baselines_no_folder(tmp_path):
    result = microgrid.run(scenario(outage=False), powerflow=False, baselines=False)
    out = result.write(tmp_path / "run")
    assert result.baselines == {} and not (out / "baselines").exists()


def test_run_no_baselines_skips_them_on_the_cli(tmp_path, capsys):
    """`microgrid run --no-baselines`: the plan alone (the sweep's flag, on run too)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(TINY))  # JSON is YAML
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-powerflow", "--no-baselines"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert "baselines" not in summary and "value_of" not in summary
    assert not (out / "baselines").exists()
    assert "vs asap" not in printed and "total cost" in printed


def test_a_baselines_cost_lines_sum_to_its_total(plain_run):
    """Each baseline's cost lines in summary.json, under the optimum's keys, add up to its
    total (the unfinished-work penalty, the DR program and the fixed charge were in the
    total and not beside it)."""
    result, _ = plain_run
    lines = ("energy", "demand", "fuel", "wear")
    rest = ("unfinished_penalty_usd", "dr_program_usd", "fixed_cost_usd")
    for name, b in result.summary["baselines"].items():
        parts = [b[f"{line}_cost_usd"] for line in lines] + [b[key] for key in rest]
        assert sum(parts) == pytest.approx(b["total_cost_usd"], rel=1e-12, abs=1e-6), name
