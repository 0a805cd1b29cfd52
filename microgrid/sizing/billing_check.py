"""Sizing refuses `full_month` billing where a month covered in part pays a whole charge.

Sizing scales the horizon's costs to a year by 8760 / horizon_h. Under `full_month`
billing a month the horizon covers in part pays its whole monthly charges, and the year
would count each such month once per horizon (a week's sizing: 52 months of demand
charges a year, the sizes bought against them). Only the months whose bill the billing
changes count: those with a monthly demand charge above 0 (the flat
`grid.demand_charge_usd_per_kw_month` or the tariff's, in that month: a seasonal rate
may charge nothing in it) or a $/month fixed charge. A coincident-peak alert's expected
charge (`microgrid.coincident_peak`) and a $/day fixed charge bill the same either way.

Coincident-peak charges are a year's charge on a season's few intervals: a horizon
shorter than a year that holds one of them would count it once per horizon, 52 times a
year for a week's sizing, and buy the sizes against it. Refused too
(`check_coincident_peaks_yearly`).
"""

from __future__ import annotations

import optimize
from microgrid.assemble import Inputs
from microgrid.billing import demand_charge_shares, month_of_key
from microgrid.coincident_peak import EXPECTED_LINE
from microgrid.scenario import Scenario
from microgrid.sizing.costs import HOURS_PER_YEAR
from microgrid.tariffs import scenario_rate
from microgrid.tariffs.to_grid import fixed_charge_by_month_usd

_WHOLE_SHARE = 1.0 - 1e-9  # a month's share of its hours at or above this: covered whole
# a horizon within a week of a year counts as one: a Monday-to-Monday year of 52 weeks,
# or a calendar year's 8760 h (8784 in a leap year), scales its costs by at most 1.02
_YEAR_SCALE_TOL = HOURS_PER_YEAR / (HOURS_PER_YEAR - 7 * 24)


def check_whole_month_billing(
    scenario: Scenario, inputs: Inputs, template: optimize.Problem, horizon_h: float
) -> None:
    """Refuse, in one line naming `grid.demand_charge_billing`, a `full_month` horizon
    that covers in part a month whose charges the billing changes (module header)."""
    if scenario.grid.demand_charge_billing != "full_month":
        return
    tz, step_h = scenario.site.timezone, scenario.step_h
    shares = demand_charge_shares(inputs.index, tz, step_h, "prorated") or {}
    part = [m for m, share in shares.items() if share < _WHOLE_SHARE]
    billed = _months_with_monthly_charges(scenario, inputs, template)
    part = [m for m in part if m in billed]
    if not part:
        return
    covers = ", ".join(f"{m} ({100 * shares[m]:.1f} %)" for m in part)
    raise scenario.error(
        f"sizing scales the horizon's costs to a year (x 8760 / {horizon_h:g} h), and "
        f"full_month billing charges the whole of each month the horizon covers in part, "
        f"{covers}: the year would count {len(part) * 8760 / horizon_h:.1f} such months; "
        "use prorated billing, or a horizon of whole months",
        "grid.demand_charge_billing",
    )


def _months_with_monthly_charges(
    scenario: Scenario, inputs: Inputs, template: optimize.Problem
) -> set[str]:
    """The local months ("YYYY-MM") with a monthly demand charge above 0, or a fixed
    charge that full-month billing bills otherwise than pro-rated billing."""
    months = {
        month_of_key(c.key)
        for c in template.grid.peak_charges
        if c.usd_per_mw > 0 and c.line_item != EXPECTED_LINE
    }
    rate = scenario_rate(scenario)
    if rate is not None:
        args = (rate, inputs.index, scenario.site.timezone, scenario.step_h)
        full = fixed_charge_by_month_usd(*args, "full_month")
        prorated = fixed_charge_by_month_usd(*args, "prorated")
        months |= {m for m, usd in full.items() if usd != prorated.get(m)}
    return months - {None}


def check_coincident_peaks_yearly(scenario: Scenario, horizon_h: float) -> None:
    """Refuse, in one line naming `grid.coincident_peaks`, a yearly coincident-peak charge
    on a horizon shorter than a year (module header)."""
    cp = scenario.grid.coincident_peaks
    scale = HOURS_PER_YEAR / horizon_h
    if cp is None or cp.usd_per_mw_year <= 0 or scale <= _YEAR_SCALE_TOL:
        return
    raise scenario.error(
        f"coincident peaks bill a year's charge on the season's {cp.n_peaks} intervals, "
        f"and sizing scales the horizon's costs to a year (x 8760 / {horizon_h:g} h): the "
        f"intervals in the horizon would count {scale:.1f} times a year; size over a year, "
        "or remove grid.coincident_peaks",
        "grid.coincident_peaks",
    )
