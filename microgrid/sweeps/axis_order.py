"""The order of a sweep axis's values in the report (tables, steps, plots, heat maps):
date-times by time, not as text. Text order is wrong across UTC offsets
("2023-08-21T10:00-05:00" is 15:00 UTC, after "2023-08-21T14:00Z") and between a time
with an offset and a wall time without one (wall time at the case's site zone, the
records' `period.timezone`). Numbers are ordered by value where they are grouped."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd

#: A run's site zone in its summary (`Scenario.period_record`), as a cases-table column
ZONE_COLUMN = "period.timezone"
#: An axis value of a case whose scenario has none (`sensitivity.value_label`): last
NULL_LABEL = "null"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d|$)")


def label_zones(df: pd.DataFrame, labels: pd.Series) -> dict[str, set[str]]:
    """Per axis value (`labels`, one per case of `df`), the site zones of its cases (none
    when the records hold no zone: a stand-in's, or an older record's)."""
    if ZONE_COLUMN not in df:
        return {}
    zones = df[ZONE_COLUMN].where(df[ZONE_COLUMN].map(lambda z: isinstance(z, str)))
    return {
        label: set(group.dropna()) for label, group in zones.groupby(labels.to_numpy(), sort=False)
    }


def time_order(labels: Sequence[str], zones: Mapping[str, set[str]]) -> list[str] | None:
    """`labels` (an axis's values as text) in time order, when each is an ISO 8601
    date-time (or `NULL_LABEL`, last): by UTC instant where each has an offset or its
    cases one site zone; by wall time where none has an offset (one zone, the site's).
    None where they cannot be placed in time: the caller keeps its order."""
    given = [label for label in labels if label != NULL_LABEL]
    times = [_date_time(label) for label in given]
    if not given or any(t is None for t in times):
        return None
    keys = [_utc(t, zones.get(label, set())) for t, label in zip(times, given, strict=True)]
    if any(k is None for k in keys):
        if any(t.tzinfo is not None for t in times):
            return None  # a wall time in no single known zone beside instants
        keys = times
    # equal instants written with other offsets: by text, so the order is the same each run
    ordered = [label for _, label in sorted(zip(keys, given, strict=True))]
    return ordered + [label for label in labels if label == NULL_LABEL]


def _date_time(label: str) -> pd.Timestamp | None:
    """`label` as a date-time (naive without an offset), or None for other text."""
    if not isinstance(label, str) or not _DATE.match(label):
        return None
    try:
        return pd.Timestamp(datetime.fromisoformat(label))
    except ValueError:
        return None


def _utc(t: pd.Timestamp, zones: set[str]) -> pd.Timestamp | None:
    """`t` as UTC: a naive `t` is wall time at its cases' one zone (placed as a job's
    times are: a skipped time at the change, a repeated one's first occurrence); None
    without one zone."""
    if t.tzinfo is not None:
        return t.tz_convert("UTC")
    if len(zones) != 1:
        return None
    try:
        local = t.tz_localize(next(iter(zones)), nonexistent="shift_forward", ambiguous=True)
    except (KeyError, ValueError):  # a zone pandas does not know, in a hand-edited record
        return None
    return local.tz_convert("UTC")
