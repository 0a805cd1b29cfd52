"""Resume re-runs a case whose record was made with other data files or other options."""

from __future__ import annotations

import hashlib
import io
import os
import shutil

import pandas as pd
import pytest
from case_functions import slow_write_run_case, table_seeing_case
from sweep_helpers import ROOT, records, write_spec

from microgrid.errors import InputError
from microgrid.sweeps import sweep
from microgrid.sweeps.standin import run_case
from microgrid.sweeps.worker import resolve_runner, runner_options, runner_with_options

SHIPPED_SIGNALS = ROOT / "scenarios" / "data" / "grid-signals" / "ercot-2023.csv"


def _spec_with_own_signals(tmp_path):
    signals = tmp_path / "signals.csv"
    shutil.copy(SHIPPED_SIGNALS, signals)
    body = (
        'axes:\n  period.start: ["2023-03-06T00:00"]\n  period.end: ["2023-03-13T00:00"]\n'
        f"  signals.csv: [{signals}]\n  battery.energy_mwh: [0, 100]\n"
    )
    return write_spec(tmp_path, body, base="ercot-dallas-2023.yaml"), signals


def test_a_changed_data_file_runs_its_cases_again(tmp_path):
    spec, signals = _spec_with_own_signals(tmp_path)
    out = tmp_path / "out"
    df1 = sweep(spec, out, runner=run_case)
    run1 = {k: r["run_id"] for k, r in records(out).items()}
    digest = hashlib.sha256(signals.read_bytes()).hexdigest()
    assert all(r["inputs"][str(signals)] == digest for r in records(out).values())
    log = io.StringIO()
    sweep(spec, out, runner=run_case, progress=log)  # unchanged: nothing runs
    assert "all 2 cases already done" in log.getvalue()
    # the same file, prices doubled (the audit's stale-results case)
    table = pd.read_csv(signals)
    price = [c for c in table.columns if "price" in c][0]
    table[price] *= 2
    table.to_csv(signals, index=False)
    log = io.StringIO()
    df2 = sweep(spec, out, runner=run_case, progress=log)
    assert "2 case(s) done earlier run again (2 data file changed)" in log.getvalue()
    assert all(records(out)[k]["run_id"] != v for k, v in run1.items())
    assert (df2["total_cost_usd"] != df1["total_cost_usd"]).all()


def test_other_options_run_the_cases_again(tmp_path):
    spec, _ = _spec_with_own_signals(tmp_path)
    out = tmp_path / "out"
    sweep(spec, out, runner=run_case)
    log = io.StringIO()
    sweep(spec, out, runner=slow_write_run_case, progress=log)
    assert "2 case(s) done earlier run again (2 other options)" in log.getvalue()
    assert {r["options"]["runner"] for r in records(out).values()} == {
        "case_functions:slow_write_run_case"
    }


def test_a_resume_with_other_options_shows_no_row_made_the_other_way(tmp_path, monkeypatch):
    """A resume stopped half-way left a table mixing rows of both kinds, unmarked: the
    second case's row of the first run beside the first case's of this one."""
    spec, _ = _spec_with_own_signals(tmp_path)
    out = tmp_path / "out"
    sweep(spec, out, runner=run_case)
    seen = tmp_path / "seen.parquet"
    monkeypatch.setenv("MICROGRID_TEST_TABLE", f"{out / 'cases.parquet'}{os.pathsep}{seen}")
    sweep(spec, out, runner=table_seeing_case)
    by_index = {r["index"]: k for k, r in records(out).items()}
    # the table as the 100 MWh case (index 1) starts: its own row would be the first run's;
    # the first case's is this run's once the parent has collected it
    assert set(pd.read_parquet(seen)["case_id"]) <= {by_index[0]}


def test_no_powerflow_and_no_baselines_are_options_of_the_record():
    full = runner_options(resolve_runner(runner_with_options(None)))
    assert full == {"runner": "microgrid.run", "powerflow": True, "baselines": True}
    no_pf = runner_options(resolve_runner(runner_with_options(None, powerflow=False)))
    assert no_pf == {**full, "powerflow": False}
    no_bl = runner_options(resolve_runner(runner_with_options(None, baselines=False)))
    assert no_bl == {**full, "baselines": False}


def test_a_copy_of_the_data_elsewhere_is_the_same_data(tmp_path):
    """Resumed with the project copied to another folder, every case ran again as "data
    file changed": the record's files were compared by path, not by content."""
    spec, signals = _spec_with_own_signals(tmp_path)
    out = tmp_path / "out"
    sweep(spec, out, runner=run_case)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(signals, moved / "signals.csv")
    body = spec.read_text().replace(str(signals), str(moved / "signals.csv"))
    spec.write_text(body)
    log = io.StringIO()
    sweep(spec, out, runner=run_case, progress=log)
    assert "data file changed" not in log.getvalue()


def test_a_data_file_that_is_a_device_does_not_hang_the_sweep(tmp_path):
    """/dev/zero as signals.csv was hashed whole before any case ran: the sweep never
    returned, holding its lock. The case now fails, naming why."""
    body = (
        'axes:\n  period.start: ["2023-03-06T00:00"]\n  period.end: ["2023-03-07T00:00"]\n'
        "  signals.csv: [/dev/zero]\n"
    )
    spec = write_spec(tmp_path, body, base="ercot-dallas-2023.yaml")
    quick = runner_with_options(None, powerflow=False, baselines=False)  # the real checks
    df = sweep(spec, tmp_path / "out", runner=quick)
    assert df["status"].tolist() == ["failed"] and "regular file" in df["error"][0]


def test_a_time_limit_beyond_a_week_is_refused(tmp_path):
    """`timeout_s=inf` passed; every case then failed with OverflowError, unrecorded."""
    spec, _ = _spec_with_own_signals(tmp_path)
    with pytest.raises(InputError, match=r"timeout_s must be in \(0, 604800\] s"):
        sweep(spec, tmp_path / "out", runner=run_case, timeout_s=float("inf"))
    assert not (tmp_path / "out").exists()


def test_sweep_switches_the_default_pipeline_from_python(tmp_path):
    """`sweep()` had no power-flow or baselines switch of its own (the CLI had): a notebook
    user had to build the runner by hand."""
    body = (
        'axes:\n  period.start: ["2023-03-06T00:00"]\n  period.end: ["2023-03-07T00:00"]\n'
        "  signals.csv: [/dev/zero]\n"
    )
    spec = write_spec(tmp_path, body, base="ercot-dallas-2023.yaml")
    sweep(spec, tmp_path / "out", powerflow=False, baselines=False)
    (rec,) = records(tmp_path / "out").values()
    assert rec["options"] == {"runner": "microgrid.run", "powerflow": False, "baselines": False}


def test_sweep_refuses_pipeline_switches_beside_another_runner(tmp_path):
    spec, _ = _spec_with_own_signals(tmp_path)
    with pytest.raises(InputError, match="pass them to your runner"):
        sweep(spec, tmp_path / "out", runner=run_case, powerflow=False)
    with pytest.raises(InputError, match="baselines: True or False"):
        sweep(spec, tmp_path / "out", baselines="no")
    assert not (tmp_path / "out").exists()
