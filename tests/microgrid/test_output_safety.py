"""Output folders: nothing a user owns is replaced, and a replacement is crash-safe.

The refusals go through the real CLI (`microgrid.cli.main`); they happen before any
solve, so most tests here take milliseconds. The kill test forks a writer that SIGKILLs
itself before its k-th file-system step, for every k.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from scenario_factory import TINY
from sweep_helpers import STANDIN, write_spec

from microgrid import resultdir
from microgrid.atomic import WRITER_HOST
from microgrid.cli import main
from microgrid.errors import InputError
from microgrid.resultdir import MARKER_NAME, marker_text, recover, write_dir

TINY_CASE = """\
cases:
  - {period.start: "2023-03-06T00:00", period.end: "2023-03-07T00:00", battery.energy_mwh: 0}
"""


def one_error_line(capsys, code: int, *names: str) -> str:
    """Exit 2, exactly one stderr line, no traceback, every name in it (of a long path,
    its end: error lines shorten long words in the middle)."""
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for name in names:
        assert name[-50:] in err, (name, err)
    return err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (hidden ones included) by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def run_result(tmp_path_factory) -> Path:
    """One real `run` with the default --out, from a scratch working folder."""
    work = tmp_path_factory.mktemp("work")
    (work / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        assert main(["run", "tiny.yaml", "--no-powerflow"]) == 0
    finally:
        os.chdir(cwd)
    return work / "out" / "tiny"


# ---------------------------------------------------------------------------------------
# Refusals through the CLI


def test_out_dot_is_refused_and_every_file_kept(tmp_path, tiny, monkeypatch, capsys):
    (tmp_path / "thesis.txt").write_text("four years of work")
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "tiny.yaml", "--out", ".", "--no-powerflow"])
    one_error_line(capsys, code, str(tmp_path), "current folder")
    assert snapshot(tmp_path) == before


def _foreign(tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("not microgrid's")
    return folder, snapshot(folder)


def test_run_refuses_a_foreign_folder(tmp_path, tiny, capsys):
    folder, before = _foreign(tmp_path)
    code = main(["run", str(tiny), "--out", str(folder), "--no-powerflow"])
    one_error_line(capsys, code, str(folder), MARKER_NAME)
    assert snapshot(folder) == before


def test_pareto_refuses_a_foreign_folder(tmp_path, tiny, capsys):
    folder, before = _foreign(tmp_path)
    code = main(["pareto", str(tiny), "--points", "2", "--out", str(folder)])
    one_error_line(capsys, code, str(folder), MARKER_NAME)
    assert snapshot(folder) == before


def test_sweep_refuses_a_foreign_folder(tmp_path, capsys):
    spec = write_spec(tmp_path, TINY_CASE, base="ercot-dallas-2023.yaml")
    folder, before = _foreign(tmp_path)
    code = main(["sweep", str(spec), "--out", str(folder), "--runner", STANDIN])
    one_error_line(capsys, code, str(folder), MARKER_NAME)
    assert snapshot(folder) == before


def test_sweep_folder_is_resumed_not_refused(tmp_path, capsys):
    spec = write_spec(tmp_path, TINY_CASE, base="ercot-dallas-2023.yaml")
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN]) == 0
    assert json.loads((out / MARKER_NAME).read_text())["kind"] == "sweep"
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--runner", STANDIN]) == 0
    assert "1 ok" in capsys.readouterr().out


@pytest.mark.parametrize("to", ["json", "slurm", "kubernetes"])
def test_export_refuses_a_foreign_folder(run_result, tmp_path, to, capsys):
    folder, before = _foreign(tmp_path)
    image = ["--image", "t:1"] if to == "kubernetes" else []  # kubernetes requires one
    code = main(["export", str(run_result), "--to", to, "--out", str(folder), *image])
    one_error_line(capsys, code, str(folder), MARKER_NAME)
    assert snapshot(folder) == before


def test_export_refuses_the_result_folder_itself(run_result, capsys):
    before = snapshot(run_result)
    code = main(["export", str(run_result), "--to", "slurm", "--out", str(run_result)])
    one_error_line(capsys, code, str(run_result), "input")
    assert snapshot(run_result) == before


def test_export_file_replaces_only_its_own_file(run_result, tmp_path, capsys):
    own = tmp_path / "schedule.json"
    assert main(["export", str(run_result), "--to", "json", "--out", str(own)]) == 0
    assert main(["export", str(run_result), "--to", "json", "--out", str(own)]) == 0
    capsys.readouterr()
    foreign = tmp_path / "thesis.json"
    foreign.write_text('{"chapter": 1}\n')
    code = main(["export", str(run_result), "--to", "json", "--out", str(foreign)])
    one_error_line(capsys, code, str(foreign), "did not write")
    assert foreign.read_text() == '{"chapter": 1}\n'
    assert not (tmp_path / "thesis.csv").exists()


def test_export_folder_is_replaced_whole(run_result, tmp_path):
    out = tmp_path / "slurm"
    assert main(["export", str(run_result), "--to", "slurm", "--out", str(out)]) == 0
    _written_earlier(out, "stale.sbatch", "from an older export")
    assert main(["export", str(run_result), "--to", "slurm", "--out", str(out)]) == 0
    assert not (out / "stale.sbatch").exists() and (out / "submit.sh").exists()
    assert json.loads((out / MARKER_NAME).read_text())["kind"] == "export"


def _written_earlier(folder: Path, name: str, text: str) -> None:
    """`name` as a file an earlier write of `folder` made: listed in its marker."""
    (folder / name).write_text(text)
    marker = json.loads((folder / MARKER_NAME).read_text())
    entries = sorted([*marker["entries"], name])
    (folder / MARKER_NAME).write_text(marker_text(marker["kind"], entries))


@pytest.mark.parametrize("what", ["file", "folder", "nested result", "slurm record"])
def test_a_result_folder_that_gained_entries_is_not_replaced(run_result, tmp_path, what, capsys):
    """A user's notebook, or an export written inside the run's folder, was deleted when
    the run was written again: the folder is replaced whole."""
    out = tmp_path / "r"
    shutil.copytree(run_result, out)
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(yaml.safe_dump(TINY))
    if what == "file":
        (out / "notes.md").write_text("hours of work")
    elif what == "folder":
        (out / "my_analysis").mkdir()
        (out / "my_analysis" / "notebook.ipynb").write_text("hours of work")
    elif what == "nested result":
        assert main(["export", str(out), "--to", "json", "--out", str(out / "plan")]) == 0
    else:
        shutil.rmtree(out)
        assert main(["export", str(run_result), "--to", "slurm", "--out", str(out)]) == 0
        (out / "submitted_jobs.tsv").write_text("a.sbatch\t1001\n")
    capsys.readouterr()
    before = snapshot(out)
    if what == "slurm record":
        code = main(["export", str(run_result), "--to", "slurm", "--out", str(out)])
        one_error_line(capsys, code, str(out), "was submitted to Slurm")
    else:
        code = main(["run", str(tiny), "--out", str(out), "--no-powerflow"])
        one_error_line(capsys, code, str(out), "holds what microgrid did not write there")
    assert snapshot(out) == before


def test_home_folder_is_refused(tmp_path, tiny, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / MARKER_NAME).write_text(marker_text("run"))  # not even a marker makes it ours
    monkeypatch.setenv("HOME", str(home))
    code = main(["run", str(tiny), "--out", str(home), "--no-powerflow"])
    one_error_line(capsys, code, str(home), "home folder")
    assert snapshot(home) == {MARKER_NAME: marker_text("run").encode()}


def test_parent_of_the_scenario_is_refused(tmp_path, capsys):
    deep = tmp_path / "project" / "scenarios"
    deep.mkdir(parents=True)
    (deep / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (tmp_path / "project" / MARKER_NAME).write_text(marker_text("run"))
    before = snapshot(tmp_path)
    for parent in (deep, tmp_path / "project"):
        code = main(["run", str(deep / "tiny.yaml"), "--out", str(parent), "--no-powerflow"])
        one_error_line(capsys, code, str(parent), "input")
    assert snapshot(tmp_path) == before


def test_existing_file_and_symlink_are_refused(tmp_path, tiny, capsys):
    code = main(["run", str(tiny), "--out", str(tiny), "--no-powerflow"])
    one_error_line(capsys, code, str(tiny), "not a folder")
    code = main(["run", str(tiny), "--out", str(tiny / "sub" / "out"), "--no-powerflow"])
    one_error_line(capsys, code, str(tiny / "sub" / "out"), "which is a file")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / MARKER_NAME).write_text(marker_text("run"))
    link = tmp_path / "link"
    link.symlink_to(theirs)
    code = main(["run", str(tiny), "--out", str(link), "--no-powerflow"])
    one_error_line(capsys, code, str(link), "symbolic link")
    assert link.is_symlink() and snapshot(theirs) == {MARKER_NAME: marker_text("run").encode()}


def test_other_kind_is_refused(tmp_path, tiny, capsys):
    out = tmp_path / "front"
    out.mkdir()
    (out / MARKER_NAME).write_text(marker_text("pareto"))
    (out / "pareto.csv").write_text("keep")
    code = main(["run", str(tiny), "--out", str(out), "--no-powerflow"])
    one_error_line(capsys, code, str(out), "pareto")
    assert (out / "pareto.csv").read_text() == "keep"


def test_default_out_is_named_in_help(capsys):
    for command in ("run", "pareto"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "default: out/<scenario file name" in " ".join(capsys.readouterr().out.split())


def test_default_out_is_derived_from_the_scenario(run_result):
    assert run_result.name == "tiny" and (run_result / "summary.json").is_file()
    assert json.loads((run_result / MARKER_NAME).read_text())["kind"] == "run"


# ---------------------------------------------------------------------------------------
# Replacing our own folder, cleaning leftovers


def test_rerun_replaces_own_result_and_cleans_leftovers(run_result, tmp_path, tiny):
    out = tmp_path / "out"
    shutil.copytree(run_result, out)  # an earlier run's folder, marker included
    _written_earlier(out, "stale.csv", "from an earlier run")
    dead = tmp_path / f".out.tmp-{dead_pid()}@{WRITER_HOST}-deadbeef"  # a killed run's folder
    dead.mkdir()
    (dead / MARKER_NAME).write_text("")
    (dead / "timeseries.csv").write_text("half")
    alive = tmp_path / f".out.tmp-{os.getpid()}@{WRITER_HOST}-0000abcd"  # a running writer's
    alive.mkdir()
    (alive / MARKER_NAME).write_text("")
    stranger = tmp_path / f".out.tmp-{dead_pid()}@{WRITER_HOST}-feedf00d"  # right name, not ours
    stranger.mkdir()
    (stranger / "diary.txt").write_text("keep")
    # another host's writer on shared storage: its pid means nothing here, so it is kept
    elsewhere = tmp_path / f".out.tmp-{dead_pid()}@other-node-7-0badcafe"
    elsewhere.mkdir()
    (elsewhere / MARKER_NAME).write_text("")
    assert main(["run", str(tiny), "--out", str(out), "--no-powerflow"]) == 0
    assert not (out / "stale.csv").exists() and (out / "summary.json").is_file()
    assert not dead.exists() and alive.exists() and elsewhere.exists()
    assert (stranger / "diary.txt").read_text() == "keep"


def test_recover_restores_a_moved_aside_result(tmp_path):
    out = tmp_path / "out"
    write_dir(out, "run", lambda tmp: (tmp / "a.txt").write_text("old"))
    aside = tmp_path / f".out.old-{dead_pid()}@{WRITER_HOST}-12345678"
    os.rename(out, aside)  # a fallback swap killed between its two renames
    recover(out)
    assert (out / "a.txt").read_text() == "old" and not aside.exists()


# ---------------------------------------------------------------------------------------
# Kill at every step of the swap

OLD = {"a.txt": "old a", "b.txt": "old b", "sub/c.txt": "old c"}
NEW = {"a.txt": "new a", "d.txt": "new d", "sub/c.txt": "new c", "sub/e.txt": "new e"}
SHIMMED_OS = ("mkdir", "rename", "replace", "unlink", "rmdir", "open", "write")


def _fill(files: dict[str, str]):
    def fill(tmp: Path) -> None:
        for name, text in files.items():
            (tmp / name).parent.mkdir(exist_ok=True)
            (tmp / name).write_text(text)

    return fill


def _expected(files: dict[str, str]) -> dict[str, bytes]:
    entries = sorted({name.split("/")[0] for name in files})  # what the marker lists
    marker = marker_text("run", entries).encode()
    return {MARKER_NAME: marker, **{k: v.encode() for k, v in files.items()}}


def _killed_writer(out: Path, kill_at: int, exchange: bool) -> int:
    """Fork a writer of NEW into `out` that SIGKILLs itself just before its `kill_at`-th
    file-system call; return its wait status."""
    pid = os.fork()
    if pid:
        return os.waitpid(pid, 0)[1]
    try:
        count = [0]

        def shim(fn):
            def step(*args, **kwargs):
                count[0] += 1
                if count[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
                return fn(*args, **kwargs)

            return step

        for name in SHIMMED_OS:
            setattr(os, name, shim(getattr(os, name)))
        shutil.rmtree = shim(shutil.rmtree)
        io.open = builtins.open = shim(io.open)  # the files written by `fill`
        resultdir.exchange = shim(resultdir.exchange if exchange else lambda a, b: False)
        write_dir(out, "run", _fill(NEW))
    except BaseException:
        os._exit(1)
    os._exit(0)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_kill_at_every_step_leaves_old_or_new(tmp_path, exchange):
    if exchange and resultdir.exchange(tmp_path, tmp_path) is False:
        pytest.skip("no renameat2(RENAME_EXCHANGE) here")
    seen = set()
    for k in range(1, 200):
        parent = tmp_path / f"k{k}"
        out = parent / "out"
        write_dir(out, "run", _fill(OLD))
        status = _killed_writer(out, k, exchange)
        if not os.WIFSIGNALED(status):  # the writer finished: k is past its last step
            assert snapshot(out) == _expected(NEW)
            break
        if not exchange:  # the fallback's promise holds once the next writer recovers
            recover(out)
        state = snapshot(out)
        assert state in (_expected(OLD), _expected(NEW)), (k, state)
        seen.add("new" if state == _expected(NEW) else "old")
        write_dir(out, "run", _fill(NEW))  # the next write cleans every leftover
        assert sorted(p.name for p in parent.iterdir()) == ["out"], k
        assert snapshot(out) == _expected(NEW)
    else:
        pytest.fail("the writer never finished")
    assert seen == {"old", "new"} and k > 10


@pytest.mark.parametrize(
    "out",
    ["bad\nname", "nul\x00byte", "x" * 300, "/".join(["y" * 200] * 30)],
    ids=["newline", "nul", "long-name", "long-path"],
)
@pytest.mark.parametrize("command", ["run", "pareto", "export"])
def test_hostile_out_paths_are_one_line_errors(run_result, tiny, tmp_path, command, out, capsys):
    argv = {
        "run": ["run", str(tiny), "--no-powerflow"],
        "pareto": ["pareto", str(tiny)],
        "export": ["export", str(run_result), "--to", "slurm"],
    }[command]
    code = main([*argv, "--out", str(tmp_path / out)])
    one_error_line(capsys, code, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


def test_result_folder_from_before_the_marker(tmp_path, tiny, capsys):
    """A run folder without the marker is never ours, even one holding only result file
    names (test_output_folders.py: user files with those names)."""
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "summary.json").write_text("{}")
    (legacy / "timeseries.csv").write_text("timestamp_utc\n")
    with pytest.raises(InputError, match=MARKER_NAME):
        resultdir.check_target(legacy, "run")
    (legacy / "thesis.txt").write_text("mine")
    before = snapshot(legacy)
    code = main(["run", str(tiny), "--out", str(legacy), "--no-powerflow"])
    one_error_line(capsys, code, str(legacy), MARKER_NAME)
    assert snapshot(legacy) == before


def test_sweep_report_refuses_a_foreign_folder(tmp_path, capsys):
    folder, _ = _foreign(tmp_path)
    (folder / "records").mkdir()
    (folder / "report.html").write_text("my own report")
    before = snapshot(folder)
    code = main(["sweep-report", str(folder)])
    one_error_line(capsys, code, str(folder), "not a sweep output folder")
    assert snapshot(folder) == before


def test_a_dead_writers_temp_file_in_a_result_does_not_block_its_replacement(
    run_result, tmp_path, tiny
):
    out = tmp_path / "r"
    shutil.copytree(run_result, out)
    (out / f".report.html.tmp-{dead_pid()}@{WRITER_HOST}-abcd1234.html").write_text("half")
    assert main(["run", str(tiny), "--out", str(out), "--no-powerflow"]) == 0
    assert not list(out.glob(".report.html.tmp-*"))


def test_an_error_in_a_file_being_built_names_where_it_was_going(tmp_path):
    """A full disk while a run's report was written named the temp folder, gone by then."""
    out = tmp_path / "out"

    def fill(tmp: Path) -> None:
        raise InputError(
            "cannot write the report: No space left on device", path=str(tmp / "report.html")
        )

    with pytest.raises(InputError) as info:
        write_dir(out, "run", fill)
    assert info.value.path == str(out / "report.html")
    assert "out was left as it was" in info.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["export", "report"])
def test_a_killed_single_file_writers_temp_is_removed_by_the_next(run_result, tmp_path, command):
    """A writer killed mid-write left `.NAME.tmp-...` beside the file for good."""
    target = tmp_path / ("plan.json" if command == "export" else "page.html")
    suffix = target.suffix
    dead = tmp_path / f".{target.name}.tmp-{dead_pid()}@{WRITER_HOST}-abcd1234{suffix}"
    alive = tmp_path / f".{target.name}.tmp-{os.getpid()}@{WRITER_HOST}-efgh5678{suffix}"
    users = tmp_path / f".{target.name}.tmp-notes"
    for p in (dead, alive, users):
        p.write_text("half")
    argv = {
        "export": ["export", str(run_result), "--to", "json", "--out", str(target)],
        "report": ["report", str(run_result), "--out", str(target)],
    }[command]
    assert main(argv) == 0
    assert target.is_file() and not dead.exists()
    assert alive.read_text() == "half" and users.read_text() == "half"
