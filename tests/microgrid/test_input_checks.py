"""The scenario's meaning through the real CLI: finite, bounded numbers; capped lists and
text; local times that name one instant; cross-field checks at `validate` time; and
`validate` listing every error, one line each (issue 10, item 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sweep_helpers import write_spec

from microgrid.cli import MAX_LISTED_ERRORS, main
from microgrid.scenario_fields import MAX_JOBS

JOB = {"id": "a", "gpus": 1000, "work_h": 5, "release_h": 24, "deadline_h": 60}
GEN = {"name": "diesel", "capacity_mw": 10, "fuel_usd_per_mwh": 200, "carbon_g_per_kwh": 700}


def one_line_error(capsys, argv: list[str], path: Path, field: str, *needles: str) -> str:
    """Run the CLI; assert exit 2 and one stderr line naming file, line, field and needles."""
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    line = lines[0]
    assert line.startswith(f"error: {path}, line "), line
    assert f"field {field}:" in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def validate_error(capsys, path: Path, field: str, *needles: str) -> str:
    return one_line_error(capsys, ["validate", str(path)], path, field, *needles)


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"pv.dc_mw": float("inf")}, "pv.dc_mw", "finite number"),
        (
            {"grid.import_adder_usd_per_mwh": float("nan")},
            "grid.import_adder_usd_per_mwh",
            "finite",
        ),
        (
            {"datacenter.throughput_curve": [[0.5, float("nan")], [1.0, 1.0]]},
            "datacenter.throughput_curve.0.1",
            "finite number",
        ),
        ({"grid.import_max_mw": 1e308}, "grid.import_max_mw", "less than or equal to 100000"),
        ({"battery.energy_mwh": 1e300}, "battery.energy_mwh", "less than or equal to"),
        ({"grid.export_adder_usd_per_mwh": -1e9}, "grid.export_adder_usd_per_mwh", "-100000"),
        ({"objective.carbon_price_usd_per_t": 1e308}, "objective.carbon_price_usd_per_t", "100000"),
        ({"operate.seed": -1}, "operate.seed", "greater than or equal to 0"),
        ({"network.datacenter_line_km": 0}, "network.datacenter_line_km", "greater than 0"),
    ],
    ids=["inf", "nan", "nan-in-curve", "1e308-mw", "1e300-mwh", "price", "carbon", "seed", "km"],
)
def test_numbers_must_be_finite_and_physical(write_scenario, capsys, overrides, field, needle):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, needle)


def test_throughput_curve_points_are_fractions(write_scenario, capsys):
    path = write_scenario(**{"datacenter.throughput_curve": [[0.5, 2.0], [1.0, 1.0]]})
    validate_error(capsys, path, "datacenter.throughput_curve.0.1", "less than or equal to 1")


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        (
            {"datacenter.throughput_curve": [[i / 200, i / 200] for i in range(1, 201)]},
            "datacenter.throughput_curve",
            "at most 100 items",
        ),
        ({"site.timezone": "A" * 300}, "site.timezone", "at most 64 characters"),
        ({"jobs.items": [{**JOB, "id": "j" * 65}]}, "jobs.items.0.id", "at most 64 characters"),
        ({"description": "x" * 5000}, "description", "at most 4096 characters"),
        (
            {"events.outages": [{"start": "2023-08-22T01:00", "end": "2023-08-22T02:00"}] * 1001},
            "events.outages",
            "at most 1000 items",
        ),
        ({"generators": [GEN] * 101}, "generators", "at most 100 items"),
    ],
    ids=["curve", "timezone", "job-id", "description", "events", "generators"],
)
def test_lists_and_text_are_capped(write_scenario, capsys, overrides, field, needle):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, needle)


def test_jobs_csv_refuses_an_infinite_deadline(tmp_path, write_scenario, capsys):
    csv = tmp_path / "jobs.csv"
    csv.write_text("id,gpus,work_h,release_h,deadline_h\na,1000,5,24,inf\n")
    path = write_scenario(**{"jobs": {"csv": str(csv)}})
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{csv}, line 2, field deadline_h" in err and "finite number" in err


@pytest.mark.parametrize(
    ("overrides", "field", "needles"),
    [
        (
            {"period.start": "2023-03-12T02:00", "period.end": "2023-03-14T00:00"},
            "period.start",
            ["local time 2023-03-12 02:00 does not exist in America/Chicago"],
        ),
        (
            {"period.start": "2023-11-05T01:00", "period.end": "2023-11-07T00:00"},
            "period.start",
            ["local time 2023-11-05 01:00 occurs twice in America/Chicago", "-05:00", "-06:00"],
        ),
        (
            {"events.outages": [{"start": "2023-03-12T02:15", "end": "2023-08-22T05:00"}]},
            "events.outages.0.start",
            ["does not exist in America/Chicago"],
        ),
    ],
    ids=["gap", "overlap", "event-in-gap"],
)
def test_local_times_in_dst_gap_or_overlap(write_scenario, capsys, overrides, field, needles):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, *needles)


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        (
            {"period.start": "9999-12-30T00:00", "period.end": "2023-08-24T00:00"},
            "period.start",
            "year 9999 is outside 1900-2200",
        ),
        ({"site.timezone": "localtime"}, "site.timezone", "unknown time zone 'localtime'"),
        ({"site.timezone": "../../etc/passwd"}, "site.timezone", "unknown time zone"),
        (
            {"weather.utc_offset_seconds": 10**12},
            "weather.utc_offset_seconds",
            "less than or equal to 64800",
        ),
        (
            {"period.start": "2023-08-22T00:30"},
            "period.start",
            "not on the 60-minute step grid",
        ),
        (
            {"period.start": "2000-01-01T00:00", "period.end": "2010-01-01T00:00"},
            "period.end",
            "longer than 1098 days",
        ),
        ({"period.end": "2023-08-24T00:00Z"}, "period", "both with a UTC offset or both without"),
    ],
    ids=["year-9999", "localtime", "path-zone", "utc-offset", "off-grid", "too-long", "mixed"],
)
def test_times_and_zones(write_scenario, capsys, overrides, field, needle):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, needle)


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        (
            {"datacenter.inference.amplitude_mw": 30},
            "datacenter.inference.amplitude_mw",
            "amplitude_mw (30.0) is above mean_mw (25.0)",
        ),
        (
            {"generators": [GEN, {**GEN, "capacity_mw": 5}]},
            "generators.1.name",
            "generator name 'diesel' repeats",
        ),
        (
            {"network.vm_min_pu": 1.06, "network.vm_max_pu": 1.05},
            "network.vm_min_pu",
            "vm_min_pu (1.06) must be below vm_max_pu (1.05)",
        ),
        ({"datacenter.pue.max": 1.05}, "datacenter.pue.max", "max (1.05) is below base (1.1)"),
        (
            {"jobs.items": [{**JOB, "f_min": 0.3}]},
            "jobs.items.0.f_min",
            "f_min (0.3) is below the throughput curve's first power fraction (0.6)",
        ),
        (
            {"weather": {"source": "clearsky"}},
            "wind",
            "clear-sky weather has no wind speed",
        ),
        ({"jobs.items": [JOB, {**JOB, "gpus": 8}]}, "jobs.items.1.id", "duplicate job id 'a'"),
        ({"jobs.items": [{**JOB, "id": "it"}]}, "jobs.items.0.id", "job id 'it' is reserved"),
        (
            {"jobs.items": [{**JOB, "deadline_h": 1000}]},
            "jobs.items.0.deadline_h",
            "job 'a' window",
        ),
    ],
    ids=[
        "amplitude",
        "generator-names",
        "voltage-band",
        "pue",
        "f-min",
        "wind-clearsky",
        "job-ids",
        "job-id-reserved",
        "job-window",
    ],
)
def test_cross_field_checks_at_validate(write_scenario, capsys, overrides, field, needle):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, needle)


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"battery.soc_initial_frac": 0.95}, "battery.soc_initial_frac", "outside [soc_min"),
        ({"battery.soc_min_frac": 0.95}, "battery.soc_min_frac", "> soc_max_frac (0.9)"),
        ({"period.end": "2023-08-21T00:00"}, "period.end", "end must be after start"),
        (
            {"events.outages": [{"start": "2023-08-22T05:00", "end": "2023-08-22T01:00"}]},
            "events.outages.0.end",
            "end must be after start",
        ),
        ({"jobs.items": [{**JOB, "deadline_h": 20}]}, "jobs.items.0.deadline_h", "<= release_h"),
        ({"jobs.items": [{**JOB, "work_h": 50}]}, "jobs.items.0.work_h", "exceeds the window"),
        (
            {"jobs.items": [{**JOB, "preemptible": False, "max_interruptions": 2}]},
            "jobs.items.0.max_interruptions",
            "non-preemptible",
        ),
        # released after the period ends: the release is what leaves it, not the deadline
        (
            {"jobs.items": [{**JOB, "release_h": 80, "deadline_h": 100}]},
            "jobs.items.0.release_h",
            "lies outside the period",
        ),
    ],
    ids=["soc-initial", "soc-order", "period", "event", "deadline", "work", "restarts", "late"],
)
def test_a_section_check_names_the_field_at_fault(write_scenario, capsys, overrides, field, needle):
    """Once these named their section (`battery`, `jobs.items.0`) and its first line."""
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, needle)


def test_cross_field_error_names_the_yaml_line(write_scenario, capsys):
    path = write_scenario(**{"jobs.items": [JOB, {**JOB, "gpus": 8}]})
    line = validate_error(capsys, path, "jobs.items.1.id", "duplicate")
    lineno = int(re.search(r"line (\d+)", line).group(1))
    text = [ln.strip() for ln in path.read_text().splitlines()]
    ids = [i + 1 for i, ln in enumerate(text) if ln == "id: a"]
    assert ids[1] == lineno  # the second job's id, not the first's nor the jobs section


def test_jobs_csv_f_min_below_the_curve(tmp_path, write_scenario, capsys):
    csv = tmp_path / "jobs.csv"
    csv.write_text("id,gpus,work_h,release_h,deadline_h,f_min\na,1000,5,24,60,0.3\n")
    path = write_scenario(**{"jobs": {"csv": str(csv)}})
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"error: {csv}, line 2, field f_min: job 'a': f_min (0.3) is below" in err


def test_single_point_curve_means_proportional_and_is_valid(write_scenario, capsys):
    path = write_scenario(
        **{"jobs.items": [{**JOB, "f_min": 0.3, "throughput_curve": [[1.0, 1.0]]}]}
    )
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert ": valid (48 steps of 60 min, 1 job)" in capsys.readouterr().out


def test_validate_lists_every_error_one_line_each(write_scenario, capsys):
    path = write_scenario(
        **{"pv.dc_mw": -1, "battery.power_mw": float("inf"), "site.latitude_deg": 100}
    )
    code = main(["validate", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 3, lines
    fields = sorted(re.search(r"field (\S+):", ln).group(1) for ln in lines)
    assert fields == ["battery.power_mw", "pv.dc_mw", "site.latitude_deg"]
    assert all(ln.startswith(f"error: {path}, line ") for ln in lines)


def test_validate_lists_every_cross_field_error(write_scenario, capsys):
    path = write_scenario(
        **{"datacenter.pue.max": 1.05, "network.vm_min_pu": 1.1, "network.vm_max_pu": 1.0}
    )
    code = main(["validate", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 2, lines
    assert "field datacenter.pue.max:" in lines[0] and "field network.vm_min_pu:" in lines[1]


def test_validate_caps_the_list_and_counts_the_rest(write_scenario, capsys):
    n = MAX_LISTED_ERRORS + 5
    path = write_scenario(**{"jobs.items": [{**JOB, "id": f"j{i}", "gpus": -1} for i in range(n)]})
    code = main(["validate", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == MAX_LISTED_ERRORS + 1, lines
    assert all("field jobs.items." in ln and ".gpus:" in ln for ln in lines[:-1])
    assert lines[-1] == "error: ... and 5 more errors"


def test_run_reports_the_first_error_and_a_count(tmp_path, write_scenario, capsys):
    path = write_scenario(**{"pv.dc_mw": -1, "site.latitude_deg": 100})
    out = tmp_path / "out"
    line = one_line_error(
        capsys, ["run", str(path), "--out", str(out)], path, "pv.dc_mw", "greater than or equal"
    )
    assert line.endswith("(and 1 more: run `microgrid validate`)")
    assert not out.exists()


def test_sweep_case_failing_a_cross_field_check_names_axis_and_field(tmp_path, capsys):
    spec = write_spec(tmp_path, "axes:\n  network.vm_min_pu: [0.9, 1.1]\n")
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert lines[0].startswith(f"error: {spec}, line 4, field network.vm_min_pu: case 1: ")
    assert "vm_min_pu (1.1) must be below vm_max_pu (1.05)" in lines[0]
    assert not out.exists()


def test_weekly_jobs_are_capped_in_instances(tmp_path, write_scenario, capsys):
    csv = tmp_path / "jobs.csv"
    rows = [f"j{i},10,5,24,60" for i in range(MAX_JOBS // 2 + 1)]  # 2 weeks of the period
    csv.write_text("id,gpus,work_h,release_h,deadline_h\n" + "\n".join(rows) + "\n")
    path = write_scenario(**{"jobs": {"csv": str(csv), "repeat": "weekly"}})
    validate_error(capsys, path, "jobs.repeat", "10,002 job instances, more than the cap of 10,000")


@pytest.mark.parametrize("name", ["a b", "g\u00e9n", "1st", "x;rm"])
def test_generator_names_are_identifiers(write_scenario, capsys, name):
    path = write_scenario(**{"generators": [{**GEN, "name": name}]})
    validate_error(capsys, path, "generators.0.name", "letters, digits, '_' and '-'")


def test_step_grid_counts_from_utc_hours(write_scenario, capsys):
    # Kathmandu is UTC+05:45: local midnight is 18:15 UTC, between two hourly data rows.
    path = write_scenario(**{"site.timezone": "Asia/Kathmandu"})
    code = main(["validate", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 2, lines
    assert "field period.start: 2023-08-22T00:00:00 is 18:15:00 UTC, not on the 60-minute" in (
        lines[0] + lines[1]
    )


@pytest.mark.parametrize(
    ("overrides", "field", "code_point"),
    [
        ({"site.name": "Dallas\x00"}, "site.name", "U+0000"),
        ({"jobs.items": [{**JOB, "id": "job\u202etxt.exe"}]}, "jobs.items.0.id", "U+202E"),
        ({"jobs.items": [{**JOB, "command": "echo \x1b[2J"}]}, "jobs.items.0.command", "U+001B"),
    ],
    ids=["nul-in-name", "bidi-in-job-id", "escape-in-command"],
)
def test_control_and_format_characters_refused(
    write_scenario, capsys, overrides, field, code_point
):
    path = write_scenario(**overrides)
    validate_error(capsys, path, field, f"control or format character {code_point}")


def test_operate_line_out_of_an_unknown_line_names_the_event(tmp_path, write_scenario, capsys):
    event = {"kind": "line_out", "line": "line_nowhere"}
    event |= {"start": "2023-08-22T10:00", "end": "2023-08-22T12:00"}
    operate = {"events": [event], "event_costs": "none", "replan_every_steps": 24}
    path = write_scenario(**{"operate": operate})
    argv = ["run", str(path), "--mode", "operate", "--out", str(tmp_path / "out")]
    one_line_error(capsys, argv, path, "operate.events.0.line", "no line named 'line_nowhere'")
    # validate finds it too, before any solve (it said "valid", and operate ran its whole
    # closed loop before the error)
    validate_error(capsys, path, "operate.events.0.line", "no line named 'line_nowhere'")


@pytest.mark.parametrize(
    ("event", "field"),
    [({"kind": "grid_outage", "factor": 3}, "factor"), ({"kind": "pv_trip", "line": "x"}, "line")],
)
def test_an_operate_event_refuses_another_kinds_field(write_scenario, capsys, event, field):
    event |= {"start": "2023-08-22T10:00", "end": "2023-08-22T12:00"}
    path = write_scenario(**{"operate": {"events": [event]}})
    validate_error(capsys, path, f"operate.events.0.{field}", "belongs to a")


@pytest.mark.parametrize(
    ("field", "value"), [("utc_offset_seconds", -18000), ("site_csv_values", "instant")]
)
def test_a_site_csv_setting_on_clear_sky_is_refused(write_scenario, capsys, field, value):
    """It would change nothing: a typical year and clear sky carry their own times."""
    path = write_scenario(**{"weather": {"source": "clearsky", field: value}})
    validate_error(capsys, path, f"weather.{field}", f"{field} is for source site_csv")


def test_a_weekly_instance_left_out_is_said_beside_the_deadlines_met(
    tmp_path, write_scenario, capsys
):
    """Ten days hold one whole window of a weekly template (hours 24-100 of each week):
    the second's leaves the period and is not planned. The CLI printed "1 / 1 met"."""
    job = {"id": "w", "gpus": 8192, "work_h": 30, "release_h": 24, "deadline_h": 100}
    period = {"start": "2023-08-07T00:00", "end": "2023-08-17T00:00", "step_minutes": 60}
    path = write_scenario(
        period=period, jobs={"repeat": "weekly", "items": [job]}, **{"solver.mip_rel_gap": 0.05}
    )
    args = ["run", str(path), "--no-powerflow", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 / 1 met (1 weekly instance(s) left out: window not inside the period)" in out
