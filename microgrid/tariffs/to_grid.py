"""A URDB rate at the scenario's steps: price parts, demand charges, energy tiers, fixed.

Units: URDB rates are USD/kWh (energy) and USD/kW (demand); the model's are USD/MWh and
USD/MW, so both are multiplied by 1000. ``share_k`` is billing month k's share billed
(microgrid/billing.py: covered hours / month hours when "prorated", 1 for "full_month").

    energy:   rate_t = (rate + adj) of tier 1 of the step's period      -> "energy_period_<n>"
    import:   price_t = wholesale_t + adder + rate_t    (add_to_wholesale)
              price_t = adder + rate_t                  (tariff_only)
    tiers:    month k's import fills blocks of width (max_i - max_{i-1}) * share_k; block i
              costs (rate_i - rate_1) more than tier 1                     -> "energy_tiers"
    exports:  usenetmetering: credit_t = rate_t  ("export_net_metering"), else the tier-1
              sell rate of the step's period ("export_sell"); plus wholesale_t
              ("export_wholesale") and the export adder under add_to_wholesale
    demand:   the import averaged over the rate's ``demandwindow`` where it is longer than
              a step: intervals on the local clock from midnight (``demand_interval``);
              at or below a step, the step's average
    TOU demand: one PeakCharge per (month k, period p) with rate > 0: usd_per_mw =
              1000 (rate + adj) share_k on the peak over p's steps in k  -> "demand_tou_<p+1>"
    flat demand: one PeakCharge per month, on the month's peak            -> "demand_flat"
    ratchets: billed flat demand of month k >= f x flat peak of month k - b, for the lookback
              (b, f) pairs of ``lookback_pairs``; months before the horizon give a floor
              f x prior peak (scenario grid.tariff.prior_monthly_peaks_mw, else 0)
    prior peak: the first month's own entry there (a horizon that starts within its month)
              is the peak reached in that month before the horizon: billed >= it
    fixed:    per month k, $/month x share_k or $/day x k's local days in the horizon
                                                                         -> "fixed"
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import demand_charge_shares, step_days, step_hours_by_month
from microgrid.tariffs.periods import LocalSteps, local_steps, period_of_step
from microgrid.tariffs.urdb import UrdbRate
from microgrid.wall_time import demand_interval as clock_demand_interval

KW_PER_MW = 1000.0


@dataclass(frozen=True)
class TariffContext:
    """How a rate meets a scenario: its steps, billing and wholesale prices."""

    index: pd.DatetimeIndex  # UTC step starts
    timezone: str  # the site's: schedules are local
    step_h: float
    billing: str = "prorated"  # microgrid.billing.BILLING_METHODS
    energy: str = "add_to_wholesale"  # or "tariff_only"
    wholesale_usd_per_mwh: np.ndarray | None = None  # per step (add_to_wholesale)
    import_adder_usd_per_mwh: float = 0.0
    export_adder_usd_per_mwh: float = 0.0
    # flat-demand peaks (MW) of local months before the horizon, and of the first month
    # before the horizon where it starts within that month, "YYYY-MM" -> MW
    prior_monthly_peaks_mw: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TariffGrid:
    """The rate's contribution to ``optimize.Grid`` (prices in USD/MWh per step)."""

    import_price_usd_per_mwh: np.ndarray
    export_price_usd_per_mwh: np.ndarray
    import_parts: dict[str, np.ndarray]
    export_parts: dict[str, np.ndarray]
    peak_charges: tuple[optimize.PeakCharge, ...]
    energy_tiers: tuple[optimize.EnergyTiers, ...]


def month_shares(ctx: TariffContext, steps: LocalSteps) -> np.ndarray:
    """Share billed of each billing month (index k), from microgrid.billing."""
    shares = demand_charge_shares(ctx.index, ctx.timezone, ctx.step_h, ctx.billing) or {}
    return np.array([shares.get(label, 1.0) for label in steps.labels])


def energy_period(rate: UrdbRate, steps: LocalSteps) -> np.ndarray | None:
    """0-based energy period of each step, or None when the rate has no energy charges."""
    if rate.energyweekdayschedule is None or not rate.energyratestructure:
        return None
    return period_of_step(rate.energyweekdayschedule, rate.energyweekendschedule, steps)


def _per_period(period: np.ndarray, values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=float)[period]


def energy_parts(rate: UrdbRate, period: np.ndarray) -> dict[str, np.ndarray]:
    """ "energy_period_<n>" -> tier-1 (rate + adj) in USD/MWh at that period's steps, else 0;
    one part per period that occurs."""
    first = _per_period(period, [p[0].total * KW_PER_MW for p in rate.energyratestructure])
    return {
        f"energy_period_{p + 1}": np.where(period == p, first, 0.0)
        for p in sorted(set(period.tolist()))
    }


def energy_tiers(
    rate: UrdbRate, period: np.ndarray, steps: LocalSteps, shares: np.ndarray
) -> tuple[optimize.EnergyTiers, ...]:
    """One EnergyTiers per billing month when a period has more than one tier."""
    structure = rate.energyratestructure
    n_blocks = max(len(p) for p in structure)
    if n_blocks == 1:
        return ()
    limits = next(tuple(t.max for t in p[:-1]) for p in structure if len(p) == n_blocks)
    widths_mwh = np.diff((0.0, *limits)) / KW_PER_MW
    extra = [  # USD/MWh above tier 1, per block, per step
        _per_period(
            period,
            [(p[min(i, len(p) - 1)].total - p[0].total) * KW_PER_MW for p in structure],
        )
        for i in range(n_blocks)
    ]
    out = []
    for k, label in enumerate(steps.labels):
        mask = steps.month_steps(k)
        if not any(np.any(r[mask] != 0) for r in extra):
            continue
        out.append(
            optimize.EnergyTiers(
                key=f"energy_tiers@{label}",
                line_item="energy_tiers",
                steps=mask,
                block_mwh=(*(w * shares[k] for w in widths_mwh), float("inf")),
                usd_per_mwh=tuple(np.where(mask, r, 0.0) for r in extra),
            )
        )
    return tuple(out)


def export_parts(rate: UrdbRate, period: np.ndarray | None) -> dict[str, np.ndarray]:
    """The rate's export credit in USD/MWh: net metering or sell rates (see header)."""
    if period is None:
        return {}
    structure = rate.energyratestructure
    if rate.usenetmetering:
        credit = _per_period(period, [p[0].total * KW_PER_MW for p in structure])
        return {"export_net_metering": credit}
    if any(t.sell is not None for p in structure for t in p):
        sell = _per_period(period, [(p[0].sell or 0.0) * KW_PER_MW for p in structure])
        return {"export_sell": sell}
    return {}


def demand_interval(rate: UrdbRate, index: pd.DatetimeIndex, timezone: str, step_h: float):
    """``(interval_steps, interval_phase)`` of ``optimize.PeakCharge`` for the rate's
    ``demandwindow`` (``microgrid.wall_time.demand_interval``); a window the steps cannot
    meet, or that does not divide the hour, is an error naming the rate's field."""
    window = rate.demandwindow or 0
    try:
        return clock_demand_interval(index, timezone, step_h, window)
    except ValueError as exc:
        raise rate.error(str(exc), "demandwindow") from None


def tou_demand_charges(
    rate: UrdbRate, steps: LocalSteps, shares: np.ndarray
) -> tuple[optimize.PeakCharge, ...]:
    """One PeakCharge per (billing month, demand period) with a rate above 0."""
    if rate.demandweekdayschedule is None:
        return ()
    period = period_of_step(rate.demandweekdayschedule, rate.demandweekendschedule, steps)
    out = []
    for k, label in enumerate(steps.labels):
        for p, tiers in enumerate(rate.demandratestructure):
            mask = steps.month_steps(k) & (period == p)
            if tiers[0].total > 0 and mask.any():
                out.append(
                    optimize.PeakCharge(
                        key=f"demand_tou_{p + 1}@{label}",
                        line_item=f"demand_tou_{p + 1}",
                        usd_per_mw=tiers[0].total * KW_PER_MW * shares[k],
                        steps=mask,
                    )
                )
    return tuple(out)


def lookback_pairs(rate: UrdbRate, month0: int) -> dict[int, float]:
    """Months back (1-11) -> ratchet fraction for calendar month ``month0`` (0 = January).

    ``demandratchetpercentage[m]``: the 11 months before; ``lookbackpercent`` with
    ``lookbackrange`` R > 0: the R months before; with R = 0, the months flagged in
    ``lookbackmonths`` among the 11 before. Where both apply, the larger fraction."""
    pairs: dict[int, float] = {}

    def add(back: int, frac: float) -> None:
        if frac > 0:
            pairs[back] = max(pairs.get(back, 0.0), frac)

    if rate.demandratchetpercentage is not None:
        for back in range(1, 12):
            add(back, rate.demandratchetpercentage[month0])
    if rate.lookbackpercent:
        for back in range(1, 12):
            flagged = rate.lookbackmonths is not None and rate.lookbackmonths[(month0 - back) % 12]
            if back <= (rate.lookbackrange or 0) or (not rate.lookbackrange and flagged):
                add(back, rate.lookbackpercent)
    return pairs


def _month_before(label: str, back: int) -> str:
    return (pd.Period(label, freq="M") - back).strftime("%Y-%m")


def flat_demand_charges(
    rate: UrdbRate, steps: LocalSteps, shares: np.ndarray, prior_mw: dict[str, float]
) -> tuple[optimize.PeakCharge, ...]:
    """One PeakCharge per billing month (line "demand_flat"), with the ratchets."""
    if not rate.flatdemandstructure:
        return ()
    out = []
    for k, label in enumerate(steps.labels):
        month0 = int(steps.month0[np.argmax(steps.month_steps(k))])
        tier = rate.flatdemandstructure[rate.flatdemandmonths[month0]][0]
        ratchets, floor_mw = [], 0.0
        for back, frac in sorted(lookback_pairs(rate, month0).items()):
            if back <= k:  # an earlier month inside the horizon
                ratchets.append((f"demand_flat@{steps.labels[k - back]}", frac))
            else:
                floor_mw = max(floor_mw, frac * prior_mw.get(_month_before(label, back), 0.0))
        out.append(
            optimize.PeakCharge(
                key=f"demand_flat@{label}",
                line_item="demand_flat",
                usd_per_mw=tier.total * KW_PER_MW * shares[k],
                steps=steps.month_steps(k),
                # the first month's peak before the horizon (it starts within the month)
                prior_peak_mw=prior_mw.get(label, 0.0) if k == 0 else 0.0,
                ratchet_floor_mw=floor_mw,
                ratchets=tuple(ratchets),
            )
        )
    return tuple(out)


def tariff_grid(rate: UrdbRate, ctx: TariffContext) -> TariffGrid:
    """Prices, price parts, demand charges and tiers of ``rate`` at ``ctx``'s steps."""
    steps = local_steps(ctx.index, ctx.timezone)
    shares = month_shares(ctx, steps)
    n = len(ctx.index)
    period = energy_period(rate, steps)
    imports: dict[str, np.ndarray] = {}
    exports: dict[str, np.ndarray] = {}
    if ctx.energy == "add_to_wholesale":
        wholesale = np.asarray(ctx.wholesale_usd_per_mwh, dtype=float)
        imports["energy_wholesale"] = wholesale
        exports["export_wholesale"] = wholesale
    elif period is None:
        raise rate.error(
            "energy tariff_only needs the rate's energy charges", "energyratestructure"
        )
    if ctx.import_adder_usd_per_mwh:
        imports["energy_adder"] = np.full(n, float(ctx.import_adder_usd_per_mwh))
    if ctx.export_adder_usd_per_mwh:
        exports["export_adder"] = np.full(n, float(ctx.export_adder_usd_per_mwh))
    tiers: tuple[optimize.EnergyTiers, ...] = ()
    if period is not None:
        imports.update(energy_parts(rate, period))
        tiers = energy_tiers(rate, period, steps, shares)
    exports.update(export_parts(rate, period))
    interval_steps, phase = demand_interval(rate, ctx.index, ctx.timezone, ctx.step_h)
    charges = tou_demand_charges(rate, steps, shares) + flat_demand_charges(
        rate, steps, shares, ctx.prior_monthly_peaks_mw
    )
    return TariffGrid(
        import_price_usd_per_mwh=sum(imports.values(), np.zeros(n)),
        export_price_usd_per_mwh=sum(exports.values(), np.zeros(n)),
        import_parts=imports,
        export_parts=exports or {"export": np.zeros(n)},
        peak_charges=tuple(
            replace(c, interval_steps=interval_steps, interval_phase=phase) for c in charges
        ),
        energy_tiers=tiers,
    )


def fixed_charge_by_month_usd(
    rate: UrdbRate, index: pd.DatetimeIndex, timezone: str, step_h: float, billing: str
) -> dict[str, float]:
    """The rate's fixed charge (USD; bill line "fixed") per local billing month of the
    horizon: $/month times the month's share billed (microgrid.billing; 1 under full-month
    billing), or $/day times the month's calendar days in the horizon (a step's share of
    the local day it starts in: `billing.step_days`). A step across a month's start counts
    its hours on each side. Empty without a fixed charge."""
    charge = rate.fixedchargefirstmeter or 0.0
    if not charge or len(index) == 0:
        return {}
    hours = step_hours_by_month(index, timezone, step_h)
    if rate.fixedchargeunits == "$/day":
        days = step_days(index, timezone, step_h) / step_h  # days per hour of each step
        return {month: charge * float((h * days).sum()) for month, h in hours.items()}
    shares = demand_charge_shares(index, timezone, step_h, billing) or {}
    return {month: charge * shares.get(month, 1.0) for month in hours}


def fixed_charge_usd(
    rate: UrdbRate, index: pd.DatetimeIndex, timezone: str, step_h: float, billing: str
) -> float:
    """The rate's fixed charge over the horizon (USD): the sum of its months'
    (`fixed_charge_by_month_usd`)."""
    return float(sum(fixed_charge_by_month_usd(rate, index, timezone, step_h, billing).values()))


def has_demand_charges(rate: UrdbRate) -> bool:
    """True if the rate bills a flat or TOU demand charge above 0."""
    return any(
        t.total > 0 for p in (*rate.flatdemandstructure, *rate.demandratestructure) for t in p
    )
