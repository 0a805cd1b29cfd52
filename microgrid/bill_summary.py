"""`summary.json["bill"]`: the cost as the utility bills it, line by line and month by month.

The grid's lines come from `optimize.bill.grid_bill` (the same prices the optimiser
minimised): energy by price part (wholesale, adder, each tariff period, coincident peak),
export credits, each demand charge, tiered energy. To these the bill adds the tariff's
fixed charge (`fixed_usd`, which no schedule can change) and the demand-response
program's payments and penalties (`dr_*_usd`, negative when paid to the site).

Each billing month (local calendar month, as the utility bills it) gets its own lines: the
energy lines of its steps (a step across a month's start split by its hours on each side),
the demand charges and tiers whose key names the month (`demand_flat@2023-08`), its share
of the fixed charge. The months' lines add up to the totals; a charge whose key names no
month is listed under the horizon only.

Coincident peaks in mode "alerts": the plan minimised the alert days' expected charges,
which no utility bills. The bill prices the real intervals instead
(`microgrid.coincident_peak.hindsight_grid`: line `coincident_peak_usd`) and lists the
expected charge beside it under `estimates` (`coincident_peak_expected_usd`), a planning
estimate outside the bill's total (it is in the run's `total_cost_usd`, which is the
plan's cost as optimised).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import month_of_key, step_hours_by_month
from microgrid.coincident_peak import EXPECTED_LINE, hindsight_grid
from microgrid.scenario import Scenario
from microgrid.tariffs import scenario_fixed_charge_by_month_usd
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
    EXPECTED_LINE: "Coincident-peak alerts: expected charge (planning estimate)",
    "fixed": "Fixed charge",
    "dr_capacity": "DR program: capacity payment",
    "dr_energy": "DR program: energy payment",
    "dr_shortfall": "DR program: shortfall penalty",
}
_NUMBERED = (
    (re.compile(r"energy_period_(\d+)"), "Energy, tariff period {}"),
    (re.compile(r"demand_tou_(\d+)"), "Demand charge, TOU period {}"),
)


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
    grid bill lines (USD). Summed over months they equal `grid_bill` of the series: energy
    is linear, so each month takes its hours of each step."""
    imp = np.asarray(import_mw, dtype=float)
    exp = np.asarray(export_mw, dtype=float)
    energy_only = dataclasses.replace(grid, peak_charges=(), energy_tiers=())
    months: dict[str, dict[str, float]] = {}
    for month, hours in step_hours_by_month(index, timezone, step_h).items():
        in_month = hours / step_h  # 1 for a step inside the month, its part for a straddler
        months[month] = grid_bill(energy_only, step_h, imp * in_month, exp * in_month)
    billed = billed_demand_mw(grid, imp)
    for c in grid.peak_charges:
        lines = months.setdefault(month_of_key(c.key) or "horizon", {})
        _add(lines, f"{c.line_item}_usd", c.usd_per_mw * billed[c.key])
    for x in grid.energy_tiers:
        lines = months.setdefault(month_of_key(x.key) or "horizon", {})
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


def planning_estimates(grid: optimize.Grid, import_mw) -> dict[str, float]:
    """`summary["bill"]["estimates"]`: the coincident-peak alert days' expected charge
    (`coincident_peak_expected_usd`) on `grid`'s alert charges, which the plan minimised
    and no utility bills; empty without alert charges."""
    alerts = [c for c in grid.peak_charges if c.line_item == EXPECTED_LINE]
    if not alerts:
        return {}
    billed = billed_demand_mw(grid, np.asarray(import_mw, dtype=float))
    return {f"{EXPECTED_LINE}_usd": float(sum(c.usd_per_mw * billed[c.key] for c in alerts))}


def site_bill(
    scenario: Scenario,
    index: pd.DatetimeIndex,
    grid: optimize.Grid,
    series: pd.DataFrame,
    dispatch_bill: dict[str, float],
) -> dict:
    """`summary["bill"]` of a run: the grid's lines on `series` (the plan's, or the
    actual rows in operate mode, priced on `grid`) as the utility bills them (the real
    coincident-peak intervals in place of alert days' expected charges, which are listed
    under `estimates`), the tariff's fixed charge, and the DR program's lines from the
    dispatch's bill (`dr_*_usd`)."""
    program = {k: v for k, v in dispatch_bill.items() if k.startswith("dr_")}
    bill = bill_summary(
        hindsight_grid(scenario, index, grid),
        scenario.step_h,
        index,
        scenario.site.timezone,
        series,
        scenario_fixed_charge_by_month_usd(scenario, index),
        program,
    )
    bill["estimates"] = planning_estimates(grid, series["grid_import_mw"].to_numpy())
    bill["labels"].update({key: line_label(key) for key in bill["estimates"]})
    return bill


def bill_table(bill: dict) -> pd.DataFrame:
    """`bill.csv`: one row per (billing month, line item) with its label and USD (to the
    cent); the DR
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
    table = pd.DataFrame(rows, columns=["month", "line_item", "label", "usd"])
    table["usd"] = table["usd"].round(2) + 0.0  # to the cent, no -0.00
    return table
