"""`microgrid validate` refuses a demand-response cap that no schedule can meet, as `run`
refuses it, without solving (optimize/cap_reach.py): a cap below the site's least net
import (its inflexible load less the battery, renewables and generators at full power), or
one the battery runs empty under before the cap ends; and passes a cap within reach.

The tiny scenario (scenario_factory.TINY): 10 MW of inference at PUE 1.10 (11 MW), a
5 MW / 20 MWh battery starting at half charge, no renewables or generators."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import ROOT, TINY

from microgrid.cli import main
from microgrid.scenario import load_scenario

RUN = ["run", "--quiet", "--no-powerflow", "--no-baselines", "--out"]


def with_cap(tmp_path: Path, start: str, end: str, cap_mw: float) -> Path:
    data = copy.deepcopy(TINY)
    data["events"] = {"demand_response": [{"start": start, "end": end, "cap_mw": cap_mw}]}
    path = tmp_path / "capped.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_error(capsys, tmp_path: Path, path: Path) -> str:
    return one_error_line(capsys, [*RUN, str(tmp_path / "out"), str(path)])


def test_a_cap_below_the_least_net_import_is_refused_with_runs_line(tmp_path, capsys):
    # 11 MW less 5 MW of battery: at least 6 MW of net import, 4 MW above a 2 MW cap
    path = with_cap(tmp_path, "2023-01-02T10:00", "2023-01-02T12:00", 2)
    line = one_error_line(capsys, ["validate", str(path)])
    assert line == run_error(capsys, tmp_path, path)
    assert line.startswith(f"error: {path}, line ") and "field events.demand_response" in line


def test_a_cap_the_battery_runs_empty_under_is_refused(tmp_path, capsys):
    # 4 MW above a 7 MW cap for the first 8 h: more than the battery's charge above its floor
    path = with_cap(tmp_path, "2023-01-02T00:00", "2023-01-02T08:00", 7)
    b = load_scenario(path).battery
    room_mwh = (b.soc_initial_frac - b.soc_min_frac) * b.energy_mwh
    short_mwh = 8 * (11.0 - 7) / b.discharge_efficiency - room_mwh
    line = one_error_line(capsys, ["validate", str(path)])
    number = path.read_text().splitlines().index("  demand_response:") + 1
    assert line == (
        f"error: {path}, line {number}, field events.demand_response: infeasible scenario: "
        f"net import exceeds the demand-response cap by at least {short_mwh:.3g} MWh in all "
        "from 2023-01-02 00:00 to 08:00 UTC: more than the battery holds, with the "
        "renewables and generators at their most"
    )
    assert "field events.demand_response: infeasible scenario" in run_error(capsys, tmp_path, path)


@pytest.mark.parametrize(
    ("start", "end", "cap_mw"),
    [
        ("2023-01-02T10:00", "2023-01-02T12:00", 6),  # the least net import, exactly
        ("2023-01-02T00:00", "2023-01-02T01:00", 7),  # 4.2 MWh of the 8 MWh above the floor
        ("2023-01-03T00:00", "2023-01-03T03:00", 7),  # 12.6 MWh: charged before it
    ],
)
def test_a_cap_within_reach_is_valid_and_runs(tmp_path, capsys, start, end, cap_mw):
    path = with_cap(tmp_path, start, end, cap_mw)
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert main([*RUN, str(tmp_path / "out"), str(path)]) == 0, capsys.readouterr().err


def test_validate_loads_no_solver_for_the_check(tmp_path):
    # `validate` answers at once: the check reads the caps without Pyomo and HiGHS
    path = with_cap(tmp_path, "2023-01-02T10:00", "2023-01-02T12:00", 6)
    code = (
        "import sys; from microgrid.cli import main; "
        f"assert main(['validate', {str(path)!r}]) == 0; print('pyomo' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + str(ROOT / "tests")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "False", out.stderr
