"""The location a typical-year file's header states, checked before anything uses it.

A NaN or infinite latitude made the site-distance check compare NaN and refuse nothing; a
latitude of -214.93 or an elevation of -9999 (a missing-value code) was taken as given,
and a time zone of 99 h failed inside pandas with no line. Each value must be a finite
number within the range EnergyPlus' weather data dictionary allows (latitude, longitude,
time zone) or, for the elevation, between the lowest and highest land.
"""

from __future__ import annotations

import math
import os

from weather.errors import WeatherDataError

#: (lowest, highest, unit) of each header value.
LOCATION_RANGES = {
    "latitude": (-90.0, 90.0, "degrees"),
    "longitude": (-180.0, 180.0, "degrees"),
    "time zone": (-12.0, 14.0, "hours from UTC"),
    # the Dead Sea shore is at -430 m, Everest at 8849 m
    "elevation": (-500.0, 9000.0, "m"),
}


def check_location(texts: dict[str, str], path: str | os.PathLike, label: str) -> None:
    """Raise :class:`WeatherDataError` (line 1, the field's name) for the first of
    ``texts`` (a name of :data:`LOCATION_RANGES` -> the file's text) that is not a finite
    number in its range; ``label`` names the header in the message (``LOCATION``,
    ``header``)."""
    for name, text in texts.items():
        lo, hi, unit = LOCATION_RANGES[name]
        problem = _problem(text.strip(), lo, hi, unit)
        if problem is not None:
            raise WeatherDataError(f"{label} {name} {problem}", path=path, line=1, field=name)


def _problem(text: str, lo: float, hi: float, unit: str) -> str | None:
    """What is wrong with one header value's text, or None."""
    if text == "":
        return "empty"
    try:
        value = float(text)
    except ValueError:
        return f"not a number: {text!r}"
    if not math.isfinite(value):
        return f"{text!r}: not a finite number"
    if not lo <= value <= hi:
        return f"{text!r} outside [{lo:g}, {hi:g}] {unit}"
    return None
