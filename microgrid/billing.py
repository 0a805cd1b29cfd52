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
whole has share 1 either way. The hours inside the period are real hours: a step that
straddles a month's first instant (hourly UTC steps from a half-hour local start in a
half-hour zone such as Asia/Kolkata) gives each month the part on its side
(`step_hours_by_month`); such a step's peak and tiered energy still count in the month it
starts in (the model has one month per step).

The scenario's flat charge (`grid.demand_charge_usd_per_kw_month`) becomes one
`optimize.PeakCharge` per billing month over that month's steps: key
`demand_flat@YYYY-MM`, bill line `demand_flat`, USD per MW = 1000 × USD per kW-month ×
share.

`demand_charge_summary` says how every demand charge was billed (summary.json
`["demand_charge"]`): per billing month and charge, the rate, the billed demand and what
set it (the peak, or a ratchet), so that the parts add up to the demand cost.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pandas as pd

import optimize
from microgrid.coincident_peak import EXPECTED_LINE
from microgrid.wall_time import demand_interval, step_of
from optimize.bill import billed_demand_mw, interval_demand_mw, peaks_mw

BILLING_METHODS = ("prorated", "full_month")


FLAT_LINE = "demand_flat"
_TOU_LINE = re.compile(r"demand_tou_(\d+)")
_MONTH_OF_KEY = re.compile(r"@(\d{4}-\d{2})")
_SEARCH_SPAN = pd.Timedelta(days=2)
# billed demand above the peak by more than this (relative) was set by a ratchet
_RATCHET_TOLERANCE = 1e-9
# decimals of the summary's `usd_per_kw_month`: it is divided back out of the pro-rated USD
# per MW, which leaves float noise (8 came back as 7.999999999999999 for a month of 720
# hours); a tariff's rate has far fewer decimals, so rounding gives it back as given
RATE_DECIMALS = 9


def month_labels(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The local calendar month each step starts in, ``"YYYY-MM"``."""
    return np.asarray(index.tz_convert(timezone).strftime("%Y-%m"))


def month_of_key(key: str) -> str | None:
    """The billing month a charge's key names (`demand_flat@2023-08`, `cp_alert@2023-08-25`
    -> "2023-08"), None when it names none."""
    match = _MONTH_OF_KEY.search(key)
    return match.group(1) if match else None


def billing_months(index: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """0-based index of the local calendar month of each step (demand-charge periods)."""
    local = index.tz_convert(timezone)
    key = local.year * 12 + local.month
    return np.asarray(key - key.min(), dtype=np.int64)


def _first_reaching(wall: pd.Timestamp, grid: pd.DatetimeIndex, timezone: str) -> pd.Timestamp:
    """The first instant of the UTC `grid` whose local wall time is `wall` or later."""
    reached = grid.tz_convert(timezone).tz_localize(None) >= wall
    return grid[int(np.argmax(reached))]


@functools.lru_cache(maxsize=1024)
def _local_midnight_utc(day: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """The first instant of a local calendar day (`day`, naive midnight), in UTC: local
    midnight, the earlier one when the clocks go back over it, the end of the gap when they
    skip it (Asuncion sprang from 00:00 to 01:00 on 2023-10-01).

    Searched on UTC instants converted to local time (defined for every instant of every
    zone; localizing such a midnight fails or shifts it by whole hours only): to the minute
    within two days (offsets stay within 15 h), then to the second (zones change on whole
    seconds).
    """
    near = day.tz_localize("UTC")
    minutes = pd.date_range(near - _SEARCH_SPAN, near + _SEARCH_SPAN, freq="min")
    minute = _first_reaching(day, minutes, timezone)
    seconds = pd.date_range(minute - pd.Timedelta(minutes=1), minute, freq="s")
    return _first_reaching(day, seconds, timezone)


def local_month_start_utc(year: int, month: int, timezone: str) -> pd.Timestamp:
    """The first instant of a local calendar month, in UTC (`_local_midnight_utc`)."""
    return _local_midnight_utc(pd.Timestamp(year=year, month=month, day=1), timezone)


def step_days(index: pd.DatetimeIndex, timezone: str, step_h: float) -> np.ndarray:
    """Each step's length in local calendar days: its hours over the elapsed hours of the
    local day it starts in (23 or 25 on a day the clocks change), so a week's steps add
    up to 7 days across a clock change (a charge in USD per day bills calendar days)."""
    days = index.tz_convert(timezone).tz_localize(None).normalize()
    length_h = {
        d: (
            _local_midnight_utc(d + pd.Timedelta(days=1), timezone)
            - _local_midnight_utc(d, timezone)
        )
        / pd.Timedelta(hours=1)
        for d in days.unique()
    }
    return step_h / np.array([length_h[d] for d in days])


def _year_month(label: str) -> tuple[int, int]:
    year, month = (int(part) for part in str(label).split("-"))
    return year, month


def _month_hours(year: int, month: int, timezone: str) -> float:
    """Elapsed hours of a local calendar month, from its first instant to the next month's
    (a month with a DST change has 743 or 745 hours)."""
    after = (year, month + 1) if month < 12 else (year + 1, 1)
    elapsed = local_month_start_utc(*after, timezone) - local_month_start_utc(year, month, timezone)
    return elapsed / pd.Timedelta(hours=1)


def step_hours_by_month(
    index: pd.DatetimeIndex, timezone: str, step_h: float
) -> dict[str, np.ndarray]:
    """Local calendar month (``"YYYY-MM"``, in order) -> the hours of each step inside it.

    A step lies in the month it starts in, unless it straddles the next month's first
    instant (a half-hour zone on hourly UTC steps): then each month has the hours on its
    side. Steps are at most an hour long, so a step meets at most two months."""
    step = pd.Timedelta(hours=step_h)
    first = month_labels(index, timezone)
    last = month_labels(index + step - pd.Timedelta(1, "ns"), timezone)
    order = np.column_stack((first, last)).ravel().tolist()
    hours = {label: np.zeros(len(index)) for label in dict.fromkeys(order)}
    straddles = first != last
    for label, h in hours.items():
        h[(first == label) & ~straddles] = step_h
    for t in np.flatnonzero(straddles):
        boundary = local_month_start_utc(*_year_month(last[t]), timezone)
        before_h = (boundary - index[t]) / pd.Timedelta(hours=1)
        hours[first[t]][t] = before_h
        hours[last[t]][t] = step_h - before_h
    return hours


def demand_charge_shares(
    index: pd.DatetimeIndex, timezone: str, step_h: float, billing: str
) -> dict[str, float] | None:
    """Billing month (``"YYYY-MM"``) -> share of that month's demand charge the period pays
    (see the module's header); None (every month pays in full) for ``"full_month"``."""
    if billing not in BILLING_METHODS:
        raise ValueError(f"unknown demand-charge billing {billing!r}")
    if billing == "full_month" or len(index) == 0:
        return None
    shares = {}
    for label, hours in step_hours_by_month(index, timezone, step_h).items():
        covered_h = float(hours.sum())
        shares[label] = min(1.0, covered_h / _month_hours(*_year_month(label), timezone))
    return shares


def flat_demand_charges(
    index: pd.DatetimeIndex,
    timezone: str,
    step_h: float,
    usd_per_kw_month: float,
    billing: str,
    window_minutes: float | None = None,
) -> tuple[optimize.PeakCharge, ...]:
    """One ``PeakCharge`` per local billing month (module header), on the import averaged
    over ``window_minutes`` where longer than a step (``demand_interval``); none without a
    charge."""
    if usd_per_kw_month <= 0 or len(index) == 0:
        return ()
    shares = demand_charge_shares(index, timezone, step_h, billing) or {}
    labels = month_labels(index, timezone)
    interval_steps, phase = demand_interval(index, timezone, step_h, window_minutes)
    return tuple(
        optimize.PeakCharge(
            key=f"{FLAT_LINE}@{label}",
            line_item=FLAT_LINE,
            usd_per_mw=usd_per_kw_month * 1000.0 * shares.get(str(label), 1.0),
            steps=labels == label,
            interval_steps=interval_steps,
            interval_phase=phase,
        )
        for label in dict.fromkeys(labels)
    )


def _charge_kind(line_item: str) -> tuple[str, int | None]:
    """(kind, TOU period) of a demand charge's line item: ("flat", None), ("tou", 2) for
    `demand_tou_2`, ("coincident_peak_alert", None) for an alert day's expected charge;
    any other line is its own kind."""
    if line_item == FLAT_LINE:
        return "flat", None
    if line_item == EXPECTED_LINE:
        return "coincident_peak_alert", None
    match = _TOU_LINE.fullmatch(line_item)
    if match:
        return "tou", int(match.group(1))
    return line_item, None


def _charge_entry(
    c: optimize.PeakCharge, share: float | None, peak_mw: float, billed_mw: float
) -> dict:
    """One demand charge as billed: kind, rate, metered peak, billed demand, charge.
    `usd_per_kw_month` is the rate before pro-rating, rounded to RATE_DECIMALS (None for
    an alert day's charge, which is per MW of its window's peak, not per month)."""
    kind, period = _charge_kind(c.line_item)
    monthly = kind != "coincident_peak_alert" and share is not None and share > 0
    tolerance = _RATCHET_TOLERANCE * max(1.0, abs(peak_mw))
    ratchet = billed_mw > peak_mw + tolerance
    # the peak is the one reached before the horizon (a tariff's prior peak of the month)
    prior = c.prior_peak_mw > 0 and billed_mw <= c.prior_peak_mw + tolerance
    return {
        "key": c.key,
        "line_item": c.line_item,
        "kind": kind,
        "period": period,
        "usd_per_kw_month": round(c.usd_per_mw / share / 1000.0, RATE_DECIMALS)
        if monthly
        else None,
        "usd_per_mw": c.usd_per_mw,
        "peak_import_mw": peak_mw,
        "billed_demand_mw": billed_mw,
        "set_by": "ratchet" if ratchet else "prior_peak" if prior else "peak",
        "charge_usd": c.usd_per_mw * billed_mw,
    }


def _month_entry(month: str, share: float | None, peak_mw: float, charges: list) -> dict:
    return {
        "month": month,
        "share_billed": share,
        "peak_import_mw": peak_mw,
        "charge_usd": float(sum(c["charge_usd"] for c in charges)),
        "charges": charges,
    }


def _share_of(month: str, shares: dict[str, float] | None) -> float | None:
    """A billing month's share billed (1 under full-month billing); None for "horizon"."""
    return None if month == "horizon" else (shares or {}).get(month, 1.0)


def _metered_peak_mw(charges: list, in_month: np.ndarray, imp: np.ndarray) -> float:
    """A month's metered peak import (MW): the highest over its steps, averaged over the
    demand intervals of its charges where they are longer than a step."""
    longest = max(charges, key=lambda c: c.interval_steps)
    if longest.interval_steps == 1:
        return float(imp[in_month].max()) if in_month.any() else 0.0
    demand = interval_demand_mw(dataclasses.replace(longest, steps=in_month), imp)
    return float(demand.max()) if demand.size else 0.0


def demand_charge_summary(
    grid: optimize.Grid, index: pd.DatetimeIndex, timezone: str, billing: str, import_mw
) -> dict:
    """`summary.json["demand_charge"]`: the billing method, the demand cost (`charge_usd`)
    and, per billing month the grid's charges name (`demand_flat@YYYY-MM`,
    `cp_alert@YYYY-MM-DD`; "horizon" for a key naming none), its share billed, its metered
    peak import (MW), its charge (USD) and each of its charges (`_charge_entry`): the
    parts add up to the month's charge and the months to `charge_usd`."""
    imp = np.asarray(import_mw, dtype=float)
    step_h = step_of(index) / pd.Timedelta(hours=1) if len(index) else 1.0
    shares = demand_charge_shares(index, timezone, step_h, billing)
    labels = month_labels(index, timezone)
    billed = billed_demand_mw(grid, imp)
    peaks = peaks_mw(grid.peak_charges, imp)
    by_month: dict[str, list] = {str(m): [] for m in dict.fromkeys(labels.tolist())}
    for c in grid.peak_charges:
        by_month.setdefault(month_of_key(c.key) or "horizon", []).append(c)
    months = []
    for month, charges in by_month.items():
        in_month = labels == month if month != "horizon" else np.ones(len(imp), dtype=bool)
        share = _share_of(month, shares)
        entries = [_charge_entry(c, share, peaks[c.key], billed[c.key]) for c in charges]
        if charges:
            peak_mw = _metered_peak_mw(charges, in_month, imp)
            months.append(_month_entry(month, share, peak_mw, entries))
    total_usd = float(sum(m["charge_usd"] for m in months))
    return {"billing": billing, "charge_usd": total_usd, "months": months}
