"""Resource data and models: weather files, clear sky, PV and wind power (all UTC, MW).

Typical use::

    from weather import ResourceChain, Site, PVSystem, WindFarm, read_site_csv
    wx = read_site_csv("scenarios/data/weather/dallas-2023.csv")
    chain = ResourceChain(Site(32.7944, -96.8215, 142.0), PVSystem(80, 65),
                          WindFarm("E-126/4200", 135, 12))
    res = chain.run(pd.date_range(..., freq="h", tz="UTC"), wx)
"""

from weather.chain import OUTPUT_COLUMNS, ResourceChain, Site
from weather.errors import UnknownTurbineError, WeatherDataError
from weather.io import SITE_METADATA, read_site_csv, read_tmy, site_metadata
from weather.pv import PVSystem
from weather.resample import select_period, to_step
from weather.wind import WindFarm

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
