"""The scenario's demand-response program (microgrid/dr_program.py), checked by hand.

The tiny scenario (scenario_factory.TINY) without its battery: two days in UTC (hourly,
January, 744 h), 10 MW of inference at PUE 1.10 (11 MW), one 10 MW job of 4 h released at
08:00 on day 1 and due at 24:00 (22 MW while it runs), a flat 50 USD/MWh.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid
import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.dr_program import dr_section, dr_summary, event_windows
from microgrid.errors import InputError
from optimize.dr_settlement import baseline_mw, settle

JAN_2_DAYS = 48 / 744  # the horizon's share of January


def tiny(tmp_path, program: dict, days: int = 2, **top):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.pop("battery")
    data["period"]["end"] = f"2023-01-{2 + days:02d}T00:00"
    data["demand_response_program"] = program
    data.update(top)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return microgrid.load_scenario(path)


def program_of(scenario) -> optimize.DemandResponseProgram:
    return build_problem(scenario, load_inputs(scenario)).dr_program


def _ev(start: str, end: str) -> dict:
    return {"start": start, "end": end}


def test_prior_days_baseline_by_hand(tmp_path):
    """4 days (Jan 2-5); events on Jan 3 14:00-15:00 and Jan 5 14:00-16:00; N = 2. The Jan 5
    steps average Jan 4 and Jan 2 (Jan 3 is an event day); the Jan 3 step has only Jan 2
    in the period, so prior_baseline_mw = 7 stands for the missing day."""
    program = {
        "capacity_usd_per_mw_month": 0,
        "baseline_days": 2,
        "prior_baseline_mw": 7.0,
        "events": [
            _ev("2023-01-03T14:00", "2023-01-03T15:00"),
            _ev("2023-01-05T14:00", "2023-01-05T16:00"),
        ],
    }
    p = program_of(tiny(tmp_path, program, days=4))
    jan3, jan5 = 24 + 14, 72 + 14
    assert [e.steps for e in p.events] == [(jan3,), (jan5, jan5 + 1)]
    assert set(p.baseline_terms) == {
        (jan3, 14, 0.5),
        (jan5, 48 + 14, 0.5),
        (jan5, 14, 0.5),
        (jan5 + 1, 48 + 15, 0.5),
        (jan5 + 1, 15, 0.5),
    }
    assert p.baseline_fixed_mw[jan3] == pytest.approx(3.5)
    assert p.baseline_fixed_mw[jan5] == 0.0
    net = np.arange(96, dtype=float)  # net import = the step number
    base = baseline_mw(p, net)
    # Jan 3 14:00: (7 + 14) / 2; Jan 5 14:00: (62 + 14) / 2; 15:00: (63 + 15) / 2
    assert (base[jan3], base[jan5], base[jan5 + 1]) == (10.5, 38.0, 39.0)
    assert np.isnan(base[0])


def test_prior_days_without_prior_baseline_uses_the_days_there_are(tmp_path):
    program = {
        "capacity_usd_per_mw_month": 0,
        "events": [_ev("2023-01-03T14:00", "2023-01-03T15:00")],
    }
    p = program_of(tiny(tmp_path, program))
    assert p.baseline_terms == ((38, 14, 1.0),)  # one day (Jan 2) of the default ten
    program["events"] = [_ev("2023-01-02T14:00", "2023-01-02T15:00")]
    with pytest.raises(InputError, match="give prior_baseline_mw"):
        program_of(tiny(tmp_path, program))


def test_capacity_is_prorated_and_the_plan_commits_what_the_job_shift_frees(tmp_path):
    """Declared baseline 22 MW (the job running) in the event 10:00-12:00 on day 1: moving
    the job out of the event is free at a flat price, so the plan commits 11 MW (the job's
    22 − 11 MW) at 100 USD/MW-month × 48/744; the shortfall penalty stops it there."""
    program = {
        "capacity_usd_per_mw_month": 100,
        "shortfall_usd_per_mwh": 1000,
        "baseline": "declared",
        "declared_baseline_mw": 22.0,
        "events": [_ev("2023-01-02T10:00", "2023-01-02T12:00")],
    }
    scenario = tiny(tmp_path, program)
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    p = problem.dr_program
    assert p.capacity_usd_per_mw == pytest.approx(100 * JAN_2_DAYS)
    assert p.max_commit_mw == 100.0  # the grid's import limit
    d = optimize.solve(problem, optimize.SolverOptions(mip_rel_gap=0.0))
    assert d.dr_commit_mw == pytest.approx(11.0, abs=1e-6)
    assert d.costs["dr_program_usd"] == pytest.approx(-1100 * JAN_2_DAYS, abs=1e-6)
    net = d.series["grid_import_mw"] - d.series["grid_export_mw"]
    np.testing.assert_allclose(net[10:12], 11.0, atol=1e-6)
    s = settle(p, 1.0, net, d.dr_commit_mw)
    summary = dr_summary(s, event_windows(scenario, inputs.index), scenario)
    (ev,) = summary["events"]
    assert (ev["baseline_mw"], ev["delivered_mw"], ev["shortfall_mwh"]) == pytest.approx(
        (22.0, 11.0, 0.0)
    )
    assert ev["start_local"] == "2023-01-02T10:00:00+00:00"
    parts = summary["capacity_payment_usd"] + summary["energy_payment_usd"]
    assert summary["net_revenue_usd"] == pytest.approx(parts - summary["shortfall_penalty_usd"])
    assert summary["net_revenue_usd"] == pytest.approx(-d.costs["dr_program_usd"])
    assert dr_section(scenario, inputs.index, problem, net, d.dr_commit_mw) == summary
    bill = {k: v for k, v in d.bill.items() if k.startswith("dr_")}
    assert bill == pytest.approx(
        {"dr_capacity_usd": -1100 * JAN_2_DAYS, "dr_energy_usd": 0.0, "dr_shortfall_usd": 0.0}
    )


def test_events_csv_and_its_errors(tmp_path):
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        "# two events\nstart,end\n"
        "2023-01-02T10:00,2023-01-02T11:00\n2023-01-03T09:00+00:00,2023-01-03T10:00+00:00\n"
    )
    program = {"capacity_usd_per_mw_month": 5, "events_csv": str(csv_path), "prior_baseline_mw": 1}
    p = program_of(tiny(tmp_path, program))
    assert [(e.key, e.steps) for e in p.events] == [
        ("dr@2023-01-02T10:00+00:00", (10,)),
        ("dr@2023-01-03T09:00+00:00", (33,)),
    ]
    csv_path.write_text("start,end\n2023-01-02T10:00,2023-01-02T09:00\n")
    with pytest.raises(InputError, match="end must be after start") as err:
        program_of(tiny(tmp_path, program))
    assert (err.value.path, err.value.line) == (str(csv_path), 2)


def test_bad_programs_are_refused_by_field(tmp_path):
    overlap = {
        "capacity_usd_per_mw_month": 5,
        "prior_baseline_mw": 1.0,
        "events": [
            _ev("2023-01-02T10:00", "2023-01-02T12:00"),
            _ev("2023-01-02T11:00", "2023-01-02T13:00"),
        ],
    }
    with pytest.raises(InputError, match="overlaps the event") as err:
        program_of(tiny(tmp_path, overlap))
    assert err.value.field == "demand_response_program.events.1.start"
    assert "event 2023-01-02T11:00+00:00 to 2023-01-02T13:00+00:00 overlaps" in str(err.value)
    assert "2023-01-02T10:00+00:00 to 2023-01-02T12:00+00:00 of events.0" in str(err.value)
    rolling = {**overlap, "events": []}
    solver = {**TINY["solver"], "window_h": 24}
    with pytest.raises(InputError, match="give commit_mw"):
        program_of(tiny(tmp_path, rolling, solver=solver))
    assert program_of(tiny(tmp_path, {**rolling, "commit_mw": 3.0}, solver=solver)).commit_mw == 3
    declared = {"capacity_usd_per_mw_month": 5, "baseline": "declared"}
    with pytest.raises(Exception, match="declared_baseline_mw"):
        tiny(tmp_path, declared)


def test_an_event_off_the_steps_is_refused_at_its_field(tmp_path):
    """A 15:30-16:10 event on hourly steps was settled for both hours whole: energy paid
    and shortfall charged for 80 minutes outside the event."""
    program = {"capacity_usd_per_mw_month": 5, "prior_baseline_mw": 1.0}
    late = {**program, "events": [_ev("2023-01-02T10:00", "2023-01-02T11:00"),
                                  _ev("2023-01-03T15:30", "2023-01-03T16:10")]}  # fmt: skip
    with pytest.raises(InputError, match="does not fall on the 60-minute steps") as err:
        program_of(tiny(tmp_path, late))
    assert err.value.field == "demand_response_program.events.1.start"
    assert err.value.line is not None
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(
        "start,end\n2023-01-02T10:00,2023-01-02T11:00\n2023-01-03T15:00,2023-01-03T16:10\n"
    )
    with pytest.raises(InputError, match="60-minute steps") as err:
        program_of(tiny(tmp_path, {**program, "events_csv": str(csv_path)}))
    assert (err.value.path, err.value.line, err.value.field) == (str(csv_path), 3, "end")
    # on 15-minute steps an event at :30 and :15 fits; one outside the period is not checked
    quarter = {**program, "events": [_ev("2023-01-03T15:30", "2023-01-03T16:15")]}
    fits = tiny(
        tmp_path, quarter, period={**TINY["period"], "end": "2023-01-04T00:00", "step_minutes": 15}
    )
    assert [e.key for e in program_of(fits).events][-1] == "dr@2023-01-03T15:30+00:00"
    outside = {**program, "events": [_ev("2023-06-01T15:30", "2023-06-01T16:10")]}
    assert program_of(tiny(tmp_path, outside)).events == ()
    # across the period's edges the part inside is whole steps: accepted
    edges = {**program, "events": [_ev("2023-01-01T23:30", "2023-01-02T02:00"),
                                   _ev("2023-01-03T22:00", "2023-01-04T00:30")]}  # fmt: skip
    assert [e.steps for e in program_of(tiny(tmp_path, edges)).events] == [(0, 1), (46, 47)]


def test_events_in_the_repeated_hour_keep_their_own_windows(tmp_path):
    """Chicago's clocks go back at 02:00 CDT on 2023-11-05, so 01:00 is read twice. Two
    events starting at 01:00, one CDT and one CST, are two windows in the summary (their
    keys once collided and both showed the second one's window)."""
    events = [
        _ev("2023-11-05T01:00-05:00", "2023-11-05T01:00-06:00"),
        _ev("2023-11-05T01:00-06:00", "2023-11-05T02:00-06:00"),
    ]
    program = {"capacity_usd_per_mw_month": 0, "energy_usd_per_mwh": 100}
    program |= {"baseline": "declared", "declared_baseline_mw": 20.0, "events": events}
    period = {"start": "2023-11-04T00:00", "end": "2023-11-06T00:00", "step_minutes": 60}
    site = {**TINY["site"], "timezone": "America/Chicago"}
    scenario = tiny(tmp_path, program, period=period, site=site, jobs={"items": []})
    inputs = load_inputs(scenario)
    problem = build_problem(scenario, inputs)
    assert [e.key for e in problem.dr_program.events] == [
        "dr@2023-11-05T01:00-05:00",
        "dr@2023-11-05T01:00-06:00",
    ]
    net = np.full(len(inputs.index), 15.0)
    section = dr_section(scenario, inputs.index, problem, net, 5.0)
    assert [(e["start_local"], e["end_local"]) for e in section["events"]] == [
        ("2023-11-05T01:00:00-05:00", "2023-11-05T01:00:00-06:00"),
        ("2023-11-05T01:00:00-06:00", "2023-11-05T02:00:00-06:00"),
    ]


def test_commit_above_the_default_max_is_one_line(tmp_path, capsys):
    """max_commit_mw defaults to grid.import_max_mw (100 MW): a commit_mw of 130 MW without
    it was solved at 130 MW after five Pyomo warnings; it is refused like an explicit max."""
    program = {"capacity_usd_per_mw_month": 5, "commit_mw": 130, "prior_baseline_mw": 1}
    program["events"] = [_ev("2023-01-02T10:00", "2023-01-02T11:00")]
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["demand_response_program"] = program
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    line = one_error_line(capsys, ["validate", str(path)])
    assert line.startswith(f"error: {path}, line ")
    assert "field demand_response_program.commit_mw: commit_mw (130) > max_commit_mw" in line
    assert "grid.import_max_mw (100)" in line


def test_overlapping_csv_events_name_the_csv_line_and_column(tmp_path):
    """Two equal rows of an events CSV were blamed on the YAML's
    `demand_response_program.events` (a field the scenario does not use), time in UTC:
    the error names the CSV, the later row's line and its `start`, times local."""
    csv_path = tmp_path / "events.csv"
    csv_path.write_text("start,end\n" + "2023-01-02T10:00,2023-01-02T12:00\n" * 2)
    program = {"capacity_usd_per_mw_month": 5, "events_csv": str(csv_path), "prior_baseline_mw": 1}
    site = {**TINY["site"], "timezone": "America/Chicago"}
    with pytest.raises(InputError, match="overlaps the event") as err:
        program_of(tiny(tmp_path, program, site=site, jobs={"items": []}))
    assert (err.value.path, err.value.line, err.value.field) == (str(csv_path), 3, "start")
    assert "2023-01-02T10:00-06:00 to 2023-01-02T12:00-06:00 of line 2" in str(err.value)
