"""The `scenario.yaml` of a result folder: the scenario file's own bytes, or, for a
scenario given as an object (the Python API, a sweep case), the scenario written as YAML.

Either way the folder holds the scenario it was solved from and `summary.json` its
sha256, so exports (Slurm, Kubernetes) name a real hash and `microgrid run` and
`microgrid.run(...).write()` write the same folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from microgrid.scenario import Scenario
from microgrid.yamlio import dump_yaml


def _with_paths_resolved(as_python: object, as_json: object, scenario: Scenario) -> object:
    """``as_json`` (the model dumped as JSON types) with every path that ``as_python`` holds
    made absolute: the written copy names the same data files from any folder."""
    if isinstance(as_python, Path):
        return str(scenario.resolve(as_python).absolute())
    if isinstance(as_python, dict):
        return {k: _with_paths_resolved(as_python[k], v, scenario) for k, v in as_json.items()}
    if isinstance(as_python, list | tuple):
        return [
            _with_paths_resolved(p, j, scenario) for p, j in zip(as_python, as_json, strict=True)
        ]
    return as_json


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


def scenario_sha256(scenario: Scenario, path: Path | None) -> str:
    """The sha256 (hex) of ``scenario_bytes(scenario, path)``."""
    return hashlib.sha256(scenario_bytes(scenario, path)).hexdigest()
