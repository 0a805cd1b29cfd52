"""Sweep test helpers: small specs over the shipped R1 scenarios, records, waiting."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
STANDIN = "microgrid.sweeps.standin:run_case"

# Five cases of the sweep runner and Dask tests: three ok, one failing, one past a 1 s limit.
MIXED = """\
cases:
  - {period.start: "2023-03-06T00:00", period.end: "2023-03-09T00:00", battery.energy_mwh: 0}
  - {period.start: "2023-03-06T00:00", period.end: "2023-03-09T00:00", battery.energy_mwh: 200}
  - {period.start: "2023-08-21T00:00", period.end: "2023-08-24T00:00", battery.energy_mwh: 200}
  # 2024: outside the signal file -> the case raises
  - {period.start: "2024-03-04T00:00", period.end: "2024-03-07T00:00", battery.energy_mwh: 0}
  # half a year of 15-minute steps: a few seconds, past the 1 s limit
  - {period.start: "2023-01-01T00:00", period.end: "2023-07-01T00:00", period.step_minutes: 15,
     battery.energy_mwh: 100}
"""

# Twelve quarter-year cases (sigkill and re-run tests): each takes seconds to solve.
SLOW12 = """\
axes:
  zip:
    period.start: ["2023-01-01T00:00", "2023-04-01T00:00", "2023-07-01T00:00", "2023-10-01T00:00"]
    period.end: ["2023-04-01T00:00", "2023-07-01T00:00", "2023-10-01T00:00", "2024-01-01T00:00"]
  battery.energy_mwh: [0, 100, 200]
"""


# Three one-week cases of the 2023 year scenario (tens of ms each with the stand-in); the
# second (100 MWh) is where the kill-point and time-limit tests strike.
THREE_WEEKS = """\
axes:
  period.start: ["2023-03-06T00:00"]
  period.end: ["2023-03-13T00:00"]
  battery.energy_mwh: [0, 100, 200]
"""


def three_weeks(folder: Path) -> Path:
    """The spec file of THREE_WEEKS on ercot-dallas-2023.yaml, in `folder`."""
    return write_spec(folder, THREE_WEEKS, base="ercot-dallas-2023.yaml")


def write_spec(folder: Path, body: str, base: str = "ercot-dallas.yaml") -> Path:
    """A spec file whose base is a shipped scenario (absolute path)."""
    path = folder / "spec.yaml"
    path.write_text(f"name: test\nbase: {ROOT / 'scenarios' / base}\n{body}")
    return path


def records(out: Path) -> dict[str, dict]:
    # not the hidden temp files of records being written (`.ID.json.tmp-XXXX.json`)
    return {p.stem: json.loads(p.read_text()) for p in (out / "records").glob("[!.]*.json")}


def result_dirs(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "cases").iterdir() if not p.name.startswith("."))


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def wait_for(cond, timeout_s: float, what: str, poll_s: float = 0.1):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        v = cond()
        if v:
            return v
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def check_consistent(out, n_cases=None):
    """Every row has a record, no duplicate rows, result dirs exactly for ok records."""
    recs = records(out)
    df = pd.read_parquet(out / "cases.parquet")
    assert df["case_id"].is_unique
    assert set(df["case_id"]) <= set(recs)
    ok = sorted(k for k, r in recs.items() if r["status"] == "ok")
    assert result_dirs(out) == ok
    for k in ok:
        assert (out / "cases" / k / "summary.json").exists()
    if n_cases is not None:
        assert len(recs) == len(df) == n_cases
    return recs, df
