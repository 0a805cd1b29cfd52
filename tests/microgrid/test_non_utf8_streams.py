"""A run finishes (exit 0, its folder written) when stdout is not UTF-8 or the file
system's encoding is ASCII: the reproducibility audit's `PYTHONIOENCODING=ascii` and
`LC_ALL=C PYTHONUTF8=0` runs of a non-ASCII scenario ended as "internal error", exit 1
(the summary's print of the name; pyarrow refusing a surrogate-escaped parquet path)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scenario_factory import ROOT, TINY

NAME = "tiny-zürich ☀"
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def _scenario(folder: Path) -> Path:
    folder.mkdir(parents=True)
    sc = copy.deepcopy(TINY)
    sc["name"] = NAME
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return path


def _run(cwd: Path, scenario: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHON"))}
    full_env.update(env, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "microgrid.cli", "run", str(scenario), "--out", str(out)]
    return subprocess.run(
        [*argv, "--no-powerflow", "--quiet"], cwd=cwd, env=full_env, capture_output=True
    )


def _check_written(out: Path) -> None:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["name"] == NAME
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 48
    assert (out / "report.html").is_file() and (out / "dispatch.png").is_file()


@pytest.mark.parametrize(
    "env", [{"PYTHONIOENCODING": "ascii"}, C_LOCALE], ids=["ascii-stdout", "C-locale"]
)
def test_a_non_ascii_name_on_an_ascii_stdout_finishes(tmp_path, env):
    scenario = _scenario(tmp_path / "in")
    done = _run(tmp_path, scenario, tmp_path / "out", env)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"internal error" not in done.stderr
    assert b"tiny-z\\xfcrich \\u2600" in done.stdout  # the name, escaped
    _check_written(tmp_path / "out")


def test_a_non_ascii_folder_under_an_ascii_file_system_encoding_finishes(tmp_path):
    folder = tmp_path / "dir with spaces" / "ünïcødé ☀"
    scenario = _scenario(folder / "in")
    done = _run(tmp_path, scenario, folder / "out", C_LOCALE)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"internal error" not in done.stderr
    _check_written(folder / "out")
