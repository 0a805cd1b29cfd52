"""`summary.json["bill"]`: the cost as the utility bills it, line by line and month by month.

The grid's lines come from `optimize.bill.grid_bill` (the same prices the optimiser
minimised): energy by price part (wholesale, adder, each tariff period, coincident peak),
export credits, each demand charge, tiered energy. To these the bill adds the tariff's
fixed charge (`fixed_usd`, which no schedule can change) and the demand-response
program's payments and penalties (`dr_*_usd`, negative when paid to the site).

Each billing month (local calendar month, as the utility bills it) gets its own lines: the
energy lines of its steps, the demand charges and tiers whose key names the month
(`demand_flat@2023-08`), its share of the fixed charge. The months' lines add up to the
totals; a charge whose key names no month is listed under the horizon only.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import month_labels
from microgrid.scenario import Scenario
from microgrid.tariffs import scenario_fixed_charge_usd
from optimize.bill import billed_demand_mw, grid_bill, tiers_usd

_LABELS = {
    "energy": "Energy",
    "export": "Export credit",
    "energy_wholesale": "Energy at the wholesale price",
    "energy_adder": "Energy adder",
    "energy_tiers": "Tiered energy (above tier 1)",
    "export_wholesale": "Export at the wholesale price",
    "export_adder": "Export adder",
    "export_sell": "Export at the tariff's sell rate",
    "export_net_metering": "Export credit (net metering)",
    "demand_flat": "Demand charge (monthly peak)",
    "coincident_peak": "Coincident-peak charge",
    "coincident_peak_expected": "Coincident-peak alerts (expected charge)",
    "fixed": "Fixed charge",
    "dr_capacity": "DR program: capacity payment",
    "dr_energy": "DR program: energy payment",
    "dr_shortfall": "DR program: shortfall penalty",
}
_NUMBERED = (
    (re.compile(r"energy_period_(\d+)"), "Energy, tariff period {}"),
    (re.compile(r"demand_tou_(\d+)"), "Demand charge, TOU period {}"),
)
_MONTH = re.compile(r"@(\d{4}-\d{2})")


def line_label(key: str) -> str:
    """A reader's name for a bill line (`energy_period_2_usd` -> "Energy, tariff period 2")."""
    item = key.removesuffix("_usd")
    if item in _LABELS:
        return _LABELS[item]
    for pattern, text in _NUMBERED:
        match = pattern.fullmatch(item)
        if match:
            return text.format(match.group(1))
    return item.replace("_", " ").capitalize()


def _month_of_key(key: str) -> str | None:
    match = _MONTH.search(key)
    return match.group(1) if match else None


def _add(lines: dict[str, float], key: str, usd: float) -> None:
    lines[key] = lines.get(key, 0.0) + float(usd)


def grid_bill_by_month(
    grid: optimize.Grid,
    step_h: float,
    index: pd.DatetimeIndex,
    timezone: str,
    import_mw: np.ndarray,
    export_mw: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Local billing month ("YYYY-MM", or "horizon" for a charge naming no month) -> its
    grid bill lines (USD). Summed over months they equal `grid_bill` of the series."""
    imp = np.asarray(import_mw, dtype=float)
    exp = np.asarray(export_mw, dtype=float)
    energy_only = dataclasses.replace(grid, peak_charges=(), energy_tiers=())
    labels = month_labels(index, timezone)
    months: dict[str, dict[str, float]] = {}
    for month in dict.fromkeys(labels.tolist()):
        mask = labels == month
        months[month] = grid_bill(
            energy_only, step_h, np.where(mask, imp, 0.0), np.where(mask, exp, 0.0)
        )
    billed = billed_demand_mw(grid, imp)
    for c in grid.peak_charges:
        lines = months.setdefault(_month_of_key(c.key) or "horizon", {})
        _add(lines, f"{c.line_item}_usd", c.usd_per_mw * billed[c.key])
    for x in grid.energy_tiers:
        lines = months.setdefault(_month_of_key(x.key) or "horizon", {})
        for line, usd in tiers_usd((x,), step_h, imp).items():
            _add(lines, f"{line}_usd", usd)
    return months


def bill_summary(
    grid: optimize.Grid,
    step_h: float,
    index: pd.DatetimeIndex,
    timezone: str,
    series: pd.DataFrame,
    fixed_usd_by_month: dict[str, float],
    program_lines: dict[str, float],
) -> dict:
    """`summary["bill"]` (see the module header): `series` holds `grid_import_mw` and
    `grid_export_mw`; `fixed_usd_by_month` the tariff's fixed charge per local month;
    `program_lines` the DR program's lines (`dr_*_usd`)."""
    months = grid_bill_by_month(
        grid,
        step_h,
        index,
        timezone,
        series["grid_import_mw"].to_numpy(),
        series["grid_export_mw"].to_numpy(),
    )
    for month, usd in fixed_usd_by_month.items():
        if usd:
            _add(months.setdefault(month, {}), "fixed_usd", usd)
    totals: dict[str, float] = {}
    for lines in months.values():
        for key, usd in lines.items():
            _add(totals, key, usd)
    for key, usd in program_lines.items():
        _add(totals, key, usd)
    return {
        "lines": totals,
        "labels": {key: line_label(key) for key in totals},
        "months": [
            {"month": month, "lines": lines, "total_usd": float(sum(lines.values()))}
            for month, lines in months.items()
        ],
        "program_lines": dict(program_lines),
        "total_usd": float(sum(totals.values())),
    }


def fixed_usd_by_month(scenario: Scenario, index: pd.DatetimeIndex) -> dict[str, float]:
    """The tariff's fixed charge (USD) per local billing month of `index` (pro-rated as
    the tariff's charges are); empty without a tariff."""
    if scenario.grid.tariff is None:
        return {}
    labels = month_labels(index, scenario.site.timezone)
    return {
        month: scenario_fixed_charge_usd(scenario, index[labels == month])
        for month in dict.fromkeys(labels.tolist())
    }


def site_bill(
    scenario: Scenario,
    index: pd.DatetimeIndex,
    grid: optimize.Grid,
    series: pd.DataFrame,
    dispatch_bill: dict[str, float],
) -> dict:
    """`summary["bill"]` of a run: the grid's lines on `series` (the plan's, or the
    actual rows in operate mode, priced on `grid`), the tariff's fixed charge, and the DR
    program's lines from the dispatch's bill (`dr_*_usd`)."""
    program = {k: v for k, v in dispatch_bill.items() if k.startswith("dr_")}
    return bill_summary(
        grid,
        scenario.step_h,
        index,
        scenario.site.timezone,
        series,
        fixed_usd_by_month(scenario, index),
        program,
    )


def bill_table(bill: dict) -> pd.DataFrame:
    """`bill.csv`: one row per (billing month, line item) with its label and USD; the DR
    program's lines under month "program" (they are settled per program, not per month)."""
    rows = [
        (m["month"], key.removesuffix("_usd"), bill["labels"][key], usd)
        for m in bill["months"]
        for key, usd in m["lines"].items()
    ]
    rows += [
        ("program", key.removesuffix("_usd"), bill["labels"][key], usd)
        for key, usd in bill["program_lines"].items()
    ]
    return pd.DataFrame(rows, columns=["month", "line_item", "label", "usd"])
