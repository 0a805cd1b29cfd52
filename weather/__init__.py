"""Resource data and models: weather files, clear sky, PV and wind power (all UTC, MW)."""

from weather.errors import UnknownTurbineError, WeatherDataError

__all__ = ["UnknownTurbineError", "WeatherDataError"]
