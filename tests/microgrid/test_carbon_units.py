"""Carbon intensities whose size says they are not g/kWh (microgrid/carbon_units.py): a
kg/kWh file (values about 0.1-0.5) passed the [0, 10000] range check and every emission
came out 1000 times too small. Above 1,600 g/kWh no grid or generator emits: refused with
the unit the values look like. Below 2 at most, real g/kWh are possible (a hydro grid's
direct emissions): a warning (`validate`, `run`, summary.json's `warnings`).

The scenario is TINY (two days from Monday 2023-01-02, UTC) reading a copy of ERCOT's
2023 file cut to 2023-01-01 .. 2023-01-05 (rows at lines 2..121), its carbon converted.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, ROOT, TINY

import microgrid
from microgrid.carbon_units import CARBON_CEILING_G_PER_KWH, CARBON_FLOOR_G_PER_KWH
from microgrid.cli import main
from microgrid.signals import load_signals

ERCOT = DATA / "grid-signals" / "ercot-2023.csv"
CARBON = "carbon_direct_g_per_kwh"


def ercot_rows() -> pd.DataFrame:
    rows = pd.read_csv(ERCOT)
    return rows[(rows["timestamp_utc"] >= "2023-01-01") & (rows["timestamp_utc"] < "2023-01-06")]


def write(tmp_path, data: dict) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def csv_case(tmp_path, rows: pd.DataFrame) -> tuple[str, str]:
    csv = tmp_path / "signals.csv"
    csv.write_text(rows.to_csv(index=False))
    data = copy.deepcopy(TINY)
    data["signals"] = {"csv": str(csv)}
    return write(tmp_path, data), str(csv)


def warnings_of(capsys, path: str) -> list[str]:
    """`microgrid validate PATH`'s warning lines; it must pass (exit 0, no traceback)."""
    assert main(["validate", path]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_kg_per_kwh_file_is_a_warning_naming_its_file_and_column(tmp_path, capsys):
    rows = ercot_rows()
    rows[CARBON] = rows[CARBON] / 1000  # kg/kWh
    path, csv = csv_case(tmp_path, rows)
    [line] = warnings_of(capsys, path)
    assert line.startswith(
        f"warning: signals.csv, column {CARBON}: the largest carbon intensity is "
    )
    assert "kg/kWh or t/MWh" in line and "give g/kWh (x1000)" in line
    # the same file in g/kWh: no warning
    path, _ = csv_case(tmp_path, ercot_rows())
    assert warnings_of(capsys, path) == []


def test_run_keeps_the_carbon_warning_in_the_summary(tmp_path):
    data = copy.deepcopy(TINY)
    data["signals"] = {"price_usd_per_mwh": 50, "carbon_g_per_kwh": 0.45}
    out = tmp_path / "out"
    assert main(["run", write(tmp_path, data), "--out", str(out), "--no-powerflow", "--quiet"]) == 0
    [warning] = json.loads((out / "summary.json").read_text())["warnings"]
    assert warning.startswith("signals.carbon_g_per_kwh: the largest carbon intensity is 0.45")


def test_a_lb_per_mwh_file_is_refused_at_its_first_value_above_the_ceiling(tmp_path, capsys):
    rows = ercot_rows()
    rows[CARBON] = (rows[CARBON] * 2.20462 * 2).round(1)  # a coal-heavy grid, in lb/MWh
    path, csv = csv_case(tmp_path, rows)
    line = one_error_line(capsys, ["validate", path])
    first = int(np.argmax(rows[CARBON].to_numpy() > CARBON_CEILING_G_PER_KWH))
    assert line.startswith(f"error: {csv}, line {first + 2}, field {CARBON}: ")
    assert "look like lb/MWh: give g/kWh (x0.4536)" in line


def test_a_g_per_mwh_file_gets_its_own_hint(tmp_path, capsys):
    rows = ercot_rows()
    rows[CARBON] = rows[CARBON] * 1000
    path, _ = csv_case(tmp_path, rows)
    assert "look like g/MWh: give g/kWh (/1000)" in one_error_line(capsys, ["validate", path])


def test_clean_hours_and_a_carbon_free_file_pass(tmp_path):
    """The floor is on the series' largest value: hours near 0 are a clean grid's."""
    rows = ercot_rows()
    rows[CARBON] = 0.0
    rows.iloc[30, rows.columns.get_loc(CARBON)] = CARBON_FLOOR_G_PER_KWH
    path, _ = csv_case(tmp_path, rows)
    assert load_signals(microgrid.load_scenario(path))["carbon_g_per_kwh"].max() <= 2.0
    rows[CARBON] = 0.0
    path, _ = csv_case(tmp_path, rows)
    assert load_signals(microgrid.load_scenario(path))["carbon_g_per_kwh"].max() == 0.0


@pytest.mark.parametrize("name", ["ercot-2023.csv", "caiso-2023.csv", "pjm-2023.csv"])
@pytest.mark.parametrize("column", [CARBON, "carbon_lifecycle_g_per_kwh"])
def test_the_shipped_signal_files_pass(tmp_path, name, column):
    data = copy.deepcopy(TINY)
    data["signals"] = {"csv": str(DATA / "grid-signals" / name), "carbon_column": column}
    signals = load_signals(microgrid.load_scenario(write(tmp_path, data)))
    assert signals["carbon_g_per_kwh"].min() > 0


def test_the_shipped_scenarios_pass():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_signals(microgrid.load_scenario(path))


def _line_of(path: str, text: str) -> int:
    lines = Path(path).read_text().splitlines()
    return [n for n, t in enumerate(lines, 1) if text in t][0]


@pytest.mark.parametrize(
    ("value", "hint"),
    [(1_900, "looks like lb/MWh"), (450_000, "g/MWh")],
)
def test_a_constant_in_another_unit_is_refused(tmp_path, capsys, value, hint):
    data = copy.deepcopy(TINY)
    data["signals"] = {"price_usd_per_mwh": 50, "carbon_g_per_kwh": value}
    path = write(tmp_path, data)
    line = one_error_line(capsys, ["validate", path])
    where = _line_of(path, "carbon_g_per_kwh:")
    assert line.startswith(f"error: {path}, line {where}, field signals.carbon_g_per_kwh: ")
    assert hint in line


def test_bands_are_a_series_and_a_generator_a_value(tmp_path, capsys):
    data = copy.deepcopy(TINY)
    for band, carbon in zip(data["signals"]["time_of_use"], [0.3, 0.5, 0.2], strict=True):
        band["carbon_g_per_kwh"] = carbon
    [line] = warnings_of(capsys, write(tmp_path, data))
    assert line.startswith("warning: signals.time_of_use (carbon_g_per_kwh): the largest ")
    assert "is 0.5 g/kWh" in line
    data["signals"]["time_of_use"][1]["carbon_g_per_kwh"] = 300  # the others: clean hours
    assert warnings_of(capsys, write(tmp_path, data)) == []
    data["generators"] = [{"capacity_mw": 5, "fuel_usd_per_mwh": 100, "carbon_g_per_kwh": 0.7}]
    [line] = warnings_of(capsys, write(tmp_path, data))
    assert line.startswith("warning: generators.0.carbon_g_per_kwh: the largest carbon ")
    data["generators"][0]["carbon_g_per_kwh"] = 2_000
    line = one_error_line(capsys, ["validate", write(tmp_path, data)])
    assert "field generators.0.carbon_g_per_kwh: carbon intensity 2000 g/kWh is above" in line
