"""Progress lines of the CLI on stderr, and `--quiet` silencing them (stdout unchanged)."""

from __future__ import annotations

import argparse
import json
import re

import pytest
from sweep_helpers import STANDIN, write_spec

import microgrid
import optimize.progress as progress
from microgrid.cli import build_parser, main

# HiGHS's MILP ("solve") or the probe before it ("probe", optimize.probing)
SOLVE_LINE = re.compile(r"^(solve|probe): bound .* · incumbent .* · gap .* · \d+\.\d s$")
ONE_CASE = """\
cases:
  - {period.start: "2023-03-06T00:00", period.end: "2023-03-07T00:00", battery.energy_mwh: 0}
"""
JOB = {  # hours from Monday 2023-08-21 00:00 local; the period starts a day later
    "id": "finetune",
    "gpus": 4096,
    "work_h": 8,
    "release_h": 30,
    "deadline_h": 54,
    "preemptible": False,
    "f_min": 0.7,
}


@pytest.fixture
def at_once(monkeypatch):
    """Progress from the first callback on (the CLI's 2 s wait would make the test slow)."""
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)


def _run(capsys, argv: list[str]) -> tuple[str, str]:
    assert main(argv) == 0
    return capsys.readouterr()


def test_every_subcommand_takes_quiet():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in sub.choices.items():
        assert "--quiet" in command.format_help(), name


def test_run_prints_solve_progress_unless_quiet(at_once, write_scenario, tmp_path, capsys):
    path = write_scenario(**{"jobs.items": [JOB]})
    out = tmp_path / "out"
    argv = ["run", str(path), "--no-powerflow", "--out", str(out)]
    shown_out, shown_err = _run(capsys, argv)
    lines = [s for s in shown_err.splitlines() if s.startswith(("solve:", "probe:"))]
    assert lines and all(SOLVE_LINE.match(s) for s in lines), shown_err
    objective_usd = json.loads((out / "summary.json").read_text())["solver"]["objective_usd"]
    quiet_out, quiet_err = _run(capsys, [*argv, "--quiet"])
    assert "solve:" not in quiet_err and "probe:" not in quiet_err
    assert quiet_out == shown_out  # progress goes to stderr only
    assert json.loads((out / "summary.json").read_text())["solver"]["objective_usd"] == (
        objective_usd
    )


def test_library_use_prints_no_progress(at_once, write_scenario, capsys):
    microgrid.run(write_scenario(**{"jobs.items": [JOB]}), baselines=False, powerflow=False)
    assert "solve:" not in capsys.readouterr().err


@pytest.mark.slow
def test_sweep_progress_unless_quiet(tmp_path, capsys):
    spec = write_spec(tmp_path, ONE_CASE, base="ercot-dallas-2023.yaml")
    argv = ["sweep", str(spec), "--runner", STANDIN]
    _, err = _run(capsys, [*argv, "--out", str(tmp_path / "a")])
    assert "[sweep " in err
    quiet_out, quiet_err = _run(capsys, [*argv, "--out", str(tmp_path / "b"), "--quiet"])
    assert quiet_err == ""
    assert "1 ok" in quiet_out


def test_pareto_quiet_leaves_stderr_empty(write_scenario, tmp_path, capsys):
    path = write_scenario(**{"period.end": "2023-08-23T00:00"})
    argv = ["pareto", str(path), "--points", "2", "--out", str(tmp_path / "front")]
    shown_out, _ = _run(capsys, argv)
    quiet_out, quiet_err = _run(capsys, [*argv, "--quiet"])
    assert quiet_err == ""
    assert quiet_out == shown_out


def test_operate_prints_its_replans_unless_quiet(at_once, write_scenario, tmp_path, capsys):
    # 24 hourly steps, a re-plan every 6: at steps 1, 7, 13 and 19 (1-based)
    path = write_scenario(
        **{
            "period.end": "2023-08-23T00:00",
            "operate.replan_every_steps": 6,
            "operate.lookahead_h": 12,
        }
    )
    argv = ["run", str(path), "--mode", "operate", "--no-powerflow", "--out", str(tmp_path / "o")]
    shown_out, shown_err = _run(capsys, argv)
    lines = [s for s in shown_err.splitlines() if s.startswith("operate: re-plan")]
    steps = [re.match(r"^operate: re-plan (\d+) · step (\d+)/24 · \d+\.\d s$", s) for s in lines]
    assert all(steps), lines
    assert [(int(m[1]), int(m[2])) for m in steps] == [(1, 1), (2, 7), (3, 13), (4, 19)]
    quiet_out, quiet_err = _run(capsys, [*argv, "--quiet"])
    assert "re-plan" not in quiet_err
    assert quiet_out == shown_out


def test_each_rolling_series_says_what_it_solves(write_scenario, tmp_path, capsys):
    """The plan's windows, then storage-optimal's (the baseline solved as the plan is):
    each line says which series it belongs to, so the second series does not read as the
    run starting again (the audit's yearly run: `window 53/53`, then `window 1/53`)."""
    path = write_scenario(**{"solver.window_h": 24, "solver.overlap_h": 6})
    argv = ["run", str(path), "--no-powerflow", "--out", str(tmp_path / "out")]
    _, err = _run(capsys, argv)
    lines = [s for s in err.splitlines() if re.search(r"window \d+/\d+", s)]
    heads = [s.split(" (steps")[0] for s in lines]
    assert heads == [
        "plan: window 1/2",
        "plan: window 2/2",
        "baseline storage-optimal: window 1/2",
        "baseline storage-optimal: window 2/2",
    ], err
