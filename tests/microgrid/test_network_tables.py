"""The net's own tables state the equipment ratings, and `Result.net` holds no results."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.assemble import network_parameters
from microgrid.errors import InputError
from microgrid.network import NetworkParameters, build_network
from microgrid.scenario import load_scenario

WEAK_YAML = Path(__file__).resolve().parents[2] / "scenarios" / "ercot-dallas-weak.yaml"


def test_storage_carries_battery_power_and_energy() -> None:
    net = build_network(NetworkParameters())
    bat = net.storage.loc[net["microgrid"]["elements"]["storage"]]
    assert (bat.max_e_mwh, bat.min_e_mwh) == pytest.approx((200.0, 20.0))
    assert (bat.sn_mva, bat.max_p_mw, bat.min_p_mw) == pytest.approx((50.0, 50.0, -50.0))


def test_plants_and_load_carry_their_ratings() -> None:
    net = build_network(NetworkParameters(has_backup=True))
    el = net["microgrid"]["elements"]
    for key, rated_mw in (("sgen_pv", 65.0), ("sgen_wind", 50.4), ("sgen_backup_gen", 60.0)):
        sgen = net.sgen.loc[el[key]]
        assert (sgen.sn_mva, sgen.max_p_mw, sgen.min_p_mw) == pytest.approx((rated_mw, rated_mw, 0))
    load = net.load.loc[el["load"]]
    assert load.sn_mva == pytest.approx(140.0 / 0.98)
    assert (load.max_p_mw, load.min_p_mw) == pytest.approx((140.0, 0.0))


def test_negative_rating_is_refused() -> None:
    with pytest.raises(InputError, match="battery_energy_mwh"):
        NetworkParameters(battery_energy_mwh=-1.0)
    with pytest.raises(InputError, match="battery_soc_min_frac"):
        NetworkParameters(battery_soc_min_frac=1.5)


def test_scenario_ratings_reach_the_parameters() -> None:
    p = network_parameters(load_scenario(WEAK_YAML))
    assert (p.battery_power_mw, p.battery_energy_mwh, p.battery_soc_min_frac) == (50, 200, 0.1)
    assert p.pv_ac_mw == 65
    assert p.wind_rated_mw == pytest.approx(12 * 4.2)
    assert p.facility_max_mw == pytest.approx(100 * 1.4)
    assert p.datacenter_line_km == 14


@pytest.mark.parametrize("engine", ["pandapower", "lightsim2grid"])
def test_a_runs_net_has_no_step_applied_and_no_results(tmp_path, engine) -> None:
    """`Result.net` is handed over as docs/network.md says, whichever engine ran (the
    pandapower engine left the last step's results beside zeroed injections)."""
    data = copy.deepcopy(TINY)
    data["network"] = {"engine": engine}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    net = microgrid.run(path, baselines=False).net
    for table in ("res_bus", "res_line", "res_trafo", "res_ext_grid", "res_load"):
        assert net[table].empty, table
    assert (net.load["p_mw"] == 0).all() and (net.sgen["p_mw"] == 0).all()
