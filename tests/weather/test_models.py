"""Clear sky, cloud model, PV and wind models on hand-checkable numbers."""

import numpy as np
import pandas as pd
import pvlib
import pytest
from windpowerlib import power_output

from weather import PVSystem, UnknownTurbineError, WindFarm
from weather.clearsky import (
    clearsky_irradiance,
    cloud_attenuated_irradiance,
    decompose_ghi,
    kasten_czeplak_ghi,
)
from weather.pv import ac_power_mw, cell_temperature_c, dc_power_mw, poa_irradiance, pv_ac_mw
from weather.wind import (
    air_density_kg_per_m3,
    hub_wind_speed_m_per_s,
    power_curve,
    turbine_rated_mw,
    wind_farm_mw,
)

DALLAS = (32.7944, -96.8215, 142.0)


def test_kasten_czeplak_limits():
    assert kasten_czeplak_ghi(800.0, 0.0) == 800.0
    assert kasten_czeplak_ghi(800.0, 100.0) == pytest.approx(200.0)
    assert kasten_czeplak_ghi(800.0, 50.0) == pytest.approx(800 * (1 - 0.75 * 0.5**3.4))
    # monotone in cloud cover
    g = kasten_czeplak_ghi(np.full(11, 500.0), np.linspace(0, 100, 11))
    assert np.all(np.diff(g) < 0)


def test_clearsky_and_cloud_split_close():
    t = pd.date_range("2023-08-21 00:30", periods=24, freq="h", tz="UTC")
    cs = clearsky_irradiance(t, *DALLAS)
    night = cs["zenith_deg"] > 91
    assert (cs.loc[night, ["ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2"]] == 0).all().all()
    assert 850 < cs["ghi_w_per_m2"].max() < 1050
    cloudy = cloud_attenuated_irradiance(cs, np.full(24, 60.0))
    assert cloudy["ghi_w_per_m2"].to_numpy() == pytest.approx(
        cs["ghi_w_per_m2"].to_numpy() * (1 - 0.75 * 0.6**3.4)
    )
    # closure of the Erbs split: GHI = DNI cos(z) + DHI while the sun is up
    up = cs["zenith_deg"] < 85
    cosz = np.cos(np.radians(cloudy.loc[up, "zenith_deg"]))
    closure = cloudy.loc[up, "dni_w_per_m2"] * cosz + cloudy.loc[up, "dhi_w_per_m2"]
    assert closure.to_numpy() == pytest.approx(cloudy.loc[up, "ghi_w_per_m2"].to_numpy(), rel=1e-6)
    overcast = decompose_ghi(cs["ghi_w_per_m2"] * 0.25, cs["zenith_deg"])
    assert (overcast["dni_w_per_m2"][up] < cloudy["dni_w_per_m2"][up]).all()


# ----------------------------------------------------------------------------- PV

PV = PVSystem(dc_mw=80.0, ac_mw=65.0, tilt_deg=25.0, azimuth_deg=180.0)


def _noon_irradiance():
    # 2023-06-21 at Dallas: solar noon is about 18:27 UTC
    t = pd.DatetimeIndex([pd.Timestamp("2023-06-21 18:27", tz="UTC")])
    return clearsky_irradiance(t, *DALLAS)


def test_pv_noon_matches_independent_pvlib_reference():
    irr = _noon_irradiance()
    ours = pv_ac_mw(PV, irr, [30.0], [2.0]).iloc[0]

    # reference: pvlib's Location + the same published models, composed by hand
    loc = pvlib.location.Location(*DALLAS[:2], altitude=DALLAS[2])
    t = irr.index
    sp = loc.get_solarposition(t)
    cs = loc.get_clearsky(t, model="ineichen", solar_position=sp)
    poa = pvlib.irradiance.get_total_irradiance(
        25, 180, sp["apparent_zenith"], sp["azimuth"], cs["dni"], cs["ghi"], cs["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(t),
        airmass=pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith"]),
        model="perez", albedo=0.25,
    )["poa_global"].iloc[0]  # fmt: skip
    tc = pvlib.temperature.faiman(poa, 30.0, 2.0)
    pdc = 80.0 * poa / 1000 * (1 - 0.0037 * (tc - 25)) * 0.86
    pac = pvlib.inverter.pvwatts(pdc, 65.0 / 0.96, eta_inv_nom=0.96)
    assert 900 < poa < 1100
    assert ours == pytest.approx(min(pac, 65.0), rel=1e-6)
    # and the PVWatts DC formula by hand
    assert dc_power_mw(PV, poa, tc) == pytest.approx(80.0 * poa / 1000 * (1 - 0.0037 * (tc - 25)))


def test_pv_clipping_never_exceeds_ac_rating():
    big = PVSystem(dc_mw=200.0, ac_mw=65.0)
    t = pd.date_range("2023-06-21 10:00", periods=14 * 4, freq="15min", tz="UTC")
    irr = clearsky_irradiance(t, *DALLAS)
    ac = pv_ac_mw(big, irr, np.full(len(t), 10.0), np.full(len(t), 1.0))
    assert ac.max() <= 65.0
    assert ac.max() == pytest.approx(65.0)  # clipped at midday
    assert (ac_power_mw(big, np.linspace(0, 500, 101)) <= 65.0).all()


def test_pv_night_is_exactly_zero():
    t = pd.date_range("2023-06-21 04:00", periods=6, freq="h", tz="UTC")  # local night
    irr = clearsky_irradiance(t, *DALLAS)
    ac = pv_ac_mw(PV, irr, np.full(6, 25.0), np.full(6, 3.0))
    assert (ac.to_numpy() == 0.0).all()
    assert ac_power_mw(PV, [0.0, -1.0]).tolist() == [0.0, 0.0]


def test_pv_hotter_is_lower():
    irr = _noon_irradiance()
    poa = poa_irradiance(PV, irr, irr.index)["poa_global_w_per_m2"].iloc[0]
    assert cell_temperature_c(poa, 40.0, 1.0) > cell_temperature_c(poa, 10.0, 1.0)
    small = PVSystem(dc_mw=50.0, ac_mw=65.0)  # no clipping
    assert pv_ac_mw(small, irr, [40.0], [1.0]).iloc[0] < pv_ac_mw(small, irr, [10.0], [1.0]).iloc[0]


# ----------------------------------------------------------------------------- wind

FARM = WindFarm("E-126/4200", hub_height_m=135.0, n_turbines=12)


def test_wind_zero_below_cut_in_and_rated_at_rated_speed():
    speeds, p_mw = power_curve("E-126/4200")
    assert turbine_rated_mw("E-126/4200") == pytest.approx(4.2)
    assert FARM.rated_mw == pytest.approx(50.4)
    # the curve is interpolated linearly, so output starts above the last zero point
    cut_in = speeds[np.flatnonzero(p_mw > 0)[0] - 1]
    assert cut_in == 2.0  # E-126/4200 in windpowerlib's library: 0 W at 2 m/s, 58 kW at 3
    rated = speeds[np.flatnonzero(p_mw >= p_mw.max())[0]]
    below = np.array([0.0, 1.0, cut_in - 0.5, cut_in])
    assert wind_farm_mw(FARM, [cut_in + 0.5])[0] == pytest.approx(12 * 0.058 / 2)
    assert (wind_farm_mw(FARM, below) == 0.0).all()
    assert (wind_farm_mw(FARM, below, np.full(4, 1.1)) == 0.0).all()
    assert wind_farm_mw(FARM, [rated])[0] == pytest.approx(50.4)
    assert wind_farm_mw(FARM, [rated], [1.225])[0] == pytest.approx(50.4)
    # above the last speed of the curve (cut-out) the farm stops, with or without density
    assert wind_farm_mw(FARM, [speeds.max() + 1])[0] == 0.0
    assert wind_farm_mw(FARM, [speeds.max() + 1], [1.1])[0] == 0.0
    # thinner air delivers less below rated
    assert wind_farm_mw(FARM, [8.0], [1.10])[0] < wind_farm_mw(FARM, [8.0], [1.225])[0]


@pytest.mark.parametrize("rho", [1.376, 1.225, 1.10])  # -20 C, standard, warm
@pytest.mark.parametrize("turbine", ["E-126/4200", "E-126/7580"])
def test_cut_out_is_the_curves_own_at_any_density(rho, turbine):
    """windpowerlib's corrected curve ends where the correction moves its last speed: at
    -20 C a hub speed of 24 m/s gave 0 MW (cut out at 23.1), in warm air 25.1 m/s ran.
    The E-126/7580's curve lists zeros past its cut-out (25 m/s) to 35 m/s: the cut-out
    is its last speed with power, not its last speed."""
    farm = WindFarm(turbine, hub_height_m=135.0, n_turbines=12)
    speeds, power_mw = power_curve(turbine)
    cut_out, rated = 25.0, 12 * power_mw.max()
    below = wind_farm_mw(farm, [cut_out - 1.0, cut_out - 0.01, cut_out], [rho] * 3)
    assert below == pytest.approx([rated] * 3)
    assert wind_farm_mw(farm, [cut_out + 0.01, cut_out + 0.5], [rho] * 2).tolist() == [0, 0]
    # below the moved top the curve is windpowerlib's own
    v = np.array([5.0, 9.0, 11.0])
    ours = wind_farm_mw(farm, v, np.full(3, rho))
    theirs = 12 * power_output.power_curve(
        v, speeds, power_mw, np.full(3, rho), density_correction=True
    )
    assert ours == pytest.approx(theirs)


def test_hub_height_log_law():
    v = hub_wind_speed_m_per_s(np.array([5.0, 8.0]), 135.0, roughness_length_m=0.1)
    expected = np.array([5.0, 8.0]) * np.log(135.0 / 0.1) / np.log(10.0 / 0.1)
    assert v == pytest.approx(expected)


def test_air_density_ideal_gas():
    rho = air_density_kg_per_m3([15.0], 2.0, pressure_pa=[101325.0])[0]
    assert rho == pytest.approx(101325.0 / (287.058 * 288.15), rel=2e-3)
    # standard atmosphere from altitude when there is no pressure: less dense up high
    high = air_density_kg_per_m3([15.0], 135.0, altitude_m=1500.0)[0]
    low = air_density_kg_per_m3([15.0], 135.0, altitude_m=0.0)[0]
    assert high < low < rho


def test_unknown_turbine_lists_close_matches():
    with pytest.raises(UnknownTurbineError) as info:
        power_curve("E-126/420")
    assert "E-126/4200" in info.value.close_matches
    assert "E-126/4200" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_an_inverter_never_makes_more_ac_than_dc():
    """PVWatts' part-load curve with a nominal efficiency of 1.0 gave up to 0.26 % more AC
    than DC (48.3 MW DC in)."""
    system = PVSystem(dc_mw=100.0, ac_mw=80.0, inverter_efficiency=1.0, losses_pct=0.0)
    dc = np.linspace(0.5, 79.0, 200)
    ac = ac_power_mw(system, dc)
    assert (ac <= dc).all()
    assert ac[-1] == pytest.approx(dc[-1], rel=0.01)


def test_a_hub_at_or_below_the_roughness_length_is_refused():
    with pytest.raises(ValueError, match="above roughness_length_m"):
        WindFarm("E-126/4200", hub_height_m=0.05, n_turbines=1, roughness_length_m=0.1)
