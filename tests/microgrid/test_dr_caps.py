"""`events.demand_response` caps (microgrid/dispatch.py:demand_response_caps): a fractional
cap is a share of the baseline run, the scenario solved without any of the requests."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scenario_factory import TINY

import microgrid
from microgrid.assemble import load_inputs
from microgrid.dispatch import demand_response_caps
from microgrid.scenario_events import DemandResponse


def test_fractional_caps_share_one_baseline_without_any_window(tmp_path):
    """Two fractional windows on 11 MW of inflexible load: both caps are their fraction of
    the run with neither window (11 MW); the schema (and so docs/scenario-reference.md)
    says so: it had said "without this window"."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["jobs"] = {"items": []}
    data.pop("battery")  # no battery: the baseline is the load itself
    data["events"] = {
        "demand_response": [
            {
                "start": "2023-01-02T10:00",
                "end": "2023-01-02T12:00",
                "cap_fraction_of_baseline": 1.0,
            },
            {
                "start": "2023-01-02T14:00",
                "end": "2023-01-02T15:00",
                "cap_fraction_of_baseline": 0.5,
            },
        ]
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = microgrid.load_scenario(path)
    caps = demand_response_caps(scenario, load_inputs(scenario))
    assert caps[[10, 11, 14]] == pytest.approx([11.0, 11.0, 5.5])
    assert np.isnan(caps[[9, 12, 13, 15]]).all()
    doc = " ".join(DemandResponse.__doc__.split())
    assert "without any `events.demand_response` window" in doc
    assert "without this window" not in doc
