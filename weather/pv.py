"""PV plant AC output (MW) with pvlib's PVWatts chain.

Steps (all vectorised, one value per time stamp):

1. plane-of-array irradiance: Perez transposition (Perez et al. 1990,
   ``pvlib.irradiance.get_total_irradiance(model="perez")``), ground albedo 0.25;
   no incidence-angle or soiling model (the flat ``losses_pct`` stands for them);
2. cell temperature: Faiman (2008), ``pvlib.temperature.faiman`` (u0 = 25, u1 = 6.84),
   with the 10 m wind speed as the module wind;
3. DC: ``pvlib.pvsystem.pvwatts_dc`` = dc_mw * POA/1000 * (1 + gamma_pdc * (T_cell - 25));
4. system losses: a flat ``losses_pct`` of DC (PVWatts default 14 %);
5. inverter: ``pvlib.inverter.pvwatts`` with nominal efficiency ``inverter_efficiency``,
   rated so that the AC output clips at ``ac_mw`` (pdc0 = ac_mw / efficiency).

PVWatts is linear in the plant size, so everything is computed directly in MW.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib

from weather.limits import check_range


@dataclass(frozen=True)
class PVSystem:
    """A fixed-tilt PV plant (PVWatts parameters).

    dc_mw: DC nameplate at STC (MW). ac_mw: inverter AC rating (MW), the clipping limit.
    tilt_deg: from horizontal. azimuth_deg: clockwise from north (180 = south).
    gamma_pdc_per_c: DC power temperature coefficient (1/deg C). losses_pct: DC system
    losses (%). inverter_efficiency: nominal inverter efficiency (-). albedo: ground (-).
    """

    dc_mw: float
    ac_mw: float
    tilt_deg: float = 25.0
    azimuth_deg: float = 180.0
    gamma_pdc_per_c: float = -0.0037
    losses_pct: float = 14.0
    inverter_efficiency: float = 0.96
    albedo: float = 0.25

    def __post_init__(self) -> None:
        # Each field a finite number in its range: a NaN or infinite dc_mw gave 0 MW, a
        # tilt of 400 deg or an albedo of 5 were taken as given.
        for name, bounds, unit, low_open, high_open in _PV_RANGES:
            label = f"PVSystem.{name}"
            value = getattr(self, name)
            check_range(label, name, value, bounds, unit, low_open=low_open, high_open=high_open)


# (field, (lowest, highest), unit, lowest excluded, highest excluded) of PVSystem
_PV_RANGES = (
    ("dc_mw", (0.0, np.inf), "MW", False, True),
    ("ac_mw", (0.0, np.inf), "MW", False, True),
    ("tilt_deg", (0.0, 90.0), "deg", False, False),
    ("azimuth_deg", (0.0, 360.0), "deg", False, True),
    # module datasheets give about -0.002 to -0.005 1/K; power never rises with heat
    ("gamma_pdc_per_c", (-0.01, 0.0), "1/deg C", False, False),
    ("losses_pct", (0.0, 100.0), "%", False, True),
    ("inverter_efficiency", (0.0, 1.0), "", True, False),
    ("albedo", (0.0, 1.0), "", False, False),
)


def poa_irradiance(
    system: PVSystem, irradiance: pd.DataFrame, times_utc: pd.DatetimeIndex
) -> pd.DataFrame:
    """Plane-of-array irradiance (W/m2) by Perez transposition.

    ``irradiance`` holds ``ghi_w_per_m2``, ``dni_w_per_m2``, ``dhi_w_per_m2``,
    ``apparent_zenith_deg`` and ``azimuth_deg`` (degrees) at the instants ``times_utc``.
    Returns ``poa_global_w_per_m2``, ``poa_direct_w_per_m2``, ``poa_diffuse_w_per_m2``.
    """
    zen = irradiance["apparent_zenith_deg"].to_numpy()
    dni_extra = pvlib.irradiance.get_extra_radiation(times_utc)
    airmass = pvlib.atmosphere.get_relative_airmass(zen)
    total = pvlib.irradiance.get_total_irradiance(
        system.tilt_deg,
        system.azimuth_deg,
        zen,
        irradiance["azimuth_deg"].to_numpy(),
        irradiance["dni_w_per_m2"].to_numpy(),
        irradiance["ghi_w_per_m2"].to_numpy(),
        irradiance["dhi_w_per_m2"].to_numpy(),
        dni_extra=np.asarray(dni_extra),
        airmass=np.asarray(airmass),
        albedo=system.albedo,
        model="perez",
    )
    poa = pd.DataFrame(
        {
            "poa_global_w_per_m2": np.asarray(total["poa_global"]),
            "poa_direct_w_per_m2": np.asarray(total["poa_direct"]),
            "poa_diffuse_w_per_m2": np.asarray(total["poa_diffuse"]),
        },
        index=irradiance.index,
    )
    # below the horizon there is no irradiance; Perez can return NaN there
    return poa.fillna(0.0).clip(lower=0.0)


def cell_temperature_c(poa_global_w_per_m2, temp_air_c, wind_speed_m_per_s):
    """Faiman cell temperature (deg C) from POA (W/m2), air temperature and wind (m/s)."""
    return pvlib.temperature.faiman(poa_global_w_per_m2, temp_air_c, wind_speed_m_per_s)


def dc_power_mw(system: PVSystem, poa_global_w_per_m2, temp_cell_c):
    """PVWatts DC power (MW) before system losses: dc_mw * POA/1000 * temperature factor."""
    return pvlib.pvsystem.pvwatts_dc(
        poa_global_w_per_m2, temp_cell_c, system.dc_mw, system.gamma_pdc_per_c
    )


def ac_power_mw(system: PVSystem, dc_mw_before_losses):
    """AC power (MW): flat DC losses, then the PVWatts inverter clipped at ``ac_mw``.

    Output is >= 0, <= ``ac_mw`` and <= the DC in (an inverter makes no energy: PVWatts'
    part-load curve with ``inverter_efficiency`` 1.0 gave up to 0.26 % more AC than DC);
    zero DC gives exactly zero (no night consumption).
    """
    pdc = np.asarray(dc_mw_before_losses, dtype=float) * (1.0 - system.losses_pct / 100.0)
    pdc = np.clip(pdc, 0.0, None)
    if system.ac_mw == 0:
        return np.zeros_like(pdc)
    pdc0_inverter_mw = system.ac_mw / system.inverter_efficiency
    pac = np.asarray(
        pvlib.inverter.pvwatts(pdc, pdc0_inverter_mw, eta_inv_nom=system.inverter_efficiency),
        dtype=float,
    )
    return np.where(pdc > 0.0, np.clip(pac, 0.0, np.minimum(system.ac_mw, pdc)), 0.0)


def pv_ac_mw(
    system: PVSystem,
    irradiance: pd.DataFrame,
    temp_air_c,
    wind_speed_m_per_s,
) -> pd.Series:
    """Whole PV chain: irradiance (see :func:`poa_irradiance`) to AC MW on its index.

    ``irradiance`` is indexed by the instants at which the sun is evaluated (the interval
    mid-points); ``temp_air_c`` (deg C) and ``wind_speed_m_per_s`` (m/s) are aligned arrays.
    """
    times = pd.DatetimeIndex(irradiance.index)
    poa = poa_irradiance(system, irradiance, times)["poa_global_w_per_m2"].to_numpy()
    t_cell = cell_temperature_c(poa, np.asarray(temp_air_c), np.asarray(wind_speed_m_per_s))
    dc = dc_power_mw(system, poa, t_cell)
    return pd.Series(ac_power_mw(system, dc), index=irradiance.index, name="pv_ac_mw")
