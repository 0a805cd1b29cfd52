"""Property: any mutated scenario YAML or jobs CSV either validates or is refused with one
`error:` line and exit code 2, within 5 s and 500 MB, with no traceback.

Each input runs through the real `microgrid validate` in a bounded child process
(tests/bounded_cli.py). CI runs a fixed, derandomised set of examples; a larger campaign is
`make fuzz` (MICROGRID_FUZZ_EXAMPLES=2000). A failing example is printed whole, with the
input file's text, so it can be replayed by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from bounded_cli import BoundedCli, Outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_factory import DATA, ROOT, small_scenario

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(1800)]

EXAMPLES = int(os.environ.get("MICROGRID_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("MICROGRID_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)
JOBS_CSV = DATA / "jobs" / "reference-week.csv"

# Values a mistaken or hostile user puts where a number, a string, a time or a path goes.
HOSTILE_SCALARS = [
    0, -1, -0.0, 1, 2**63, -(2**63), 10**400, 1e308, -1e308, 5e-324, 1e-300,
    float("inf"), float("-inf"), float("nan"), True, False, None, "", " ", "1e999", "nan",
    "-rf", "--help", "x" * 10_000, "\x00", "a\nb", "\u202eevil", "\u200b", "\ufeffid",
    "2023-03-12T02:30", "2023-11-05T01:30", "9999-12-31T23:00", "0001-01-01T00:00",
    "2023-08-22T00:17", "2023-02-30T00:00", "localtime", "posixrules", "Etc/GMT+14", "z" * 300,
    "/", "/dev/zero", "/dev/urandom", "/etc", "/proc/self/mem", "/nonexistent.csv", "a" * 5000,
    "../../../../etc/passwd", "~", "$HOME", "{job_id}; rm -rf ~",
]  # fmt: skip
hostile_scalar = (
    st.sampled_from(HOSTILE_SCALARS) | st.floats() | st.integers() | st.text(max_size=40)
)
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every key path of a nested dict/list scenario, inner nodes included."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _parent(data, path):
    for k in path[:-1]:
        data = data[k]
    return data


@st.composite
def mutated_scenario(draw) -> dict:
    """R1's two-day scenario (with its weekly jobs CSV) after 1-3 hostile edits."""
    data = small_scenario(**{"jobs.csv": str(JOBS_CSV)})
    data["period"] = {"start": "2023-08-21T00:00", "end": "2023-08-28T00:00"}
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "set":
            parent[path[-1]] = draw(hostile_value)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "wind", "battery", "swings"]))] = draw(
                hostile_value
            )
    return data


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def mutated_text(draw) -> bytes:
    """R1's scenario text, byte-level damaged: inserted bytes, truncation, encodings."""
    text = (ROOT / "scenarios" / "ercot-dallas.yaml").read_text()
    text = text.replace("data/", f"{ROOT}/scenarios/data/")
    raw = text.encode()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        edit = draw(st.sampled_from(["insert", "truncate", "utf16", "bom", "nest", "alias"]))
        if edit == "insert":
            raw = raw[:at] + draw(st.binary(min_size=1, max_size=12)) + raw[at:]
        elif edit == "truncate":
            raw = raw[:at]
        elif edit == "utf16":
            raw = raw.decode("utf-8", "replace").encode("utf-16")
        elif edit == "bom":
            raw = b"\xef\xbb\xbf" + raw
        elif edit == "nest":
            depth = draw(st.integers(10, 20_000))
            raw += b"\nextra: " + b"[" * depth + b"]" * depth + b"\n"
        else:
            raw += b"\nx0: &x0 [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + b"".join(
                f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n".encode() for i in range(1, 10)
            )
    return raw


@st.composite
def mutated_jobs_csv(draw) -> bytes:
    """The reference week's jobs CSV with hostile cells, rows, columns or bytes."""
    rows = [line.split(",") for line in JOBS_CSV.read_text().splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(["cell", "cell", "cell", "row", "column", "bom", "bytes"]))
        r = draw(st.integers(0, len(rows) - 1))
        if edit == "cell" and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = str(draw(hostile_scalar)).replace(",", ";").replace("\n", " ")
        elif edit == "row":
            rows.insert(draw(st.integers(1, len(rows))), list(rows[r]))
        elif edit == "column" and rows[r]:
            rows[r] = rows[r][:-1] if draw(st.booleans()) else rows[r] + ["extra"]
        elif edit == "bom":
            rows[0][0] = "\ufeff" + rows[0][0]
        elif edit == "bytes":
            rows.append([draw(st.binary(max_size=20)).decode("latin-1")])
    return ("\n".join(",".join(row) for row in rows) + "\n").encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def cli():
    with BoundedCli(time_s=5.0, memory_mb=500) as bounded:
        yield bounded


def _check(cli: BoundedCli, scenario: Path, shown: str) -> None:
    outcome = cli.run(["validate", str(scenario)], cwd=scenario.parent)
    assert not outcome.problems(max_error_lines=21), (outcome, shown[:3000])


@pytest.mark.slow
@FUZZ
@given(data=mutated_scenario())
def test_mutated_scenario_is_valid_or_one_line(cli, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "scenario.yaml"
    path.write_text(_dump(data), encoding="utf-8")
    _check(cli, path, _dump(data))


@pytest.mark.slow
@FUZZ
@given(raw=mutated_text())
def test_damaged_yaml_text_is_valid_or_one_line(cli, tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "scenario.yaml"
    path.write_bytes(raw)
    _check(cli, path, repr(raw[:3000]))


@pytest.mark.slow
@FUZZ
@given(raw=mutated_jobs_csv())
def test_mutated_jobs_csv_is_valid_or_one_line(cli, tmp_path_factory, raw):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "jobs.csv").write_bytes(raw)
    data = small_scenario(**{"jobs.csv": "jobs.csv"})
    data["period"] = {"start": "2023-08-21T00:00", "end": "2023-08-28T00:00"}
    (folder / "scenario.yaml").write_text(_dump(data))
    _check(cli, folder / "scenario.yaml", repr(raw[:3000]))


def test_the_checker_sees_a_traceback_and_a_hang():
    """The harness itself can fail: a crash and a hang are reported, not passed."""
    crash = Outcome(1, None, "", "Traceback (most recent call last):\n  boom\n", 0.1, 0.0)
    assert "traceback" in crash.problems()
    hang = Outcome(None, 14, "", "", 5.0, 0.0)
    assert any("hang" in p for p in hang.problems())
    two_lines = Outcome(2, None, "", "error: a\nerror: b\n", 0.1, 0.0)
    assert two_lines.problems() and not two_lines.problems(max_error_lines=21)
    usage = Outcome(2, None, "", "usage: microgrid\nerror: x\n", 0.1, 0.0)
    assert usage.problems(max_error_lines=21)
