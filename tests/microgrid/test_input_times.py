"""User-given times, units and values the audit found mishandled: local times in a DST gap or
overlap in data files, times outside the period, true/false as a number, duplicate JSON
keys, column names that state another unit, `it_capacity_mw`, and the error lines.

Most cases validate the tiny scenario (scenario_factory.TINY: two days from Monday
2023-01-02, no data files) moved to America/Chicago, where 2023-03-12 02:00-03:00 does not
exist and 2023-11-05 01:00-02:00 occurs twice. Each bad input must give one line naming the
file, the line and the field, and exit code 2.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_error_line
from scenario_factory import DATA, TINY

import optimize
from microgrid.assemble import build_problem, load_inputs
from microgrid.cli import main
from microgrid.dispatch import infeasible_error
from microgrid.dr_program import event_windows
from microgrid.errors import InputError
from microgrid.scenario import load_scenario
from microgrid.scenario_grid import Signals
from microgrid.tariffs import read_urdb

ROOT = Path(__file__).resolve().parents[2]
RATE = DATA / "tariffs" / "caiso-b20-like-tou.json"
SIGNALS = DATA / "grid-signals" / "ercot-2023.csv"
GAP, TWICE = "does not exist in America/Chicago", "occurs twice in America/Chicago"
CP = {"usd_per_mw_year": 24_000, "n_peaks": 4}
ALERT_HEADER = "date,probability,window_start_local,window_end_local\n"


def tiny(tmp_path: Path, **sections) -> Path:
    """TINY in America/Chicago with top-level sections replaced, written as tiny.yaml."""
    data = copy.deepcopy(TINY)
    data["site"]["timezone"] = "America/Chicago"
    data.update(sections)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def grid(**extra) -> dict:
    return {**TINY["grid"], **extra}


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line of `path` holding `text`."""
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def validate_error(capsys, path: Path) -> str:
    return one_error_line(capsys, ["validate", str(path)])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# 1. Local times in a DST gap or overlap: refused like the YAML's own times


@pytest.mark.parametrize(
    ("row", "needle"), [("2023-11-05T01:30", TWICE), ("2023-03-12T02:30", GAP)]
)
def test_cp_intervals_csv_dst_time(tmp_path, capsys, row, needle):
    csv = write(tmp_path, "cp.csv", f"interval_start_local\n2023-01-02T09:00\n{row}\n")
    path = tiny(tmp_path, grid=grid(coincident_peaks={**CP, "intervals_csv": "cp.csv"}))
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {csv}, line 3, field interval_start_local: local time ")
    assert needle in line


def test_cp_inline_interval_dst_time_names_the_yaml_line(tmp_path, capsys):
    cp = {**CP, "intervals": ["2023-01-02T09:00", "2023-03-12T02:30"]}
    path = tiny(tmp_path, grid=grid(coincident_peaks=cp))
    line = validate_error(capsys, path)
    where = f"{path}, line {line_of(path, '2023-03-12T02:30')}"
    assert line.startswith(f"error: {where}, field grid.coincident_peaks.intervals.1: ")
    assert GAP in line


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        ("2023-11-05,0.5,01:00,01:30", "window_start_local", TWICE),
        ("2023-03-12,0.5,02:00,02:30", "window_start_local", GAP),
        ("2023-01-03,0.5,15:00,21:00Z", "window_end_local", "not a local time of day HH:MM"),
    ],
)
def test_alerts_csv_times(tmp_path, capsys, row, column, needle):
    csv = write(tmp_path, "alerts.csv", f"{ALERT_HEADER}2023-01-02,0.5,09:00,11:00\n{row}\n")
    cp = {**CP, "intervals": ["2023-01-02T09:00"], "mode": "alerts", "alerts_csv": "alerts.csv"}
    path = tiny(tmp_path, grid=grid(coincident_peaks=cp))
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {csv}, line 3, field {column}: "), line
    assert needle in line


def program(**extra) -> dict:
    return {"capacity_usd_per_mw_month": 5, "prior_baseline_mw": 1, **extra}


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ("2023-03-12T02:00,2023-03-12T04:00", "start", GAP),
        ("2023-11-05T00:00,2023-11-05T01:30", "end", TWICE),
        # a UTC start with a local end: the YAML refuses the same mix
        ("2023-01-02T15:00Z,2023-01-02T18:00", "end", "both with a UTC offset or both without"),
        ("2025-08-23T15:00,2025-08-23T18:00", "start", "outside the period's year(s) 2023"),
    ],
)
def test_dr_events_csv_rows(tmp_path, capsys, row, field, needle):
    csv = write(tmp_path, "events.csv", f"start,end\n2023-01-02T10:00,2023-01-02T11:00\n{row}\n")
    path = tiny(tmp_path, demand_response_program=program(events_csv="events.csv"))
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {csv}, line 3, field {field}: "), line
    assert needle in line


def test_dr_inline_event_dst_time_names_the_yaml_line(tmp_path, capsys):
    events = [{"start": "2023-11-05T01:00", "end": "2023-11-05T03:00"}]
    path = tiny(tmp_path, demand_response_program=program(events=events))
    line = validate_error(capsys, path)
    field = "demand_response_program.events.0.start"
    assert line.startswith(
        f"error: {path}, line {line_of(path, '2023-11-05T01:00')}, field {field}"
    )
    assert TWICE in line and "give a UTC offset" in line


# 2. Times outside the period: refused, naming the field; a partial overlap acts in part


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"events": {"outages": [{"start": "2024-01-02T10:00", "end": "2024-01-02T12:00"}]}},
         "events.outages.0.start"),
        ({"events": {"derates": [{"start": "2023-01-05T10:00", "end": "2023-01-05T12:00",
                                  "asset": "battery", "available_frac": 0.5}]}},
         "events.derates.0.start"),
        ({"operate": {"events": [{"kind": "grid_outage", "start": "2023-01-01T10:00",
                                  "end": "2023-01-02T00:00"}]}},
         "operate.events.0.start"),
    ],
)  # fmt: skip
def test_event_window_outside_the_period(tmp_path, capsys, section, field):
    path = tiny(tmp_path, **section)
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {path}, line "), line
    assert f"field {field}: the " in line and "lies outside the period 2023-01-02T00:00" in line


@pytest.mark.parametrize(
    ("asset", "sections"),
    [("wind", {}), ("pv", {}), ("battery", {"battery": None})],
)
def test_derate_of_an_asset_the_scenario_lacks(tmp_path, capsys, asset, sections):
    """TINY has no pv or wind: a derate on one (or on a battery the scenario drops) was
    accepted and changed nothing; it is refused like a window outside the period."""
    derate = {"start": "2023-01-02T10:00", "end": "2023-01-02T12:00", "asset": asset,
              "available_frac": 0.5}  # fmt: skip
    path = tiny(tmp_path, events={"derates": [derate]}, **sections)
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {path}, line "), line
    assert f"field events.derates.0.asset: a {asset} derate, but the scenario has no" in line


def test_outage_overlapping_the_period_in_part_acts_on_its_steps(tmp_path):
    outage = {"start": "2023-01-01T22:00", "end": "2023-01-02T03:00"}  # 3 h inside
    sc = load_scenario(tiny(tmp_path, events={"outages": [outage]}))
    assert int(load_inputs(sc).frame["outage"].sum()) == 3


def test_swings_hour_outside_the_period(tmp_path, capsys):
    path = tiny(tmp_path, swings={"hour": "2024-01-02T15:00"})
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {path}, line {line_of(path, '2024-01-02T15:00')}, field ")
    assert "swings.hour: 2024-01-02T15:00 is outside the period" in line


def test_dr_event_in_the_year_but_outside_the_period_is_left_out(tmp_path):
    events = [{"start": "2023-01-02T10:00", "end": "2023-01-02T11:00"},
              {"start": "2023-08-23T15:00", "end": "2023-08-23T18:00"}]  # fmt: skip
    sc = load_scenario(tiny(tmp_path, demand_response_program=program(events=events)))
    windows = event_windows(sc, sc.index())
    assert [w.key for w in windows] == ["dr@2023-01-02T10:00-06:00"]


# 3. Input that must not pass: true/false as a number, duplicate JSON keys


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("battery.power_mw", True),
        ("period.step_minutes", True),
        ("datacenter.throughput_curve", [[0.6, 0.78], [1.0, True]]),
        ("jobs.items.0.gpus", True),
    ],
)
def test_true_false_is_not_a_number(tmp_path, capsys, dotted, value):
    data = copy.deepcopy(TINY)
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[last] = value
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    line = validate_error(capsys, path)
    assert f", field {dotted}: true/false is not a number" in line, line


def test_true_false_still_sets_a_boolean(tmp_path):
    data = copy.deepcopy(TINY)
    data["battery"]["no_simultaneous_charge_discharge"] = False
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).battery.no_simultaneous_charge_discharge is False


def test_urdb_duplicate_key_names_file_line_and_key(tmp_path):
    rate = json.loads(RATE.read_text())
    text = json.dumps(rate, indent=1)
    # a second "rate" in the first energy tier, on a line of its own
    first_rate = text.index('"rate"')
    text = text[:first_rate] + '"rate": 0.5,\n' + text[first_rate:]
    bad = write(tmp_path, "dup.json", text)
    with pytest.raises(InputError) as err:
        read_urdb(bad)
    expected_line = text[: text.index('"rate"', first_rate + 1)].count("\n") + 1
    assert (err.value.path, err.value.line, err.value.field) == (str(bad), expected_line, "rate")
    assert "duplicate key 'rate'" in err.value.message


def test_urdb_duplicate_top_level_key_refused_by_validate(tmp_path, capsys):
    text = RATE.read_text().replace('"label":', '"label": "a", "label":', 1)
    bad = write(tmp_path, "dup.json", text)
    path = tiny(tmp_path, grid=grid(demand_charge_usd_per_kw_month=0, tariff={"urdb": str(bad)}))
    line = validate_error(capsys, path)
    label_line = line_of(bad, '"label"')
    assert line.startswith(f"error: {bad}, line {label_line}, field label: "), line
    assert "duplicate key 'label'" in line


# 4. An infeasible zero import limit names an outage only where there is one


def zero_import_slack(tmp_path, **sections):
    sc = load_scenario(tiny(tmp_path, **sections))
    inputs = load_inputs(sc)
    problem = build_problem(sc, inputs)
    exc = optimize.Infeasible([optimize.Slack("import_limit", "grid", [10, 11], 5.0, "MW")])
    return infeasible_error(sc, inputs, problem, exc).message


def test_zero_import_limit_is_not_called_an_outage(tmp_path):
    message = zero_import_slack(tmp_path, grid=grid(import_max_mw=0))
    assert "grid import needs up to 5 MW more (import limit 0 MW) from" in message
    assert "outage" not in message


def test_outage_is_still_named(tmp_path):
    outage = {"start": "2023-01-02T09:00", "end": "2023-01-02T13:00"}
    message = zero_import_slack(tmp_path, events={"outages": [outage]})
    assert "grid import needs up to 5 MW more (an outage: no import) from" in message


def test_run_with_zero_import_limit_says_import_limit(tmp_path, capsys):
    path = tiny(tmp_path, grid=grid(import_max_mw=0))
    line = one_error_line(capsys, ["run", str(path), "--out", str(tmp_path / "out")])
    assert "infeasible scenario: grid import needs up to" in line
    assert "(import limit 0 MW)" in line and "outage" not in line
    assert ", field grid.import_max_mw: infeasible scenario" in line
    assert not (tmp_path / "out").exists()


# 5. datacenter.it_capacity_mw: above 0 and at least the inference peak


@pytest.mark.parametrize(
    ("datacenter", "needle"),
    [
        ({"it_capacity_mw": 0, "inference": {"mean_mw": 10}}, "greater than 0"),
        ({"it_capacity_mw": 12, "inference": {"mean_mw": 10, "amplitude_mw": 3}},
         "below the inference load's peak mean_mw + amplitude_mw (13)"),
    ],
)  # fmt: skip
def test_it_capacity_refused(tmp_path, capsys, datacenter, needle):
    path = tiny(tmp_path, datacenter=datacenter)
    line = validate_error(capsys, path)
    where = f"{path}, line {line_of(path, 'it_capacity_mw')}"
    assert line.startswith(f"error: {where}, field datacenter.it_capacity_mw: "), line
    assert needle in line


def test_it_capacity_at_the_inference_peak_is_valid(tmp_path, capsys):
    dc = {"it_capacity_mw": 13, "inference": {"mean_mw": 10, "amplitude_mw": 3}}
    assert main(["validate", str(tiny(tmp_path, datacenter=dc))]) == 0, capsys.readouterr().err


# 6. Signal columns whose names state another unit


@pytest.mark.parametrize(
    ("field", "column", "stated"),
    [
        ("price_column", "price_usd_per_kwh", "usd/kwh"),
        ("price_column", "Price ($/kWh)", "usd/kwh"),
        ("price_column", "lmp_eur_per_mwh", "eur/mwh"),
        ("carbon_column", "carbon_direct_lb_per_mwh", "lb/mwh"),
        ("carbon_column", "carbon_t_co2_per_mwh", "t/mwh"),
        # the carbon audit: accepted before (units written as one word, or spelled out)
        ("carbon_column", "carbon_pounds_per_mwh", "lb/mwh"),
        ("carbon_column", "carbon_kgco2perkwh", "kg/kwh"),
        ("carbon_column", "carbon_lbspermwh", "lb/mwh"),
        ("carbon_column", "carbon_tonnes_per_mwh", "t/mwh"),
        ("carbon_column", "carbon_tco2e_mwh", "t/mwh"),
        ("carbon_column", "carbon_gco2_per_mwh", "g/mwh"),
        ("carbon_column", "carbon_per_mwh", "mwh"),  # per MWh: lb, kg or t, unsaid
        ("price_column", "price_cents_per_kwh", "cents/kwh"),
    ],
)
def test_column_stating_another_unit_refused(tmp_path, capsys, field, column, stated):
    path = tiny(tmp_path, signals={"csv": str(SIGNALS), field: column})
    line = validate_error(capsys, path)
    where = f"{path}, line {line_of(path, field)}, field signals.{field}"
    assert line.startswith(f"error: {where}: column {column!r} states the unit {stated}"), line


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("price_column", "price_usd_per_mwh"),
        ("price_column", "lmp"),
        ("carbon_column", "carbon_lifecycle_g_per_kwh"),
        ("carbon_column", "carbon_gco2eq_per_kwh"),
        ("carbon_column", "carbon_kg_per_mwh"),  # the same number as g/kWh
        ("carbon_column", "carbon_gco2_per_kwh"),
        ("carbon_column", "carbon_gco2e_per_kwh"),
        ("carbon_column", "carbon_gco2perkwh"),
        ("carbon_column", "carbon (gCO2eq/kWh)"),
        ("carbon_column", "carbon_grams_per_kwh"),
        ("carbon_column", "carbon_kgco2e_per_mwh"),
        ("carbon_column", "carbon_intensity"),
        ("price_column", "da_price_usdpermwh"),
        ("price_column", "settlement_point_price"),
    ],
)
def test_column_in_the_expected_unit_accepted(field, column):
    assert getattr(Signals(csv=SIGNALS, **{field: column}), field) == column


# 7. Error lines: a byte that is not UTF-8 in a signal CSV


def test_signals_csv_not_utf8_names_its_line(tmp_path, capsys):
    lines = SIGNALS.read_text().splitlines()
    csv = tmp_path / "signals.csv"
    csv.write_bytes("\n".join(lines[:40]).encode() + b"\ncaf\xe9,1,2,3\n")
    path = tiny(tmp_path, signals={"csv": str(csv)})
    line = validate_error(capsys, path)
    assert line.startswith(f"error: {csv}, line 41: not UTF-8 text (byte 0xe9"), line
