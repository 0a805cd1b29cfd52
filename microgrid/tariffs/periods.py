"""A rate's 12 x 24 schedules at the scenario's steps, in the site's local time.

URDB schedules give, per local calendar month (0-11) and local clock hour (0-23), a 0-based
period; one matrix for weekdays (Monday-Friday) and one for weekends (Saturday, Sunday).
A step takes the period of the local hour it starts in, so a daylight-saving change moves
the periods with the wall clock. URDB's schedule format has no holidays: a holiday on a
weekday is billed as a weekday.

Billing months are local calendar months (microgrid/billing.py), keyed "YYYY-MM".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LocalSteps:
    """Local calendar facts of each step (arrays of length n_steps)."""

    month0: np.ndarray  # calendar month, 0 = January
    hour: np.ndarray  # local clock hour 0-23 of the step's start
    weekend: np.ndarray  # bool: Saturday or Sunday, local
    billing_month: np.ndarray  # 0-based index of the local calendar month in the horizon
    labels: tuple[str, ...]  # "YYYY-MM" of each billing-month index

    def month_steps(self, k: int) -> np.ndarray:
        """bool per step: the steps of billing month ``k``."""
        return self.billing_month == k


def local_steps(index: pd.DatetimeIndex, timezone: str) -> LocalSteps:
    """The local month, hour, weekend flag and billing month of each UTC step."""
    local = index.tz_convert(timezone)
    key = np.asarray(local.year * 12 + local.month - 1, dtype=np.int64)  # months since 0 AD
    k0, k1 = (int(key.min()), int(key.max()) + 1) if len(key) else (0, 0)
    labels = tuple(f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(k0, k1))
    return LocalSteps(
        month0=np.asarray(local.month - 1, dtype=np.int64),
        hour=np.asarray(local.hour, dtype=np.int64),
        weekend=np.asarray(local.dayofweek >= 5),
        billing_month=key - k0,
        labels=labels,
    )


def period_of_step(weekday: tuple, weekend: tuple, steps: LocalSteps) -> np.ndarray:
    """0-based period of each step from a weekday and a weekend 12 x 24 schedule."""
    wd = np.asarray(weekday, dtype=np.int64)[steps.month0, steps.hour]
    we = np.asarray(weekend, dtype=np.int64)[steps.month0, steps.hour]
    return np.where(steps.weekend, we, wd)
