"""The scenario's `sizing` section as typed asset specs, and the optimiser's `Sizing`.

Asset names are the optimiser's (optimize/problem.py `AssetSize`): "pv", "wind",
"battery_power" (MW), "battery_energy" (MWh), "grid_import" (MW) and
"generator:<name>" (MW; '-' in a scenario generator name becomes '_').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import optimize
from microgrid.scenario_settings import SizedEnergy, SizedPower, Sizing
from microgrid.sizing.costs import UnitCost


@dataclass(frozen=True)
class AssetSpec:
    """One asset to size: its optimiser name, the scenario field it comes from, its unit
    ("MW" or "MWh"), its unit cost and its bounds and existing size (in that unit)."""

    name: str
    field: str
    unit: str
    cost: UnitCost
    min_size: float
    max_size: float
    existing: float

    @property
    def lower_size(self) -> float:
        return max(self.min_size, self.existing)


def _power_spec(name: str, field: str, block: SizedPower) -> AssetSpec:
    cost = UnitCost(block.capex_usd_per_mw, block.fixed_om_usd_per_mw_year, block.lifetime_years)
    return AssetSpec(name, field, "MW", cost, block.min_mw, block.max_mw, block.existing_mw)


def _energy_spec(block: SizedEnergy) -> AssetSpec:
    cost = UnitCost(block.capex_usd_per_mwh, block.fixed_om_usd_per_mwh_year, block.lifetime_years)
    return AssetSpec(
        "battery_energy",
        "sizing.battery_energy",
        "MWh",
        cost,
        block.min_mwh,
        block.max_mwh,
        block.existing_mwh,
    )


def generator_asset_name(scenario_name: str) -> str:
    """The optimiser's name of a scenario generator's size ("generator:<name>")."""
    return f"generator:{scenario_name.replace('-', '_')}"


def asset_specs(sizing: Sizing) -> tuple[AssetSpec, ...]:
    """The assets the section sizes, in a fixed order: pv, wind, battery power and
    energy, grid import, then the generators as listed."""
    specs = []
    for name in ("pv", "wind", "battery_power"):
        block = getattr(sizing, name)
        if block is not None:
            specs.append(_power_spec(name, f"sizing.{name}", block))
    if sizing.battery_energy is not None:
        specs.append(_energy_spec(sizing.battery_energy))
    if sizing.grid_import is not None:
        specs.append(_power_spec("grid_import", "sizing.grid_import", sizing.grid_import))
    for gen, block in sizing.generators.items():
        specs.append(_power_spec(generator_asset_name(gen), f"sizing.generators.{gen}", block))
    return tuple(specs)


def optimizer_sizing(
    specs: tuple[AssetSpec, ...],
    rate: float,
    horizon_h: float,
    profiles: dict[str, np.ndarray],
) -> optimize.Sizing:
    """The optimiser's `Sizing`: each unit above `existing` costs its annual cost
    pro-rated to the horizon; `profiles` gives the renewables' MW per MW per step."""
    return optimize.Sizing(
        tuple(
            optimize.AssetSize(
                name=s.name,
                usd_per_unit=s.cost.horizon_usd_per_unit(rate, horizon_h),
                min_size=s.min_size,
                max_size=s.max_size,
                existing=s.existing,
                profile_per_unit=profiles.get(s.name),
            )
            for s in specs
        )
    )
