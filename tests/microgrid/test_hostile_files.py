"""Hostile files through the real CLI: YAML text that would blow up time, memory or the
stack, and data files (signals, weather, jobs) that are empty, binary, folders, too long
or too large. Each gives exit 2 and one line naming the file (and line, field), never a
traceback. The caps in the code bound time and memory; these tests check the refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from scenario_factory import DATA

from microgrid import yamlio
from microgrid.cli import main
from microgrid.datafiles import MAX_DATA_FILE_BYTES, MIB
from microgrid.errors import InputError
from microgrid.scenario import load_scenario
from microgrid.yamlio import MAX_DEPTH, MAX_YAML_BYTES

SIGNALS = DATA / "grid-signals" / "ercot-2023.csv"
WEATHER = DATA / "weather" / "dallas-2023.csv"
JOBS_HEADER = "id,gpus,work_h,release_h,deadline_h"
# the small scenario runs Tue 2023-08-22 to Thu 2023-08-24; job hours count from Monday
JOB_ROW = "train,8,4,24,48"


def validate(capsys, path: Path | str, *extra: str) -> tuple[int, str]:
    code = main(["validate", str(path), *extra])
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, *needles: str) -> str:
    """Exit 2, exactly one stderr line, no traceback, every needle in the line."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def write_yaml_text(tmp_path: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


# --------------------------------------------------------------------------- YAML text


def test_alias_bomb_is_refused(tmp_path, capsys):
    # 9 levels of 9 aliases: 1 KB of text, 9**9 (387 million) values when expanded
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = write_yaml_text(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 1100
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line ", "alias bomb", "with aliases expanded")


def test_recursive_alias_is_refused(tmp_path, capsys):
    path = write_yaml_text(tmp_path, "name: x\nloop: &a [1, *a]\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 2", "alias *a refers to a list or mapping")


def test_50_mb_yaml_is_refused_by_size(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(50 * MIB)  # sparse: the size alone must refuse it, unread
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "50.0 MiB", f"{MAX_YAML_BYTES // MIB}.0 MiB limit")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "nesting depth"),
        ("".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n", "64 levels"),
    ],
    ids=["flow-10000-deep", "block-100-deep"],
)
def test_deep_nesting_is_refused(tmp_path, capsys, text, needle):
    path = write_yaml_text(tmp_path, text)
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, str(path), "line ", needle)
    if needle == "64 levels":
        assert f"line {MAX_DEPTH + 1}" in line


def test_nul_character_is_refused(tmp_path, capsys):
    path = write_yaml_text(tmp_path, "name: a\x00b\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "NUL byte at byte offset 7")


def test_control_character_is_refused_with_its_line(tmp_path, capsys):
    path = write_yaml_text(tmp_path, "name: ok\ndescription: bell\x07\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 2", "control character U+0007", "column 18")


@pytest.mark.parametrize(
    "text", ["name: x\n? [1, 2]\n: 3\n", "name: x\n? {a: 1}\n: 3\n", "name: x\n[a]: 1\n"]
)
def test_list_or_mapping_as_key_is_refused(tmp_path, capsys, text):
    path = write_yaml_text(tmp_path, text)
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 2", "a list or mapping cannot be a key")


def test_invalid_utf8_names_byte_offset_and_line(tmp_path, capsys):
    path = write_yaml_text(tmp_path, b"name: x\ndescription: caf\xe9\n")
    code, err = validate(capsys, path)
    assert_one_line(
        code, err, str(path), "not UTF-8 text", "byte 0xe9 at byte offset 24", "(line 2)"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_text_is_refused(tmp_path, capsys, encoding):
    path = write_yaml_text(tmp_path, "name: x\n".encode(encoding))
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, str(path), "UTF-8")
    assert "UTF-16" in line


def test_utf8_byte_order_mark_is_accepted(tmp_path, write_scenario, capsys):
    path = write_scenario()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, err = validate(capsys, path)
    assert code == 0, err


@pytest.mark.parametrize(
    ("value", "tag"), [("!!int abc", "int"), ("!!bool maybe", "bool"), ("!!timestamp x", "")]
)
def test_bad_tagged_value_is_refused(tmp_path, capsys, value, tag):
    path = write_yaml_text(tmp_path, f"name: x\nsite: {value}\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 2", f"cannot read this {tag}")


@pytest.mark.parametrize(
    ("text", "value"),
    [("010", 10), ("-007", -7), ("1_000", 1000), ("0x10", 16), ("0o10", 8), ("1:30", "1:30")]
    + [("1_", "1_"), ("1__0", "1__0"), ("_1", "_1"), ("0x_1", "0x_1"), ("0x1_f", 31)],
)
def test_integers_read_as_yaml_1_2_does(text, value):
    """YAML 1.1 read 010 as octal 8 and 1:30 as base-60 90, without a word."""
    assert yaml.load(f"a: {text}\n", Loader=yamlio._UniqueKeyLoader) == {"a": value}


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e2", 100.0), ("2.0e2", 200.0), ("-1E-3", -0.001), (".5", 0.5), ("1_000.5", 1000.5)]
    + [("1.0e+2", 100.0), ("1:30.5", "1:30.5"), ("1e", "1e"), ('"1e2"', "1e2")]
    + [("1_e3", "1_e3"), ("1._5", "1._5"), ("1.5_e3", "1.5_e3"), ("5.", 5.0)],
)
def test_floats_read_as_yaml_1_2_does(text, value):
    """YAML 1.1 read 1e2 and 2.0e2 (an exponent without a dot or a sign) as text, and
    1_e3 (an underscore beside no digit) as 1000.0."""
    assert yaml.load(f"a: {text}\n", Loader=yamlio._UniqueKeyLoader) == {"a": value}


def test_an_exponent_is_a_number_in_a_scenario(write_scenario):
    path = write_scenario()
    text = path.read_text().replace("it_capacity_mw: 100", "it_capacity_mw: 1e2")
    assert "1e2" in text
    path.write_text(text)
    assert load_scenario(path).datacenter.it_capacity_mw == 100.0


def test_a_leading_zero_is_decimal_in_a_scenario(write_scenario, tmp_path):
    path = write_scenario()
    text = path.read_text().replace("it_capacity_mw: 100", "it_capacity_mw: 0100")
    assert "0100" in text
    path.write_text(text)
    assert load_scenario(path).datacenter.it_capacity_mw == 100.0


def test_a_merge_key_is_refused_saying_so(tmp_path, capsys):
    path = write_yaml_text(tmp_path, "name: x\nb: &b {power_mw: 5}\nbattery:\n  <<: *b\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 4", "merge keys (<<) are not supported")


def test_huge_integer_is_refused(tmp_path, capsys):
    path = write_yaml_text(tmp_path, "name: x\nsite: " + "9" * 10_000 + "\n")
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(path), "line 2", "cannot read this int")


def test_scenario_that_is_a_directory_empty_or_missing(tmp_path, capsys):
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    empty = write_yaml_text(tmp_path, "", name="empty.yaml")
    for path, needle in [
        (folder, "is a directory, not a file"),
        (empty, "file is empty"),
        (tmp_path / "missing.yaml", "file not found"),
    ]:
        code, err = validate(capsys, path)
        assert_one_line(code, err, str(path), needle)


def test_sweep_spec_alias_bomb_is_refused(tmp_path, capsys):
    lines = ["base: x.yaml", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    spec = write_yaml_text(tmp_path, "\n".join(lines) + "\n", name="sweep.yaml")
    code = main(["sweep", str(spec), "--out", str(tmp_path / "sweep-out")])
    err = capsys.readouterr().err
    assert_one_line(code, err, str(spec), "alias bomb")
    assert not (tmp_path / "sweep-out").exists()


# --------------------------------------------------------------------------- error lines


def test_100_kb_path_is_shortened_in_the_message(tmp_path, capsys):
    path = "/" + "d" * 100_000 + "/scenario.yaml"
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, "file name too long", "...", "/scenario.yaml")
    assert len(line) < 700


def test_control_and_bidi_characters_in_a_path_are_escaped(tmp_path, capsys):
    path = tmp_path / "evil\n\u202etxt.yaml"
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, "evil\\n\\u202etxt.yaml", "file not found")
    assert "\u202e" not in line


def test_input_error_is_one_bounded_line():
    exc = InputError("bad\r\nvalue " + "v" * 50_000, path="p" * 50_000, line=3, field="a.b")
    text = str(exc)
    assert "\n" not in text and "\r" not in text and "bad\\r\\nvalue" in text
    assert len(text) <= 600 and ", line 3, field a.b: " in text
    assert text.startswith("p" * 60 + "...") and text.endswith("..." + "v" * 60)


# --------------------------------------------------------------------------- data files

DATA_FIELDS = ["signals.csv", "weather.path", "jobs.csv"]


def scenario_with_data_file(write_scenario, field: str, path: Path) -> Path:
    if field == "jobs.csv":
        return write_scenario(jobs={"csv": str(path)})
    if field == "weather.path":  # a site CSV not shipped: its UTC offset must be given
        return write_scenario(**{field: str(path), "weather.utc_offset_seconds": -18000})
    return write_scenario(**{field: str(path)})


def _empty(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path, "file is empty"


def _binary(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" * 50)  # a zip (xlsx) header
    return path, "binary or UTF-16 file (NUL byte at byte offset 5)"


def _folder(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "folder.csv"
    path.mkdir()
    return path, "is a directory, not a file"


def _too_long(tmp_path: Path) -> tuple[Path, str]:
    return tmp_path / ("x" * 300 + ".csv"), "file name too long"


def _too_large(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.truncate(MAX_DATA_FILE_BYTES + 1)
    return path, f"larger than the {MAX_DATA_FILE_BYTES // MIB}.0 MiB limit"


@pytest.mark.parametrize("field", DATA_FIELDS)
@pytest.mark.parametrize("make", [_empty, _binary, _folder, _too_long, _too_large])
def test_unreadable_data_file_names_field_and_file(tmp_path, write_scenario, capsys, field, make):
    data_path, needle = make(tmp_path)
    path = scenario_with_data_file(write_scenario, field, data_path)
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, str(path), f"field {field}", needle, "line ")
    assert data_path.name[:40] in line


def test_signals_csv_with_header_and_no_rows(tmp_path, write_scenario, capsys):
    csv_path = tmp_path / "signals.csv"
    csv_path.write_text(SIGNALS.read_text().splitlines()[0] + "\n")
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(csv_path), "line 2", "no data rows")


def test_signals_csv_with_byte_order_mark_is_accepted(tmp_path, write_scenario, capsys):
    csv_path = tmp_path / "signals.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + SIGNALS.read_bytes())
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = validate(capsys, path)
    assert code == 0, err


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda row: row.replace("Z,", ",", 1), "need an explicit offset or Z"),
        (lambda row: row.split("T")[0] + "," + row.split(",", 1)[1], "explicit offset"),
        (lambda row: row.replace("2023-", "9999-", 1), "not a time stamp"),
        (lambda row: ",".join([row.split(",")[0], "1e308", *row.split(",")[2:]]), "outside"),
        (lambda row: ",".join([row.split(",")[0], "inf", *row.split(",")[2:]]), "'inf'"),
    ],
    ids=["naive-stamp", "date-only", "year-9999", "huge-price", "inf-price"],
)
def test_bad_signal_row_names_line_and_column(tmp_path, write_scenario, capsys, edit, needle):
    lines = SIGNALS.read_text().splitlines()
    lines[50] = edit(lines[50])  # file line 51
    csv_path = tmp_path / "signals.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(csv_path), "line 51", needle)


def test_signals_csv_in_local_time_across_dst_is_accepted(tmp_path, write_scenario, capsys):
    # offsets change from -06:00 to -05:00 and back: pandas cannot give them one dtype
    frame = pd.read_csv(SIGNALS)
    local = pd.to_datetime(frame["timestamp_utc"], utc=True).dt.tz_convert("America/Chicago")
    frame["timestamp_utc"] = local.map(lambda t: t.isoformat())
    csv_path = tmp_path / "signals.csv"
    frame.to_csv(csv_path, index=False)
    assert {"-06:00", "-05:00"} <= {t[-6:] for t in frame["timestamp_utc"]}
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = validate(capsys, path)
    assert code == 0, err


def test_signals_csv_not_utf8(tmp_path, write_scenario, capsys):
    lines = SIGNALS.read_text().splitlines()
    csv_path = tmp_path / "signals.csv"
    csv_path.write_bytes("\n".join(lines[:40]).encode() + b"\ncaf\xe9,1,2,3\n")
    path = write_scenario(**{"signals.csv": str(csv_path)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(csv_path), "not UTF-8 text (byte 0xe9")


def write_jobs(tmp_path: Path, *rows: str, bom: bool = False) -> Path:
    path = tmp_path / "jobs.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(rows).encode() + b"\n")
    return path


def test_jobs_csv_with_byte_order_mark_is_accepted(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW, bom=True)
    path = write_scenario(jobs={"csv": str(jobs)})
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "1 job)" in captured.out


@pytest.mark.parametrize("cell", ["inf", "nan", "-inf", "Infinity"])
def test_jobs_csv_non_finite_deadline(tmp_path, write_scenario, capsys, cell):
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW, f"late,8,4,24,{cell}")
    path = write_scenario(jobs={"csv": str(jobs)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(jobs), "line 3", "field deadline_h", "not a finite number")


def test_jobs_csv_duplicate_id_names_both_lines(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW, "other,8,4,24,48", JOB_ROW)
    path = write_scenario(jobs={"csv": str(jobs)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(jobs), "line 4", "field id", "'train'", "first on line 2")


def test_jobs_csv_id_also_in_yaml_list(tmp_path, write_scenario, capsys):
    jobs = write_jobs(tmp_path, JOBS_HEADER, JOB_ROW)
    item = {"id": "train", "gpus": 8, "work_h": 2, "release_h": 24, "deadline_h": 48}
    path = write_scenario(jobs={"csv": str(jobs), "items": [item]})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(jobs), "line 2", "already in the scenario's jobs list")


@pytest.mark.parametrize(
    ("rows", "line", "needle"),
    [
        ([JOBS_HEADER, JOB_ROW, "b,many,4,24,48"], "line 3", "field gpus"),
        ([JOBS_HEADER + ",color", JOB_ROW + ",red"], "line 1", "unknown column"),
        ([JOBS_HEADER + ",id", JOB_ROW + ",x"], "line 1", "column 'id' appears twice"),
        ([JOBS_HEADER, JOB_ROW, "b,8,4,24,48,extra"], "line 3", "more cells than header"),
        ([JOBS_HEADER, JOB_ROW, "b," + "z" * 200_000], "line 3", "not a valid CSV"),
    ],
    ids=["bad-cell", "unknown-column", "column-twice", "extra-cell", "cell-over-limit"],
)
def test_jobs_csv_row_errors_name_line_and_column(
    tmp_path, write_scenario, capsys, rows, line, needle
):
    jobs = write_jobs(tmp_path, *rows)
    path = write_scenario(jobs={"csv": str(jobs)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(jobs), line, needle)


def test_weather_site_csv_not_utf8_and_out_of_range(tmp_path, write_scenario, capsys):
    lines = WEATHER.read_text().splitlines()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("\n".join(lines[:30]).encode() + b"\n2023-01-02T05:00,caf\xe9,1,1,1\n")
    huge = tmp_path / "huge.csv"
    huge.write_text("\n".join([*lines[:10], lines[10].rsplit(",", 1)[0] + ",1e308", *lines[11:]]))
    for csv_path, needles in [
        (latin, ["not UTF-8 text (byte 0xe9"]),
        (huge, ["line 11", "field wind_speed_10m_kmh", "outside [0, 400]"]),
    ]:
        path = write_scenario(
            **{"weather.path": str(csv_path), "weather.utc_offset_seconds": -18000}
        )
        code, err = validate(capsys, path)
        assert_one_line(code, err, str(csv_path), *needles)


def test_jobs_csv_not_utf8_names_its_line(tmp_path, write_scenario, capsys):
    jobs = tmp_path / "jobs.csv"
    jobs.write_bytes(f"{JOBS_HEADER}\n{JOB_ROW}\n".encode() + b"caf\xe9,8,4,24,48\n")
    path = write_scenario(jobs={"csv": str(jobs)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, f"{jobs}, line 3: not UTF-8 text (byte 0xe9")


def test_weather_site_csv_not_utf8_names_its_line(tmp_path, write_scenario, capsys):
    lines = WEATHER.read_text().splitlines()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("\n".join(lines[:30]).encode() + b"\n2023-01-02T05:00,caf\xe9,1,1,1\n")
    path = write_scenario(**{"weather.path": str(latin), "weather.utc_offset_seconds": -18000})
    code, err = validate(capsys, path)
    assert_one_line(code, err, f"{latin}, line 31: not UTF-8 text (byte 0xe9")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("garbage.epw", b"garbage\n1,2,3\n", "not a valid EPW file"),
        ("garbage.tm2", b"garbage\n1,2,3\n", "TMY2 header time zone"),
        ("garbage.csv", b"only,a,header\n", "TMY3 header time zone"),
    ],
)
def test_broken_tmy_file(tmp_path, write_scenario, capsys, name, content, needle):
    tmy = tmp_path / name
    tmy.write_bytes(content)
    path = write_scenario(weather={"source": "tmy", "path": str(tmy)})
    code, err = validate(capsys, path)
    assert_one_line(code, err, str(tmy), needle)
