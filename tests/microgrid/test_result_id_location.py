"""The result id, the scenario digest and every export depend on what the result is solved
from (the scenario's fields and its data files' bytes), never on where the files live
nor on which entry point ran them (the reproducibility audit: the id hashed the
scenario's absolute path)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import yaml
from scenario_factory import DATA, TINY

import microgrid
from microgrid.cli import main
from microgrid.scenario import load_scenario
from microgrid.scenario_yaml import scenario_as_yaml, scenario_digest

EXPORTS = (
    ("json", []),
    ("csv", []),
    ("slurm", []),
    ("kubernetes", ["--image", "registry.example/train:1"]),
)


def _scenario_in(folder: Path) -> Path:
    """TINY with its prices and carbon read from a data file beside it, named relatively."""
    (folder / "data").mkdir(parents=True)
    shutil.copy(DATA / "grid-signals" / "ercot-2023.csv", folder / "data" / "signals.csv")
    sc = copy.deepcopy(TINY)
    sc["signals"] = {
        "csv": "data/signals.csv",
        "price_column": "price_usd_per_mwh",
        "carbon_column": "carbon_direct_g_per_kwh",
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "timings.json"
    }


def _run_and_export(path: Path, out: Path, capsys) -> dict[str, dict[str, bytes]]:
    run_dir = out / "run"
    argv = ["run", str(path), "--out", str(run_dir), "--no-powerflow", "--quiet"]
    assert main(argv) == 0
    folders = {"run": _files(run_dir)}
    for kind, extra in EXPORTS:
        target = out / f"export-{kind}"
        assert main(["export", str(run_dir), "--to", kind, "--out", str(target), *extra]) == 0
        folders[kind] = _files(target)
    capsys.readouterr()
    return folders


def test_same_scenario_and_data_in_two_folders_give_the_same_id_and_exports(tmp_path, capsys):
    a = _scenario_in(tmp_path / "a")
    b = _scenario_in(tmp_path / "dir with spaces" / "ünïcødé ☀")
    got_a = _run_and_export(a, tmp_path / "out-a", capsys)
    got_b = _run_and_export(b, tmp_path / "out b ☀", capsys)
    for name in got_a:
        assert got_a[name].keys() == got_b[name].keys(), name
        for file, data in got_a[name].items():
            assert data == got_b[name][file], f"{name}/{file}"
    summary = json.loads(got_a["run"]["summary.json"])
    assert summary["scenario"]["path"] == "tiny.yaml"  # no folder named
    for name, files in got_a.items():
        for file, data in files.items():
            assert str(tmp_path).encode() not in data, f"{name}/{file} names a folder"

    # the Python API, on the scenario object, gives the same digest and id as the CLI
    api = microgrid.run(load_scenario(b), powerflow=False, baselines=False)
    assert api.summary["scenario"]["sha256"] == summary["scenario"]["sha256"]
    assert api.summary["result_id"] == summary["result_id"]


def test_digest_follows_the_data_bytes_not_their_path(tmp_path):
    a = _scenario_in(tmp_path / "a")
    b = _scenario_in(tmp_path / "ü b")
    digest = scenario_digest(load_scenario(a))
    assert scenario_digest(load_scenario(b)) == digest
    # a sweep case's object form: absolute data paths, written elsewhere, read back
    copy_path = tmp_path / "case" / "scenario.yaml"
    copy_path.parent.mkdir()
    copy_path.write_text(scenario_as_yaml(load_scenario(b)), encoding="utf-8")
    assert scenario_digest(load_scenario(copy_path)) == digest
    # comments and layout of the file do not count; the data's bytes do
    a.write_text("# a comment\n" + a.read_text(encoding="utf-8"), encoding="utf-8")
    assert scenario_digest(load_scenario(a)) == digest
    signals = b.parent / "data" / "signals.csv"
    signals.write_text(signals.read_text().replace("10.42", "10.43", 1))
    assert scenario_digest(load_scenario(b)) != digest
