"""The YAML value cap (microgrid/yamlio.py MAX_NODES) against the schema's list caps: a
scenario with every documented list at its cap loads; an alias bomb is still refused, at
once; a file over the cap is told what to do, not called an alias bomb."""

from __future__ import annotations

import copy
import datetime as dt
import time

import yaml
from pydantic import BaseModel
from scenario_factory import TINY
from test_hostile_files import assert_one_line, validate, write_yaml_text

from microgrid.scenario import load_scenario
from microgrid.scenario_demand import Job
from microgrid.scenario_events import DemandResponse, Derate, OperateEvent
from microgrid.scenario_fields import MAX_EVENTS, MAX_GENERATORS, MAX_JOBS, Window
from microgrid.scenario_site import Generator
from microgrid.yamlio import MAX_NODES


def _item_values(model: type[BaseModel]) -> int:
    """Values of one list item with all its fields written: the mapping, each key, each
    value (a throughput curve counted as one value). A job holds its window in hours or
    as date-times, never both: two of its fields are left out."""
    unwritten = 2 if model is Job else 0
    return 1 + 2 * (len(model.model_fields) - unwritten)


def test_the_cap_covers_every_list_of_the_schema_at_its_cap_at_once():
    lists = [
        (Job, MAX_JOBS),  # jobs.items
        (Window, MAX_EVENTS),  # events.outages
        (DemandResponse, MAX_EVENTS),  # events.demand_response
        (Derate, MAX_EVENTS),  # events.derates
        (OperateEvent, MAX_EVENTS),  # operate.events
        (Window, MAX_EVENTS),  # demand_response_program.events
        (Generator, MAX_GENERATORS),  # generators
    ]
    at_caps = sum(n * _item_values(model) for model, n in lists)
    assert at_caps == 290_100  # the sum yamlio's comment states
    assert at_caps + 5_000 <= MAX_NODES  # and room for the rest of a scenario


def _year_with_events(n: int) -> dict:
    """TINY over 2023 from Monday 2 January (UTC) with n outages, n demand-response
    windows and n derates."""
    sc = copy.deepcopy(TINY)
    sc["period"] = {"start": "2023-01-02T00:00", "end": "2024-01-01T00:00", "step_minutes": 60}
    sc["pv"] = {"dc_mw": 10, "ac_mw": 8}
    events: dict[str, list] = {"outages": [], "demand_response": [], "derates": []}
    for i in range(n):
        start = dt.datetime(2023, 1, 2, 1) + dt.timedelta(hours=8 * i)
        w = {
            "start": f"{start:%Y-%m-%dT%H:%M}",
            "end": f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M}",
        }
        events["outages"].append(w)
        events["demand_response"].append({**w, "cap_mw": 50})
        events["derates"].append({**w, "asset": "pv", "available_frac": 0.5})
    sc["events"] = events
    return sc


def test_a_year_with_the_three_event_lists_at_their_cap_loads(tmp_path, capsys):
    """The audit's year-limits.yaml: 1,000 outages + 1,000 derates + 1,000 DR windows
    (21,000 values) were refused by the former 20,000-value cap."""
    path = write_yaml_text(tmp_path, yaml.safe_dump(_year_with_events(MAX_EVENTS)))
    scenario = load_scenario(path)
    assert len(scenario.events.outages) == len(scenario.events.derates) == MAX_EVENTS
    assert len(scenario.events.demand_response) == MAX_EVENTS
    code, err = validate(capsys, path)
    assert code == 0, err


def test_an_alias_bomb_is_refused_at_once_and_named(tmp_path, capsys):
    # 9 levels of 9 aliases: 1 KB of text, 9**9 (387 million) values when expanded
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = write_yaml_text(tmp_path, "\n".join(lines) + "\n")
    t0 = time.perf_counter()
    code, err = validate(capsys, path)
    assert time.perf_counter() - t0 < 2.0
    assert_one_line(code, err, str(path), "line ", "alias bomb", "with aliases expanded")


def test_a_file_over_the_cap_without_aliases_is_told_what_to_do(tmp_path, capsys):
    """A long inline list: refused by validate like any other error (one line, file and
    line, exit 2), naming its section and the CSV, not an alias bomb."""
    items = ", ".join(["1"] * MAX_NODES)
    path = write_yaml_text(tmp_path, f"name: big\njobs:\n  items: [{items}]\n")
    code, err = validate(capsys, path)
    line = assert_one_line(code, err, f"error: {path}, line 3", "'jobs'", "jobs.csv")
    assert "alias" not in line
