"""The Python API and the CLI write the same result folder: `scenario.yaml` is always
there (the file byte for byte, or the scenario object as YAML) and `summary.json` holds
the scenario's digest (its fields, data files by their bytes), which the Slurm export
names."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml
from scenario_factory import ROOT, TINY

import microgrid
from microgrid.cli import main
from microgrid.scenario import Scenario, load_scenario
from microgrid.scenario_yaml import scenario_as_yaml, scenario_digest

R1 = ROOT / "scenarios" / "ercot-dallas.yaml"


def _summary_sha(out: Path) -> str:
    return json.loads((out / "summary.json").read_text())["scenario"]["sha256"]


def test_api_writes_the_scenario_object_and_the_slurm_export_names_its_hash(tmp_path, capsys):
    scenario = Scenario.model_validate(copy.deepcopy(TINY))  # no file behind it
    result = microgrid.run(scenario, powerflow=False, baselines=False)
    out = result.write(tmp_path / "run")
    written = out / "scenario.yaml"
    sha = scenario_digest(scenario)
    assert _summary_sha(out) == sha == result.summary["scenario"]["sha256"]
    assert result.summary["scenario"]["path"] is None  # there is no file to name
    back = load_scenario(written)
    assert scenario_digest(back) == sha  # the folder's scenario.yaml: the same digest
    assert back.model_dump() == scenario.model_dump()
    assert back.grid.demand_charge_usd_per_kw_month == 1.0

    assert main(["export", str(out), "--to", "slurm", "--out", str(tmp_path / "slurm")]) == 0
    scripts = sorted((tmp_path / "slurm").glob("*.sbatch"))
    segments = (out / "jobs.csv").read_text().strip().splitlines()[1:]
    assert len(scripts) == len(segments) >= 1  # one script per run segment of the job
    for script in scripts:
        text = script.read_text()
        assert f"sha256 {sha}," in text and "sha256 None" not in text
    capsys.readouterr()


def test_a_scenario_file_is_copied_byte_for_byte(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("# comments and key order are the user's\n" + yaml.safe_dump(TINY))
    out = microgrid.run(path, powerflow=False, baselines=False).write(tmp_path / "run")
    assert (out / "scenario.yaml").read_bytes() == path.read_bytes()
    assert _summary_sha(out) == scenario_digest(load_scenario(path))  # comments left out


def test_scenario_as_yaml_reads_back_equal_with_absolute_data_paths(tmp_path):
    r1 = load_scenario(R1)
    copy_path = tmp_path / "elsewhere" / "scenario.yaml"
    copy_path.parent.mkdir()
    copy_path.write_text(scenario_as_yaml(r1))
    back = load_scenario(copy_path)  # its data paths still resolve from another folder
    assert back.signals.csv == R1.parent / "data" / "grid-signals" / "ercot-2023.csv"
    assert back.weather.path == R1.parent / "data" / "weather" / "dallas-2023.csv"
    assert back.jobs.csv == R1.parent / "data" / "jobs" / "reference-week.csv"
    assert back.signals.csv.is_file() and back.weather.path.is_file() and back.jobs.csv.is_file()
    paths = {"signals": {"csv"}, "weather": {"path"}, "jobs": {"csv"}}
    assert back.model_dump(exclude=paths) == r1.model_dump(exclude=paths)
    assert scenario_as_yaml(back) == scenario_as_yaml(r1)  # absolute paths stay as they are


def test_texts_that_read_as_numbers_are_quoted(tmp_path):
    """A name or account `1e3` (YAML 1.2 reads it as a number, 1.1 did not) was written
    bare: the case's scenario.yaml then failed `export` ("should be a valid string")."""
    data = copy.deepcopy(TINY)
    data["name"], data["description"] = "1e3", "2.0e2"
    data["export"] = {"slurm": {"account": "1e5", "partition": "010"}}
    scenario = Scenario.model_validate(data)
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario_as_yaml(scenario))
    back = load_scenario(path)
    assert (back.name, back.description) == ("1e3", "2.0e2")
    assert (back.export.slurm.account, back.export.slurm.partition) == ("1e5", "010")
