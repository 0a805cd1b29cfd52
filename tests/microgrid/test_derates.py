"""`events.derates` as microgrid/assemble.py applies them, and as the schema says."""

from __future__ import annotations

import copy

import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.assemble import build_problem, load_inputs
from microgrid.scenario_events import Derate


def _derate(start: str, end: str, frac: float) -> dict:
    return {"start": start, "end": end, "asset": "battery", "available_frac": frac}


def test_battery_derates_combine_as_the_minimum_on_whole_steps(tmp_path):
    """0.8 over 10:00-13:00 and 0.5 over 11:30-12:00 (half of step 11): steps 10 and 12
    at 0.8, step 11 whole at 0.5 (the minimum, not 0.4); the battery's energy stays."""
    data = copy.deepcopy(TINY)
    data["events"] = {
        "derates": [
            _derate("2023-01-02T10:00", "2023-01-02T13:00", 0.8),
            _derate("2023-01-02T11:30", "2023-01-02T12:00", 0.5),
        ]
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = microgrid.load_scenario(path)
    battery = build_problem(scenario, load_inputs(scenario)).battery
    assert battery.available_frac[9:14] == pytest.approx([1.0, 0.8, 0.5, 0.8, 1.0])
    assert battery.energy_mwh == TINY["battery"]["energy_mwh"]
    doc = " ".join(Derate.__doc__.split())
    for words in ("scaled, not its energy", "minimum of their fractions", "the whole step"):
        assert words in doc
