"""Resource data and models: weather files, clear sky, PV and wind power (all UTC, MW).

Typical use::

    from weather import ResourceChain, Site, PVSystem, WindFarm, read_site_csv
    wx = read_site_csv("scenarios/data/weather/dallas-2023.csv")
    chain = ResourceChain(Site(32.7944, -96.8215, 142.0), PVSystem(80, 65),
                          WindFarm("E-126/4200", 135, 12))
    res = chain.run(pd.date_range(..., freq="h", tz="UTC"), wx)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weather.chain import OUTPUT_COLUMNS, ResourceChain, Site
    from weather.errors import UnknownTurbineError, WeatherDataError
    from weather.io import read_tmy
    from weather.pv import PVSystem
    from weather.resample import select_period, to_step
    from weather.site_csv import SITE_METADATA, read_site_csv, site_metadata
    from weather.wind import WindFarm

# Public name -> the module that defines it: loaded on first use (PEP 562), so importing
# one light module of the package (its errors, say) does not load the whole stack.
_LAZY = {
    "OUTPUT_COLUMNS": "weather.chain",
    "ResourceChain": "weather.chain",
    "Site": "weather.chain",
    "UnknownTurbineError": "weather.errors",
    "WeatherDataError": "weather.errors",
    "SITE_METADATA": "weather.site_csv",
    "read_site_csv": "weather.site_csv",
    "read_tmy": "weather.io",
    "site_metadata": "weather.site_csv",
    "PVSystem": "weather.pv",
    "select_period": "weather.resample",
    "to_step": "weather.resample",
    "WindFarm": "weather.wind",
}

__all__ = [
    "OUTPUT_COLUMNS",
    "PVSystem",
    "ResourceChain",
    "SITE_METADATA",
    "Site",
    "UnknownTurbineError",
    "WeatherDataError",
    "WindFarm",
    "read_site_csv",
    "read_tmy",
    "select_period",
    "site_metadata",
    "to_step",
]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value
