"""End to end through the `microgrid` CLI and the real pipeline (`microgrid.run`)."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
from sweep_helpers import PY, ROOT, env, records, result_dirs, write_spec

REAL = """\
cases:
  - {period.start: "2023-08-21T00:00", period.end: "2023-08-23T00:00", battery.energy_mwh: 0,
     battery.power_mw: 0}
  - {period.start: "2023-08-21T00:00", period.end: "2023-08-23T00:00", battery.energy_mwh: 200,
     battery.power_mw: 50}
  # outside the shipped 2023 data: the real pipeline raises, the sweep goes on
  - {period.start: "2025-08-18T00:00", period.end: "2025-08-20T00:00", battery.energy_mwh: 0,
     battery.power_mw: 0}
"""


@pytest.mark.slow
def test_cli_sweep_with_the_real_pipeline(tmp_path):
    spec = write_spec(tmp_path, REAL, base="ercot-dallas-2023.yaml")
    out = tmp_path / "out"
    cmd = [PY, "-m", "microgrid.cli", "sweep", str(spec), "--out", str(out), "--workers", "2"]
    cmd += ["--no-powerflow", "--no-baselines"]
    r = subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stderr  # one case failed
    assert "2 ok, 1 failed" in r.stdout, r.stdout + r.stderr
    df = pd.read_parquet(out / "cases.parquet")
    assert df["status"].tolist() == ["ok", "ok", "failed"]
    assert df.loc[2, "error"]
    # The KPIs are the pipeline's, read back from its own result directory.
    for _, row in df.iloc[:2].iterrows():
        summary = json.loads((out / "cases" / row["case_id"] / "summary.json").read_text())
        assert summary["total_cost_usd"] == row["total_cost_usd"]
        assert summary["solver"]["status"] == row["solver.status"]
    assert df.loc[1, "total_cost_usd"] < df.loc[0, "total_cost_usd"]  # the battery pays
    assert result_dirs(out) == sorted(df["case_id"][:2])
    assert len(records(out)) == 3

    rep = subprocess.run(
        [PY, "-m", "microgrid.cli", "sweep-report", str(out)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rep.returncode == 0, rep.stderr
    assert (out / "report.html").stat().st_size > 1000
    assert (out / "report" / "pareto.csv").exists()

    bad = write_spec(tmp_path, "axes:\n  battery.energy_mwh: [100, -1]\n")
    r = subprocess.run(
        [PY, "-m", "microgrid.cli", "sweep", str(bad), "--out", str(tmp_path / "bad")],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2
    assert "battery.energy_mwh = -1" in r.stderr and "line 4" in r.stderr
    assert not (tmp_path / "bad").exists()
