"""The Python API as a notebook meets it: a `Result` and a baseline print one line, a
frozen scenario's mappings refuse changes in place, `load_scenario` of no path says what
it takes, and `help()` gives the units and errors of `microgrid.headroom` and the
wall-clock entries of `Result.summary`."""

from __future__ import annotations

import copy
import inspect
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scenario_factory import TINY

import microgrid
from microgrid.baselines import BaselineResult
from microgrid.scenario import Scenario, load_scenario
from microgrid.scenario_settings import Sizing

ROOT = Path(__file__).resolve().parents[2]
TARIFF_SCENARIO = ROOT / "scenarios" / "caiso-tou-tariff.yaml"


def _year_frame(columns: int = 40) -> pd.DataFrame:
    index = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC", name="timestamp_utc")
    data = np.random.default_rng(0).random((len(index), columns))
    return pd.DataFrame(data, index=index, columns=[f"job_{i}_mw" for i in range(columns)])


def test_a_result_and_its_baselines_print_one_line():
    """`res` in a notebook cell printed the dataclass's repr: every table, the summary and
    the scenario whole (30,512 characters for two days of ercot-dallas-weak)."""
    ts = _year_frame()
    baseline = BaselineResult("asap", ts, {"total_cost_usd": 2e6}, {}, {}, status="simulated")
    summary = {"total_cost_usd": 1_234_567.891, "emissions_t": 4321.0, "mode": "plan"}
    summary |= {"solver": {"status": "optimal"}, "bill": {"months": [{"x": 1}] * 500}}
    result = microgrid.Result(
        scenario=Scenario.model_validate(copy.deepcopy(TINY)),
        timeseries=ts,
        jobs=pd.DataFrame({"job_id": ["a"] * 300}),
        summary=summary,
        jobs_spec=[{"id": f"job-{i}", "command": "x" * 100} for i in range(2000)],
        baselines={"asap": baseline},
    )
    text = repr(result)
    assert len(text) < 400 and "\n" not in text
    for words in ("'tiny'", "plan", "8760 steps", "2023-01-01 00:00 to 2024-01-01 00:00 UTC"):
        assert words in text
    for words in ("status optimal", "total_cost_usd 1,234,567.89", "emissions_t 4,321.00"):
        assert words in text
    assert "300 job segments" in text and "baselines [asap]" in text and "no net" in text
    assert repr(baseline) == (
        "<BaselineResult 'asap': status simulated, 8760 steps, total_cost_usd 2,000,000.00>"
    )
    failed = BaselineResult("storage-optimal", None, {}, {}, {}, status="failed", reason="x")
    assert repr(failed) == "<BaselineResult 'storage-optimal': status failed, no rows, reason 'x'>"


def test_a_scenarios_mappings_cannot_be_changed_in_place():
    """A tariff's prior monthly peaks were a plain dict in a frozen scenario: a peak of
    -50 MW set in place skipped every check, and the next `with_updates` blamed the
    scenario file's line for it."""
    scenario = load_scenario(TARIFF_SCENARIO).with_updates(
        {"grid.tariff.prior_monthly_peaks_mw": {"2023-06": 40.0}}
    )
    peaks = scenario.grid.tariff.prior_monthly_peaks_mw
    for change in (
        lambda: peaks.__setitem__("2023-06", -50.0),
        lambda: peaks.update({"2023-05": -1.0}),
        lambda: peaks.pop("2023-06"),
        lambda: peaks.clear(),
    ):
        with pytest.raises(TypeError, match="a scenario is frozen: change it with with_updates"):
            change()
    assert peaks == {"2023-06": 40.0}
    # with_updates still sets a month, a copy or a pickle stays frozen, a dump is a dict
    later = scenario.with_updates({"grid.tariff.prior_monthly_peaks_mw.2023-06": 45})
    assert later.grid.tariff.prior_monthly_peaks_mw == {"2023-06": 45.0}
    dumped = scenario.model_dump()["grid"]["tariff"]["prior_monthly_peaks_mw"]
    assert type(dumped) is dict and dumped == {"2023-06": 40.0}
    for copied in (copy.deepcopy(scenario), pickle.loads(pickle.dumps(scenario))):
        with pytest.raises(TypeError):
            copied.grid.tariff.prior_monthly_peaks_mw["2023-06"] = -50.0
    # so do the defaults and the sizing section's generators
    sizing = Sizing.model_validate(
        {"generators": {"g": {"capex_usd_per_mw": 1, "lifetime_years": 20, "max_mw": 5}}}
    )
    for mapping in (Sizing().generators, sizing.generators):
        with pytest.raises(TypeError):
            mapping["h"] = sizing.generators["g"]


def test_load_scenario_of_no_path_says_what_it_takes():
    """A dict failed inside pathlib: `expected str, bytes or os.PathLike object`."""
    with pytest.raises(TypeError, match=r"path: the path of a scenario YAML file, not dict"):
        load_scenario(copy.deepcopy(TINY))


def test_help_gives_headroom_units_and_errors_and_the_summarys_clock():
    """`help(microgrid.headroom)` said "see the module doc", which help() does not show;
    `Result.summary`'s wall-clock seconds, the one part two runs differ in, were unsaid."""
    doc = inspect.getdoc(microgrid.headroom)
    for words in ("IT MW", "percent", "curtail_pct", "measure", "backup", "seconds"):
        assert words in doc
    assert "InputError" in doc and "SolveError" in doc and "HeadroomResult" in doc
    result_doc = inspect.getdoc(microgrid.Result)
    assert "solver.build_s" in result_doc and "differ in these alone" in result_doc
    assert "tz_convert" in result_doc and "emissions_t" in result_doc
