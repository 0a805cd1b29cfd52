"""The R1 pandapower network: build, names, limits at the dispatch extremes, injections."""

from __future__ import annotations

import math
from pathlib import Path

import pandapower as pp
import pytest

from microgrid.assemble import network_parameters
from microgrid.errors import InputError
from microgrid.network import NetworkParameters, apply_injections, build_network
from microgrid.scenario import load_scenario


def _runpp(net):
    pp.runpp(net, numba=False)


def test_element_names_and_mapping():
    net = build_network(NetworkParameters(has_backup=True))
    assert set(net.bus.name) == {"grid_138kv", "collector_34.5kv", "datacenter", "pv", "wind"}
    assert list(net.ext_grid.name) == ["grid"]
    assert list(net.trafo.name) == ["substation"]
    assert set(net.line.name) == {"line_datacenter", "line_pv", "line_wind"}
    assert list(net.load.name) == ["datacenter"]
    assert set(net.sgen.name) == {"pv", "wind", "backup_gen"}
    assert list(net.storage.name) == ["battery"]
    mg = net["microgrid"]
    for name, idx in mg["buses"].items():
        assert net.bus.name[idx] == name
    assert net.storage.bus.iloc[0] == mg["buses"]["collector_34.5kv"]
    assert net.trafo.sn_mva.iloc[0] == 150.0
    assert net.line.length_km[mg["elements"]["line_wind"]] == 15.0


def test_optional_elements_absent():
    net = build_network(NetworkParameters(pv_line_km=None, has_battery=False))
    assert "pv" not in set(net.sgen.name)
    assert len(net.storage) == 0
    with pytest.raises(InputError):
        apply_injections(net, {"facility_load_mw": 50.0, "pv_used_mw": 10.0})
    with pytest.raises(InputError):
        apply_injections(net, {"facility_load_mw": 50.0, "battery_charge_mw": 10.0})


def test_import_120_mw_in_limits():
    net = build_network()
    # 120 MW import: facility 140 MW (100 MW IT x PUE 1.4) with 20 MW from the battery
    apply_injections(net, {"facility_load_mw": 140.0, "battery_discharge_mw": 20.0})
    _runpp(net)
    assert net.res_ext_grid.p_mw.iloc[0] == pytest.approx(120.0, abs=2.0)
    assert net.res_bus.vm_pu.between(0.95, 1.05).all()
    assert net.res_line.loading_percent.max() < 100.0
    assert net.res_trafo.loading_percent.max() < 100.0
    # lagging load at pf 0.98
    assert net.load.q_mvar.iloc[0] == pytest.approx(140.0 * math.tan(math.acos(0.98)))


def test_export_50_mw_in_limits():
    net = build_network()
    apply_injections(net, {"facility_load_mw": 30.0, "pv_used_mw": 65.0, "wind_used_mw": 15.5})
    _runpp(net)
    assert net.res_ext_grid.p_mw.iloc[0] == pytest.approx(-50.0, abs=1.5)
    assert net.res_bus.vm_pu.between(0.95, 1.05).all()
    assert net.res_line.loading_percent.max() < 100.0


def test_storage_sign_convention_charging_imports_more():
    net = build_network()
    apply_injections(net, {"facility_load_mw": 50.0})
    _runpp(net)
    base = net.res_ext_grid.p_mw.iloc[0]
    apply_injections(net, {"facility_load_mw": 50.0, "battery_charge_mw": 20.0})
    assert net.storage.p_mw.iloc[0] == 20.0  # pandapower: storage p_mw > 0 is charging
    _runpp(net)
    assert net.res_ext_grid.p_mw.iloc[0] == pytest.approx(base + 20.0, abs=0.2)
    apply_injections(net, {"facility_load_mw": 50.0, "battery_discharge_mw": 20.0})
    assert net.storage.p_mw.iloc[0] == -20.0
    _runpp(net)
    assert net.res_ext_grid.p_mw.iloc[0] == pytest.approx(base - 20.0, abs=0.2)


def test_battery_on_its_own_line_and_bad_params():
    net = build_network(NetworkParameters(battery_line_km=1.0))
    assert "line_battery" in set(net.line.name)
    assert net.bus.name[net.storage.bus.iloc[0]] == "battery"
    with pytest.raises(InputError):
        NetworkParameters(load_power_factor=1.2)
    with pytest.raises(InputError):
        NetworkParameters(vm_min_pu=1.1)


def test_a_scenario_sizes_each_feeder_in_circuits(tmp_path):
    """R3's 200 MWac plant overloads R1's two PV circuits (108 MVA); the scenario once had
    no way to give it more."""
    path = Path(__file__).resolve().parents[2] / "scenarios" / "caiso-solar-heavy.yaml"
    base = load_scenario(path)
    four = base.with_updates({"network.pv_line_circuits": 4, "network.datacenter_line_circuits": 5})
    params = network_parameters(four)
    assert (params.pv_line_parallel, params.datacenter_line_parallel) == (4, 5)
    assert network_parameters(base).pv_line_parallel == 2
    step = {"facility_load_mw": 60.0, "pv_used_mw": 190.0}
    loading = {}
    for name, sc in (("two", base), ("four", four)):
        net = build_network(network_parameters(sc))
        assert int(net.line.at[net["microgrid"]["elements"]["line_pv"], "parallel"]) == (
            4 if name == "four" else 2
        )
        apply_injections(net, step)
        pp.runpp(net, numba=False)
        loading[name] = float(net.res_line.loading_percent.max())
    assert loading["two"] > 100.0 > loading["four"]
    with pytest.raises(InputError, match="pv_line_circuits"):
        base.with_updates({"network.pv_line_circuits": 0})
