"""Write a result directory (timeseries, jobs, summary, plots) through microgrid.resultdir."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from microgrid.atomic import json_text
from microgrid.parquet_files import write_parquet
from microgrid.plots import plot_dispatch, plot_swings, plot_voltage
from microgrid.report_html.page import write_report
from microgrid.result_files import (
    BASELINES_DIR,
    TIME_COLUMN,
    TIMESERIES_CSV,
    TIMESERIES_PARQUET,
    split_timings,
)
from microgrid.resultdir import scenario_inputs, write_dir
from microgrid.scenario import Scenario
from microgrid.scenario_yaml import scenario_bytes

if TYPE_CHECKING:  # only for the annotation: writing a folder needs no baseline code
    from microgrid.baselines import BaselineResult


@dataclass
class Result:
    """A solved scenario (`microgrid.run`); `write(out)` writes its result folder
    (README, "Output"). Units are in the column and key names.

    - `timeseries`: one row per step, tz-aware UTC index of step starts; powers in MW
      (step averages), `battery_soc_mwh` at the end of the step, `price_usd_per_mwh` the
      wholesale price of the signals (not the import price, which adds
      `grid.import_adder_usd_per_mwh` and any tariff energy charge), `carbon_g_per_kwh`,
      `emissions_t` (the step's t CO2e), the power flow's `dc_bus_vm_pu` (pu),
      `max_line_loading_pct` (%), `pcc_import_mw`, `pcc_q_mvar` and `losses_mw` (NaN
      without it), one `job_<id>_mw` per job and `inference_it_mw` (IT power, before
      PUE), one `gen_<name>_mw` per generator, `pue`. To local time:
      `timeseries.tz_convert(result.scenario.site.timezone)`.
    - `jobs`: one row per run segment of a job (tz-aware UTC times, `energy_mwh` the
      job's IT energy, before PUE; `power_fraction_mean` 0..1).
    - `summary`: summary.json's content (costs in USD, emissions in t, energies in MWh);
      `renewable_share` and `solver.mip_gap` are fractions 0..1 (the CLI and the report
      print percent), and the wall-clock seconds `solver.build_s` and `solver.solve_s`
      (`operate.solve_s` in operate), which `write` puts in timings.json instead: two runs
      of the same inputs differ in these alone
      (`microgrid.result_files.split_timings(summary)` splits them off).
    - `net`: the plain pandapower network the plan was checked on (None without the
      power flow), with no step applied and no results: injections at 0 MW and every
      `res_*` table empty, whichever engine ran (docs/network.md: set a step with
      `apply_injections` and run `pandapower.runpp`).
    - `violations`: the power flow's limit violations, one row per step and element
      (`pipeline.violations_table`; violations.csv); empty when there are none.
    - `baselines`: name -> `microgrid.baselines.BaselineResult` (asap, carbon-threshold,
      storage-optimal; empty with `baselines=False`): its `timeseries` has the columns of
      `timeseries` (no power flow: those are NaN), then `<limit>_breach_mw`, on the same
      index (baselines/<name>/timeseries.csv and .parquet); None, with `status` and
      `reason`, for one without a plan (docs/baselines.md).
    """

    scenario: Scenario
    timeseries: pd.DataFrame
    jobs: pd.DataFrame
    summary: dict
    net: object = None
    violations: pd.DataFrame = field(default_factory=pd.DataFrame)
    jobs_spec: list[dict] = field(default_factory=list)
    scenario_path: Path | None = None
    # mode-specific tables written beside the others (operate: planned_vs_actual.csv, ...)
    extra_tables: dict = field(default_factory=dict)
    baselines: dict[str, BaselineResult] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write the result directory atomically: build it beside `out`, then swap it in.

        A failure part-way leaves any earlier `out` untouched and no partial directory.
        """
        return write_result_dir(self, Path(out))

    def __repr__(self) -> str:
        """One line: the scenario, the period, the status and the headline figures. The
        dataclass's own repr printed every table, the summary and the scenario whole
        (30,000 characters for two days), which a notebook cell showed for `res`."""
        s, ts = self.summary, self.timeseries
        solver = s.get("solver") or {}
        span = "no steps"
        if len(ts):  # the period [start, end): the last step's start plus the step
            start, end = ts.index[0], ts.index[-1] + pd.Timedelta(hours=self.scenario.step_h)
            span = f"{len(ts)} steps {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        figures = ", ".join(
            f"{key} {s[key]:,.2f}" for key in ("total_cost_usd", "emissions_t") if key in s
        )
        net = "no net" if self.net is None else "net"
        return (
            f"<Result {self.scenario.name!r}: {s.get('mode', 'plan')}, {span}, "
            f"status {solver.get('status', '?')}, {figures}, {len(self.jobs)} job segments, "
            f"baselines [{', '.join(self.baselines)}], {net}, {len(self.violations)} violations>"
        )


def _iso_z(index: pd.DatetimeIndex | pd.Series) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in index]


def timeseries_for_file(ts: pd.DataFrame) -> pd.DataFrame:
    """The time series with `timestamp_utc` as its first column in ISO 8601 with Z (CSV)."""
    return _with_time_column(_without_negative_zero(ts.reset_index(drop=True)), _iso_z(ts.index))


def timeseries_for_parquet(ts: pd.DataFrame) -> pd.DataFrame:
    """The time series with `timestamp_utc` as its first column, parquet's own UTC
    timestamp (timestamp[us, tz=UTC]): a column, as in the CSV, not the index, so every
    parquet reader sees the same table; microseconds, the unit all of them read (Spark does
    not read nanoseconds), and exact for step starts in whole seconds."""
    times = ts.index.tz_convert("UTC").as_unit("us")
    return _with_time_column(_without_negative_zero(ts.reset_index(drop=True)), times)


def _with_time_column(out: pd.DataFrame, times) -> pd.DataFrame:
    """``out`` with ``times`` as its first column, ``TIME_COLUMN``: joined in one step, as
    inserting a column into a wide frame (a year's hundreds of job columns) made pandas
    warn of a fragmented frame on the user's terminal."""
    first = pd.DataFrame({TIME_COLUMN: times}, index=out.index)
    return pd.concat([first, out], axis=1)


def _without_negative_zero(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with -0.0 (a zero times a negative number, e.g. a plant's step) as 0.0, so
    the CSV never reads `-0`: x + 0.0 is 0.0 for x = -0.0 and x otherwise."""
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats] + 0.0
    return frame


def jobs_for_file(jobs: pd.DataFrame) -> pd.DataFrame:
    out = jobs.copy()
    for col in ("start_utc", "end_utc", "deadline_utc"):
        out[col] = _iso_z(out[col]) if len(out) else out[col]
    return out


def violations_for_file(violations: pd.DataFrame) -> pd.DataFrame:
    """The violations with `timestamp_utc` in ISO 8601 with Z, as in timeseries.csv."""
    out = violations.copy()
    out["timestamp_utc"] = _iso_z(out["timestamp_utc"])
    return out


#: tables written with another float format than the result's 9 significant figures:
#: the bill to the cent (9 figures drop the cents of a line of 10 million USD or more)
_FLOAT_FORMATS = {"bill.csv": "%.2f"}


def _write_mode_outputs(result: Result, tmp: Path) -> None:
    """Mode-specific tables (operate: planned_vs_actual.csv, events.csv, ...) and the
    voltage and swing plots, into the directory before it is swapped in."""
    for name, frame in result.extra_tables.items():
        if isinstance(frame.index, pd.DatetimeIndex):
            stamps = _iso_z(frame.index)
            frame = frame.reset_index(drop=True)
            frame.insert(0, TIME_COLUMN, stamps)
        frame.to_csv(tmp / name, index=False, float_format=_FLOAT_FORMATS.get(name, "%.9g"))
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


def _write_timeseries(ts: pd.DataFrame, folder: Path) -> None:
    """`ts` as timeseries.csv and timeseries.parquet in `folder`."""
    timeseries_for_file(ts).to_csv(folder / TIMESERIES_CSV, index=False, float_format="%.9g")
    write_parquet(timeseries_for_parquet(ts), folder / TIMESERIES_PARQUET)


def _write_baselines(baselines: dict[str, BaselineResult], tmp: Path) -> None:
    """Each baseline's rows as the plan's, in baselines/<name>/; one without a plan
    (storage-optimal infeasible or failed) has no folder: summary.json's `status` and
    `reason` say why."""
    for name, b in baselines.items():
        if b.timeseries is not None:
            folder = tmp / BASELINES_DIR / name
            folder.mkdir(parents=True)
            _write_timeseries(b.timeseries, folder)


def _write_files(result: Result, tmp: Path) -> None:
    """Every file of a result directory, into the folder being built."""
    _write_timeseries(result.timeseries, tmp)
    _write_baselines(result.baselines, tmp)
    jobs_for_file(result.jobs).to_csv(tmp / "jobs.csv", index=False, float_format="%.9g")
    (tmp / "jobs_spec.json").write_text(json_text(result.jobs_spec))
    summary, timings = split_timings(result.summary)
    (tmp / "summary.json").write_text(json_text(summary))
    (tmp / "timings.json").write_text(json_text(timings))
    if len(result.violations):
        violations_for_file(result.violations).to_csv(
            tmp / "violations.csv", index=False, float_format="%.9g"
        )
    # always: the file byte for byte, or the scenario object as YAML (its sha256 is the
    # summary's, which exports name)
    (tmp / "scenario.yaml").write_bytes(scenario_bytes(result.scenario, result.scenario_path))
    plot_dispatch(result.timeseries, result.scenario, tmp / "dispatch.png")
    _write_mode_outputs(result, tmp)
    write_report(tmp)  # last: the page is built from the files above (report.html)


def write_result_dir(result: Result, out: Path) -> Path:
    """Build the result directory beside `out`, then swap it in (microgrid.resultdir:
    only over an empty folder or an earlier run result, never over a folder that holds the
    scenario or a data file it reads; crash-safe). Returns `out` absolute."""
    inputs = [] if result.scenario_path is None else [result.scenario_path]
    inputs += scenario_inputs(result.scenario)
    return write_dir(out, "run", lambda tmp: _write_files(result, tmp), inputs)
