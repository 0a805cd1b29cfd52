"""Job ids and commands that could not be exported safely are refused by the real CLI:
an id starting with '-' (a command would read it as an option) and Unicode control or
format characters (bidi overrides make a script read differently than it runs)."""

from __future__ import annotations

import pytest
from cli_helpers import one_error_line
from export_helpers import JobIn, SegIn, write_result_dir

from microgrid.cli import main

DEADLINE = "2030-01-02T00:00:00+00:00"
_IMAGE = {"kubernetes": ["--image", "t:1"], "slurm": [], "json": []}  # kubernetes needs one


def _result(tmp_path, job_id: str, command: str = "echo training {job_id}"):
    seg = SegIn(job_id, 0, "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", 1, 1.0, 1.0, 0.1)
    return write_result_dir(tmp_path / "r", [JobIn(job_id, 1, DEADLINE, command)], [seg])


@pytest.mark.parametrize("target", ["slurm", "kubernetes", "json"])
def test_id_starting_with_dash_is_refused(tmp_path, capsys, target):
    rd = _result(tmp_path, "-rf")
    out = tmp_path / "out"
    argv = ["export", str(rd), "--to", target, "--out", str(out), *_IMAGE[target]]
    line = one_error_line(capsys, argv)
    assert "jobs_spec.json" in line and "field 0.id" in line and "starts with '-'" in line
    assert not out.exists()


@pytest.mark.parametrize(
    "job_id",
    [
        "job\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE
        "a\u2066b\u2069",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
        "zero\u200bwidth",  # ZERO WIDTH SPACE
        "c1\x85control",  # NEXT LINE, a C1 control
    ],
)
@pytest.mark.parametrize("target", ["slurm", "kubernetes"])
def test_format_and_control_characters_in_ids_are_refused(tmp_path, capsys, job_id, target):
    rd = _result(tmp_path, job_id)
    out = tmp_path / "out"
    argv = ["export", str(rd), "--to", target, "--out", str(out), *_IMAGE[target]]
    line = one_error_line(capsys, argv)
    assert "field 0.id" in line and "control characters (U+" in line
    assert not out.exists()


def test_bidi_override_in_command_is_refused(tmp_path, capsys):
    rd = _result(tmp_path, "train", command="echo safe \u202e; rm -rf ~ #")
    out = tmp_path / "out"
    line = one_error_line(capsys, ["export", str(rd), "--to", "slurm", "--out", str(out)])
    assert "field 0.command" in line and "U+202E RIGHT-TO-LEFT OVERRIDE" in line
    assert not out.exists()


def test_multi_line_command_still_exports(tmp_path, capsys):
    rd = _result(tmp_path, "train", command="echo one\n\techo two {job_id}")
    out = tmp_path / "out"
    assert main(["export", str(rd), "--to", "slurm", "--out", str(out)]) == 0
    script = next(out.glob("*.sbatch")).read_text()
    assert "$'echo one\\n\\x09echo two train'" in script  # escaped, one line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--to", "slurm", "--timezone", "localtime"], "unknown time zone 'localtime'"),
        (["--to", "slurm", "--timezone", "x" * 300], "unknown time zone 'xxxx"),
        # an empty zone once fell back to the scenario's without a word
        (["--to", "slurm", "--timezone", ""], "--timezone: unknown time zone ''"),
        (["--to", "json", "--timezone", "UTC"], "--timezone only applies to --to slurm"),
        (["--to", "kubernetes", "--image", "a\nb"], "container image 'a\\nb'"),
        (["--to", "kubernetes", "--image", ""], "container image ''"),
        (["--to", "kubernetes", "--image=-rf"], "container image '-rf'"),
        (["--to", "kubernetes", "--image", "t:1", "--namespace", "n" * 64], "not a DNS-1123"),
        (["--to", "kubernetes", "--image", "t:1", "--namespace", "abc\n"], "namespace 'abc\\n'"),
        (["--to", "kubernetes"], "--to kubernetes needs --image IMAGE"),
        # options of one target were silently ignored by the others
        (["--to", "slurm", "--image", "t:1"], "--image only applies to --to kubernetes"),
        (["--to", "json", "--namespace", "n"], "--namespace only applies to --to kubernetes"),
        (["--to", "slurm", "--one-file"], "--one-file only applies to --to kubernetes"),
        (["--to", "csv", "--no-gpus"], "--no-gpus only applies to --to slurm or kubernetes"),
    ],
    ids=[
        "tz-localtime",
        "tz-long",
        "tz-empty",
        "tz-not-slurm",
        "image-newline",
        "image-empty",
        "image-dash",
        "ns-64",
        "ns-nl",
        "no-image",
        "image-not-k8s",
        "ns-not-k8s",
        "one-file-not-k8s",
        "no-gpus-json-csv",
    ],
)
def test_unsafe_export_options_are_refused(tmp_path, capsys, args, needle):
    rd = _result(tmp_path, "job-a")
    out = tmp_path / "out"
    line = one_error_line(capsys, ["export", str(rd), "--out", str(out), *args])
    assert needle in line and len(line) < 400
    assert not out.exists()
