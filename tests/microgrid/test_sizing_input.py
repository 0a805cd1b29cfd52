"""Bad sizing input: one line naming file, line and field, exit code 2, through
`microgrid size` and `microgrid validate`; no output folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

from microgrid.scenario import load_scenario

PV_BLOCK = {"capex_usd_per_mw": 1.0e6, "lifetime_years": 30, "max_mw": 50}


def _write(tmp_path, **sizing) -> str:
    sc = copy.deepcopy(TINY)
    sc["sizing"] = sizing
    path = tmp_path / "sized.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False))
    return str(path)


def _line_of(path: str, text: str) -> int:
    lines = Path(path).read_text().splitlines()
    return next(i for i, ln in enumerate(lines, 1) if ln.strip().startswith(text))


@pytest.mark.parametrize("command", ["size", "validate"])
def test_pv_without_pv_section(tmp_path, capsys, command):
    path = _write(tmp_path, pv=PV_BLOCK)  # TINY has no pv section
    out = tmp_path / "out"
    argv = [command, path] + (["--out", str(out)] if command == "size" else [])
    line = one_error_line(capsys, argv)
    assert "sizing.pv" in line and "needs the pv section" in line
    assert f"line {_line_of(path, 'pv:')}," in line  # the line of sizing.pv
    assert not out.exists()


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({**PV_BLOCK, "min_mw": 60}, "field sizing.pv.min_mw: min_mw (60.0) > max_mw (50.0)"),
        (
            {**PV_BLOCK, "existing_mw": 70},
            "field sizing.pv.existing_mw: existing_mw (70.0) > max_mw (50.0)",
        ),
        ({**PV_BLOCK, "lifetime_years": 0}, "field sizing.pv.lifetime_years"),
    ],
)
def test_bounds_and_lifetime(tmp_path, capsys, block, needle):
    path = _write(tmp_path, pv=block)
    out = tmp_path / "out"
    line = one_error_line(capsys, ["size", path, "--out", str(out)])
    assert needle in line, line
    assert not out.exists()


def test_battery_energy_needs_battery(tmp_path, capsys):
    sc = copy.deepcopy(TINY)
    del sc["battery"]
    sc["sizing"] = {
        "battery_energy": {"capex_usd_per_mwh": 3e5, "lifetime_years": 15, "max_mwh": 80}
    }
    path = tmp_path / "nobattery.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False))
    line = one_error_line(capsys, ["size", str(path), "--out", str(tmp_path / "o")])
    assert "sizing.battery_energy" in line and "battery section" in line


def test_unknown_generator(tmp_path, capsys):
    block = {"capex_usd_per_mw": 8e5, "lifetime_years": 20, "max_mw": 30}
    path = _write(tmp_path, generators={"diesel": block})
    line = one_error_line(capsys, ["validate", path])
    assert "sizing.generators.diesel" in line and "no generator named 'diesel'" in line


def test_no_sizing_section(tmp_path, capsys):
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(TINY))
    line = one_error_line(capsys, ["size", str(path), "--out", str(tmp_path / "o")])
    assert "sizes no asset" in line and "plain.yaml" in line
    assert ", field sizing: " in line  # the audit: no field was named


def test_refuses_a_foreign_folder(tmp_path, capsys):
    # a valid sizing scenario (TINY has a battery): the folder is what is refused
    energy = {"capex_usd_per_mwh": 3e5, "lifetime_years": 15, "max_mwh": 80}
    path = _write(tmp_path, battery_energy=energy)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    line = one_error_line(capsys, ["size", path, "--out", str(out)])
    assert "did not write" in line
    assert (out / "notes.txt").read_text() == "keep"


def test_defaults_and_dict_of_generators(tmp_path):
    sc = copy.deepcopy(TINY)
    sc["generators"] = [
        {"name": "gas-1", "capacity_mw": 0, "fuel_usd_per_mwh": 90, "carbon_g_per_kwh": 450}
    ]
    sc["sizing"] = {
        "generators": {"gas-1": {"capex_usd_per_mw": 8e5, "lifetime_years": 20, "max_mw": 30}}
    }
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False))
    s = load_scenario(path).sizing
    assert (s.discount_rate, s.analysis_years, s.method, s.flexibility) == (
        0.07,
        20,
        "price-fix",
        False,
    )
    g = s.generators["gas-1"]
    assert (g.min_mw, g.existing_mw, g.fixed_om_usd_per_mw_year) == (0.0, 0.0, 0.0)


def test_a_connection_capped_below_the_load_names_its_sizing_bound(tmp_path, capsys):
    """TINY's 11 MW load (10 MW inference at PUE 1.1) behind a connection sized up to
    8 MW: no plan exists. The line names the bound that caps it, sizing.grid_import.max_mw
    and its line (grid.import_max_mw, 100 MW in the file, is not the limit the sizing
    holds), and no override the user never made (the sizing's own one-solve settings)."""
    grid_import = {"capex_usd_per_mw": 1e5, "lifetime_years": 40, "max_mw": 8}
    path = _write(tmp_path, grid_import=grid_import)
    line = one_error_line(capsys, ["size", path, "--out", str(tmp_path / "o")])
    assert "infeasible scenario" in line and "limit of 8 MW" in line
    assert f"line {_line_of(path, 'max_mw:')}, field sizing.grid_import.max_mw:" in line, line
    assert "override" not in line
