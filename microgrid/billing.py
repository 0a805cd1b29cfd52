"""Demand-charge billing periods: local calendar months, pro-rated when covered in part.

A utility bills the demand charge on each calendar month's peak. A scenario period that
covers only part of a month (a week, or the first days of a month in a rolling year)
would pay a whole month's charge for a few days' peak under `"full_month"` billing: in
R1's week that charge was larger than the week's whole cost. `"prorated"` (the default)
bills the month's charge times the period's share of the month's hours:

    share_k = (hours of month k inside the period) / (hours of month k)

in local time, with the month's real length: the elapsed time from its first instant to
the next month's (a month with a daylight-saving change has 743 or 745 hours; a month
whose first midnight the clocks skip starts at the change). A month the period covers
whole has share 1 either way.

The scenario's flat charge (`grid.demand_charge_usd_per_kw_month`) becomes one
`optimize.PeakCharge` per billing month over that month's steps: key
`demand_flat@YYYY-MM`, bill line `demand_flat`, USD per MW = 1000 × USD per kW-month ×
share.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

import optimize
from microgrid.wall_time import step_of
from optimize.bill import billed_demand_mw, peaks_mw

BILLING_METHODS = ("prorated", "full_month")


FLAT_LINE = "demand_flat"
_SEARCH_SPAN = pd.Timedelta(days=2)


def month_labels(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The local calendar month of each step, ``"YYYY-MM"``."""
    return np.asarray(index.tz_convert(timezone).strftime("%Y-%m"))


def billing_months(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """0-based index of the local calendar month of each step (demand-charge periods)."""
    local = index.tz_convert(timezone)
    key = local.year * 12 + local.month
    return np.asarray(key - key.min(), dtype=np.int64)


def _first_reaching(wall: pd.Timestamp, grid: pd.DatetimeIndex, timezone: str) -> pd.Timestamp:
    """The first instant of the UTC `grid` whose local wall time is `wall` or later."""
    reached = grid.tz_convert(timezone).tz_localize(None) >= wall
    return grid[int(np.argmax(reached))]


@functools.lru_cache(maxsize=256)
def _local_month_start_utc(year: int, month: int, timezone: str) -> pd.Timestamp:
    """The first instant of a local calendar month, in UTC: local midnight of its 1st, the
    earlier one when the clocks go back over it, the end of the gap when they skip it
    (Asuncion sprang from 00:00 to 01:00 on 2023-10-01).

    Searched on UTC instants converted to local time (defined for every instant of every
    zone; localizing such a midnight fails or shifts it by whole hours only): to the minute
    within two days (offsets stay within 15 h), then to the second (zones change on whole
    seconds).
    """
    first_day = pd.Timestamp(year=year, month=month, day=1)
    near = first_day.tz_localize("UTC")
    minutes = pd.date_range(near - _SEARCH_SPAN, near + _SEARCH_SPAN, freq="min")
    minute = _first_reaching(first_day, minutes, timezone)
    seconds = pd.date_range(minute - pd.Timedelta(minutes=1), minute, freq="s")
    return _first_reaching(first_day, seconds, timezone)


def _month_hours(year: int, month: int, timezone: str) -> float:
    """Elapsed hours of a local calendar month, from its first instant to the next month's
    (a month with a DST change has 743 or 745 hours)."""
    after = (year, month + 1) if month < 12 else (year + 1, 1)
    elapsed = _local_month_start_utc(*after, timezone) - _local_month_start_utc(
        year, month, timezone
    )
    return elapsed / pd.Timedelta(hours=1)


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
    shares = {}
    for label in dict.fromkeys(labels):
        covered_h = int(np.count_nonzero(labels == label)) * step_h  # a Python float
        year, month = (int(part) for part in str(label).split("-"))
        shares[str(label)] = min(1.0, covered_h / _month_hours(year, month, timezone))
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
