"""Demand-charge billing periods: local calendar months, pro-rated when covered in part.

A utility bills the demand charge on each calendar month's peak. A scenario period that
covers only part of a month (a week, or the first days of a month in a rolling year)
would pay a whole month's charge for a few days' peak under `"full_month"` billing: in
R1's week that charge was larger than the week's whole cost. `"prorated"` (the default)
bills the month's charge times the period's share of the month's hours:

    share_k = (hours of month k inside the period) / (hours of month k)

in local time, with the month's real length (a month with a daylight-saving change has
743 or 745 hours). A month the period covers whole has share 1 either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import optimize

BILLING_METHODS = ("prorated", "full_month")


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
) -> dict[int, float] | None:
    """Billing-month index -> share of that month's demand charge the period pays (see
    the module's header); None (every month pays in full) for ``"full_month"``."""
    if billing not in BILLING_METHODS:
        raise ValueError(f"unknown demand-charge billing {billing!r}")
    if billing == "full_month" or len(index) == 0:
        return None
    months = billing_months(index, timezone)
    local = index.tz_convert(timezone)
    shares = {}
    for k in np.unique(months):
        steps = np.flatnonzero(months == k)
        covered_h = len(steps) * step_h
        shares[int(k)] = min(1.0, covered_h / _month_hours(local[steps[0]]))
    return shares


def demand_charge_summary(
    grid: optimize.Grid, index: pd.DatetimeIndex, timezone: str, billing: str, import_mw
) -> dict:
    """`summary.json["demand_charge"]`: the billing method and, per billing month, its
    local month, share billed, peak import (MW) and charge (USD)."""
    months = []
    if grid.demand_charge_usd_per_mw > 0 and len(index):
        local = index.tz_convert(timezone)
        peaks = grid.month_peak_import_mw(np.asarray(import_mw, dtype=float))
        for k, peak_mw in peaks.items():
            first = int(np.argmax(grid.month_of_step == k))
            months.append(
                {
                    "month": local[first].strftime("%Y-%m"),
                    "share_billed": grid.month_share(k),
                    "peak_import_mw": peak_mw,
                    "charge_usd": grid.month_demand_charge_usd_per_mw(k) * peak_mw,
                }
            )
    return {
        "billing": billing,
        "usd_per_kw_month": grid.demand_charge_usd_per_mw / 1000.0,
        "months": months,
    }
