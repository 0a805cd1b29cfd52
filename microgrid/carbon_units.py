"""Whether carbon intensities given as g/kWh are in g/kWh: a magnitude check.

A carbon intensity is read in g/kWh whatever its magnitude, so a file or value in
another unit passes and every emission is off by a factor. The units people mix up:

- kg/kWh and t/MWh (the same number): 1/1000 of g/kWh. Grids range about 0.02-1.1 in
  those units, so carbon whose largest value in the period is below
  CARBON_FLOOR_G_PER_KWH (and above 0) is warned of (`microgrid.input_warnings`), not
  refused: the direct emissions of an almost wholly hydro or nuclear grid, or a clean
  supply given as 1 g/kWh, are real g/kWh that small. The floor is on the largest
  value, not on each: an hour of hydro or solar can be near 0 g/kWh.
- lb/MWh (eGRID's and WattTime's unit): 2.2 times g/kWh. A coal-heavy series reaches
  2,000-2,500 lb/MWh, above CARBON_CEILING_G_PER_KWH; no grid or generator emits that
  much per kWh (lignite units: about 1,200 g/kWh). A gas-heavy series in lb/MWh (about
  800-1,000) stays below the ceiling and cannot be told from g/kWh by its size.
- g/MWh: 1000 times g/kWh, far above the ceiling.

Values above CARBON_CEILING_G_PER_KWH are refused: no grid or generator emits that much.
A value of exactly 0 (a carbon-free supply) always passes.
"""

from __future__ import annotations

import numpy as np

# Below this largest value a series (or a scalar) looks like kg/kWh: every grid's
# kg/kWh figure is below 1.5, while a series in g/kWh reaches far beyond 2.
CARBON_FLOOR_G_PER_KWH = 2.0
# Above this a value looks like lb/MWh or g/MWh: the dirtiest lignite units emit about
# 1,200 g/kWh, grid averages at most about 1,100.
CARBON_CEILING_G_PER_KWH = 1_600.0
# Up to this a value above the ceiling reads as lb/MWh (lignite: about 2,600 lb/MWh);
# beyond, as g/MWh.
_LB_PER_MWH_TOP = 4_000.0


def too_high_message(value: float, largest: float, subject: str = "values look") -> str:
    """Why `value` (g/kWh) is refused; `largest`: the series' largest, for the unit hint;
    `subject`: what looks like another unit ("values look", "the value looks")."""
    if largest <= _LB_PER_MWH_TOP:
        hint = "lb/MWh: give g/kWh (x0.4536)"
    else:
        hint = "g/MWh: give g/kWh (/1000)"
    return (
        f"carbon intensity {value:g} g/kWh is above {CARBON_CEILING_G_PER_KWH:,.0f} g/kWh, more "
        f"than any grid or generator emits (lignite: about 1,200): {subject} like {hint}"
    )


def scalar_problem(value_g_per_kwh: float) -> str | None:
    """Why one carbon intensity given alone (g/kWh) cannot be g/kWh, or None."""
    if value_g_per_kwh > CARBON_CEILING_G_PER_KWH:
        return too_high_message(value_g_per_kwh, value_g_per_kwh, "the value looks")
    return None


def series_problem(values_g_per_kwh: np.ndarray) -> tuple[int, str] | None:
    """(row, why) at the first row of a series of carbon intensities (g/kWh) above the
    ceiling; None where there is none."""
    values = np.asarray(values_g_per_kwh, dtype=float)
    high = values > CARBON_CEILING_G_PER_KWH
    if not high.any():
        return None
    row = int(np.argmax(high))
    return row, too_high_message(float(values[row]), float(values.max()))


def looks_like_kg_per_kwh(largest_g_per_kwh: float) -> bool:
    """Whether carbon whose largest value is this (g/kWh) is more likely kg/kWh."""
    return 0 < largest_g_per_kwh < CARBON_FLOOR_G_PER_KWH


def too_low_warning(where: str, largest_g_per_kwh: float) -> str:
    """The warning for carbon given at `where` whose largest value is this (g/kWh)."""
    return (
        f"{where}: the largest carbon intensity is {largest_g_per_kwh:g} g/kWh, below "
        f"{CARBON_FLOOR_G_PER_KWH:g}: if it is in kg/kWh or t/MWh (every grid is below 1.5 "
        "in those units), every emission and carbon cost is 1,000 times too small: give "
        "g/kWh (x1000); real g/kWh this small (a hydro or nuclear grid's direct emissions) "
        "are read as they are"
    )
