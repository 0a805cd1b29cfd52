"""Small scenarios for tests, built from R1 and the shipped data (scenarios/data)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data"


DELETE = object()  # an override value that removes the key


def small_scenario(**overrides) -> dict:
    """Two days of R1's site and assets, no jobs: fast to solve, real data."""
    sc = yaml.safe_load((ROOT / "scenarios" / "ercot-dallas.yaml").read_text())
    sc["period"] = {"start": "2023-08-22T00:00", "end": "2023-08-24T00:00", "step_minutes": 60}
    sc["signals"]["csv"] = str(DATA / "grid-signals" / "ercot-2023.csv")
    sc["weather"]["path"] = str(DATA / "weather" / "dallas-2023.csv")
    sc["jobs"] = {"items": []}
    sc["solver"] = {"time_limit_s": 60, "mip_rel_gap": 1e-4}
    for dotted, value in overrides.items():
        node = sc
        keys = dotted.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is DELETE:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return sc
