"""The `scenario.yaml` of a result folder: the scenario file's own bytes, or, for a
scenario given as an object (the Python API, a sweep case), the scenario written as YAML.

Either way the folder holds the scenario it was solved from. `summary.json` names the
scenario by its digest (`scenario_digest`): its fields with each data file by the sha256
of its bytes, not by its path, so the same scenario and data give the same digest, and
result id, wherever they live and whether `microgrid run`, `microgrid.run(...)` or a sweep
solved them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from microgrid.datafiles import file_sha256
from microgrid.scenario import Scenario
from microgrid.yamlio import dump_yaml

# Bumped if what the digest covers changes (its hashes then change on purpose).
DIGEST_FORMAT = "microgrid-scenario-digest/1"


def _paths_mapped(as_python: object, as_json: object, on_path: Callable[[Path], object]) -> object:
    """``as_json`` (the model dumped as JSON types) with every path that ``as_python`` holds
    replaced by ``on_path(path)``."""
    if isinstance(as_python, Path):
        return on_path(as_python)
    if isinstance(as_python, dict):
        return {k: _paths_mapped(as_python[k], v, on_path) for k, v in as_json.items()}
    if isinstance(as_python, list | tuple):
        return [_paths_mapped(p, j, on_path) for p, j in zip(as_python, as_json, strict=True)]
    return as_json


def _with_paths_resolved(as_python: object, as_json: object, scenario: Scenario) -> object:
    """``as_json`` with every path made absolute: the written copy names the same data
    files from any folder."""
    return _paths_mapped(as_python, as_json, lambda p: str(scenario.resolve(p).absolute()))


def scenario_digest(scenario: Scenario) -> str:
    """The sha256 (hex) of what a result is solved from: every field of the scenario
    (defaults too; not its file's comments, key order or layout, nor where it lives) with
    each data file it names given by the sha256 of the file's bytes instead of its path.
    `summary.json["scenario"]["sha256"]`, which the result id and the exports use."""

    def file_ref(p: Path) -> dict:
        return {"file_sha256": file_sha256(scenario.resolve(p))}

    fields = _paths_mapped(
        scenario.model_dump(mode="python"), scenario.model_dump(mode="json"), file_ref
    )
    text = json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(f"{DIGEST_FORMAT}\n{text}".encode()).hexdigest()


def scenario_file_name(path: Path | None) -> str | None:
    """`summary.json["scenario"]["path"]`: the scenario file's name without its folders
    (None for a scenario given as an object). Results name no absolute path: they do not
    depend on where they were run, and files sent to a cluster carry no user's home."""
    return None if path is None else Path(path).name


def scenario_as_yaml(scenario: Scenario) -> str:
    """The scenario as YAML text that `load_scenario` reads back to an equal scenario
    (every field written, defaults too; relative data paths made absolute)."""
    data = _with_paths_resolved(
        scenario.model_dump(mode="python"), scenario.model_dump(mode="json"), scenario
    )
    return dump_yaml(data, sort_keys=False, allow_unicode=True, width=100)


def scenario_bytes(scenario: Scenario, path: Path | None) -> bytes:
    """What a result folder's `scenario.yaml` holds: the file at ``path`` byte for byte,
    else ``scenario`` as YAML (UTF-8)."""
    if path is not None:
        return Path(path).read_bytes()
    return scenario_as_yaml(scenario).encode("utf-8")
