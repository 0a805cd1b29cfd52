"""Wind farm output (MW) with windpowerlib.

* Turbine power curves from windpowerlib's turbine library (the oedb CSV files shipped
  inside the package, ``windpowerlib/oedb/``; no download needed).
* Hub-height wind: logarithmic profile (``windpowerlib.wind_speed.logarithmic_profile``),
  v_hub = v_10 * ln(h_hub / z0) / ln(10 / z0), neutral stability; z0 default 0.1 m
  (farmland with scattered obstacles, Wieringa 1992 class "roughly open").
* Air density at hub height: air temperature moved up with the standard lapse rate
  (-6.5 K/km, ``windpowerlib.temperature.linear_gradient``, from 2 m), pressure from the
  weather data or, if absent, the standard atmosphere at the site altitude
  (``pvlib.atmosphere.alt2pres``), then the barometric height correction and the ideal gas
  law (``windpowerlib.density.ideal_gas``).
* Power: the power curve with windpowerlib's density correction (IEC 61400-12-1 style
  v_std = v * (rho / 1.225)^(1/3)); zero below cut-in and above the curve's last speed
  (cut-out) on the hub wind speed, whatever the density: the corrected curve holds its
  last value up to it (windpowerlib's own ends where the correction moves its last speed,
  so cold air cut out early and warm air late). Farm = n_turbines * turbine; no wake or
  availability losses.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pvlib
from windpowerlib import WindTurbine, density, power_output, temperature, wind_speed
from windpowerlib.data import get_turbine_types

from weather.errors import UnknownTurbineError, WeatherDataError
from weather.limits import check_range, check_whole

#: The standard air density of power curves (kg/m3, IEC 61400-12-1).
RHO_STANDARD_KG_PER_M3 = 1.225

#: Height of the wind speed in the weather data (m) and of the air temperature (m).
MEASURED_WIND_HEIGHT_M = 10.0
MEASURED_TEMP_HEIGHT_M = 2.0


@dataclass(frozen=True)
class WindFarm:
    """Identical turbines from windpowerlib's library.

    turbine_type: library name, e.g. ``"E-126/4200"``. hub_height_m: m above ground.
    n_turbines: count. roughness_length_m: surface roughness z0 for the log profile (m).
    """

    turbine_type: str
    hub_height_m: float
    n_turbines: int
    roughness_length_m: float = 0.1

    def __post_init__(self) -> None:
        # a NaN or fractional count, or a NaN hub height, was taken as given
        check_whole("WindFarm.n_turbines", "n_turbines", self.n_turbines)
        check_range(
            "WindFarm.hub_height_m",
            "hub_height_m",
            self.hub_height_m,
            (0.0, np.inf),
            "m",
            low_open=True,
            high_open=True,
        )
        # the log law divides by ln(10 m / z0): zero at z0 = 10 m, negative above
        check_range(
            "WindFarm.roughness_length_m",
            "roughness_length_m",
            self.roughness_length_m,
            (0.0, MEASURED_WIND_HEIGHT_M),
            "m",
            low_open=True,
            high_open=True,
        )
        if self.hub_height_m <= self.roughness_length_m:  # the log law turns negative there
            raise WeatherDataError(
                "hub_height_m must be above roughness_length_m", field="hub_height_m"
            )

    @property
    def rated_mw(self) -> float:
        """Farm nameplate (MW)."""
        return self.n_turbines * turbine_rated_mw(self.turbine_type)


@lru_cache(maxsize=1)
def _library():
    with warnings.catch_warnings():
        # windpowerlib 0.2.2 triggers a pandas FutureWarning on its own fillna
        warnings.simplefilter("ignore", FutureWarning)
        return get_turbine_types("local", print_out=False, filter_=True)


def turbine_types() -> list[str]:
    """Names of all turbines with a power curve in windpowerlib's local library."""
    return sorted(_library()["turbine_type"].tolist())


@lru_cache(maxsize=32)
def _library_turbine(turbine_type: str) -> WindTurbine:
    """The library's turbine (its CSVs are read here, once per type); raises
    :class:`UnknownTurbineError` listing close matches for an unknown name."""
    names = turbine_types()
    if turbine_type not in names:
        close = difflib.get_close_matches(turbine_type, names, n=5, cutoff=0.5)
        raise UnknownTurbineError(turbine_type, close)
    return WindTurbine(turbine_type=turbine_type, hub_height=100.0)


@lru_cache(maxsize=32)
def power_curve(turbine_type: str) -> tuple[np.ndarray, np.ndarray]:
    """(wind speeds in m/s, turbine power in MW) of a library turbine."""
    pc = _library_turbine(turbine_type).power_curve.sort_values("wind_speed")
    return pc["wind_speed"].to_numpy(float), pc["value"].to_numpy(float) / 1e6


def rotor_diameter_m(turbine_type: str) -> float | None:
    """The library turbine's rotor diameter (m), None where the library gives none."""
    d = _library_turbine(turbine_type).rotor_diameter
    return float(d) if d is not None and np.isfinite(d) else None


def turbine_rated_mw(turbine_type: str) -> float:
    """Rated power (MW) of one turbine: the maximum of its power curve."""
    return float(power_curve(turbine_type)[1].max())


def hub_wind_speed_m_per_s(
    wind_speed_m_per_s,
    hub_height_m: float,
    roughness_length_m: float = 0.1,
    measured_height_m: float = MEASURED_WIND_HEIGHT_M,
):
    """Log-law extrapolation: v * ln(hub/z0) / ln(measured/z0) (m/s)."""
    return wind_speed.logarithmic_profile(
        np.asarray(wind_speed_m_per_s, dtype=float),
        measured_height_m,
        hub_height_m,
        roughness_length_m,
    )


def air_density_kg_per_m3(
    temp_air_c,
    hub_height_m: float,
    *,
    pressure_pa=None,
    altitude_m: float = 0.0,
):
    """Air density at hub height (kg/m3) from 2 m temperature (deg C) and surface pressure.

    ``pressure_pa`` None uses the standard-atmosphere pressure at ``altitude_m``.
    """
    temp_k = np.asarray(temp_air_c, dtype=float) + 273.15
    if pressure_pa is None:
        pressure_pa = np.full_like(temp_k, pvlib.atmosphere.alt2pres(altitude_m))
    t_hub_k = temperature.linear_gradient(temp_k, MEASURED_TEMP_HEIGHT_M, hub_height_m)
    return density.ideal_gas(
        np.asarray(pressure_pa, dtype=float), 0.0, hub_height_m, np.asarray(t_hub_k)
    )


def wind_farm_mw(farm: WindFarm, wind_speed_hub_m_per_s, density_kg_per_m3=None) -> np.ndarray:
    """Farm output (MW) from hub-height wind (m/s); density None means no correction."""
    speeds, power_mw = power_curve(farm.turbine_type)
    # the curve's last speed with power: some curves list zeros beyond it (E-126/7580:
    # rated to 25 m/s, 0 from 25.5 to 35 m/s), others end there (E-126/4200)
    cut_out = speeds[np.flatnonzero(power_mw > 0)[-1]]
    v = np.asarray(wind_speed_hub_m_per_s, dtype=float)
    if density_kg_per_m3 is None:
        one = power_output.power_curve(v, speeds, power_mw)
    else:
        rho = np.broadcast_to(np.asarray(density_kg_per_m3, dtype=float), v.shape)
        # The correction moves the curve's speeds by (1.225 / rho)^p, p = 2/3 at its top
        # (windpowerlib, after Svenningsen 2010), and windpowerlib gives 0 past the moved
        # last speed: cold air cut out below the curve's cut-out (24 m/s gave 0 at -20 C)
        # and warm air ran past it. The corrected curve stops moving the cut-out: from its
        # moved last speed it holds its last value up to the curve's own cut-out.
        top = cut_out * (RHO_STANDARD_KG_PER_M3 / rho) ** (2.0 / 3.0)
        held = np.minimum(v, top)
        one = power_output.power_curve(held, speeds, power_mw, rho, density_correction=True)
    one = np.clip(np.asarray(one, dtype=float), 0.0, power_mw.max())
    # cut-out on the hub wind speed at the curve's own, whatever the density
    one = np.where((v > cut_out) | ~np.isfinite(v), 0.0, one)
    return farm.n_turbines * one
