"""Write a result directory atomically: timeseries, jobs, summary, plots."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from microgrid.plots import plot_dispatch, plot_swings, plot_voltage

if TYPE_CHECKING:
    from microgrid.run import Result


def _iso_z(index: pd.DatetimeIndex | pd.Series) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in index]


def timeseries_for_file(ts: pd.DataFrame) -> pd.DataFrame:
    """The time series with `timestamp_utc` as its first column in ISO 8601 with Z."""
    out = ts.reset_index(drop=True)
    out.insert(0, "timestamp_utc", _iso_z(ts.index))
    return out


def jobs_for_file(jobs: pd.DataFrame) -> pd.DataFrame:
    out = jobs.copy()
    for col in ("start_utc", "end_utc", "deadline_utc"):
        out[col] = _iso_z(out[col]) if len(out) else out[col]
    return out


def replace_dir(tmp: Path, out: Path) -> None:
    """Swap a finished temp directory into place; an old `out` is removed only after."""
    trash = None
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, trash / out.name)
    os.replace(tmp, out)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _write_mode_outputs(result: Result, tmp: Path) -> None:
    """Mode-specific tables (operate: planned_vs_actual.csv, events.csv, ...) and the
    voltage and swing plots, into the directory before it is swapped in."""
    for name, frame in result.extra_tables.items():
        if isinstance(frame.index, pd.DatetimeIndex):
            stamps = _iso_z(frame.index)
            frame = frame.reset_index(drop=True)
            frame.insert(0, "timestamp_utc", stamps)
        frame.to_csv(tmp / name, index=False, float_format="%.9g")
    ts = result.timeseries
    if "dc_bus_vm_pu" in ts and ts["dc_bus_vm_pu"].notna().any():
        n = result.scenario.network
        plot_voltage(ts, result.scenario, tmp / "voltage.png", n.vm_min_pu, n.vm_max_pu)
    if "swings_profile.csv" in result.extra_tables:
        plot_swings(
            result.extra_tables["swings_profile.csv"],
            result.summary.get("swings", {}),
            tmp / "swings.png",
        )


def write_result_dir(result: Result, out: Path) -> Path:
    """Build the result directory beside `out`, then rename it into place."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        ts = timeseries_for_file(result.timeseries)
        ts.to_csv(tmp / "timeseries.csv", index=False, float_format="%.9g")
        ts.to_parquet(tmp / "timeseries.parquet", index=False)
        jobs_for_file(result.jobs).to_csv(tmp / "jobs.csv", index=False, float_format="%.9g")
        (tmp / "jobs_spec.json").write_text(json.dumps(result.jobs_spec, indent=2) + "\n")
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        if len(result.violations):
            result.violations.to_csv(tmp / "violations.csv", index=False)
        if result.scenario_path is not None:
            shutil.copyfile(result.scenario_path, tmp / "scenario.yaml")
        plot_dispatch(result.timeseries, result.scenario, tmp / "dispatch.png")
        _write_mode_outputs(result, tmp)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
