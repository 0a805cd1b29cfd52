"""Fixtures for the microgrid tests: small scenarios written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from scenario_factory import DELETE, small_scenario


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario dict (with dotted overrides) to tmp_path and return its path."""

    def write(name: str = "scenario.yaml", data: dict | None = None, **overrides) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data if data is not None else small_scenario(**overrides)))
        return path

    return write


@pytest.fixture
def delete():
    return DELETE
