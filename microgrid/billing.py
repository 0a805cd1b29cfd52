"""Demand-charge billing periods: local calendar months, pro-rated when covered in part.

A utility bills the demand charge on each calendar month's peak. A scenario period that
covers only part of a month (a week, or the first days of a month in a rolling year)
would pay a whole month's charge for a few days' peak under `"full_month"` billing: in
R1's week that charge was larger than the week's whole cost. `"prorated"` (the default)
bills the month's charge times the period's share of the month's hours:

    share_k = (hours of month k inside the period) / (hours of month k)

in local time, with the month's real length (a month with a daylight-saving change has
743 or 745 hours). A month the period covers whole has share 1 either way.

The scenario's flat charge (`grid.demand_charge_usd_per_kw_month`) becomes one
`optimize.PeakCharge` per billing month over that month's steps: key
`demand_flat@YYYY-MM`, bill line `demand_flat`, USD per MW = 1000 × USD per kW-month ×
share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize
from microgrid.scenario import step_of
from optimize.bill import billed_demand_mw, peaks_mw

BILLING_METHODS = ("prorated", "full_month")


FLAT_LINE = "demand_flat"


def month_labels(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The local calendar month of each step, ``"YYYY-MM"``."""
    return np.asarray(index.tz_convert(timezone).strftime("%Y-%m"))


def billing_months(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """0-based index of the local calendar month of each step (demand-charge periods)."""
    local = index.tz_convert(timezone)
    key = local.year * 12 + local.month
    return np.asarray(key - key.min(), dtype=np.int64)


def _month_hours(first_local: pd.Timestamp) -> float:
    """Elapsed hours of the local calendar month that contains ``first_local``."""
    start = first_local.normalize().replace(day=1)
    end = start + pd.offsets.MonthBegin(1)
    # replace(day=1) keeps the first step's UTC offset, which is wrong when a DST change lies
    # between: localize both ends' wall times afresh, so the difference is the elapsed time
    # (a DST month has 743 or 745 hours)
    start = pd.Timestamp(start.tz_localize(None)).tz_localize(first_local.tz)
    end = pd.Timestamp(end.tz_localize(None)).tz_localize(first_local.tz)
    return (end - start) / pd.Timedelta(hours=1)


def demand_charge_shares(
    index: pd.DatetimeIndex, timezone: str, step_h: float, billing: str
) -> dict[str, float] | None:
    """Billing month (``"YYYY-MM"``) -> share of that month's demand charge the period pays
    (see the module's header); None (every month pays in full) for ``"full_month"``."""
    if billing not in BILLING_METHODS:
        raise ValueError(f"unknown demand-charge billing {billing!r}")
    if billing == "full_month" or len(index) == 0:
        return None
    labels = month_labels(index, timezone)
    local = index.tz_convert(timezone)
    shares = {}
    for label in dict.fromkeys(labels):
        steps = np.flatnonzero(labels == label)
        covered_h = len(steps) * step_h
        shares[str(label)] = min(1.0, covered_h / _month_hours(local[steps[0]]))
    return shares


def flat_demand_charges(
    index: pd.DatetimeIndex,
    timezone: str,
    step_h: float,
    usd_per_kw_month: float,
    billing: str,
) -> tuple[optimize.PeakCharge, ...]:
    """One ``PeakCharge`` per local billing month (module header); none without a charge."""
    if usd_per_kw_month <= 0 or len(index) == 0:
        return ()
    shares = demand_charge_shares(index, timezone, step_h, billing) or {}
    labels = month_labels(index, timezone)
    return tuple(
        optimize.PeakCharge(
            key=f"{FLAT_LINE}@{label}",
            line_item=FLAT_LINE,
            usd_per_mw=usd_per_kw_month * 1000.0 * shares.get(str(label), 1.0),
            steps=labels == label,
        )
        for label in dict.fromkeys(labels)
    )


def demand_charge_summary(
    grid: optimize.Grid, index: pd.DatetimeIndex, timezone: str, billing: str, import_mw
) -> dict:
    """`summary.json["demand_charge"]`: the billing method, the flat charge (USD per
    kW-month) and, per billing month, its local month, share billed, peak import (MW) and
    charge (USD), from the grid's flat charges (`demand_flat@YYYY-MM`)."""
    flat = [c for c in grid.peak_charges if c.line_item == FLAT_LINE]
    step_h = step_of(index) / pd.Timedelta(hours=1) if len(index) else 1.0
    shares = demand_charge_shares(index, timezone, step_h, billing)
    billed = billed_demand_mw(grid, np.asarray(import_mw, dtype=float))
    peaks = peaks_mw(grid.peak_charges, np.asarray(import_mw, dtype=float))
    months, usd_per_kw_month = [], 0.0
    for c in flat:
        month = c.key.split("@", 1)[1]
        share = (shares or {}).get(month, 1.0)
        usd_per_kw_month = c.usd_per_mw / share / 1000.0 if share > 0 else usd_per_kw_month
        months.append(
            {
                "month": month,
                "share_billed": share,
                "peak_import_mw": peaks[c.key],
                "charge_usd": c.usd_per_mw * billed[c.key],
            }
        )
    return {"billing": billing, "usd_per_kw_month": usd_per_kw_month, "months": months}
