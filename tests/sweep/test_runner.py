"""Sweeps on a real local process pool: failures, timeouts, worker deaths, resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pandas as pd
import psutil
import pytest
from kill_points import wait_exited
from sweep_helpers import (
    MIXED,
    PY,
    ROOT,
    SLOW12,
    STANDIN,
    check_consistent,
    env,
    records,
    result_dirs,
    wait_for,
    write_spec,
)

from microgrid.cli import main
from microgrid.sweeps import load_spec, sweep, sweep_report
from microgrid.sweeps.standin import run_case


@pytest.mark.slow
def test_failed_and_timed_out_cases_are_recorded_and_retried(tmp_path):
    spec = write_spec(tmp_path, MIXED, base="ercot-dallas-2023.yaml")
    out = tmp_path / "out"
    df = sweep(spec, out, workers=2, timeout_s=1.0, runner=run_case, progress=None)
    assert df["status"].tolist() == ["ok", "ok", "ok", "failed", "timeout"]
    assert "signals do not cover the period" in df.loc[3, "error"]
    assert "timed out after 1.0 s" in df.loc[4, "error"]
    # KPIs come from the solve and depend on the parameters.
    assert df.loc[1, "total_cost_usd"] < df.loc[0, "total_cost_usd"]  # a battery helps
    assert (df.loc[:2, "wall_s"] > 0).all()
    check_consistent(out, 5)
    # (Re-running retries the failed ones: see test_dask.py, whose workers stay warm.)

    html = sweep_report(out)
    text = html.read_text()
    assert "data:image/png;base64," in text and "signals do not cover" in text
    table = pd.read_csv(out / "report" / "sensitivity_battery_energy_mwh.csv")
    assert table["n_cases"].sum() == 3  # the ok cases only


def _pool_workers(pid):
    return [
        p
        for p in psutil.Process(pid).children(recursive=True)
        if "spawn_main" in " ".join(p.cmdline())
    ]


def _check_after_kill(out: Path, n_workers: int) -> tuple[dict[str, dict], list[str]]:
    """What a SIGKILL of the whole sweep may leave: every table row has a record, every ok
    record its result folder, and besides those at most one folder per worker without a
    record (killed between installing it and writing the record: the re-run removes it
    and does the case). Returns (the records, the case ids of such folders)."""
    recs = records(out)
    df = pd.read_parquet(out / "cases.parquet")
    assert df["case_id"].is_unique and set(df["case_id"]) <= set(recs)
    ok = {k for k, r in recs.items() if r["status"] == "ok"}
    dirs = set(result_dirs(out))
    assert ok <= dirs
    orphans = dirs - ok
    assert not orphans & set(recs) and len(orphans) <= n_workers, (orphans, sorted(recs))
    return recs, sorted(orphans)


def _run_killed_twice(cmd: list[str], out: Path, log_path: Path) -> None:
    """Start the sweep, SIGKILL one pool worker, wait until a case is done on the new
    pool, then SIGKILL the whole sweep and wait until all its processes are gone."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env(), stdout=log, stderr=log, start_new_session=True
        )
        try:
            wait_for(lambda: records(out), 120, "the first record")
            pool = _pool_workers(proc.pid)
            pool[0].send_signal(signal.SIGKILL)  # a worker dies mid-sweep
            # The pool is replaced and the sweep goes on: a case done by a new worker.
            wait_for(lambda: "a worker process died" in log_path.read_text(), 120, "the log")
            first_pool = {p.pid for p in pool}

            def done_on_new_pool() -> bool:
                return any(r["pid"] not in first_pool for r in records(out).values())

            wait_for(done_on_new_pool, 120, "a case done on the new pool")
            group = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
            os.killpg(proc.pid, signal.SIGKILL)  # ... then the whole sweep is killed.
            wait_exited(group, 60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_sigkill_worker_then_parent_and_rerun_completes_each_case_once(tmp_path):
    spec = write_spec(tmp_path, SLOW12, base="ercot-dallas-2023.yaml")
    out = tmp_path / "out"
    cmd = [PY, "-m", "microgrid.sweeps", "sweep", str(spec), "--out", str(out)]
    cmd += ["--workers", "2", "--runner", STANDIN]
    _run_killed_twice(cmd, out, tmp_path / "run1.log")
    recs1, orphans = _check_after_kill(out, 2)
    assert len(recs1) < 12, "the sweep finished before it could be killed; make the cases slower"
    assert all(r["status"] == "ok" for r in recs1.values())

    run2 = subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert run2.returncode == 0, run2.stderr
    assert f"({len(recs1)} already done)" in run2.stderr, run2.stderr
    if orphans:
        assert f"without a record (a killed run): {', '.join(orphans)}\n" in run2.stderr
    recs2, df2 = check_consistent(out, 12)
    assert all(r["status"] == "ok" for r in recs2.values())
    for k, r in recs1.items():  # finished cases were not run again ...
        assert recs2[k]["run_id"] == r["run_id"]
    ids = [c["case_id"] for c in json.loads((out / "sweep.json").read_text())["cases"]]
    assert sorted(df2["case_id"]) == sorted(ids)
    # ... and the re-run did each of the others exactly once.
    rest = sorted(set(ids) - set(recs1))
    assert sorted(re.findall(r"\| (\S+) ok in ", run2.stderr)) == rest, run2.stderr
    assert len({recs2[k]["run_id"] for k in rest} - {r["run_id"] for r in recs1.values()}) == 1


def test_missing_dask_scheduler_file_is_refused_at_once(tmp_path, capsys):
    # Dask itself would wait 30 s for the file to appear, then fail.
    missing = tmp_path / "nonexistent.json"
    spec = ROOT / "scenarios" / "sweeps" / "ercot-sizing.yaml"
    code = main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--dask", str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {missing}: no such Dask scheduler file\n"
    assert not (tmp_path / "out").exists()  # it once held a marker, sweep.json and a lock


def test_an_address_that_is_no_dask_scheduler_writes_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path, "axes:\n  battery.energy_mwh: [0, 100]\n")
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--dask", "bogus"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot reach the Dask scheduler 'bogus'")
    assert len(err.splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("text", ["{}", "not json"])
def test_a_scheduler_file_without_an_address_is_one_line(tmp_path, capsys, text):
    """It was an internal error (AssertionError), exit 1."""
    spec = write_spec(tmp_path, "axes:\n  battery.energy_mwh: [0, 100]\n")
    scheduler = tmp_path / "scheduler.json"
    scheduler.write_text(text)
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--dask", str(scheduler)])
    err = capsys.readouterr().err
    assert code == 2 and "names no scheduler address" in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("sweep_json", "needle"),
    [
        ("x", "sweep.json, line 1: invalid JSON"),
        ("[]", "sweep.json: not a sweep description"),
        ("[" * 100_000 + "]" * 100_000, "sweep.json: invalid JSON: nested too deeply"),
    ],
    ids=["not-json", "not-an-object", "deep"],
)
def test_report_on_a_damaged_sweep_folder_is_one_line(tmp_path, capsys, sweep_json, needle):
    out = tmp_path / "out"
    spec = write_spec(tmp_path, "axes:\n  objective.carbon_price_usd_per_t: [0, 100]\n")
    sweep(load_spec(spec), out, runner=run_case)
    (out / "sweep.json").write_text(sweep_json)
    # a damaged record (deeply nested) counts as not done: the report still runs
    next((out / "records").glob("*.json")).write_text("[" * 100_000 + "]" * 100_000)
    assert main(["sweep-report", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    (out / "sweep.json").unlink()
    assert main(["sweep-report", str(out)]) == 0


def test_a_library_sweep_prints_nothing_and_the_cli_prints_its_progress(tmp_path):
    """`import microgrid` prints nothing unless asked (README); `microgrid sweep` does. In
    processes of their own: pytest's capture would take a default stream bound at import."""
    spec = write_spec(tmp_path, "axes:\n  objective.carbon_price_usd_per_t: [0, 100]\n")
    code = (
        "import microgrid\n"
        "from microgrid.sweeps.standin import run_case\n"
        f"df = microgrid.sweep({str(spec)!r}, {str(tmp_path / 'lib')!r}, runner=run_case)\n"
        "assert len(df) == 2\n"
    )
    lib = subprocess.run([PY, "-c", code], env=env(), capture_output=True, text=True)
    assert (lib.returncode, lib.stdout, lib.stderr) == (0, "", "")
    argv = ["sweep", str(spec), "--out", str(tmp_path / "cli"), "--runner", STANDIN]
    cli = subprocess.run(
        [PY, "-m", "microgrid.cli", *argv], env=env(), capture_output=True, text=True
    )
    assert cli.returncode == 0 and "[sweep " in cli.stderr, cli.stderr


def test_the_cases_table_holds_each_cases_finish_as_a_utc_time(tmp_path):
    spec = write_spec(tmp_path, "axes:\n  objective.carbon_price_usd_per_t: [0, 100]\n")
    out = tmp_path / "out"
    df = sweep(load_spec(spec), out, runner=run_case)
    table = pd.read_parquet(out / "cases.parquet")
    assert (
        str(table["finished_utc"].dtype).startswith("datetime64")
        and table["finished_utc"].dt.tz is not None
    )
    recs = records(out)
    for _, row in table.iterrows():
        assert row["finished_utc"] == pd.Timestamp(recs[row["case_id"]]["finished_utc"])
    assert df["finished_utc"].equals(table["finished_utc"])
    sweep_report(out)
    csv = (out / "report" / "timings.csv").read_text()  # the run's figures: not in cases.csv
    assert re.search(r",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(,|\n)", csv)


def test_an_unguarded_script_is_told_to_guard_its_call_and_warned_of_cases_not_run(tmp_path):
    """The docs' example saved as a script without `if __name__ == "__main__":` once
    returned an empty table without a word: each worker, importing the script, started a
    sweep of its own that the folder's lock refused."""
    spec = write_spec(tmp_path, "axes:\n  objective.carbon_price_usd_per_t: [0, 100]\n")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import warnings\n"
        "from microgrid.sweeps import CasesNotRun, sweep\n"
        "from microgrid.sweeps.standin import run_case\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        f"    df = sweep({str(spec)!r}, {str(tmp_path / 'out')!r}, workers=2, runner=run_case)\n"
        "print(len(df), [w.category.__name__ for w in seen], [str(w.message) for w in seen])\n"
    )
    run = subprocess.run([PY, str(script)], env=env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("0 ['CasesNotRun']") and "2 of 2 cases did not run" in run.stdout
    assert 'put the script\'s call under `if __name__ == "__main__":`' in run.stderr


def test_the_table_is_the_same_on_every_run_but_wall_s_host_and_finished_utc(tmp_path):
    """The solver's seconds (`solver.build_s`, `solver.solve_s`) once came into the table
    from the summary in memory: they differ on every run and are not in summary.json."""
    spec = write_spec(tmp_path, "axes:\n  battery.energy_mwh: [0, 100]\n")
    tables = []
    for name in ("a", "b"):
        df = sweep(load_spec(spec), tmp_path / name, runner=run_case)
        assert not [c for c in df.columns if c.endswith(("build_s", "solve_s"))]
        tables.append(df.drop(columns=["wall_s", "host", "finished_utc"]))
        for rec in records(tmp_path / name).values():
            assert set(rec["timings"]["solver"]) == {"build_s", "solve_s"}
            summary = json.loads((tmp_path / name / rec["result_dir"] / "summary.json").read_text())
            assert summary == rec["summary"]
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_each_axis_shows_the_value_in_the_cases_scenario(tmp_path):
    """`{battery: null}` and a case without `battery` were both NaN, and the report put the
    no-battery case with the base-battery cases; then the no-battery case showed the
    base's 200 MWh under `battery.energy_mwh` (and joined the 200 MWh cases in the
    sensitivity), and the text "none" made a numeric column text, sorted as text."""
    body = (
        "cases:\n  - {battery: null}\n  - {battery.energy_mwh: 100}\n"
        "  - {battery.energy_mwh: 300}\n  - {grid.ramp_mw_per_h: null}\n"
        "  - {grid.ramp_mw_per_h: 15}\n  - {grid.ramp_mw_per_h: 60}\n"
    )
    spec = load_spec(write_spec(tmp_path, body, base="ercot-dallas-2023.yaml"))
    base = spec.cases[3].scenario  # sets neither battery field
    df = sweep(spec, tmp_path / "out", runner=run_case)
    energy = df["battery.energy_mwh"].tolist()
    assert pd.isna(energy[0]) and energy[1:] == [100, 300] + [base.battery.energy_mwh] * 3
    assert pd.isna(df.loc[0, "battery"])
    assert json.loads(df.loc[1, "battery"])["energy_mwh"] == 100  # the case's own battery
    ramp = df["grid.ramp_mw_per_h"]
    assert pd.api.types.is_numeric_dtype(ramp) and ramp[[4, 5]].tolist() == [15, 60]
    assert pd.isna(ramp[3]) and ramp[0] == spec.cases[1].scenario.grid.ramp_mw_per_h == 30
    sweep_report(tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "report" / "sensitivity.csv", keep_default_na=False)
    groups = table[table["axis"] == "battery.energy_mwh"].set_index("value")["n_cases"]
    assert groups.to_dict() == {"100": 1, "200": 3, "300": 1, "null": 1}  # none mixed in
