"""The electrical data of the R1 network (``NetworkParameters``), without pandapower.

Apart from ``microgrid.network`` so that reading a scenario into these parameters (and
``microgrid validate``) does not wait for pandapower to import (seconds: it loads SciPy's
statistics and its own plotting stack).
"""

from __future__ import annotations

from dataclasses import dataclass

from microgrid.errors import InputError

#: Equipment ratings (MW, MWh) of ``NetworkParameters``; each must be >= 0.
_RATINGS = (
    "backup_gen_mw",
    "battery_power_mw",
    "battery_energy_mwh",
    "pv_ac_mw",
    "wind_rated_mw",
    "facility_max_mw",
)


@dataclass(frozen=True)
class NetworkParameters:
    """Electrical data of the R1 network. Every figure is documented in ``docs/network.md``.

    Transformer: a 150 MVA 138/34.5 kV substation unit, ``vk_pct=10`` (short-circuit
    impedance on its own base; ANSI/IEEE units of this size are typically 8-12 %),
    ``vkr_pct=0.3`` (load losses 450 kW at rated current, X/R ~ 33), no-load losses 75 kW and
    magnetising current 0.05 %.

    Lines: 34.5 kV overhead circuits of 795 kcmil ACSR "Drake" on a ~1.5 m geometric mean
    spacing: r = 0.0863 ohm/km (AC, 75 C conductor), x = 0.368 ohm/km, c = 11.9 nF/km,
    ampacity 0.9 kA per circuit (~907 A, 75 C conductor, 25 C ambient, 0.6 m/s wind). The
    data-center feed is four circuits in parallel (3.6 kA = 215 MVA at 34.5 kV; the 140 MW
    peak facility load at pf 0.98 and 0.96 pu is ~2.5 kA, ~70 % loading, and three circuits
    still carry it with one out), PV two circuits (1.8 kA, 108 MVA for 65 MWac) and wind two
    circuits (108 MVA for 50.4 MW over 15 km). The substation has an on-load tap changer on
    the HV side, +/-16 steps of 0.625 % (+/-10 %), left at neutral by default.

    Equipment ratings (written to pandapower's ``sn_mva``/``max_p_mw``/``min_p_mw`` and the
    storage's ``max_e_mwh``/``min_e_mwh``; the power flow does not use them): the R1
    battery 50 MW / 200 MWh with SoC floor 10 %, PV 65 MWac, wind 50.4 MW (12 x E-126/4200)
    and the campus at 140 MW (100 MW IT x PUE cap 1.4).
    """

    grid_kv: float = 138.0
    collector_kv: float = 34.5
    frequency_hz: float = 60.0
    grid_vm_pu: float = 1.0
    transformer_mva: float = 150.0
    transformer_vk_pct: float = 10.0
    transformer_vkr_pct: float = 0.3
    transformer_pfe_kw: float = 75.0
    transformer_i0_pct: float = 0.05
    transformer_tap_step_pct: float = 0.625
    transformer_tap_max: int = 16
    transformer_tap_pos: int = 0
    datacenter_line_km: float = 2.0
    pv_line_km: float | None = 5.0
    wind_line_km: float | None = 15.0
    battery_line_km: float = 0.0
    line_r_ohm_per_km: float = 0.0863
    line_x_ohm_per_km: float = 0.368
    line_c_nf_per_km: float = 11.9
    line_max_i_ka: float = 0.9
    datacenter_line_parallel: int = 4
    pv_line_parallel: int = 2
    wind_line_parallel: int = 2
    battery_line_parallel: int = 2
    vm_min_pu: float = 0.95
    vm_max_pu: float = 1.05
    max_loading_pct: float = 100.0
    load_power_factor: float = 0.98
    pv_power_factor: float = 1.0
    wind_power_factor: float = 1.0
    has_battery: bool = True
    has_backup: bool = False
    backup_gen_mw: float = 60.0
    battery_power_mw: float = 50.0
    battery_energy_mwh: float = 200.0
    battery_soc_min_frac: float = 0.1
    pv_ac_mw: float = 65.0
    wind_rated_mw: float = 50.4
    facility_max_mw: float = 140.0

    def __post_init__(self) -> None:
        for name in ("load_power_factor", "pv_power_factor", "wind_power_factor"):
            pf = getattr(self, name)
            if not 0.0 < pf <= 1.0:
                raise InputError(f"{name} must be in (0, 1], got {pf}", field=name)
        if not self.vm_min_pu < self.vm_max_pu:
            raise InputError("vm_min_pu must be below vm_max_pu", field="vm_min_pu")
        for name in ("datacenter_line_km", "battery_line_km"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0", field=name)
        for name in ("pv_line_km", "wind_line_km"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise InputError(f"{name} must be > 0 or None", field=name)
        for name in _RATINGS:
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0", field=name)
        if not 0.0 <= self.battery_soc_min_frac <= 1.0:
            raise InputError("battery_soc_min_frac must be in [0, 1]", field="battery_soc_min_frac")
        if self.datacenter_line_km <= 0:
            raise InputError("datacenter_line_km must be > 0", field="datacenter_line_km")
