"""The JSON/CSV schedule: schema, round trip, agreement with jobs.csv, input errors."""

from __future__ import annotations

import argparse
import csv
import json
import math
from datetime import datetime, timezone

import pytest
from export_helpers import JobIn, SegIn, read_jobs_csv, reference_result, write_result_dir

from microgrid.errors import InputError
from microgrid.export.parser import add_export_parser
from microgrid.export.result_reader import build_schedule
from microgrid.export.schedule import (
    SCHEMA_VERSION,
    load_schema,
    read_schedule,
    schedule_to_dict,
    write_schedule,
    write_schedule_csv,
)
from microgrid.resultdir import MARKER_NAME


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)


def _jsonschema():
    """jsonschema (in the test extra); only the schema checks need it."""
    return pytest.importorskip("jsonschema")


def test_schema_file_is_a_valid_draft_2020_12_schema():
    jsonschema = _jsonschema()
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["pattern"].startswith("^1")


def test_round_trip_and_schema(tmp_path):
    rd = reference_result(tmp_path / "result")
    schedule = build_schedule(rd)
    assert schedule.schema_version == SCHEMA_VERSION == "1.1"
    path = write_schedule(schedule, tmp_path / "schedule.json")
    doc = json.loads(path.read_text())
    jsonschema = _jsonschema()
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)
    again = read_schedule(path)
    assert again == schedule
    assert schedule_to_dict(again) == doc
    # provenance
    assert doc["scenario"]["name"] == "test-scenario"
    assert doc["scenario"]["path"] == "test-scenario.yaml"
    assert len(doc["scenario"]["sha256"]) == 64
    assert doc["result_id"] == "r-0123456789ab"
    assert doc["site_timezone"] == "America/Chicago"
    # a job without segments is kept, with an empty list
    assert [j["id"] for j in doc["jobs"]] == ["pretrain-70b", "finetune-a", "never-run"]
    assert doc["jobs"][2]["segments"] == []


def test_schema_rejects_a_broken_document(tmp_path):
    schedule = build_schedule(reference_result(tmp_path / "result"))
    doc = schedule_to_dict(schedule)
    doc["jobs"][0]["segments"][0]["start_utc"] = "2023-08-21 05:00"  # not ISO with Z
    jsonschema = _jsonschema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)


def test_every_segment_matches_jobs_csv(tmp_path):
    rd = reference_result(tmp_path / "result")
    doc = json.loads(write_schedule(build_schedule(rd), tmp_path / "s.json").read_text())
    rows = read_jobs_csv(rd / "jobs.csv")
    by_job = {j["id"]: j for j in doc["jobs"]}
    assert sum(len(j["segments"]) for j in doc["jobs"]) == len(rows)
    for row in rows:
        job = by_job[row["job_id"]]
        seg = job["segments"][int(row["segment"])]
        assert _utc(seg["start_utc"]) == _utc(row["start_utc"])
        assert _utc(seg["end_utc"]) == _utc(row["end_utc"])
        assert seg["energy_mwh"] == float(row["energy_mwh"])
        assert seg["work_done_h"] == float(row["work_done_h"])
        assert seg["power_fraction_mean"] == float(row["power_fraction_mean"])
        assert seg["gpus"] == int(row["gpus"])
        hours = (_utc(row["end_utc"]) - _utc(row["start_utc"])).total_seconds() / 3600
        assert seg["duration_h"] == hours
        assert _utc(job["deadline_utc"]) == _utc(row["deadline_utc"])
    for job in doc["jobs"]:
        assert math.isclose(job["energy_mwh"], sum(s["energy_mwh"] for s in job["segments"]))
    # the spec's commands and deadlines come through
    assert by_job["pretrain-70b"]["command"].startswith("srun python train.py")
    assert by_job["finetune-a"]["preemptible"] is False


def test_csv_export_matches_jobs_csv(tmp_path):
    rd = reference_result(tmp_path / "result")
    path = write_schedule_csv(build_schedule(rd), tmp_path / "schedule.csv")
    with path.open(newline="") as fh:
        out = list(csv.DictReader(fh))
    rows = read_jobs_csv(rd / "jobs.csv")
    assert len(out) == len(rows)
    for a, b in zip(out, rows, strict=True):
        assert (a["job_id"], a["segment"]) == (b["job_id"], b["segment"])
        assert a["start_utc"] == b["start_utc"] and a["end_utc"] == b["end_utc"]
        assert float(a["energy_mwh"]) == float(b["energy_mwh"])
        assert a["result_id"] == "r-0123456789ab"


def test_cli_json_and_csv(tmp_path, capsys):
    rd = reference_result(tmp_path / "result")
    args = _parse(["export", str(rd), "--to", "json", "--out", str(tmp_path / "o")])
    assert args.func(args) == 0
    assert read_schedule(tmp_path / "o" / "schedule.json") == build_schedule(rd)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [MARKER_NAME, "schedule.json"]
    args = _parse(["export", str(rd), "--to", "csv", "--out", str(tmp_path / "c")])
    assert args.func(args) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [MARKER_NAME, "schedule.csv"]
    assert "4 segments" in capsys.readouterr().out


def test_missing_jobs_spec_is_a_clear_input_error(tmp_path):
    rd = reference_result(tmp_path / "result")
    (rd / "jobs_spec.json").unlink()
    with pytest.raises(InputError, match="jobs_spec.json is missing"):
        build_schedule(rd)


def test_unknown_job_in_jobs_csv_names_the_line(tmp_path):
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("a", 8, "2023-08-28T05:00:00+00:00")],
        [SegIn("a", 0, "2023-08-21T05:00:00Z", "2023-08-21T06:00:00Z", 8, 1.0, 1.0, 0.01)],
    )
    (rd / "jobs.csv").write_text(
        (rd / "jobs.csv").read_text()
        + "b,0,2023-08-21T05:00:00Z,2023-08-21T06:00:00Z,8,1,1,0.01,2023-08-28T05:00:00Z,True\n"
    )
    with pytest.raises(InputError) as exc:
        build_schedule(rd)
    assert exc.value.line == 3 and "'b'" in str(exc.value)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2023-08-21T05:00:00", "2023-08-21T06:00:00Z", "no UTC offset"),
        ("yesterday", "2023-08-21T06:00:00Z", "not an ISO 8601 time"),
        ("2023-08-21T06:00:00Z", "2023-08-21T05:00:00Z", "end_utc must be after start_utc"),
    ],
)
def test_bad_times_are_input_errors(tmp_path, start, end, message):
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("a", 8, "2023-08-28T05:00:00+00:00")],
        [SegIn("a", 0, start, end, 8, 1.0, 1.0, 0.01)],
    )
    with pytest.raises(InputError, match=message):
        build_schedule(rd)


def test_unsupported_schema_version(tmp_path):
    path = write_schedule(build_schedule(reference_result(tmp_path / "r")), tmp_path / "s.json")
    doc = json.loads(path.read_text())
    doc["schema_version"] = "2.0"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="schema_version"):
        read_schedule(path)


def test_job_progress_is_work_net_of_restart_overhead(tmp_path):
    # pretrain-70b: 3 segments of 36.5625 + 41.5 + 17.9375 = 96 h of throughput, 2 restarts
    # of 0.5 h each: 95 h of progress
    doc = schedule_to_dict(build_schedule(reference_result(tmp_path / "r")))
    jobs = {j["id"]: j for j in doc["jobs"]}
    assert jobs["pretrain-70b"]["work_done_h"] == 96.0  # gross, as in schema 1.0
    assert jobs["pretrain-70b"]["progress_h"] == 95.0
    assert jobs["finetune-a"]["progress_h"] == jobs["finetune-a"]["work_done_h"] == 20.88
    assert jobs["never-run"]["progress_h"] == 0.0
