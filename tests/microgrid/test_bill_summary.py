"""summary.json["bill"] (microgrid/bill_summary.py): lines by local billing month that add
up to the grid bill, with the fixed charge and the DR program's lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import optimize as o
from microgrid.bill_summary import bill_summary, bill_table, grid_bill_by_month, line_label
from optimize.bill import grid_bill

TZ = "America/Chicago"


def _two_month_grid():
    """Four hours: two on 2023-07-31, two on 2023-08-01 (local), flat charges per month,
    a TOU charge in August only, tiers in July, wholesale + adder parts."""
    index = pd.date_range("2023-07-31 22:00", periods=4, freq="h", tz=TZ).tz_convert("UTC")
    july = np.array([True, True, False, False])
    aug = ~july
    wholesale = np.array([20.0, 40.0, 30.0, 50.0])
    adder = np.full(4, 5.0)
    grid = o.Grid(
        import_max_mw=np.full(4, 100.0),
        export_max_mw=np.full(4, 10.0),
        import_price_usd_per_mwh=wholesale + adder,
        export_price_usd_per_mwh=wholesale,
        carbon_g_per_kwh=np.zeros(4),
        peak_charges=(
            o.PeakCharge("demand_flat@2023-07", "demand_flat", 100.0, july),
            o.PeakCharge("demand_flat@2023-08", "demand_flat", 100.0, aug),
            o.PeakCharge("demand_tou_2@2023-08", "demand_tou_2", 50.0, aug & (wholesale > 40)),
        ),
        energy_tiers=(
            o.EnergyTiers(
                "energy_tiers@2023-07",
                "energy_tiers",
                july,
                (15.0, np.inf),
                (np.zeros(4), np.full(4, 10.0)),
            ),
        ),
        import_price_parts={"energy_wholesale": wholesale, "energy_adder": adder},
        export_price_parts={"export_wholesale": wholesale},
    )
    return index, grid


def test_months_add_up_to_the_grid_bill_and_each_charge_sits_in_its_month():
    index, grid = _two_month_grid()
    imp = np.array([10.0, 12.0, 8.0, 6.0])
    exp = np.array([0.0, 0.0, 0.0, 2.0])
    months = grid_bill_by_month(grid, 1.0, index, TZ, imp, exp)
    assert list(months) == ["2023-07", "2023-08"]
    jul, aug = months["2023-07"], months["2023-08"]
    # July: 10 MWh at 20 + 12 at 40, adder 5 × 22, peak 12 × 100, tiers (22 − 15) × 10
    assert jul["energy_wholesale_usd"] == pytest.approx(200.0 + 480.0)
    assert jul["energy_adder_usd"] == pytest.approx(110.0)
    assert jul["demand_flat_usd"] == pytest.approx(1200.0)
    assert jul["energy_tiers_usd"] == pytest.approx(70.0)
    assert "demand_tou_2_usd" not in jul
    # August: 8 at 30 + 6 at 50, minus 2 exported at 50; peak 8; TOU peak at step 3 = 6
    assert aug["energy_wholesale_usd"] == pytest.approx(240.0 + 300.0)
    assert aug["export_wholesale_usd"] == pytest.approx(-100.0)
    assert aug["demand_flat_usd"] == pytest.approx(800.0)
    assert aug["demand_tou_2_usd"] == pytest.approx(300.0)
    whole = grid_bill(grid, 1.0, imp, exp)
    for key, usd in whole.items():
        assert jul.get(key, 0.0) + aug.get(key, 0.0) == pytest.approx(usd)


def test_bill_summary_adds_fixed_and_program_lines_to_the_total():
    index, grid = _two_month_grid()
    series = pd.DataFrame(
        {"grid_import_mw": [10.0, 12.0, 8.0, 6.0], "grid_export_mw": [0.0, 0.0, 0.0, 2.0]}
    )
    fixed = {"2023-07": 3.0, "2023-08": 4.0}
    program = {"dr_capacity_usd": -500.0, "dr_shortfall_usd": 20.0}
    bill = bill_summary(grid, 1.0, index, TZ, series, fixed, program)
    grid_total = sum(
        grid_bill(grid, 1.0, series["grid_import_mw"], series["grid_export_mw"]).values()
    )
    assert bill["total_usd"] == pytest.approx(grid_total + 7.0 - 480.0)
    assert bill["lines"]["fixed_usd"] == pytest.approx(7.0)
    assert [m["month"] for m in bill["months"]] == ["2023-07", "2023-08"]
    assert bill["months"][1]["lines"]["fixed_usd"] == 4.0
    month_total = sum(m["total_usd"] for m in bill["months"])
    assert month_total + sum(program.values()) == pytest.approx(bill["total_usd"])
    tou = "Demand charge, TOU period 2 (URDB demand period 1)"
    assert bill["labels"]["demand_tou_2_usd"] == tou


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("energy_period_3_usd", "Energy, tariff period 3 (URDB period 2)"),
        ("demand_flat_usd", "Demand charge (monthly peak)"),
        ("coincident_peak_usd", "Coincident-peak charge"),
        ("something_new_usd", "Something new"),
    ],
)
def test_line_labels(key, label):
    assert line_label(key) == label


def test_bill_csv_keeps_the_cents_of_a_large_line():
    """9 significant figures wrote 18,636,793.12404 USD as 18636793.1."""
    bill = {
        "months": [{"month": "2023-08", "lines": {"energy_usd": 18_636_793.12404, "x_usd": -1e-4}}],
        "labels": {"energy_usd": "Energy", "x_usd": "X"},
        "program_lines": {},
    }
    table = bill_table(bill)
    assert list(table["usd"]) == [18_636_793.12, 0.0]
    assert str(table["usd"][1]) == "0.0"  # no -0.0
