"""A scenario's `grid.tariff`: read its URDB rate and put it on the optimiser's Grid."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import local_month_start_utc
from microgrid.datafiles import require_data_file
from microgrid.scenario import Scenario
from microgrid.tariffs.to_grid import (
    TariffContext,
    fixed_charge_by_month_usd,
    has_demand_charges,
    tariff_grid,
)
from microgrid.tariffs.urdb import NoSuchLabel, UrdbRate, read_urdb

# Price parts a tariff replaces: the grid's plain import (export) price and its adder
_REPLACED_IMPORT = ("energy", "energy_wholesale", "energy_adder")
_REPLACED_EXPORT = ("export", "export_wholesale", "export_adder")


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, label: str | None, mtime_ns: int, size: int) -> UrdbRate:
    return read_urdb(Path(path), label)


def scenario_rate(scenario: Scenario) -> UrdbRate | None:
    """The scenario's URDB rate (InputError naming the file and field), None without one."""
    t = scenario.grid.tariff
    if t is None:
        return None
    path = scenario.resolve(t.urdb)
    require_data_file(scenario, path, "grid.tariff.urdb")
    st = path.stat()
    try:
        rate = _read_cached(str(path), t.label, st.st_mtime_ns, st.st_size)
    except NoSuchLabel as exc:  # the scenario's label, not the file, is at fault
        raise scenario.error(f"{path}: {exc.message}", "grid.tariff.label") from None
    if t.energy == "tariff_only" and not rate.energyratestructure:
        raise scenario.error(
            f"energy tariff_only needs the rate's energy charges, and {path} has no "
            "energyratestructure (use add_to_wholesale, or a rate with them)",
            "grid.tariff.energy",
        )
    _check_prior_peaks(scenario, rate)
    if has_demand_charges(rate) and scenario.grid.demand_charge_usd_per_kw_month > 0:
        raise scenario.error(
            "the tariff bills demand charges: set demand_charge_usd_per_kw_month to 0 "
            "(or use a rate without them)",
            "grid.demand_charge_usd_per_kw_month",
        )
    return rate


def _check_prior_peaks(scenario: Scenario, rate: UrdbRate) -> None:
    """`prior_monthly_peaks_mw` names months before the period's first local month, for
    the rate's ratchets, or that month itself where the period starts after its first
    instant (the peak reached in it so far: a floor on its flat demand). Any other entry,
    or any entry where the rate has no flat demand charge (or, before the period, no
    ratchet), would change nothing, and is refused."""
    tz = scenario.site.timezone
    start = scenario.to_utc(scenario.period.start)
    local = start.tz_convert(tz)
    first = local.strftime("%Y-%m")
    within = start > local_month_start_utc(local.year, local.month, tz)
    for month in scenario.grid.tariff.prior_monthly_peaks_mw:
        why = _prior_peak_unused(month, first, within, rate)
        if why:
            raise scenario.error(
                f"{month}: {why}, so this prior peak would change nothing (it holds peaks "
                f"reached before the period: of months before {first} for ratchets, or of "
                f"{first} itself when the period starts within it)",
                f"grid.tariff.prior_monthly_peaks_mw.{month}",
            )


def _prior_peak_unused(month: str, first: str, within: bool, rate: UrdbRate) -> str | None:
    """Why a prior peak of `month` would change no bill (None where it counts); `first`
    the period's first local month, `within` the period starts after its first instant."""
    if not rate.flatdemandstructure:
        return "the rate has no flat (monthly) demand charge for it to count in"
    if month < first:
        if rate.has_ratchet:
            return None
        return "the rate has no ratchet, the only way a month before the period counts"
    if month == first:
        return None if within else f"the period starts at {first}'s first instant"
    return "the month is after the period's start"


def tariff_context(
    scenario: Scenario, index: pd.DatetimeIndex, wholesale_usd_per_mwh: np.ndarray
) -> TariffContext:
    g = scenario.grid
    return TariffContext(
        index=index,
        timezone=scenario.site.timezone,
        step_h=scenario.step_h,
        billing=g.demand_charge_billing,
        energy=g.tariff.energy,
        wholesale_usd_per_mwh=np.asarray(wholesale_usd_per_mwh, dtype=float),
        import_adder_usd_per_mwh=g.import_adder_usd_per_mwh,
        export_adder_usd_per_mwh=g.export_adder_usd_per_mwh,
        prior_monthly_peaks_mw=dict(g.tariff.prior_monthly_peaks_mw),
    )


def _others(parts: dict[str, np.ndarray] | None, replaced: tuple[str, ...]) -> dict:
    return {k: v for k, v in (parts or {}).items() if k not in replaced}


def grid_with_tariff(
    scenario: Scenario,
    index: pd.DatetimeIndex,
    wholesale_usd_per_mwh: np.ndarray,
    grid: optimize.Grid,
) -> optimize.Grid:
    """``grid`` with the scenario's tariff: its prices replace wholesale + adders (price
    parts other helpers added are kept), its demand charges and tiers are appended.
    ``grid`` unchanged when the scenario has no tariff."""
    rate = scenario_rate(scenario)
    if rate is None:
        return grid
    tg = tariff_grid(rate, tariff_context(scenario, index, wholesale_usd_per_mwh))
    imports = {**tg.import_parts, **_others(grid.import_price_parts, _REPLACED_IMPORT)}
    exports = {**tg.export_parts, **_others(grid.export_price_parts, _REPLACED_EXPORT)}
    n = len(index)
    return dataclasses.replace(
        grid,
        import_price_usd_per_mwh=sum(imports.values(), np.zeros(n)),
        export_price_usd_per_mwh=sum(exports.values(), np.zeros(n)),
        import_price_parts=imports,
        export_price_parts=exports,
        peak_charges=tuple(grid.peak_charges) + tg.peak_charges,
        energy_tiers=tuple(grid.energy_tiers) + tg.energy_tiers,
    )


def scenario_fixed_charge_by_month_usd(
    scenario: Scenario, index: pd.DatetimeIndex
) -> dict[str, float]:
    """The tariff's fixed charge per local billing month of ``index`` (USD, bill line
    "fixed"); empty without a tariff or a fixed charge."""
    rate = scenario_rate(scenario)
    if rate is None:
        return {}
    g = scenario.grid
    return fixed_charge_by_month_usd(
        rate, index, scenario.site.timezone, scenario.step_h, g.demand_charge_billing
    )


def scenario_fixed_charge_usd(scenario: Scenario, index: pd.DatetimeIndex) -> float:
    """The tariff's fixed charge over ``index`` (USD, bill line "fixed"); 0 without one."""
    return float(sum(scenario_fixed_charge_by_month_usd(scenario, index).values()))
