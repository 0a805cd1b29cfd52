"""The site, plant and chain parameters are checked as they are made.

Before, ``Site``, ``PVSystem`` and ``WindFarm`` took NaN, infinite and impossible values
(an altitude of -5000 m gave a clear-sky GHI of 4e152 W/m2 and PV 0, a NaN dc_mw PV 0, a
latitude of 95 failed inside pvlib), and ``ResourceChain`` a Linke turbidity of -1.
"""

import numpy as np
import pytest

from weather import PVSystem, ResourceChain, Site, WeatherDataError, WindFarm


@pytest.mark.parametrize("tl", [-1.0, 0.0, np.nan, np.inf, 50.0])
def test_linke_turbidity_is_checked(tl):
    with pytest.raises(WeatherDataError, match="linke_turbidity"):
        ResourceChain(Site(32.8, -96.8), linke_turbidity=tl)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"latitude_deg": 95.0}, "latitude_deg"),
        ({"latitude_deg": np.nan}, "latitude_deg"),
        ({"longitude_deg": -181.0}, "longitude_deg"),
        ({"longitude_deg": np.inf}, "longitude_deg"),
        ({"altitude_m": -5000.0}, "altitude_m"),
        ({"altitude_m": 1e6}, "altitude_m"),
        ({"altitude_m": np.nan}, "altitude_m"),
        ({"latitude_deg": "32.8"}, "latitude_deg"),
    ],
)
def test_site_fields_are_checked(kwargs, field):
    args = {"latitude_deg": 32.8, "longitude_deg": -96.8, "altitude_m": 142.0} | kwargs
    with pytest.raises(WeatherDataError, match=f"Site.{field}") as info:
        Site(**args)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dc_mw": np.nan}, "dc_mw"),
        ({"dc_mw": np.inf}, "dc_mw"),
        ({"dc_mw": -1.0}, "dc_mw"),
        ({"ac_mw": np.nan}, "ac_mw"),
        ({"tilt_deg": 400.0}, "tilt_deg"),
        ({"tilt_deg": -1.0}, "tilt_deg"),
        ({"azimuth_deg": 360.0}, "azimuth_deg"),
        ({"azimuth_deg": np.nan}, "azimuth_deg"),
        ({"albedo": 5.0}, "albedo"),
        ({"gamma_pdc_per_c": 0.01}, "gamma_pdc_per_c"),
        ({"losses_pct": np.nan}, "losses_pct"),
        ({"losses_pct": 100.0}, "losses_pct"),
        ({"inverter_efficiency": np.nan}, "inverter_efficiency"),
        ({"inverter_efficiency": 0.0}, "inverter_efficiency"),
    ],
)
def test_pv_system_fields_are_checked(kwargs, field):
    with pytest.raises(WeatherDataError, match=f"PVSystem.{field}") as info:
        PVSystem(**({"dc_mw": 80.0, "ac_mw": 65.0} | kwargs))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_turbines": np.nan}, "n_turbines"),
        ({"n_turbines": 2.5}, "n_turbines"),
        ({"n_turbines": -1}, "n_turbines"),
        ({"hub_height_m": np.nan}, "hub_height_m"),
        ({"hub_height_m": np.inf}, "hub_height_m"),
        ({"roughness_length_m": np.nan}, "roughness_length_m"),
        ({"roughness_length_m": 10.0}, "roughness_length_m"),
        ({"roughness_length_m": 0.0}, "roughness_length_m"),
    ],
)
def test_wind_farm_fields_are_checked(kwargs, field):
    args = {"turbine_type": "E-126/4200", "hub_height_m": 135.0, "n_turbines": 12} | kwargs
    with pytest.raises(WeatherDataError, match=f"WindFarm.{field}") as info:
        WindFarm(**args)
    assert info.value.field == field


def test_the_ends_of_the_ranges_are_taken():
    Site(90.0, -180.0, -500.0)
    Site(-90.0, 180.0, 9000.0)
    PVSystem(0.0, 0.0, tilt_deg=90.0, azimuth_deg=0.0, albedo=1.0, gamma_pdc_per_c=0.0)
    PVSystem(np.float32(1.0), 1, tilt_deg=0, inverter_efficiency=1.0, albedo=0.0)
    assert WindFarm("E-126/4200", 135.0, 2.0).rated_mw == pytest.approx(8.4)
    assert WindFarm("E-126/4200", 135.0, np.int64(0)).rated_mw == 0.0
