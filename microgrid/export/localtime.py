"""UTC instants as local wall time for schedulers that only understand local time (Slurm).

A UTC instant always has exactly one local wall time, so the skipped hour at the start of
daylight saving time never appears. The repeated hour at its end is the problem: a wall
time such as 01:30 on 2023-11-05 in America/Chicago names two instants (06:30Z and 07:30Z)
and Slurm, which reads it with `mktime(tm_isdst=-1)`, may pick either. Such a time is
moved to the nearest unambiguous instant in the safe direction (`round_up` for an earliest
start, `round_down` for a deadline); see docs/exports.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_STEP = timedelta(minutes=1)
_MAX_STEPS = 24 * 60  # no zone repeats more than a day


def is_ambiguous(t: datetime, tz: ZoneInfo) -> bool:
    """True if the local wall time of instant `t` in `tz` names more than one instant."""
    wall = t.astimezone(tz).replace(tzinfo=None)
    return (
        wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()
    )


def _first(t: datetime, tz: ZoneInfo, sign: int) -> datetime:
    """The unambiguous instant nearest `t` in direction `sign` (+1 later, -1 earlier), to
    the second."""
    if not is_ambiguous(t, tz):
        return t
    inside = t
    for _ in range(_MAX_STEPS):
        nxt = inside + sign * _STEP
        if not is_ambiguous(nxt, tz):
            outside = nxt
            break
        inside = nxt
    else:  # pragma: no cover - no real zone does this
        raise ValueError(f"cannot find an unambiguous local time near {t} in {tz.key}")
    # bisect to the second between the last ambiguous and first unambiguous instant
    while abs((outside - inside).total_seconds()) > 1:
        mid = inside + (outside - inside) / 2
        mid = mid.replace(microsecond=0)
        if mid in (inside, outside):
            break
        if is_ambiguous(mid, tz):
            inside = mid
        else:
            outside = mid
    return outside


def round_up(t: datetime, tz: ZoneInfo) -> datetime:
    """`t`, or the first instant after it whose local wall time is unambiguous."""
    return _first(t, tz, +1)


def round_down(t: datetime, tz: ZoneInfo) -> datetime:
    """`t`, or the last instant before it whose local wall time is unambiguous."""
    return _first(t, tz, -1)


def wall(t: datetime, tz: ZoneInfo) -> str:
    """Local wall time as Slurm reads it: `YYYY-MM-DDTHH:MM:SS` (no offset)."""
    return t.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def describe(t: datetime, tz: ZoneInfo) -> str:
    """`2023-08-21T00:00:00-05:00 (CDT) = 2023-08-21T05:00:00Z` for comments."""
    loc = t.astimezone(tz)
    utc = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{loc.isoformat()} ({loc.tzname()}) = {utc}"
