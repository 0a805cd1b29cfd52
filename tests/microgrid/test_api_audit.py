"""The Python API as an outside user meets it: the power flow's violations reach
`Result.violations` and violations.csv, `Scenario.with_updates` answers a bad override with
an InputError naming it, and the public objects say their units and errors."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scenario_factory import TINY
from sweep_helpers import write_spec

import microgrid
from microgrid.errors import InputError, InputErrors
from microgrid.network import INJECTION_COLUMNS
from microgrid.operate import actual_powerflow
from microgrid.scenario import Scenario, load_scenario
from microgrid.scenario_overrides import OverrideError, OverrideErrors
from microgrid.sweeps import load_spec
from microgrid.sweeps.worker import CaseTask, default_runner, execute_case

# A weak feed and tight limits on the tiny scenario: the 10 MW job's hours (and the
# battery's) leave the data-center bus below 0.99 pu and the feed and transformer above 8 %.
WEAK_LIMITS = {"datacenter_line_km": 14, "vm_min_pu": 0.99, "max_loading_pct": 8}
VM_MIN_PU = WEAK_LIMITS["vm_min_pu"]
LOADING_MAX_PCT = WEAK_LIMITS["max_loading_pct"]


def _weak_tiny() -> Scenario:
    data = copy.deepcopy(TINY)
    data["network"] = dict(WEAK_LIMITS)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def weak_run():
    return microgrid.run(_weak_tiny(), baselines=False)


@pytest.mark.slow
def test_the_violations_the_summary_counts_are_in_the_result(weak_run):
    pf, viol, ts = weak_run.summary["powerflow"], weak_run.violations, weak_run.timeseries
    assert pf["violations"] > pf["violation_steps"] > 0  # several elements at some steps
    assert len(viol) == pf["violations"]
    assert viol["timestamp_utc"].nunique() == pf["violation_steps"]
    assert set(viol["timestamp_utc"]) <= set(ts.index)
    assert set(viol["element_type"]) <= {"bus", "line", "trafo"}
    # the data-center bus rows are the steps whose voltage in the time series is low
    dc = viol[(viol["element_type"] == "bus") & (viol["name"] == "datacenter")]
    low = ts.loc[ts["dc_bus_vm_pu"] < VM_MIN_PU, "dc_bus_vm_pu"]
    assert len(low) and list(dc["timestamp_utc"]) == list(low.index)
    assert np.allclose(dc["value"], low.to_numpy()) and (dc["limit"] == VM_MIN_PU).all()
    assert set(dc["quantity"]) == {"vm_pu"}
    # every step whose most loaded line is over the limit has a line row of that loading
    lines = viol[viol["element_type"] == "line"]
    for t, pct in ts.loc[
        ts["max_line_loading_pct"] > LOADING_MAX_PCT, "max_line_loading_pct"
    ].items():
        at_t = lines[lines["timestamp_utc"] == t]
        assert np.isclose(at_t["value"].max(), pct) and (at_t["limit"] == LOADING_MAX_PCT).all()
    assert set(lines["quantity"]) == {"loading_pct"}
    assert pf["engine"] in ("lightsim2grid", "pandapower")  # the engine that ran, not "auto"


@pytest.mark.slow
def test_violations_csv_is_written_when_there_are_violations(weak_run, tmp_path):
    out = weak_run.write(tmp_path / "weak")
    written = pd.read_csv(out / "violations.csv")
    assert list(written.columns) == list(weak_run.violations.columns)
    assert len(written) == weak_run.summary["powerflow"]["violations"]
    stamps = pd.to_datetime(written["timestamp_utc"], format="%Y-%m-%dT%H:%M:%SZ", utc=True)
    assert list(stamps) == list(weak_run.violations["timestamp_utc"])
    assert np.allclose(written["value"], weak_run.violations["value"])
    clean = dataclasses.replace(weak_run, violations=weak_run.violations.iloc[:0])
    assert not (clean.write(tmp_path / "clean") / "violations.csv").exists()


def test_operate_checks_every_line_out_topology_and_keeps_their_violations():
    scenario = _weak_tiny()
    index = scenario.index()[:6]
    actual = pd.DataFrame(0.0, index=index, columns=[*INJECTION_COLUMNS, "unserved_mw"])
    actual["facility_load_mw"] = [11.0, 22.0, 22.0, 11.0, 22.0, 11.0]
    line_out = {"datacenter": np.array([False, False, True, True, False, False])}
    _, check = actual_powerflow(scenario, actual, line_out)
    counted = check.summary["n_violations"]
    assert len(check.violations) == counted.sum() > 0
    assert list(check.summary.index) == list(index)
    with_violations = set(counted.index[counted > 0])
    assert set(check.violations["step"]) == with_violations
    assert with_violations & {index[2], index[3]} and with_violations - {index[2], index[3]}
    assert check.violations["step"].is_monotonic_increasing


@pytest.fixture
def file_scenario(write_scenario) -> Scenario:
    return load_scenario(write_scenario())


@pytest.mark.parametrize(
    ("updates", "words"),
    [
        ({"battery.power_mwx": 10}, ["no such field", "did you mean power_mw"]),
        ({"batery.power_mw": 10}, ["no such field", "did you mean battery"]),
        ({"sizing.discount_rate": 0.05}, ["no such field", "sizing is absent"]),
        ({"jobs.items.0.gpus": 5}, ["no such field", "jobs.items is a list of 0 items"]),
        ({"pv.dc_mw.x": 1}, ["pv.dc_mw is a value"]),
        ({"datacenter.throughput_curve.0.2": 1}, ["throughput_curve.0 is a list of 2 items"]),
        ({"battery.power_mw": -5}, ["greater than or equal to 0"]),
        ({"battery.power_mw": "lots"}, ["valid number"]),
        ({"battery.soc_min_frac": 0.95}, ["soc_min_frac (0.95) > soc_max_frac"]),
        ({"datacenter.pue.max": 1.0}, ["is below base"]),  # a cross-field rule
    ],
)
def test_a_bad_override_is_an_input_error_naming_the_override(file_scenario, updates, words):
    with pytest.raises(InputErrors) as info:
        file_scenario.with_updates(updates)
    [(dotted, value)] = updates.items()
    [err] = info.value.errors
    assert isinstance(err, OverrideError)
    assert (err.field, err.value, err.path, err.line) == (dotted, value, None, None)
    text = str(info.value)
    assert text.startswith(f"override {dotted} = {value!r}: ")
    assert "line" not in text and str(file_scenario.source_path) not in text
    for w in words:
        assert w in text


def test_every_bad_override_is_listed(file_scenario):
    with pytest.raises(InputErrors) as info:
        file_scenario.with_updates({"battery.power_mw": -5, "pv.dc_mw": -1})
    assert {e.field for e in info.value.errors} == {"battery.power_mw", "pv.dc_mw"}
    assert "more in .errors" in str(info.value) and "microgrid validate" not in str(info.value)


def test_updates_that_are_not_a_mapping_are_an_input_error(file_scenario):
    with pytest.raises(InputError, match="mapping of dotted path -> value, not a list"):
        file_scenario.with_updates([("battery.power_mw", 5)])


def test_a_sweep_axis_into_an_absent_section_says_so(tmp_path):
    path = write_spec(tmp_path, "axes:\n  sizing.discount_rate: [0.05]\n")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert info.value.field == "sizing.discount_rate" and info.value.line == 4
    assert "the section sizing is absent" in str(info.value)


def test_scenario_run_and_result_document_units_and_errors():
    scenario_doc = inspect.getdoc(Scenario)
    assert not scenario_doc.startswith("Usage docs")  # its own, not pydantic's BaseModel's
    for words in (["load_scenario", "with_updates"], ["_mw", "_frac"], ["InputErrors"]):
        assert all(w in scenario_doc for w in words)
    for documented in (microgrid.run, microgrid.size):
        doc = inspect.getdoc(documented)
        assert "MW" in doc and "USD" in doc and "InputError" in doc and "SolveError" in doc
    result_doc = inspect.getdoc(microgrid.Result)
    assert "fractions 0..1" in result_doc and "violations" in result_doc


def test_an_item_of_a_pair_in_a_list_is_set_by_index(file_scenario):
    curve = file_scenario.datacenter.throughput_curve
    updated = file_scenario.with_updates({"datacenter.throughput_curve.0.1": 0.5})
    assert updated.datacenter.throughput_curve == ((curve[0][0], 0.5), *curve[1:])


def test_a_scenarios_lists_cannot_be_changed_in_place(file_scenario):
    # a frozen scenario's lists are tuples: an append or an item set in place would have
    # changed it past its checks (a job added without its ids or windows checked)
    jobs = file_scenario.jobs.items
    for seq in (jobs, file_scenario.datacenter.throughput_curve, file_scenario.events.outages):
        assert isinstance(seq, tuple)
    with pytest.raises(AttributeError):
        jobs.append(jobs[0])  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        file_scenario.datacenter.throughput_curve[0] = (0.1, 0.1)  # type: ignore[index]
    # the Python API still takes lists, as YAML gives them
    updated = file_scenario.with_updates(
        {"events.outages": [{"start": "2023-08-22T10:00", "end": "2023-08-22T12:00"}]}
    )
    assert isinstance(updated.events.outages, tuple) and len(updated.events.outages) == 1


@pytest.mark.parametrize("section_first", [True, False])
def test_an_override_inside_another_is_refused_whatever_the_order(file_scenario, section_first):
    section = ("battery", {**file_scenario.battery.model_dump(), "power_mw": 20})
    inner = ("battery.power_mw", 10)
    updates = dict([section, inner] if section_first else [inner, section])
    with pytest.raises(OverrideErrors) as info:
        file_scenario.with_updates(updates)
    [err] = info.value.errors
    assert (err.field, err.value) == ("battery.power_mw", 10)
    assert "inside the override battery," in str(err) and "\n" not in str(info.value)


def _first_data_error(scenario: Scenario) -> InputError:
    """The first error the run meets reading the scenario's data files."""
    with pytest.raises(InputErrors) as info:
        microgrid.run(scenario, baselines=False)
    return info.value.errors[0]


def test_a_data_file_an_override_names_is_blamed_on_the_override(file_scenario, tmp_path):
    overridden = file_scenario.with_updates({"signals.csv": "nonexist.csv"})
    err = _first_data_error(overridden.with_updates({"battery.power_mw": 5}))  # carried on
    assert isinstance(err, OverrideError)
    assert (err.field, err.value, err.path, err.line) == ("signals.csv", "nonexist.csv", None, None)
    missing = tmp_path / "nonexist.csv"
    assert str(err) == f"override signals.csv = 'nonexist.csv': {missing}: file not found"


def test_a_data_file_in_an_overridden_section_is_blamed_on_the_section(file_scenario):
    weather = {**file_scenario.weather.model_dump(), "path": "gone.csv"}
    twice = file_scenario.with_updates({"weather.path": "x.csv"}).with_updates({"weather": weather})
    assert list(twice.overrides) == ["weather"]  # the section replaced the earlier override
    err = _first_data_error(twice)
    assert isinstance(err, OverrideError) and (err.field, err.value) == ("weather", weather)
    assert str(err).endswith("gone.csv: file not found (field weather.path)")


def test_a_data_file_the_scenario_file_names_is_blamed_on_its_line(write_scenario):
    path = write_scenario(**{"signals.csv": "nonexist.csv"})
    scenario = load_scenario(path).with_updates({"battery.power_mw": 5})
    err = _first_data_error(scenario)
    assert not isinstance(err, OverrideError)
    assert (err.path, err.field) == (str(path), "signals.csv") and err.line


def test_a_sweep_case_naming_a_missing_data_file_fails_naming_its_override(tmp_path):
    spec = load_spec(write_spec(tmp_path, "cases:\n  - {signals.csv: nonexist.csv}\n"))
    [case] = spec.cases
    task = CaseTask(
        case.case_id, case.index, case.params, case.scenario, case.scenario_sha,
        str(tmp_path / "out"), "run-1", None, default_runner,
    )  # fmt: skip
    (tmp_path / "out" / "records").mkdir(parents=True)
    record = execute_case(task)
    assert record["status"] == "failed"
    assert record["error"].startswith("InputErrors: override signals.csv = 'nonexist.csv': ")
    assert "file not found" in record["error"] and "line" not in record["error"]


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (
            "axes:\n  signals: [ercot-2023]\n  signals.csv: [other.csv]\n",
            5,
            "axes signals and signals.csv both set signals.csv",
        ),
        (
            "cases:\n  - {battery: null, battery.power_mw: 5}\n",
            4,
            "setting battery.power_mw = 5: it lies inside the override battery,",
        ),
    ],
)
def test_a_sweep_setting_a_field_twice_in_a_case_is_refused(tmp_path, body, line, words):
    with pytest.raises(InputError) as info:
        load_spec(write_spec(tmp_path, body))
    assert info.value.line == line and words in str(info.value)


def test_a_job_of_a_jobs_csv_says_how_to_change_it():
    """R1's jobs come from a CSV: `jobs.items.0.gpus` (the README's example) said only
    that the list is empty."""
    sc = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "ercot-dallas.yaml")
    with pytest.raises(InputErrors, match="this scenario's jobs come from jobs.csv"):
        sc.with_updates({"jobs.items.0.gpus": 100})


@pytest.mark.parametrize(
    ("import_max_mw", "start"),
    [
        # the import limit the override set is relaxed: the error is the override's
        (5, "override grid.import_max_mw = 5: infeasible scenario: grid import needs"),
        # only the job's work is short: its line, saying the override came first
        (25, "infeasible scenario (after the overrides grid.import_max_mw): job a misses"),
    ],
)
def test_an_infeasible_run_after_overrides_says_so(write_scenario, import_max_mw, start):
    """The import limit an override set made the job miss its deadline: the error once
    named the job's line in the file alone, where the file's limit was 120 MW."""
    job = {"id": "a", "gpus": 20000, "work_h": 20, "release_h": 24, "deadline_h": 48}
    sc = load_scenario(write_scenario(**{"jobs.items": [job]}))
    updated = sc.with_updates({"grid.import_max_mw": import_max_mw})
    with pytest.raises(InputError) as info:
        microgrid.run(updated, baselines=False, powerflow=False)
    assert start in str(info.value), str(info.value)


def test_a_bad_cell_in_a_data_file_an_override_names_is_blamed_on_the_override(
    file_scenario, tmp_path
):
    """The error named the file and line but not the override (the README promises it)."""
    source = file_scenario.resolve(file_scenario.signals.csv)
    lines = source.read_text().splitlines()
    head = lines[0].split(",")
    cells = lines[3].split(",")
    cells[head.index(file_scenario.signals.price_column)] = "abc"
    lines[3] = ",".join(cells)
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    err = _first_data_error(file_scenario.with_updates({"signals.csv": "bad.csv"}))
    assert isinstance(err, OverrideError) and (err.field, err.value) == ("signals.csv", "bad.csv")
    assert str(err).startswith(f"override signals.csv = 'bad.csv': {tmp_path / 'bad.csv'}, line 4")
    assert "not a number: 'abc'" in str(err)


def test_a_weather_file_an_override_names_is_blamed_on_the_override(file_scenario):
    """It was put on the base scenario's line of `weather:`."""
    signals = str(file_scenario.resolve(file_scenario.signals.csv))
    err = _first_data_error(file_scenario.with_updates({"weather.path": signals}))
    assert isinstance(err, OverrideError) and err.field == "weather.path"
    assert str(err).startswith(f"override weather.path = '{signals}': unknown site CSV")


def test_a_scenario_made_by_model_validate_is_checked_across_sections_by_run():
    """Built by `Scenario.model_validate`, a PUE maximum below its base passed the schema
    and was solved as given: PUE held at 1.0, the cost 37 % low."""
    data = copy.deepcopy(TINY)
    data["datacenter"] = {**data["datacenter"], "pue": {"base": 1.1, "max": 1.0}}
    bad = Scenario.model_validate(data)
    for call in (microgrid.run, microgrid.size, microgrid.headroom):
        with pytest.raises(InputErrors) as info:
            call(bad)
        assert info.value.errors[0].field == "datacenter.pue.max"
    with pytest.raises(TypeError, match="a Scenario or the path of its YAML file, not NoneType"):
        microgrid.run(None)


def test_flags_and_counts_of_the_wrong_kind_are_refused(tmp_path):
    """`run(powerflow="no")` ran the power flow ("no" is true); `sweep(workers=0)` and
    `workers="2"` were taken as 1 and 2; `sweep(timeout_s="5")` was a TypeError."""
    with pytest.raises(InputError, match="powerflow: True or False, not 'no'"):
        microgrid.run(Scenario.model_validate(copy.deepcopy(TINY)), powerflow="no")
    spec = write_spec(tmp_path, "axes:\n  battery.energy_mwh: [0, 100]\n")
    for workers in (0, -1, "2", True):
        with pytest.raises(InputError, match="workers: a whole number of processes >= 1"):
            microgrid.sweep(spec, tmp_path / "out", workers=workers)
    with pytest.raises(InputError, match="timeout_s: a number of seconds"):
        microgrid.sweep(spec, tmp_path / "out", timeout_s="5")
    assert not (tmp_path / "out").exists()
