"""Utility tariffs in URDB JSON format: read and write (urdb), local schedules (periods),
and the mapping onto the optimiser's Grid (to_grid, scenario_tariff). See docs/tariffs.md."""

from microgrid.tariffs.scenario_tariff import (
    grid_with_tariff,
    scenario_fixed_charge_by_month_usd,
    scenario_fixed_charge_usd,
    scenario_rate,
)
from microgrid.tariffs.to_grid import TariffContext, TariffGrid, fixed_charge_usd, tariff_grid
from microgrid.tariffs.urdb import (
    Tier,
    UrdbRate,
    rate_from_dict,
    rate_to_dict,
    read_urdb,
    write_urdb,
)

__all__ = [
    "TariffContext",
    "TariffGrid",
    "Tier",
    "UrdbRate",
    "fixed_charge_usd",
    "grid_with_tariff",
    "rate_from_dict",
    "rate_to_dict",
    "read_urdb",
    "scenario_fixed_charge_by_month_usd",
    "scenario_fixed_charge_usd",
    "scenario_rate",
    "tariff_grid",
    "write_urdb",
]
