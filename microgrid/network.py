"""The R1 microgrid as a plain pandapower network.

``build_network(NetworkParameters())`` returns an ordinary ``pandapowerNet``: users can take it
and run their own studies (``pandapower.runpp``, short circuit, OPF, ...). Elements carry names
(``net.bus.name == "datacenter"`` etc.), and ``net["microgrid"]`` holds a plain-dict map from
role to pandapower index plus the parameters the net was built from::

    net["microgrid"] = {
        "buses":    {"grid_138kv": 0, "collector_34.5kv": 1, "datacenter": 2, "pv": 3, ...},
        "elements": {"ext_grid": 0, "trafo": 0, "load": 0, "sgen_pv": 0, "sgen_wind": 1,
                     "storage": 0, "sgen_backup_gen": 2, "line_datacenter": 0, ...},
        "params":   {...dataclasses.asdict(NetworkParameters)...},
    }

Sign conventions are pandapower's: loads and storage consume (``load.p_mw > 0`` draws power,
``storage.p_mw > 0`` is *charging*), static generators produce (``sgen.p_mw > 0`` injects),
``res_ext_grid.p_mw > 0`` is import from the 138 kV grid. Reactive power: ``q_mvar > 0`` is
consumed by loads (lagging) and produced by sgens. See ``docs/network.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from microgrid.errors import InputError
from microgrid.network_params import NetworkParameters

__all__ = [
    "INJECTION_COLUMNS",
    "NetworkParameters",
    "apply_injections",
    "build_network",
    "clear_results",
    "injection_profiles",
]

#: Columns a step of the dispatch (``optimize.Dispatch.series`` names) may carry.
INJECTION_COLUMNS = (
    "facility_load_mw",
    "pv_used_mw",
    "wind_used_mw",
    "battery_charge_mw",
    "battery_discharge_mw",
    "backup_gen_mw",
)


def _tan_phi(pf: float) -> float:
    return math.tan(math.acos(pf))


@dataclass
class _Builder:
    """The net being built and its role -> index maps (``net["microgrid"]``)."""

    p: NetworkParameters
    net: pp.pandapowerNet
    buses: dict[str, int] = field(default_factory=dict)
    elements: dict[str, int] = field(default_factory=dict)

    def add_bus(self, name: str, vn_kv: float) -> int:
        idx = pp.create_bus(
            self.net,
            vn_kv=vn_kv,
            name=name,
            min_vm_pu=self.p.vm_min_pu,
            max_vm_pu=self.p.vm_max_pu,
        )
        self.buses[name] = int(idx)
        return int(idx)

    def add_line(self, name: str, to_bus: int, km: float, parallel: int) -> None:
        """A collector line from the substation's 34.5 kV bus to `to_bus`."""
        p = self.p
        idx = pp.create_line_from_parameters(
            self.net,
            from_bus=self.buses["collector_34.5kv"],
            to_bus=to_bus,
            length_km=km,
            r_ohm_per_km=p.line_r_ohm_per_km,
            x_ohm_per_km=p.line_x_ohm_per_km,
            c_nf_per_km=p.line_c_nf_per_km,
            max_i_ka=p.line_max_i_ka,
            parallel=parallel,
            name=f"line_{name}",
            type="ol",
            max_loading_percent=p.max_loading_pct,
        )
        self.elements[f"line_{name}"] = int(idx)


def _substation(b: _Builder) -> None:
    """The 138 kV grid bus with the external grid, the transformer and the 34.5 kV bus."""
    p, net = b.p, b.net
    grid = b.add_bus("grid_138kv", p.grid_kv)
    collector = b.add_bus("collector_34.5kv", p.collector_kv)
    b.elements["ext_grid"] = int(pp.create_ext_grid(net, grid, vm_pu=p.grid_vm_pu, name="grid"))
    b.elements["trafo"] = int(
        pp.create_transformer_from_parameters(
            net,
            hv_bus=grid,
            lv_bus=collector,
            sn_mva=p.transformer_mva,
            vn_hv_kv=p.grid_kv,
            vn_lv_kv=p.collector_kv,
            vk_percent=p.transformer_vk_pct,
            vkr_percent=p.transformer_vkr_pct,
            pfe_kw=p.transformer_pfe_kw,
            i0_percent=p.transformer_i0_pct,
            shift_degree=0.0,
            tap_side="hv",
            tap_neutral=0,
            tap_min=-p.transformer_tap_max,
            tap_max=p.transformer_tap_max,
            tap_step_percent=p.transformer_tap_step_pct,
            tap_pos=p.transformer_tap_pos,
            tap_changer_type="Ratio",
            name="substation",
            max_loading_percent=p.max_loading_pct,
        )
    )


def _datacenter(b: _Builder) -> int:
    """The data-center bus, its feed and its load (p and q set per step); returns the bus."""
    p = b.p
    dc = b.add_bus("datacenter", p.collector_kv)
    b.add_line("datacenter", dc, p.datacenter_line_km, p.datacenter_line_parallel)
    b.elements["load"] = int(
        pp.create_load(
            b.net,
            dc,
            p_mw=0.0,  # p and q are set per step (q from load_power_factor)
            name="datacenter",
            sn_mva=p.facility_max_mw / p.load_power_factor,
            max_p_mw=p.facility_max_mw,
            min_p_mw=0.0,
        )
    )
    return dc


def _renewables(b: _Builder) -> None:
    """PV and wind plants, each on its own bus and line (absent when its line km is None)."""
    p = b.p
    if p.pv_line_km is not None:
        pv = b.add_bus("pv", p.collector_kv)
        b.add_line("pv", pv, p.pv_line_km, p.pv_line_parallel)
        b.elements["sgen_pv"] = _plant(b.net, pv, "pv", "PV", p.pv_ac_mw)
    if p.wind_line_km is not None:
        wind = b.add_bus("wind", p.collector_kv)
        b.add_line("wind", wind, p.wind_line_km, p.wind_line_parallel)
        b.elements["sgen_wind"] = _plant(b.net, wind, "wind", "WP", p.wind_rated_mw)


def _plant(net: pp.pandapowerNet, bus: int, name: str, kind: str, rated_mw: float) -> int:
    """A static generator at 0 MW rated `rated_mw` (``sn_mva``, ``max_p_mw``); its index."""
    return int(
        pp.create_sgen(
            net,
            bus,
            p_mw=0.0,
            name=name,
            type=kind,
            sn_mva=rated_mw,
            max_p_mw=rated_mw,
            min_p_mw=0.0,
        )
    )


def _battery(b: _Builder) -> None:
    """The battery: on its own bus and line, or at the 34.5 kV bus when its line is 0 km."""
    p = b.p
    if p.battery_line_km > 0:
        bat_bus = b.add_bus("battery", p.collector_kv)
        b.add_line("battery", bat_bus, p.battery_line_km, p.battery_line_parallel)
    else:
        bat_bus = b.buses["collector_34.5kv"]
    b.elements["storage"] = int(
        pp.create_storage(
            b.net,
            bat_bus,
            p_mw=0.0,
            max_e_mwh=p.battery_energy_mwh,
            min_e_mwh=p.battery_energy_mwh * p.battery_soc_min_frac,
            sn_mva=p.battery_power_mw,
            max_p_mw=p.battery_power_mw,  # charging
            min_p_mw=-p.battery_power_mw,  # discharging
            name="battery",
        )
    )


def build_network(params: NetworkParameters | None = None) -> pp.pandapowerNet:
    """Build the R1 topology (see module docstring) and return the pandapower net."""
    p = params if params is not None else NetworkParameters()
    net = pp.create_empty_network(name="microgrid R1", f_hz=p.frequency_hz, sn_mva=1.0)
    b = _Builder(p, net)
    _substation(b)
    dc = _datacenter(b)
    _renewables(b)
    if p.has_battery:
        _battery(b)
    if p.has_backup:
        # on-site gensets stand at the data-center bus (they back up the facility)
        b.elements["sgen_backup_gen"] = _plant(net, dc, "backup_gen", "CHP", p.backup_gen_mw)
    net["microgrid"] = {"buses": b.buses, "elements": b.elements, "params": asdict(p)}
    return net


def _params_of(net: pp.pandapowerNet) -> dict[str, Any]:
    try:
        return net["microgrid"]["params"]
    except (KeyError, TypeError) as exc:
        raise InputError("net was not built by microgrid.network.build_network") from exc


def _dispatch_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A dispatch column (MW), zeros when the frame does not have it; NaN is an error."""
    if name in frame.columns:
        values = frame[name].to_numpy(dtype=float)
        if np.isnan(values).any():
            raise InputError(f"NaN in injections column {name}", field=name)
        return values
    return np.zeros(len(frame))


def _need(el: dict[str, int], key: str, values: np.ndarray, column: str) -> None:
    """A non-zero `column` needs the element `key` in the net."""
    if key not in el and np.any(values != 0):
        raise InputError(f"the network has no element for {column}", field=column)


def _sgen_profiles(
    frame: pd.DataFrame, el: dict[str, int], params: dict[str, Any]
) -> dict[tuple[str, str], pd.DataFrame]:
    """PV, wind and backup generator p and q (static generators: p > 0 injects)."""
    sgen_p: dict[int, np.ndarray] = {}
    sgen_q: dict[int, np.ndarray] = {}
    for name, column, pf_key in (
        ("sgen_pv", "pv_used_mw", "pv_power_factor"),
        ("sgen_wind", "wind_used_mw", "wind_power_factor"),
        ("sgen_backup_gen", "backup_gen_mw", None),
    ):
        values = _dispatch_column(frame, column)
        _need(el, name, values, column)
        if name in el:
            sgen_p[el[name]] = values
            # renewables at pf < 1 absorb reactive power (under-excited), as grid codes ask
            # of distributed generation to limit voltage rise; gensets run at pf 1
            tan = _tan_phi(params[pf_key]) if pf_key else 0.0
            sgen_q[el[name]] = -values * tan
    if not sgen_p:
        return {}
    return {
        ("sgen", "p_mw"): pd.DataFrame(sgen_p, index=frame.index),
        ("sgen", "q_mvar"): pd.DataFrame(sgen_q, index=frame.index),
    }


def injection_profiles(
    net: pp.pandapowerNet, injections: pd.DataFrame | Mapping[str, Any]
) -> dict[tuple[str, str], pd.DataFrame]:
    """Translate dispatch columns into pandapower element profiles.

    Returns ``{(element_table, column): DataFrame}`` (rows = steps, columns = element
    indices), the format of ``simbench.get_absolute_values`` and pandapower's time-series
    ``DFData``. Missing dispatch columns count as 0; a non-zero value for an element the net
    does not have raises ``InputError``.
    """
    is_frame = isinstance(injections, pd.DataFrame)
    frame = injections if is_frame else pd.DataFrame([dict(injections)])
    unknown = [c for c in frame.columns if c not in INJECTION_COLUMNS]
    if unknown and not any(c in frame.columns for c in INJECTION_COLUMNS):
        raise InputError(f"no dispatch columns in injections (got {list(frame.columns)[:6]})")
    params = _params_of(net)
    el = net["microgrid"]["elements"]
    idx = frame.index
    out: dict[tuple[str, str], pd.DataFrame] = {}
    load_p = _dispatch_column(frame, "facility_load_mw")
    out[("load", "p_mw")] = pd.DataFrame({el["load"]: load_p}, index=idx)
    out[("load", "q_mvar")] = pd.DataFrame(
        {el["load"]: load_p * _tan_phi(params["load_power_factor"])}, index=idx
    )
    out.update(_sgen_profiles(frame, el, params))
    battery = _dispatch_column(frame, "battery_charge_mw") - _dispatch_column(
        frame, "battery_discharge_mw"
    )
    _need(el, "storage", battery, "battery_charge_mw")
    if "storage" in el:
        # pandapower storage convention: p_mw > 0 is charging (the storage consumes)
        out[("storage", "p_mw")] = pd.DataFrame({el["storage"]: battery}, index=idx)
    return out


def apply_injections(net: pp.pandapowerNet, step: Mapping[str, Any] | pd.Series) -> None:
    """Write one dispatch step into ``net.load``, ``net.sgen`` and ``net.storage``.

    ``step`` carries any of :data:`INJECTION_COLUMNS` (MW, missing = 0). The data-center
    load gets ``q = p * tan(acos(load_power_factor))`` (lagging); the battery gets
    ``storage.p_mw = battery_charge_mw - battery_discharge_mw`` (positive = charging, the
    pandapower convention).
    """
    data = step.to_dict() if isinstance(step, pd.Series) else dict(step)
    profiles = injection_profiles(net, {k: data[k] for k in data if k in INJECTION_COLUMNS})
    for (table, column), frame in profiles.items():
        net[table].loc[frame.columns, column] = frame.iloc[0].to_numpy()


def clear_results(net: pp.pandapowerNet) -> None:
    """Empty every ``net.res_*`` table (pandapower's ``clear_result_tables``).

    ``microgrid.run`` hands its net over in this state, with the injections at 0 MW: no
    step applied and no results, whichever engine ran the time series.
    """
    pp.toolbox.clear_result_tables(net)
