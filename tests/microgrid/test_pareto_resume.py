"""Pareto points journaled as they finish (microgrid/pareto_journal.py): an interrupted
front keeps its finished solves, a re-run with the same --out solves only the rest and
writes the same files as an uninterrupted run; changed inputs are never reused; nothing
of the user's is touched. On the tiny scenario (scenario_factory.TINY), solved to a zero
gap: a front of POINTS points takes POINTS + 1 solves (min cost, the least-emissions
solve, the interior budgets, then min cost at the least emissions)."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, TINY, small_scenario

import optimize
from microgrid import pareto, pareto_journal
from microgrid.assemble import build_problem, load_inputs, solver_options
from microgrid.cli import main
from microgrid.pareto import front_to_folder
from microgrid.pareto_journal import MARKER_NAME as JOURNAL_MARKER
from microgrid.pareto_journal import journal_path, point_key
from microgrid.resultdir import MARKER_NAME
from microgrid.scenario import load_scenario

POINTS = 4
SOLVES = POINTS + 1
RESULT_FILES = (MARKER_NAME, "pareto.csv", "pareto.png", "timings.json")
KEY_FILE = re.compile(r"[0-9a-f]{64}\.json")


@pytest.fixture
def solves(monkeypatch):
    """Counts optimize.solve calls; with `stop_at = n` call n raises KeyboardInterrupt
    (Ctrl-C during that solve). The clock of solve_s ticks 1 s per reading, so two
    uninterrupted fronts of the same inputs are byte-identical files."""
    real = optimize.solve
    state = SimpleNamespace(calls=0, stop_at=None)

    def solve(problem, options, start_on=None):
        state.calls += 1
        if state.calls == state.stop_at:
            raise KeyboardInterrupt
        return real(problem, options, start_on=start_on)

    monkeypatch.setattr(optimize, "solve", solve)
    ticks = itertools.count()
    monkeypatch.setattr(pareto, "_clock", lambda: float(next(ticks)))
    return state


def _scenario_file(folder: Path, data: dict = TINY) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _front(path: Path, out: Path, points: int = POINTS):
    return front_to_folder(load_scenario(path), out, points, inputs=[path])


def _interrupt(solves, path: Path, out: Path, after: int) -> None:
    """Run the front to `out`, Ctrl-C in solve `after + 1`; reset the counter."""
    solves.calls, solves.stop_at = 0, after + 1
    with pytest.raises(KeyboardInterrupt):
        _front(path, out)
    solves.calls, solves.stop_at = 0, None


def _stored(out: Path) -> list[str]:
    return sorted(p.name for p in journal_path(out).iterdir() if KEY_FILE.fullmatch(p.name))


@pytest.mark.slow
@pytest.mark.parametrize("after", [1, 3])
def test_interrupted_front_resumes_solving_only_the_rest(tmp_path, solves, after):
    path = _scenario_file(tmp_path / "in")
    _front(path, tmp_path / "full")
    assert solves.calls == SOLVES
    out = tmp_path / "resumed"
    _interrupt(solves, path, out, after)
    assert not os.path.lexists(out)  # the result folder appears only complete
    assert len(_stored(out)) == after  # every finished solve is on disk

    front, _ = _front(path, out)
    assert solves.calls == SOLVES - after
    assert list(front["point"]) == ["min-cost", "e1", "e2", "min-emissions"]
    for name in RESULT_FILES:
        assert (out / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    # the journal is gone, and nothing else was left beside the results
    assert sorted(os.listdir(tmp_path)) == ["full", "in", "resumed"]


@pytest.mark.slow
def test_a_rerun_of_a_finished_front_solves_again(tmp_path, solves):
    """The journal is removed once the front is written: it resumes, it does not cache."""
    path = _scenario_file(tmp_path / "in")
    _front(path, tmp_path / "p", points=2)
    _front(path, tmp_path / "p", points=2)
    assert solves.calls == 2 * 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        lambda sc: sc["signals"]["time_of_use"][2].update(price_usd_per_mwh=60),
        lambda sc: sc["battery"].update(energy_mwh=21),
        lambda sc: sc["solver"].update(mip_rel_gap=1e-3),
    ],
    ids=["price", "battery", "solver-option"],
)
def test_a_changed_scenario_reuses_no_stale_point(tmp_path, solves, change):
    out = tmp_path / "p"
    _interrupt(solves, _scenario_file(tmp_path / "in"), out, after=3)
    changed = copy.deepcopy(TINY)
    change(changed)
    path = _scenario_file(tmp_path / "in", changed)
    _front(path, out)
    assert solves.calls == SOLVES
    assert not journal_path(out).exists()  # the stale points went with the journal


def _cut_short(doc: dict, text: str) -> str:
    return text[: len(text) // 2]


def _edit(**result):
    """A record whose result holds `result`'s values: edited by hand, or a bit flipped."""

    def edit(doc: dict, text: str) -> str:
        doc["result"].update(result)
        return json.dumps(doc)

    return edit


def _record_of(out: Path, label: str) -> Path:
    """The journal's record of the point `label` (its JSON says which)."""
    for name in _stored(out):
        path = journal_path(out) / name
        if json.loads(path.read_text())["label"] == label:
            return path
    raise AssertionError(f"no record of {label}")


@pytest.mark.parametrize(
    "damage",
    [
        _cut_short,
        lambda doc, text: "",
        _edit(cost_usd="abc"),  # a wrong type: was an internal error (exit 1)
        _edit(emissions_t=[1.0]),
        _edit(cost_usd=-1.0e9),  # well typed but wrong: was reused without a word
        _edit(on_intervals={"train": [[0]]}),
        lambda doc, text: json.dumps({**doc, "key": "0" * 64}),  # another point's
        lambda doc, text: json.dumps([doc]),
    ],
    ids=[
        "cut-short",
        "empty",
        "str-cost",
        "list-emissions",
        "edited-cost",
        "bad-intervals",
        "other-key",
        "not-a-record",
    ],
)
def test_a_damaged_record_is_one_error_line_naming_it_and_never_reused(
    tmp_path, solves, capsys, damage
):
    """A record our writer wrote is complete (temp file, then rename): one that is cut
    short, edited or of another point was damaged outside microgrid. It is neither reused
    (a wrong point on the front) nor silently solved again (hiding the damage): one line
    names it and says how to go on, exit code 2, and the journal keeps its other points."""
    path = _scenario_file(tmp_path / "in")
    out = tmp_path / "p"
    _interrupt(solves, path, out, after=2)
    record = _record_of(out, "min-cost")
    text = record.read_text()
    record.write_text(damage(json.loads(text), text))
    argv = ["pareto", str(path), "--points", str(POINTS), "--out", str(out)]
    line = one_error_line(capsys, argv)
    assert line.startswith(f"error: {journal_path(out)}: the Pareto journal record ")
    assert f" {record.name} is damaged (" in line and "delete that file" in line, line
    assert solves.calls == 0
    assert not os.path.lexists(out) and len(_stored(out)) == 2
    record.unlink()  # as the line says: that point is solved again, the other reused
    assert main(argv) == 0
    assert solves.calls == SOLVES - 1


def test_cli_prints_one_progress_line_per_point_and_resumes(tmp_path, solves, capsys):
    path = _scenario_file(tmp_path / "in")
    argv = ["pareto", str(path), "--points", "3", "--out", str(tmp_path / "p")]
    solves.stop_at = 3  # min cost and the least-emissions solve finish
    assert main(argv) == 130
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "interrupted"  # main's line for Ctrl-C
    (line,) = _ours(err)
    assert re.fullmatch(
        r"pareto: point 1/3 \(min cost, no budget\): cost [\d,]+ USD, [\d,]+\.\d t CO2e, "
        r"gap 0\.00 %, 1\.0 s",
        line,
    ), line
    assert len(_stored(tmp_path / "p")) == 2

    solves.calls, solves.stop_at = 0, None
    assert main(argv) == 0
    assert solves.calls == 2
    lines = _ours(capsys.readouterr().err.splitlines())
    assert len(lines) == 3
    heads = [line.split(":")[1] for line in lines]
    assert heads[0] == " point 1/3 (min cost, no budget)"
    # tightest budget first (each point starts from a schedule that keeps its budget)
    assert heads[1] == " point 2/3 (min emissions)"
    assert re.fullmatch(r" point 3/3 \(budget [\d,]+\.\d t\)", heads[2]), heads[2]
    assert lines[0].endswith(", reused from an earlier run")
    assert lines[1].endswith(", 2.0 s") and lines[2].endswith(", 1.0 s")


def test_cli_quiet_prints_no_progress_lines(tmp_path, solves, capsys):
    path = _scenario_file(tmp_path / "in")
    argv = ["pareto", str(path), "--points", "2", "--out", str(tmp_path / "p"), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "min-emissions" in captured.out  # the table still prints at the end


def test_an_older_journals_points_are_solved_again_and_said_so(tmp_path, solves, capsys):
    """A journal of the microgrid before each point kept the work its schedule leaves
    undone (format 2): its records lack those figures, so none is reused (the front would
    hold points without them), and a note on stderr says why they are solved again."""
    path = _scenario_file(tmp_path / "in")
    out = tmp_path / "p"
    current = pareto_journal.FORMAT_VERSION
    pareto_journal.FORMAT_VERSION = 2  # what the older microgrid wrote, keys and records
    try:
        _interrupt(solves, path, out, after=2)
    finally:
        pareto_journal.FORMAT_VERSION = current
    assert len(_stored(out)) == 2
    assert main(["pareto", str(path), "--points", str(POINTS), "--out", str(out)]) == 0
    assert solves.calls == SOLVES  # none of the older points reused
    notes = [s for s in capsys.readouterr().err.splitlines() if s.startswith("note:")]
    assert notes == [
        f"note: the Pareto journal {journal_path(out)} holds 2 points stored by an older "
        f"microgrid (journal format 2; this one writes {current}, with the work each "
        "schedule leaves undone and a checksum of each point): they are solved again"
    ]
    assert not journal_path(out).exists()  # the older records went with the journal


def _ours(stderr: list[str]) -> list[str]:
    """The pareto command's progress lines (a long solve may print its own)."""
    return [line for line in stderr if line.startswith("pareto:")]


@pytest.mark.parametrize("kind", ["user-folder", "file", "symlink"])
def test_a_journal_path_that_is_not_ours_is_refused(tmp_path, solves, capsys, kind):
    path = _scenario_file(tmp_path / "in")
    journal = journal_path(tmp_path / "p")
    if kind == "user-folder":
        journal.mkdir()
        (journal / "notes.txt").write_text("mine")
    elif kind == "file":
        journal.write_text("mine")
    else:
        (tmp_path / "elsewhere").mkdir()
        journal.symlink_to(tmp_path / "elsewhere")
    before = _tree(tmp_path)
    line = one_error_line(capsys, ["pareto", str(path), "--out", str(tmp_path / "p")])
    assert "Pareto journal folder" in line and "nothing was written" in line
    assert solves.calls == 0
    assert _tree(tmp_path) == before


def test_only_the_journals_own_files_are_removed(tmp_path, solves):
    path = _scenario_file(tmp_path / "in")
    out = tmp_path / "p"
    (tmp_path / "beside.txt").write_text("mine")
    _interrupt(solves, path, out, after=2)
    journal = journal_path(out)
    (journal / "keep.txt").write_text("mine")  # a user's file, in our folder
    (journal / ("0" * 64 + ".json.bak")).write_text("mine")  # not one of our names
    (journal / f".{'1' * 64}.json.tmp-abc123.json").write_text("{")  # a killed write's
    _front(path, out)
    # our records and the killed write's temp file went; the user's files and the
    # folder holding them (still marked ours) stayed
    assert sorted(os.listdir(journal)) == [JOURNAL_MARKER, "0" * 64 + ".json.bak", "keep.txt"]
    assert (tmp_path / "beside.txt").read_text() == "mine"
    assert sorted(os.listdir(out)) == sorted(RESULT_FILES)


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under `root` with its content (files), target (links) or "dir"."""
    tree = {}
    for p in sorted(root.rglob("*")):
        key = str(p.relative_to(root))
        if p.is_symlink():
            tree[key] = os.readlink(p)
        elif p.is_dir():
            tree[key] = "dir"
        else:
            tree[key] = p.read_bytes()
    return tree


def _problem_and_options(path: Path, price: float = 0.0, budget: float | None = None):
    scenario = load_scenario(path)
    problem = build_problem(scenario, load_inputs(scenario))
    return pareto._with_objective(problem, price, budget), solver_options(scenario)


def test_the_key_follows_the_data_files_content_not_their_names(tmp_path):
    """The YAML text is the same; only the signals file it names changed."""
    csv = tmp_path / "signals.csv"
    original = (DATA / "grid-signals" / "ercot-2023.csv").read_text()
    csv.write_text(original)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(small_scenario(**{"signals.csv": str(csv)})))
    problem, options = _problem_and_options(path)
    key = point_key(problem, options)
    assert point_key(*_problem_and_options(path)) == key  # a rebuild gives the same key

    row = "2023-08-22T12:00:00Z,"
    assert row in original
    csv.write_text(re.sub(rf"{row}[0-9.]+,", f"{row}999.5,", original))
    assert point_key(*_problem_and_options(path)) != key
    csv.write_text(original)
    assert point_key(*_problem_and_options(path)) == key


def test_the_key_holds_the_points_parameters_and_not_log_switches(tmp_path):
    path = _scenario_file(tmp_path)
    problem, options = _problem_and_options(path, budget=180.0)
    key = point_key(problem, options)
    assert point_key(*_problem_and_options(path, budget=180.0 + 1e-9)) != key
    assert point_key(*_problem_and_options(path, price=1.0, budget=180.0)) != key
    assert point_key(problem, optimize.SolverOptions(mip_rel_gap=0.5)) != key
    quiet = {"log_to_console": not options.log_to_console}
    assert point_key(problem, dataclasses.replace(options, **quiet)) == key
