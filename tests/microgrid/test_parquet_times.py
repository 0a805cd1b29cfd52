"""timeseries.parquet stores `timestamp_utc` as parquet's UTC timestamp (timestamp[us,
tz=UTC]), so plain pandas reads a tz-aware column equal to the CSV's ISO text; the
product's readers (export, report) read it, and still read the text timestamps of older
folders' parquet; two runs write the same bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid
from microgrid.cli import main
from microgrid.output import timeseries_for_file, timeseries_for_parquet
from microgrid.report_html.rundir import read_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path, microgrid.Result]:
    """The tiny case run twice, each written to its own folder, and the first result."""
    folder = tmp_path_factory.mktemp("parquet_times")
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    first = microgrid.run(path, powerflow=False, baselines=False)
    second = microgrid.run(path, powerflow=False, baselines=False)
    return first.write(folder / "a"), second.write(folder / "b"), first


@pytest.fixture
def folder_copy(runs, tmp_path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(runs[0], folder)
    return folder


def _export_json(folder: Path, out: Path) -> dict:
    assert main(["export", str(folder), "--to", "json", "--out", str(out)]) == 0
    return json.loads((out / "schedule.json").read_text())


def test_plain_pandas_reads_utc_timestamps_equal_to_the_csv(runs):
    folder = runs[0]
    field = pq.read_schema(folder / "timeseries.parquet").field("timestamp_utc")
    assert field.type == pa.timestamp("us", tz="UTC")
    parquet = pd.read_parquet(folder / "timeseries.parquet")
    assert list(parquet.columns)[0] == "timestamp_utc"  # a column, as in the CSV
    times = parquet["timestamp_utc"]
    assert isinstance(times.dtype, pd.DatetimeTZDtype) and str(times.dt.tz) == "UTC"
    text = pd.read_csv(folder / "timeseries.csv")["timestamp_utc"]
    assert text.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()  # the CSV: text, Z
    pd.testing.assert_series_equal(
        times.dt.as_unit("ns"), pd.to_datetime(text, utc=True), check_names=False
    )
    assert list(times) == list(runs[2].timeseries.index)  # the result's UTC step starts


def test_two_runs_write_the_same_parquet_bytes(runs):
    a, b, _ = runs
    assert (a / "timeseries.parquet").read_bytes() == (b / "timeseries.parquet").read_bytes()


def _text_parquet(folder: Path, result: microgrid.Result) -> None:
    """The folder's timeseries.parquet as runs wrote it before: `timestamp_utc` as text."""
    path = folder / "timeseries.parquet"
    timeseries_for_file(result.timeseries).to_parquet(path, index=False)
    assert pq.read_schema(path).field("timestamp_utc").type == pa.string()


def test_export_and_report_read_new_and_old_parquet_alike(runs, folder_copy, tmp_path):
    new, _, result = runs
    _text_parquet(folder_copy, result)
    assert _export_json(folder_copy, tmp_path / "old") == _export_json(new, tmp_path / "new")
    csv_only = tmp_path / "csv_only"
    shutil.copytree(new, csv_only)
    (csv_only / "timeseries.parquet").unlink()
    expected = read_run(new).timeseries
    assert expected.index.equals(read_run(csv_only).timeseries.index)  # the CSV's times
    pd.testing.assert_frame_equal(read_run(folder_copy).timeseries, expected)
    assert main(["report", str(folder_copy)]) == 0


def _set_times(folder: Path, times: pd.Series) -> None:
    path = folder / "timeseries.parquet"
    frame = pd.read_parquet(path)
    frame["timestamp_utc"] = times
    frame.to_parquet(path, index=False)


def test_a_timestamp_without_time_zone_is_refused(runs, folder_copy, tmp_path, capsys):
    naive = pd.read_parquet(folder_copy / "timeseries.parquet")["timestamp_utc"]
    _set_times(folder_copy, naive.dt.tz_localize(None))
    line = one_error_line(
        capsys, ["export", str(folder_copy), "--to", "json", "--out", str(tmp_path / "x")]
    )
    assert "timeseries.parquet, field timestamp_utc: timestamp 2023-01-02 00:00:00" in line
    assert "has no time zone (a run writes UTC) (row 1)" in line
    line = one_error_line(capsys, ["report", str(folder_copy)])
    assert "timeseries.parquet, field timestamp_utc: timestamp" in line
    assert "has no time zone" in line


def test_a_missing_timestamp_is_refused(runs, folder_copy, tmp_path, capsys):
    times = pd.read_parquet(folder_copy / "timeseries.parquet")["timestamp_utc"]
    times.iloc[2] = pd.NaT
    _set_times(folder_copy, times)
    line = one_error_line(capsys, ["report", str(folder_copy)])
    assert "timeseries.parquet, field timestamp_utc: expected a UTC time" in line
    assert "(row 3)" in line


def test_a_negative_zero_is_written_as_zero():
    index = pd.date_range("2023-08-21", periods=2, freq="h", tz="UTC", name="timestamp_utc")
    ts = pd.DataFrame({"grid_export_mw": [-0.0, 1.5], "n": [1, 2]}, index=index)
    text = timeseries_for_file(ts).to_csv(index=False)
    assert ",-0" not in text and "\n2023-08-21T00:00:00Z,0.0,1\n" in text
    assert not np.signbit(timeseries_for_parquet(ts)["grid_export_mw"].to_numpy()).any()
