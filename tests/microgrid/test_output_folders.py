"""Output folders (microgrid/resultdir.py and the commands that write folders): no --out
that is or holds a file the command reads, no user folder taken for an old result, an
unwritable --out refused before any solve, a sweep folder resumed only by its own spec,
nothing left behind by a `pareto` that fails; Ctrl-C and a closed stdout at the edges.

The refusals come before any solve, so most tests here take milliseconds; the ones that
run a command to the end use the tiny scenario (scenario_factory.TINY) or the sweep's
stand-in case function.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from scenario_factory import DATA, ROOT, TINY, small_scenario
from sweep_helpers import STANDIN, env, write_spec
from test_output_safety import one_error_line, snapshot

import microgrid
import optimize
from microgrid import cli, output, pareto, resultdir
from microgrid.cli import EXIT_INTERRUPTED, EXIT_STDOUT_CLOSED, main
from microgrid.pareto_journal import journal_path
from microgrid.resultdir import MARKER_NAME, marker_text, scenario_inputs
from microgrid.scenario import load_scenario

ONE_DAY = """\
cases:
  - {period.start: "2023-03-06T00:00", period.end: "2023-03-07T00:00"}
"""

# Every kind of file a scenario reads, by the field that names it: its file under DATA,
# or one of WRITTEN (the shipped job week and DR events lie outside small_scenario's days).
DATA_FILES = {
    "signals.csv": "grid-signals/ercot-2023.csv",
    "weather.path": "weather/dallas-2023.csv",
    "jobs.csv": "jobs/two-days.csv",
    "grid.tariff.urdb": "tariffs/tx-tdsp-like-delivery.json",
    "grid.coincident_peaks.intervals_csv": "coincident-peaks/ercot-4cp-2023.csv",
    "grid.coincident_peaks.alerts_csv": "coincident-peaks/ercot-4cp-alerts-2023.csv",
    "demand_response_program.events_csv": "dr-events.csv",
}
WRITTEN = {
    "jobs/two-days.csv": "id,gpus,work_h,release_h,deadline_h,preemptible\n"
    "finetune,4096,24,24,72,false\n",
    "dr-events.csv": "start,end\n2023-08-23T15:00,2023-08-23T18:00\n",
}


def earlier_result(folder: Path, kind: str = "run") -> Path:
    """A folder an earlier command of `kind` wrote (its marker and a file)."""
    folder.mkdir(parents=True)
    (folder / MARKER_NAME).write_text(marker_text(kind))
    (folder / "summary.json").write_text("{}\n")
    return folder


def scenario_reading_every_kind(tmp_path: Path, inside: Path, field: str) -> Path:
    """A scenario that names a file of every kind in DATA_FILES, each copied under
    tmp_path/data, except the one of `field`, copied into the folder `inside`."""
    files = {}
    for name, rel in DATA_FILES.items():
        folder = inside if name == field else tmp_path / "data"
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel in WRITTEN:
            dest.write_text(WRITTEN[rel])
        else:
            shutil.copyfile(DATA / rel, dest)
        files[name] = str(dest)
    sc = small_scenario()
    sc["signals"]["csv"] = files["signals.csv"]
    sc["weather"]["path"] = files["weather.path"]
    sc["jobs"] = {"repeat": "once", "csv": files["jobs.csv"]}
    sc["grid"].update(
        import_adder_usd_per_mwh=0,
        demand_charge_usd_per_kw_month=0,
        tariff={"urdb": files["grid.tariff.urdb"]},
        coincident_peaks={
            "usd_per_mw_year": 25000,
            "n_peaks": 4,
            "intervals_csv": files["grid.coincident_peaks.intervals_csv"],
            "interval_minutes": 60,
            "mode": "alerts",
            "alerts_csv": files["grid.coincident_peaks.alerts_csv"],
        },
    )
    sc["demand_response_program"] = {
        "capacity_usd_per_mw_month": 4000,
        "max_commit_mw": 60,
        "events_csv": files["demand_response_program.events_csv"],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


# ---------------------------------------------------------------------------------------
# 1. An --out that holds a file the scenario reads


def test_scenario_inputs_are_the_yaml_and_every_file_it_names(tmp_path):
    path = scenario_reading_every_kind(tmp_path, tmp_path / "data", "")
    files = scenario_inputs(load_scenario(path))
    assert files[0] == path
    assert sorted(files[1:]) == sorted(tmp_path / "data" / r for r in DATA_FILES.values())


@pytest.mark.parametrize("field", list(DATA_FILES))
def test_run_refuses_an_out_holding_a_file_the_scenario_reads(tmp_path, field, capsys):
    """`run --out OLD` where OLD (an earlier run folder) holds one data file: refused
    before the solve, OLD and the file untouched."""
    old = earlier_result(tmp_path / "old")
    scenario = scenario_reading_every_kind(tmp_path, old, field)
    before = snapshot(old)
    code = main(["run", str(scenario), "--out", str(old), "--no-powerflow"])
    err = one_error_line(capsys, code, str(old), str(old / DATA_FILES[field]))
    assert "holds the input" in err
    assert snapshot(old) == before


def test_a_linked_data_file_in_out_counts_too(tmp_path, capsys):
    """The file the scenario names is a link inside OLD to a file elsewhere: replacing OLD
    would delete the link."""
    old = earlier_result(tmp_path / "old")
    (old / "prices.csv").symlink_to(DATA / "grid-signals" / "ercot-2023.csv")
    scenario = tmp_path / "scenario.yaml"
    sc = small_scenario()
    sc["signals"]["csv"] = str(old / "prices.csv")
    scenario.write_text(yaml.safe_dump(sc))
    code = main(["run", str(scenario), "--out", str(old), "--no-powerflow"])
    one_error_line(capsys, code, str(old), "holds the input")
    assert (old / "prices.csv").is_symlink()


@pytest.mark.parametrize("command", ["pareto", "size", "headroom", "sweep"])
def test_every_folder_command_refuses_an_out_holding_a_data_file(tmp_path, command, capsys):
    kind = {"pareto": "pareto", "size": "sizing", "headroom": "headroom", "sweep": "sweep"}
    old = earlier_result(tmp_path / "old", kind[command])
    scenario = scenario_reading_every_kind(tmp_path, old, "signals.csv")
    argv = [command, str(scenario)]
    if command == "sweep":
        argv = [
            "sweep",
            str(write_spec(tmp_path, ONE_DAY, base=str(scenario))),
            "--runner",
            STANDIN,
        ]
    before = snapshot(old)
    code = main([*argv, "--out", str(old)])
    one_error_line(capsys, code, str(old), "holds the input", "grid-signals/ercot-2023.csv")
    assert snapshot(old) == before


# ---------------------------------------------------------------------------------------
# 2. A user's folder that holds files named like a result's


@pytest.mark.parametrize(
    "files",
    [
        {"summary.json": '{"budget": 1}\n'},
        {"summary.json": '{"my": "own summary"}\n', "timeseries.csv": "a,b\n"},
    ],
    ids=["summary-only", "summary-and-timeseries"],
)
def test_a_folder_without_the_marker_is_never_a_run_result(tmp_path, tiny, files, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, text in files.items():
        (mine / name).write_text(text)
    before = snapshot(mine)
    code = main(["run", str(tiny), "--out", str(mine), "--no-powerflow"])
    one_error_line(capsys, code, str(mine), MARKER_NAME)
    assert snapshot(mine) == before


# ---------------------------------------------------------------------------------------
# 3. A closed stdout


def _run_with_closed_stdout(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`microgrid ARGV` whose stdout is a pipe nobody reads (its read end closed before
    the start: every write fails), stdout block-buffered as by default."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    e = {k: v for k, v in env().items() if k != "PYTHONUNBUFFERED"}
    code = "import sys; from microgrid.cli import main; sys.exit(main())"
    try:
        return subprocess.run(
            [sys.executable, "-c", code, *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=e,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.slow
def test_a_closed_stdout_ends_quietly_with_the_result_written(tmp_path, tiny):
    # --quiet: a solve slowed past 2 s by a busy machine prints a progress line on stderr
    argv = ["run", str(tiny), "--out", "res", "--no-powerflow", "--quiet"]
    proc = _run_with_closed_stdout(argv, tmp_path)
    assert (proc.returncode, proc.stderr) == (EXIT_STDOUT_CLOSED, "")
    res = tmp_path / "res"
    assert {MARKER_NAME, "summary.json", "timeseries.csv", "report.html"} <= set(os.listdir(res))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.yaml"]  # no temp left


@pytest.mark.parametrize(
    "argv",
    [["validate", "tiny.yaml"], ["--help"], ["pareto", "tiny.yaml", "--points", "2"]],
    ids=["validate", "help", "pareto"],
)
def test_a_closed_stdout_is_no_internal_error(tmp_path, tiny, argv):
    """`pareto` prints its first line before it solves: it stops there, its journal gone."""
    proc = _run_with_closed_stdout(argv, tmp_path)
    assert (proc.returncode, proc.stderr) == (EXIT_STDOUT_CLOSED, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


# ---------------------------------------------------------------------------------------
# 4. Ctrl-C at the edges


def _sigint() -> None:
    """Ctrl-C now: the SIGINT handler runs at the next Python instruction."""
    os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.slow
def test_ctrl_c_during_the_swap_finishes_it_then_says_so(tmp_path, tiny, monkeypatch, capsys):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--out", str(out), "--no-powerflow"]) == 0
    (out / "summary.json").write_text("old\n")  # to tell the old result from the new
    real_replace = resultdir.replace_dir

    def replace_after_ctrl_c(tmp: Path, target: Path) -> None:
        _sigint()
        real_replace(tmp, target)

    monkeypatch.setattr(resultdir, "replace_dir", replace_after_ctrl_c)
    capsys.readouterr()
    argv = ["run", str(tiny), "--out", str(out), "--no-powerflow", "--quiet"]
    assert main(argv) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err == f"interrupted after the result was written: {out} is complete\n"
    assert (out / "summary.json").read_text() != "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.yaml"]


class _CtrlCWhenCollected:
    """Ctrl-C from a destructor: the KeyboardInterrupt is raised inside `__del__`, where
    Python only reports it (sys.unraisablehook) and goes on."""

    def __del__(self) -> None:
        _sigint()
        for _ in range(100):  # a few instructions: the handler runs here, in __del__
            pass


def test_a_ctrl_c_python_drops_still_stops_the_write(tmp_path, tiny, monkeypatch, capsys):
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)
    real_fill = output._write_files

    def fill_then_drop_a_ctrl_c(result, tmp: Path) -> None:
        real_fill(result, tmp)
        _CtrlCWhenCollected()  # collected at once

    monkeypatch.setattr(output, "_write_files", fill_then_drop_a_ctrl_c)
    out = tmp_path / "res"
    argv = ["run", str(tiny), "--out", str(out), "--no-powerflow", "--quiet"]
    assert main(argv) == EXIT_INTERRUPTED
    assert KeyboardInterrupt in [type(u.exc_value) for u in dropped]
    assert capsys.readouterr().err == "interrupted\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]  # nothing written


def _ctrl_c(*args, **kwargs) -> None:
    raise KeyboardInterrupt


def _ctrl_c_once(real):
    """`real`, but its first call is a Ctrl-C."""
    calls = []

    def call(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return call


@pytest.mark.parametrize(
    ("command", "printer"),
    [
        (["run", "--no-powerflow"], (cli, "_powerflow_warning")),
        (["pareto", "--points", "2"], (pareto, "table_lines")),
    ],
    ids=["run", "pareto"],
)
def test_ctrl_c_while_the_result_is_printed_says_it_was_written(
    tmp_path, tiny, command, printer, monkeypatch, capsys
):
    monkeypatch.setattr(*printer, _ctrl_c)
    out = tmp_path / "res"
    code = main([command[0], str(tiny), *command[1:], "--out", str(out)])
    assert code == EXIT_INTERRUPTED
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"interrupted after the result was written: {out} is complete"
    )
    assert resultdir.read_marker(out)["kind"] == command[0]
    assert not journal_path(out).exists()


def test_ctrl_c_after_a_sweep_finished_says_it_was_written(tmp_path, monkeypatch, capsys):
    spec = write_spec(tmp_path, ONE_DAY)
    out = tmp_path / "sweep"
    # the first print is the summary line, once every case ran (--quiet: no progress lines)
    monkeypatch.setattr("builtins.print", _ctrl_c_once(print))
    code = main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN, "--quiet"])
    assert code == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err == f"interrupted after the result was written: {out} is complete\n"
    assert (out / "cases.parquet").is_file()


def test_the_program_ignores_a_ctrl_c_once_its_exit_code_is_decided(tmp_path, tiny):
    """`main()` as the program (no argv): Python's shutdown after it is not interrupted."""
    code = (
        "import signal, sys; from microgrid.cli import main; sys.argv[1:] = ['validate', "
        f"{str(tiny)!r}]; main(); print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env())
    assert proc.stdout.splitlines()[-1] == "True", proc.stderr


# ---------------------------------------------------------------------------------------
# 5. An --out that cannot be written


def _no_mkdir_below(monkeypatch, locked: Path) -> None:
    """os.mkdir fails with EACCES in `locked` and below, as in a folder without write
    permission (which root, running these tests in a container, would not see)."""
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(os.path.abspath(path)).is_relative_to(locked):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.mark.parametrize("command", ["run", "pareto", "size", "headroom", "sweep"])
@pytest.mark.parametrize("where", ["out", "parent"], ids=["new-out", "new-parent"])
def test_an_unwritable_out_is_refused_before_any_solve(
    tmp_path, tiny, command, where, monkeypatch, capsys
):
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / "x" if where == "out" else locked / "new" / "x"
    monkeypatch.setattr(optimize, "solve", _ctrl_c)  # a solve would show as "interrupted"
    monkeypatch.setattr(microgrid, "run", _ctrl_c)
    _no_mkdir_below(monkeypatch, locked)
    argv = [command, str(tiny)]
    if command == "sweep":
        argv = ["sweep", str(write_spec(tmp_path, ONE_DAY)), "--runner", STANDIN]
    code = main([*argv, "--out", str(out)])
    err = one_error_line(capsys, code, str(out), "cannot write the output folder")
    assert "nothing was written" in err
    assert list(locked.iterdir()) == []


# ---------------------------------------------------------------------------------------
# 6. A sweep folder and its spec


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """(spec, out): a two-case sweep run to the end with the stand-in case function."""
    folder = tmp_path_factory.mktemp("sweep")
    spec = write_spec(folder, ONE_DAY + "axes:\n  pv.dc_mw: [70, 80]\n")
    out = folder / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN, "--quiet"]) == 0
    return spec, out


@pytest.fixture
def earlier_sweep(finished_sweep, tmp_path) -> tuple[Path, Path]:
    """A copy of the finished sweep (spec and folder) of this test's own."""
    spec, out = finished_sweep
    shutil.copyfile(spec, tmp_path / "spec.yaml")
    shutil.copytree(out, tmp_path / "out")
    sweep_json = (tmp_path / "out" / "sweep.json").read_text()
    (tmp_path / "out" / "sweep.json").write_text(
        sweep_json.replace(str(spec), str(tmp_path / "spec.yaml"))
    )
    return tmp_path / "spec.yaml", tmp_path / "out"


def test_a_sweep_folder_of_another_spec_is_refused(earlier_sweep, tmp_path, capsys):
    spec, out = earlier_sweep
    other = tmp_path / "other" / "spec.yaml"
    other.parent.mkdir()
    other.write_text(spec.read_text().replace("[70, 80]", "[60, 65, 75]"))
    before = snapshot(out)
    code = main(["sweep", str(other), "--out", str(out), "--runner", STANDIN])
    one_error_line(capsys, code, str(out), "another spec", str(spec), str(other))
    assert snapshot(out) == before


@pytest.mark.parametrize("how", ["same", "edited", "copied"])
def test_a_sweep_folder_resumes_with_its_own_spec(earlier_sweep, tmp_path, how, capsys):
    spec, out = earlier_sweep
    if how == "edited":  # one value fewer: the other case is done
        spec.write_text(spec.read_text().replace("[70, 80]", "[70]"))
    if how == "copied":
        (tmp_path / "copy").mkdir()
        spec = Path(shutil.copy(spec, tmp_path / "copy" / "renamed.yaml"))
    assert main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN]) == 0
    assert "already done" in capsys.readouterr().err


def test_a_sweep_folder_whose_sweep_json_is_not_ours_is_refused(earlier_sweep, capsys):
    spec, out = earlier_sweep
    (out / "sweep.json").write_text('{"my": "notes"}\n')
    before = snapshot(out)
    code = main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN])
    one_error_line(capsys, code, str(out), "not a sweep description")
    assert snapshot(out) == before


# ---------------------------------------------------------------------------------------
# 7. A pareto front that fails


def _scenario_with_a_price_gap(tmp_path: Path) -> Path:
    """Two days of R1 whose price file lacks the hour 2023-08-22T11:00Z."""
    lines = (DATA / "grid-signals" / "ercot-2023.csv").read_text().splitlines(keepends=True)
    prices = tmp_path / "prices.csv"
    prices.write_text("".join(x for x in lines if not x.startswith("2023-08-22T11:00")))
    path = tmp_path / "gap.yaml"
    path.write_text(yaml.safe_dump(small_scenario(**{"signals.csv": str(prices)})))
    return path


def test_pareto_on_bad_data_prints_and_creates_nothing(tmp_path, capsys):
    scenario = _scenario_with_a_price_gap(tmp_path)
    out = tmp_path / "front"
    code = main(["pareto", str(scenario), "--out", str(out)])
    err = one_error_line(capsys, code, "prices.csv", "gap")
    assert capsys.readouterr().out == "", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gap.yaml", "prices.csv"]


def test_a_front_that_fails_in_its_first_solve_leaves_no_journal(tmp_path, tiny, monkeypatch):
    def fail(*args, **kwargs):
        raise microgrid.errors.InputError("the solver refused these inputs")

    monkeypatch.setattr(optimize, "solve", fail)
    assert main(["pareto", str(tiny), "--points", "2", "--out", str(tmp_path / "p")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


def test_shipped_scenarios_are_not_refused_as_their_own_inputs(tmp_path):
    """The check passes for an --out beside the shipped scenarios (no false refusals)."""
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        resultdir.check_target(tmp_path / path.stem, "run", scenario_inputs(load_scenario(path)))
