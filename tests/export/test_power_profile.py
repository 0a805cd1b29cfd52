"""Each segment's power caps step by step (schema 1.1): read from the result's time series,
carried by every format, checked as input; schema 1.0 schedules still read."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from cli_helpers import one_error_line
from export_helpers import JobIn, SegIn, write_result_dir

from microgrid.cli import main
from microgrid.errors import InputError
from microgrid.export import slurm as slurm_export
from microgrid.export.kubernetes import KubernetesOptions, export_kubernetes
from microgrid.export.result_reader import build_schedule
from microgrid.export.schedule import (
    ScenarioRef,
    Schedule,
    ScheduledJob,
    Segment,
    load_schema,
    read_schedule,
    write_schedule,
)
from microgrid.export.slurm import SlurmOptions, export_slurm

# a job planned at changing caps: 0.6 for 2 h, 0.8 for 1 h, then 0.65, and 1.0 in a second
# segment after a pause; 6-decimal values, so they are exact as written
STEPS_0 = (0.6, 0.6, 0.8, 0.65)
STEPS_1 = (1.0, 0.7)


def _result(tmp_path, steps_0=STEPS_0, steps_1=STEPS_1):
    return write_result_dir(
        tmp_path / "r",
        [JobIn("j", 8, "2023-08-22T05:00:00+00:00", restart_overhead_h=0.25)],
        [
            SegIn(
                "j",
                0,
                "2023-08-21T05:00:00Z",
                "2023-08-21T09:00:00Z",
                8,
                sum(steps_0) / len(steps_0),
                3.0,
                0.02,
                steps=steps_0,
            ),
            SegIn(
                "j",
                1,
                "2023-08-21T11:00:00Z",
                "2023-08-21T13:00:00Z",
                8,
                sum(steps_1) / len(steps_1),
                1.8,
                0.01,
                steps=steps_1,
            ),
        ],
    )


def _steps(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def test_every_format_carries_the_planned_caps(tmp_path):
    rd = _result(tmp_path)
    out = tmp_path / "o.json"
    assert main(["export", str(rd), "--to", "json", "--out", str(out)]) == 0
    segs = json.loads(out.read_text())["jobs"][0]["segments"]
    assert [s["power_fraction_steps"] for s in segs] == [list(STEPS_0), list(STEPS_1)]
    assert [s["step_s"] for s in segs] == [3600, 3600]
    out = tmp_path / "o.csv"
    assert main(["export", str(rd), "--to", "csv", "--out", str(out)]) == 0
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [_steps(r["power_fraction_steps"]) for r in rows] == [list(STEPS_0), list(STEPS_1)]
    assert rows[0]["power_fraction_steps"] == "0.600000,0.600000,0.800000,0.650000"
    assert [r["step_s"] for r in rows] == ["3600", "3600"]
    assert main(["export", str(rd), "--to", "slurm", "--out", str(tmp_path / "s")]) == 0
    script = (tmp_path / "s" / slurm_export.script_name("j", 0)).read_text()
    env = dict(re.findall(r"^export (MICROGRID_[A-Z_]+)=(.*)$", script, re.M))
    assert _steps(env["MICROGRID_POWER_PROFILE"]) == list(STEPS_0)
    assert env["MICROGRID_POWER_STEP_S"] == "3600"
    # one cap for the whole segment: the lowest, never above the plan (the mean, 0.6625,
    # would exceed the 0.6 planned for the first two hours)
    assert env["MICROGRID_POWER_FRACTION"] == "0.600000"
    argv = ["export", str(rd), "--to", "kubernetes", "--image", "t:1", "--out", str(tmp_path / "k")]
    assert main(argv) == 0
    docs = [yaml.safe_load(p.read_text()) for p in sorted((tmp_path / "k").glob("*.yaml"))]
    ann = {
        d["metadata"]["labels"]["microgrid.io/segment"]: d["metadata"]["annotations"] for d in docs
    }
    env = {
        d["metadata"]["labels"]["microgrid.io/segment"]: {
            e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        for d in docs
    }
    assert _steps(env["0"]["MICROGRID_POWER_PROFILE"]) == list(STEPS_0)
    assert _steps(env["1"]["MICROGRID_POWER_PROFILE"]) == list(STEPS_1)
    assert ann["1"]["microgrid.io/power-fraction"] == "0.700000"
    assert ann["1"]["microgrid.io/power-step-s"] == "3600"


def test_half_hour_steps(tmp_path):
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("j", 8, "2023-08-22T05:00:00+00:00")],
        [
            SegIn("j", 0, "2023-08-21T05:30:00Z", "2023-08-21T07:00:00Z", 8, 0.8, 1.0, 0.01),
            SegIn("j", 1, "2023-08-21T08:00:00Z", "2023-08-21T09:00:00Z", 8, 0.9, 1.0, 0.01),
        ],
    )
    segs = build_schedule(rd).job("j").segments
    assert [(s.step_s, s.power_fraction_steps) for s in segs] == [
        (1800, (0.8, 0.8, 0.8)),
        (1800, (0.9, 0.9)),
    ]


def _as_1_0(doc: dict) -> dict:
    """A schema 1.0 document: the same schedule without what 1.1 added."""
    doc = json.loads(json.dumps(doc))
    doc["schema_version"] = "1.0"
    for job in doc["jobs"]:
        del job["progress_h"]
        for seg in job["segments"]:
            del seg["step_s"], seg["power_fraction_steps"]
    return doc


def test_a_1_0_schedule_still_reads(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    path = write_schedule(build_schedule(_result(tmp_path)), tmp_path / "s.json")
    old = _as_1_0(json.loads(path.read_text()))
    jsonschema.validate(old, load_schema(), cls=jsonschema.Draft202012Validator)
    path.write_text(json.dumps(old))
    schedule = read_schedule(path)
    assert schedule.schema_version == "1.0"
    seg = schedule.job("j").segments[0]
    assert seg.power_fraction_steps is None and seg.step_s is None
    assert seg.power_fraction_mean == pytest.approx(0.6625)
    # no profile to export: refused, never the mean in its place
    with pytest.raises(InputError, match="no power profile"):
        export_slurm(schedule, tmp_path / "slurm", SlurmOptions(timezone="UTC"))
    assert not (tmp_path / "slurm").exists()


def test_a_1_1_schedule_needs_its_profile(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    path = write_schedule(build_schedule(_result(tmp_path)), tmp_path / "s.json")
    doc = _as_1_0(json.loads(path.read_text()))
    doc["schema_version"] = "1.1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as exc:
        read_schedule(path)
    assert exc.value.field == "jobs.0.segments.0.step_s"


def test_profile_that_does_not_cover_its_segment_is_refused(tmp_path):
    path = write_schedule(build_schedule(_result(tmp_path)), tmp_path / "s.json")
    doc = json.loads(path.read_text())
    doc["jobs"][0]["segments"][1]["power_fraction_steps"].append(0.7)
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="do not cover") as exc:
        read_schedule(path)
    assert exc.value.field == "jobs.0.segments.1.power_fraction_steps"


def test_csv_of_schema_1_0_may_be_replaced(tmp_path):
    rd = _result(tmp_path)
    out = tmp_path / "plan.csv"
    header_1_0 = "job_id,segment,start_utc,end_utc,duration_h,gpus,power_fraction_mean,"
    header_1_0 += "work_done_h,energy_mwh,deadline_utc,deadline_met,command,scenario_name,"
    out.write_text(header_1_0 + "scenario_sha256,result_id\n")
    assert main(["export", str(rd), "--to", "csv", "--out", str(out)]) == 0
    assert out.read_text().split("\n", 1)[0].endswith(",step_s,power_fraction_steps")


def test_too_long_a_profile_for_the_environment_is_refused(tmp_path, monkeypatch):
    schedule = build_schedule(_result(tmp_path))
    monkeypatch.setattr(slurm_export, "MAX_PROFILE_CHARS", 20)  # 4 steps are 35 characters
    with pytest.raises(InputError, match="environment variable"):
        export_slurm(schedule, tmp_path / "slurm", SlurmOptions(timezone="UTC"))
    assert not (tmp_path / "slurm").exists()


# ----------------------------------------------------------------------------- bad input


def _cell(new: str):
    """An edit of the time series: job j's MW on line 4 (07:00Z, planned at 0.8) is `new`."""
    return lambda ls: [*ls[:3], ls[3].replace(",0.0064", f",{new}"), *ls[4:]]


def _edit_timeseries(rd, edit) -> None:
    path = rd / "timeseries.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda ls: [ls[0].replace("job_j_mw", "job_k_mw"), *ls[1:]], ["line 1", "job_j_mw"]),
        (_cell("0.0"), ["line 4", "job_j_mw", "its power is 0.0"]),
        (_cell("abc"), ["line 4", "job_j_mw", "not a number"]),
        (lambda ls: [*ls[:3], *ls[4:]], ["line 4", "timestamp_utc", "not one step"]),
        (lambda ls: ls[:3], ["do not cover", "segment 0"]),
        (_cell("0.02"), ["line 4", "job_j_mw", "times its full power"]),
    ],
    ids=["missing-column", "no-power", "not-a-number", "gap", "cut-short", "above-full"],
)
def test_bad_timeseries_is_one_line(tmp_path, capsys, edit, needles):
    rd = _result(tmp_path)
    _edit_timeseries(rd, edit)
    out = tmp_path / "s.json"
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(out)])
    for needle in [str(rd / "timeseries.csv"), *needles]:
        assert needle in line, (needle, line)
    assert not out.exists()


def test_missing_timeseries_is_one_line(tmp_path, capsys):
    rd = _result(tmp_path)
    (rd / "timeseries.csv").unlink()
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(tmp_path / "s")])
    assert "timeseries.csv is missing" in line


def test_bad_parquet_is_one_line(tmp_path, capsys):
    rd = _result(tmp_path)
    (rd / "timeseries.parquet").write_bytes(b"PAR1 not really")
    line = one_error_line(capsys, ["export", str(rd), "--to", "json", "--out", str(tmp_path / "s")])
    assert "timeseries.parquet" in line and "not a valid parquet file" in line


def test_a_long_profile_keeps_a_job_within_the_apis_annotation_limit(tmp_path):
    """A segment of 11,000 quarter hours (99,000 characters of profile, under the export's
    cap) once held its profile in an annotation too: with `kubectl apply`'s copy of the
    manifest, the annotations passed the API's 256 KiB and the Job would be refused."""
    n, step_s = 11_000, 900
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    end = start + timedelta(seconds=n * step_s)
    seg = Segment(0, start, end, 8, 0.6, 1.0, 1.0, step_s, tuple([0.612345] * n))
    job = ScheduledJob("long", 8, "echo {job_id}", None, None, True, None, 0.0, (seg,))
    schedule = Schedule(ScenarioRef("synthetic", None, None), "r1", "UTC", (job,))
    res = export_kubernetes(schedule, tmp_path / "k", KubernetesOptions(image="reg/t:1"))
    doc = yaml.safe_load((tmp_path / "k" / res.files[0]).read_text())
    applied = json.dumps(doc, separators=(",", ":"))  # what client-side apply stores
    annotations = doc["metadata"]["annotations"]
    total = sum(len(k) + len(v) for k, v in annotations.items()) + len(applied) + 49
    assert total < 262_144
    env = {e["name"]: e["value"] for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert len(env["MICROGRID_POWER_PROFILE"].split(",")) == n
