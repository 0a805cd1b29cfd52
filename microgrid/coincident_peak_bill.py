"""The coincident-peak bill in hindsight, and what responding to alerts cost.

Any plan (the optimum, a baseline, the closed loop's actual rows) is billed on the real
intervals (microgrid/coincident_peak.py): interval i's demand D_i = Σ_t w_it · import[t]
(MW), tag_mw = Σ_covered D_i / n_peaks, charge_usd = usd_per_mw_year × tag_mw.

Alerts mode: the plan also carries the expected-cost peak charges of the alert days
(line item "coincident_peak_expected"), a planning device, not money: the summary lists
each alert day in the horizon with its window's peak import and expected cost, and the
run's bill (microgrid/bill_summary.py) bills the real intervals with the expected charge
beside it as a planning estimate. The cost
of the curtailments (benchmarks/cp_value.py) is what responding cost beyond the same run
ignoring the alerts, both priced without the alert charges:

    curtailment_usd = total_cost_usd[responding] − total_cost_usd[ignoring]

with total_cost_usd = energy + demand + fuel + wear + unfinished-work penalty
(microgrid/costs.py); the value of responding is then
cp_charge_usd[ignoring] − cp_charge_usd[responding] − curtailment_usd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microgrid.coincident_peak import (
    CoincidentPeakCase,
    alert_charges,
    covered,
    load_coincident_peaks,
    overlap_weights,
)
from microgrid.scenario import Scenario
from optimize.bill import peaks_mw


@dataclass(frozen=True)
class IntervalBill:
    """One interval: its demand (MW) and charge (USD); None when the horizon misses it."""

    start_local: str
    covered: bool
    import_mw: float | None
    charge_usd: float | None


@dataclass(frozen=True)
class CpBill:
    """The coincident-peak bill of one import series."""

    intervals: tuple[IntervalBill, ...]
    tag_mw: float  # Σ covered demand / n_peaks
    charge_usd: float  # usd_per_mw_year × tag_mw


def cp_bill(case: CoincidentPeakCase, index: pd.DatetimeIndex, import_mw) -> CpBill:
    """Bill `import_mw` (MW per step of `index`) on the case's real intervals."""
    imp = np.asarray(import_mw, dtype=float)
    rows = []
    for iv, inside in zip(case.intervals, covered(case, index), strict=True):
        if not inside:
            rows.append(IntervalBill(iv.label, False, None, None))
            continue
        demand_mw = float(np.dot(overlap_weights(index, iv.start_utc, iv.end_utc), imp))
        rows.append(IntervalBill(iv.label, True, demand_mw, case.usd_per_mw_interval * demand_mw))
    tag_mw = sum(r.import_mw for r in rows if r.covered) / case.n_peaks
    return CpBill(tuple(rows), tag_mw, case.usd_per_mw_year * tag_mw)


def _alert_rows(case: CoincidentPeakCase, index: pd.DatetimeIndex, imp: np.ndarray) -> list:
    """Each alert day in the horizon with its window's peak import (MW) and expected cost
    (USD) as the plan prices them (`alert_charges`): the peak is of the import averaged
    over the CP intervals where they are longer than a step. The highest step had been
    taken, which at 15-minute steps and 30-minute intervals put 169,722 USD expected
    beside the plan's 127,722 (a plan that alternates its quarter hours)."""
    charges = {c.key: c for c in alert_charges(case, index)}
    peaks = peaks_mw(tuple(charges.values()), imp)
    rows = []
    for a in case.alerts:
        if a.key not in charges:
            continue
        peak_mw = peaks[a.key]
        rows.append(
            {
                "date": a.day,
                "probability": a.probability,
                "window_start_local": a.start_utc.tz_convert(case.timezone).isoformat(),
                "window_end_local": a.end_utc.tz_convert(case.timezone).isoformat(),
                "notice_local": a.notice_utc.tz_convert(case.timezone).isoformat(),
                "peak_import_mw": peak_mw,
                "expected_usd": charges[a.key].usd_per_mw * peak_mw,
            }
        )
    return rows


def cp_summary(case: CoincidentPeakCase, index: pd.DatetimeIndex, import_mw) -> dict:
    """`summary.json["coincident_peak"]`: the rate, each interval with its import MW and
    charge (or not covered), the tag and the charge; in mode "alerts" each alert day in
    the horizon with its window's peak import and expected cost."""
    imp = np.asarray(import_mw, dtype=float)
    bill = cp_bill(case, index, imp)
    out = {
        "mode": case.mode,
        "usd_per_mw_year": case.usd_per_mw_year,
        "n_peaks": case.n_peaks,
        "interval_minutes": case.interval_minutes,
        "intervals": [
            {
                "start_local": r.start_local,
                "covered": r.covered,
                "import_mw": r.import_mw,
                "charge_usd": r.charge_usd,
            }
            for r in bill.intervals
        ],
        "tag_mw": bill.tag_mw,
        "charge_usd": bill.charge_usd,
    }
    if case.mode == "alerts":
        out["alerts"] = _alert_rows(case, index, imp)
        out["expected_usd"] = sum(a["expected_usd"] for a in out["alerts"])
    return out


def coincident_peak_section(scenario: Scenario, index: pd.DatetimeIndex, import_mw) -> dict | None:
    """`cp_summary` of the scenario's section; None when it has none."""
    case = load_coincident_peaks(scenario)
    return None if case is None else cp_summary(case, index, import_mw)
