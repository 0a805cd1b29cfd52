"""Per-MW renewable profiles: profile × the template's size is its available power, and
the resource models scale linearly with the size (what sizing relies on)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scenario_factory import TINY, small_scenario

from microgrid.assemble import load_inputs
from microgrid.scenario import Scenario
from microgrid.sizing.profiles import template_mw, unit_profile
from weather.wind import turbine_rated_mw


def _scenario(data: dict) -> Scenario:
    return Scenario.model_validate({**data, "base_dir": "."})


def _pv(dc_mw: float, ac_mw: float, derate: bool = False) -> Scenario:
    sc = copy.deepcopy(TINY)
    sc["pv"] = {"dc_mw": dc_mw, "ac_mw": ac_mw}
    if derate:
        sc["events"] = {
            "derates": [
                {
                    "asset": "pv",
                    "start": "2023-01-02T10:00",
                    "end": "2023-01-02T14:00",
                    "available_frac": 0.5,
                }
            ]
        }
    return _scenario(sc)


def test_pv_profile_is_per_mwdc_and_linear():
    small, large = _pv(10, 8), _pv(25, 20)  # the same dc/ac ratio
    p_small = unit_profile(small, inputs := load_inputs(small), "pv")
    assert np.allclose(p_small * 10, inputs.frame["pv_available_mw"].to_numpy())
    assert p_small.max() > 0.3  # clear sky at the equator
    p_large = unit_profile(large, load_inputs(large), "pv")
    assert np.allclose(p_small, p_large, atol=1e-9)


def test_pv_profile_keeps_derates():
    plain = unit_profile(s := _pv(10, 8), load_inputs(s), "pv")
    derated = unit_profile(s := _pv(10, 8, derate=True), load_inputs(s), "pv")
    assert np.allclose(derated[10:14], 0.5 * plain[10:14])
    assert np.allclose(derated[:10], plain[:10]) and np.allclose(derated[14:], plain[14:])


def test_wind_profile_is_per_mw_of_nameplate():
    scenario = _scenario(small_scenario())  # R1's 12 x E-126/4200, two days of Dallas
    nameplate = 12 * turbine_rated_mw("E-126/4200")
    assert template_mw(scenario, "wind") == pytest.approx(nameplate)
    assert 40 < nameplate < 60  # 12 turbines of about 4.2 MW
    inputs = load_inputs(scenario)
    profile = unit_profile(scenario, inputs, "wind")
    assert np.allclose(profile * nameplate, inputs.frame["wind_available_mw"].to_numpy())
    assert profile.min() >= 0 and 0.1 < profile.max() <= 1 + 1e-9
