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
from microgrid.billing import demand_charge_shares, month_of_key, step_hours_by_month
from microgrid.coincident_peak import EXPECTED_LINE, hindsight_grid
from microgrid.scenario import Scenario
from microgrid.tariffs import scenario_fixed_charge_by_month_usd, scenario_rate
from microgrid.tariffs.period_hours import period_line_hours
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
# a tariff's period lines: n is URDB's 0-based period + 1 (the keys keep that numbering),
# so the label names both, as the rate file has no name for a period
_NUMBERED = (
    (re.compile(r"energy_period_(\d+)"), "Energy, tariff period {n} (URDB period {p})"),
    (re.compile(r"demand_tou_(\d+)"), "Demand charge, TOU period {n} (URDB demand period {p})"),
)


def line_label(key: str, hours: dict[str, str] | None = None) -> str:
    """A reader's name for a bill line (`energy_period_2_usd` -> "Energy, tariff period 2
    (URDB period 1)"); a period line adds the hours it covers where `hours` (line item ->
    text, `microgrid.tariffs.period_hours.period_line_hours`) has them."""
    item = key.removesuffix("_usd")
    if item in _LABELS:
        return _LABELS[item]
    for pattern, text in _NUMBERED:
        match = pattern.fullmatch(item)
        if match:
            n = int(match.group(1))
            label = text.format(n=n, p=n - 1)
            return f"{label}: {hours[item]}" if hours and item in hours else label
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


def _how_billed(month_share: float | None = None) -> dict:
    """A month's `month_billing` entry before its lines are added."""
    return {"month_share": month_share, "billing": {}, "billed_demand_mw": {}}


def month_billing(
    grid: optimize.Grid,
    step_h: float,
    index: pd.DatetimeIndex,
    timezone: str,
    import_mw: np.ndarray,
    billing: str,
    fixed_billing: str,
) -> dict[str, dict]:
    """Per billing month ("horizon" for a charge naming none), how its lines were billed,
    so that each can be held against a real bill: `month_share`, the share of the month's
    hours the horizon covers (whatever the billing; None for "horizon"); `billing`, line
    -> `billing` (`grid.demand_charge_billing`) for the lines it pro-rates (demand
    charges, energy tiers) and `fixed_billing` for the fixed charge; `billed_demand_mw`,
    demand line -> the demand (MW) its charge is on (None where two charges of the month
    share the line)."""
    covered = demand_charge_shares(index, timezone, step_h, "prorated") or {}
    months = {month: _how_billed(share) for month, share in covered.items()}
    billed = billed_demand_mw(grid, np.asarray(import_mw, dtype=float))
    for c in grid.peak_charges:
        if c.line_item == EXPECTED_LINE:  # a planning estimate, per alert day: not billed
            continue
        month = month_of_key(c.key) or "horizon"
        entry = months.setdefault(month, _how_billed())
        line = f"{c.line_item}_usd"
        entry["billing"][line] = billing
        mw = entry["billed_demand_mw"]
        mw[line] = None if line in mw else float(billed[c.key])
    for x in grid.energy_tiers:  # the tier widths are pro-rated as the demand charges
        entry = months.setdefault(month_of_key(x.key) or "horizon", _how_billed())
        entry["billing"][f"{x.line_item}_usd"] = billing
    for entry in months.values():
        entry["billing"]["fixed_usd"] = fixed_billing
    return months


def bill_summary(
    grid: optimize.Grid,
    step_h: float,
    index: pd.DatetimeIndex,
    timezone: str,
    series: pd.DataFrame,
    fixed_usd_by_month: dict[str, float],
    program_lines: dict[str, float],
    billing: str = "prorated",
    fixed_billing: str | None = None,
) -> dict:
    """`summary["bill"]` (see the module header): `series` holds `grid_import_mw` and
    `grid_export_mw`; `fixed_usd_by_month` the tariff's fixed charge per local month;
    `program_lines` the DR program's lines (`dr_*_usd`); `billing` the demand-charge
    billing (`grid.demand_charge_billing`) and `fixed_billing` the fixed charge's
    ("per_day" for a charge per day; None: `billing`). Each month says how its lines were
    billed (`month_billing`)."""
    imp = series["grid_import_mw"].to_numpy()
    months = grid_bill_by_month(
        grid, step_h, index, timezone, imp, series["grid_export_mw"].to_numpy()
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
    how = month_billing(grid, step_h, index, timezone, imp, billing, fixed_billing or billing)
    return {
        "lines": totals,
        "labels": {key: line_label(key) for key in totals},
        "months": [
            _month_entry(month, lines, how.get(month, _how_billed()))
            for month, lines in months.items()
        ],
        "program_lines": dict(program_lines),
        "total_usd": float(sum(totals.values())),
    }


def _month_entry(month: str, lines: dict[str, float], how: dict) -> dict:
    """One billing month of the bill: its lines, total and how its lines were billed
    (`month_billing`, kept to the lines the month has)."""
    return {
        "month": month,
        "month_share": how["month_share"],
        "lines": lines,
        "billing": {k: v for k, v in how["billing"].items() if k in lines},
        "billed_demand_mw": {k: v for k, v in how["billed_demand_mw"].items() if k in lines},
        "total_usd": float(sum(lines.values())),
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
    rate = scenario_rate(scenario)
    billing = scenario.grid.demand_charge_billing
    bill = bill_summary(
        hindsight_grid(scenario, index, grid),
        scenario.step_h,
        index,
        scenario.site.timezone,
        series,
        scenario_fixed_charge_by_month_usd(scenario, index),
        program,
        billing=billing,
        fixed_billing="per_day" if rate and rate.fixedchargeunits == "$/day" else billing,
    )
    bill["estimates"] = planning_estimates(grid, series["grid_import_mw"].to_numpy())
    hours = period_line_hours(rate, index, scenario.site.timezone) if rate else {}
    bill["labels"] = {key: line_label(key, hours) for key in [*bill["lines"], *bill["estimates"]]}
    return bill


BILL_COLUMNS = ("month", "line_item", "label", "usd", "month_share", "billing", "billed_demand_mw")


def _share_text(share: float | None) -> str:
    # bill.csv writes floats to the cent: a share as text keeps its digits (1/31 of July)
    return "" if share is None else f"{share:.10g}"


def _mw_text(mw: float | None) -> str:
    return "" if mw is None else f"{mw:.4f}"  # MW to the tenth of a kW


def bill_table(bill: dict) -> pd.DataFrame:
    """`bill.csv`: one row per (billing month, line item) with its label and USD (to the
    cent), the share of the billing month the horizon covers (`month_share`), how the
    line was billed where the billing makes a difference (`billing`: prorated,
    full_month or per_day; empty for energy, which is metered) and, for a demand line, the
    demand its charge is on (`billed_demand_mw`); the DR program's lines under month
    "program" (they are settled per program, not per month). A summary written before
    these fields leaves them empty."""
    rows = [
        (
            m["month"],
            key.removesuffix("_usd"),
            bill["labels"][key],
            usd,
            _share_text(m.get("month_share")),
            (m.get("billing") or {}).get(key) or "",
            _mw_text((m.get("billed_demand_mw") or {}).get(key)),
        )
        for m in bill["months"]
        for key, usd in m["lines"].items()
    ]
    rows += [
        ("program", key.removesuffix("_usd"), bill["labels"][key], usd, "", "", "")
        for key, usd in bill["program_lines"].items()
    ]
    table = pd.DataFrame(rows, columns=list(BILL_COLUMNS))
    table["usd"] = table["usd"].astype(float).round(2) + 0.0  # to the cent, no -0.00
    return table
