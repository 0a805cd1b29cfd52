"""`microgrid.headroom` and `microgrid headroom` on the tiny scenario (hand-checkable) and
the small R1 scenario (two days of real data).

The tiny scenario (scenario_factory.TINY): 48 h, a flat 100 MW connection, a 50 MW IT
campus with a constant 10 MW of inference (share s = 0.2) at PUE 1.10, a 5 MW / 20 MWh
battery, no renewables. On a flat connection the largest campus is
L = C / (pue (1 - X (1 - s))) and the connection a campus needs C = L pue (1 - X (1 - s)).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from types import SimpleNamespace

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import TINY

import microgrid
from microgrid.cli import main
from microgrid.connection_headroom import cli as headroom_cli
from microgrid.connection_headroom.case import BACKUP_MODES
from microgrid.connection_headroom.cli import table_text
from microgrid.connection_headroom.files import COLUMNS, csv_text, json_doc
from microgrid.errors import InputError
from microgrid.resultdir import read_marker
from optimize.headroom import MEASURES


def tiny(tmp_path, **extra):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data.update(extra)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def flat_campus_mw(c_mw, x):
    return c_mw / (1.1 * (1 - x * 0.8))


def test_tiny_flat_connection_by_hand(tmp_path):
    res = microgrid.headroom(tiny(tmp_path), curtail_pct=(2, 0))
    assert [(r.curtail_pct, r.onsite) for r in res.rows] == [
        (0.0, False),
        (2.0, False),
        (0.0, True),
        (2.0, True),
    ]
    assert res.connection_mw == 100.0 and res.campus_it_mw == 50.0 and res.has_onsite
    for r in res.rows:
        x = r.curtail_pct / 100
        # the battery cannot raise a flat connection's campus: it ends as full as it began
        assert r.max_campus.campus_it_mw == pytest.approx(flat_campus_mw(100.0, x), rel=1e-6)
        need = r.connection_needed
        assert need.connection_mw == pytest.approx(50 * 1.1 * (1 - x * 0.8), rel=1e-6)
        assert need.curtailed_mwh == pytest.approx(x * 48 * 50 * 0.8 * 1.1, rel=1e-6, abs=1e-6)


def test_files_write_a_solver_zero_as_zero(tmp_path):
    """HiGHS leaves -0.0 and round-off such as -3e-11 MW; the files once printed "-0"."""
    res = microgrid.headroom(tiny(tmp_path), curtail_pct=(0,))
    row = res.rows[0]
    a = dataclasses.replace(row.max_campus, size_bound_mw=-0.0, curtailed_mwh=-3e-11)
    res = dataclasses.replace(res, rows=(dataclasses.replace(row, max_campus=a),))
    rec = csv.DictReader(io.StringIO(csv_text(res))).__next__()
    assert rec["max_campus_bound_it_mw"] == "0" and rec["curtailed_mwh"] == "0"
    assert json_doc(res)["rows"][0]["max_campus_bound_it_mw"] == 0.0
    assert not str(json_doc(res)["rows"][0]["max_campus_bound_it_mw"]).startswith("-")


def test_tiny_outage_needs_onsite_supply(tmp_path):
    outage = {"outages": [{"start": "2023-01-02T10:00", "end": "2023-01-02T12:00"}]}
    gen = {"name": "gensets", "capacity_mw": 200, "fuel_usd_per_mwh": 120, "carbon_g_per_kwh": 550}
    path = tiny(tmp_path, events=outage, generators=[gen])
    res = microgrid.headroom(path, curtail_pct=(0,))
    grid_only, onsite = res.rows
    assert res.outage_steps == 2
    # inference cannot be served in the outage from the grid alone
    assert grid_only.max_campus.campus_it_mw == pytest.approx(0.0, abs=1e-9)
    assert not grid_only.connection_needed.feasible
    # X = 0: the whole campus runs through the outage on the 5 MW battery (backup: none)
    assert onsite.max_campus.campus_it_mw == pytest.approx(5 / 1.1, rel=1e-6)
    # backup in outages: the grid's 100 MW binds elsewhere, plus what the battery charged
    # from backup in the 2 outage hours (5 MW, efficiencies 0.95 each way) gives back over
    # the other 46 h; always: the outage's 205 MW binds
    res = microgrid.headroom(path, curtail_pct=(0,), backup="outages")
    battery_mw = 2 * 5 * 0.95 * 0.95 / 46
    expect = (100 + battery_mw) / 1.1
    assert res.rows[1].max_campus.campus_it_mw == pytest.approx(expect, rel=1e-6)
    res = microgrid.headroom(path, curtail_pct=(0,), backup="always")
    assert res.rows[1].max_campus.campus_it_mw == pytest.approx(205 / 1.1, rel=1e-6)


def test_cli_writes_csv_json_png(tmp_path, write_scenario, capsys):
    scenario = write_scenario()
    out = tmp_path / "hr"
    assert main(["headroom", str(scenario), "--out", str(out), "--curtail-pct", "0,1"]) == 0
    printed = capsys.readouterr().out
    assert "max campus IT MW" in printed and "headroom:" in printed
    with open(out / "headroom.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["curtail_pct"], r["onsite"]) for r in rows] == [
        ("0", "false"),
        ("1", "false"),
        ("0", "true"),
        ("1", "true"),
    ]
    for a, b in ((rows[0], rows[1]), (rows[2], rows[3])):  # monotone in X
        assert float(b["max_campus_it_mw"]) >= float(a["max_campus_it_mw"])
        assert float(b["connection_needed_mw"]) <= float(a["connection_needed_mw"])
        assert float(a["curtailed_mwh"]) == 0.0
        assert float(b["curtailed_training_pct"]) == pytest.approx(1.0, rel=1e-4)
    doc = json.loads((out / "headroom.json").read_text())
    assert doc["connection_mw"] == 120 and doc["campus_it_mw"] == 100
    assert len(doc["rows"]) == 4 and doc["measure"] == "energy"
    # the horizon the curve holds for, as summary.json states a run's
    assert doc["period"] == microgrid.load_scenario(scenario).period_record()
    assert doc["period"]["start_utc"].endswith("+00:00") and doc["period"]["timezone"]
    assert (out / "headroom.png").stat().st_size > 10_000
    # wall-clock seconds in timings.json alone: a second run writes the same other files
    assert "solve_s" not in COLUMNS and "run_s" not in doc
    timings = json.loads((out / "timings.json").read_text())
    assert timings["run_s"] > 0 and len(timings["rows"]) == 4
    assert [(r["curtail_pct"], r["onsite"]) for r in timings["rows"]] == [
        (0, False),
        (1, False),
        (0, True),
        (1, True),
    ]
    assert all(r["solve_s"] > 0 for r in timings["rows"])
    again = tmp_path / "hr2"
    assert main(["headroom", str(scenario), "--out", str(again), "--curtail-pct", "0,1"]) == 0
    for name in ("headroom.csv", "headroom.json", "headroom.png"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    assert read_marker(out)["kind"] == "headroom"
    # a second run replaces its own result
    assert main(["headroom", str(scenario), "--out", str(out), "--curtail-pct", "0.5"]) == 0
    assert len((out / "headroom.csv").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("pct", "match"),
    [
        ("-1", "-1 is not a percentage"),
        ("100", "100 is not a percentage"),
        ("nan", "nan is not a percentage"),
        ("0,abc", "not a comma-separated list"),
        ("1,1", "repeated"),
        (",", "at least one"),
    ],
)
def test_cli_bad_curtail_pct_exits_2(tmp_path, capsys, pct, match):
    scenario = tiny(tmp_path)
    line = one_error_line(
        capsys, ["headroom", str(scenario), "--out", str(tmp_path / "o"), f"--curtail-pct={pct}"]
    )
    assert "--curtail-pct" in line and match in line
    assert not (tmp_path / "o").exists()


def test_cli_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    scenario = tiny(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    line = one_error_line(capsys, ["headroom", str(scenario), "--out", str(out)])
    assert "mine" in line
    assert (out / "notes.txt").read_text() == "keep"


def test_public_name_is_the_function():
    assert callable(microgrid.headroom)
    assert headroom_cli.MEASURES == MEASURES
    assert headroom_cli.BACKUP_MODES == BACKUP_MODES


def test_cli_hours_reports_each_answer_with_its_bound(tmp_path, capsys):
    """The hours measure on TINY (48 steps; X = 2 %: no step, 5 %: 2 steps): each answer
    comes with its proven bound, equal to it where the MILP proved its optimum; with the
    energy measure (an LP) the bound is the answer."""
    scenario = tiny(tmp_path)
    for measure in ("hours", "energy"):
        out = tmp_path / measure
        args = ["headroom", str(scenario), "--out", str(out), "--curtail-pct", "2,5"]
        assert main([*args, "--measure", measure, "--time-limit-s", "60"]) == 0
        with open(out / "headroom.csv") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            assert r["status"] == "optimal"
            campus, bound = float(r["max_campus_it_mw"]), float(r["max_campus_bound_it_mw"])
            assert bound == pytest.approx(campus, rel=1e-3)
            need = float(r["connection_needed_mw"])
            assert float(r["connection_needed_bound_mw"]) == pytest.approx(need, rel=1e-3)
    capsys.readouterr()


@pytest.mark.parametrize("limit", ["0", "-5", "nan"])
def test_cli_bad_time_limit_exits_2(tmp_path, capsys, limit):
    scenario = tiny(tmp_path)
    line = one_error_line(
        capsys,
        ["headroom", str(scenario), "--out", str(tmp_path / "o"), f"--time-limit-s={limit}"],
    )
    assert "--time-limit-s" in line
    assert not (tmp_path / "o").exists()


def test_the_table_prints_the_limit_as_given():
    # the audit's case: --curtail-pct 99.999 (accepted) was printed as 100.00, a value
    # the option refuses
    row = SimpleNamespace(
        curtail_pct=99.999,
        onsite=False,
        connection_needed=SimpleNamespace(feasible=True, connection_mw=5.0),
        max_campus=SimpleNamespace(campus_it_mw=1.0, curtailed_mwh=2.0),
    )
    result = SimpleNamespace(
        measure="energy",
        scenario_name="s",
        connection_mw=10.0,
        campus_it_mw=20.0,
        rows=[row],
        period=PERIOD,
        n_steps=168,
        step_h=1.0,
    )
    assert table_text(result).splitlines()[-1].split()[0] == "99.999"


PERIOD = {
    "start_utc": "2023-07-31T04:00:00+00:00",
    "end_utc": "2023-08-07T04:00:00+00:00",
    "step_minutes": 60,
    "timezone": "America/New_York",
}


def test_the_table_names_its_period_and_which_connection_is_which(tmp_path, capsys):
    # the audit's case: a summer week's table said neither what period its % covered nor
    # whether "connection MW" was the scenario's 140 MW or the one its campus needs
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["site"]["timezone"] = "America/New_York"
    path = tmp_path / "ny.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["headroom", str(path), "--out", str(tmp_path / "o"), "--curtail-pct", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # TINY's 2023-01-02 00:00 to 01-04 00:00 is local time: EST, UTC-5
    assert lines[0] == "tiny: 2023-01-02 00:00 to 2023-01-04 00:00 America/New_York (48 h)"
    assert lines[1] == "X: curtailment limit in % of the training energy over that period"
    assert "on the 100 MW connection" in lines[2] and "for the 50 MW IT campus" in lines[2]
    assert lines[3].split() == ["X", "%", "on-site", "max", "campus", "IT", "MW"] + [
        "curtailed", "MWh", "connection", "needed", "MW"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"curtail_pct": 5}, "curtail_pct (--curtail-pct): a list of percentages, not int"),
        ({"curtail_pct": "0.5"}, "curtail_pct (--curtail-pct): a list of percentages, not str"),
        ({"curtail_pct": ["1"]}, "curtail_pct (--curtail-pct): each value a number"),
        ({"time_limit_s": "5"}, "time_limit_s (--time-limit-s): '5' is not a positive number"),
        ({"measure": "power"}, "measure (--measure): one of"),
    ],
)
def test_python_arguments_are_named_as_python_gives_them(tmp_path, kwargs, needle):
    """`headroom(sc, curtail_pct=5)` was "'int' object is not iterable", "0.5" "could not
    convert string to float: '.'", and the errors named only the CLI's options."""
    with pytest.raises(InputError) as info:
        microgrid.headroom(tiny(tmp_path), **kwargs)
    assert needle in str(info.value)
