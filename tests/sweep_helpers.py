"""Sweep test helpers: small specs over the shipped R1 scenarios, records, waiting."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
STANDIN = "microgrid.sweeps.standin:run_case"


def write_spec(folder: Path, body: str, base: str = "ercot-dallas.yaml") -> Path:
    """A spec file whose base is a shipped scenario (absolute path)."""
    path = folder / "spec.yaml"
    path.write_text(f"name: test\nbase: {ROOT / 'scenarios' / base}\n{body}")
    return path


def records(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "records").glob("*.json")}


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
