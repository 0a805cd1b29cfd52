"""Sweep specs: expansion, deterministic ids, up-front validation with axis/value/line."""

from __future__ import annotations

import pytest
from sweep_helpers import ROOT, write_spec

from microgrid.errors import InputError
from microgrid.sweeps import load_spec, sweep
from microgrid.sweeps.standin import run_case

GRID = """\
axes:
  objective.carbon_price_usd_per_t: [0, 100, 200]
  zip:
    pv.dc_mw: [0, 80]
    pv.ac_mw: [0, 65]
"""


def test_grid_zip_and_cases_expand(tmp_path):
    spec = load_spec(write_spec(tmp_path, GRID))
    assert len(spec.cases) == 6
    assert spec.axes == ["objective.carbon_price_usd_per_t", "pv.dc_mw", "pv.ac_mw"]
    pairs = {(c.params["pv.dc_mw"], c.params["pv.ac_mw"]) for c in spec.cases}
    assert pairs == {(0, 0), (80, 65)}  # zipped: varied together, not crossed
    for c in spec.cases:
        assert c.scenario.pv.dc_mw == c.params["pv.dc_mw"]
        assert (
            c.scenario.objective.carbon_price_usd_per_t
            == c.params["objective.carbon_price_usd_per_t"]
        )
    # Explicit cases are crossed with the grid.
    both = write_spec(
        tmp_path,
        "cases:\n  - {battery.energy_mwh: 0}\n  - {battery.energy_mwh: 100}\n"
        "axes:\n  objective.carbon_price_usd_per_t: [0, 50]\n",
    )
    spec2 = load_spec(both)
    assert [
        (c.params["battery.energy_mwh"], c.scenario.battery.energy_mwh) for c in spec2.cases
    ] == [(0, 0), (0, 0), (100, 100), (100, 100)]


def test_case_ids_are_deterministic_and_hash_the_parameters(tmp_path):
    a = load_spec(write_spec(tmp_path, GRID))
    b = load_spec(write_spec(tmp_path, GRID))
    assert [c.case_id for c in a.cases] == [c.case_id for c in b.cases]
    assert len({c.case_id for c in a.cases}) == 6
    # The same parameters give the same hash part whatever their position.
    rev = GRID.replace("[0, 100, 200]", "[200, 100, 0]")
    c = load_spec(write_spec(tmp_path, rev))
    hashes = {tuple(sorted(x.params.items())): x.case_id.split("-")[1] for x in a.cases}
    for x in c.cases:
        assert x.case_id.split("-")[1] == hashes[tuple(sorted(x.params.items()))]
    # Changing the base scenario changes the scenario hash (an old result is stale).
    d = load_spec(write_spec(tmp_path, GRID, base="ercot-dallas-2023.yaml"))
    assert a.cases[0].scenario_sha != d.cases[0].scenario_sha


def test_signals_axis_maps_to_shipped_csv(tmp_path):
    spec = load_spec(write_spec(tmp_path, "axes:\n  signals: [ercot-2023, caiso-2023]\n"))
    csvs = [c.scenario.signals.csv for c in spec.cases]
    assert [p.name for p in csvs] == ["ercot-2023.csv", "caiso-2023.csv"]
    assert all(p.exists() for p in csvs)


@pytest.mark.parametrize(
    "body, line, axis, words",
    [
        # A typo'd path in the last value of a long axis: fails before anything runs.
        (
            "axes:\n  objective.carbon_price_usd_per_t: [0, 50]\n"
            "  battery.energy_mwh: [" + ", ".join(str(v) for v in range(450)) + "]\n"
            "  pv.dc_mv: [10]\n",
            6,
            "pv.dc_mv",
            ["pv.dc_mv = 10", "no such field"],
        ),
        # A bad value deep in the grid (first bad case: 449 of 900).
        (
            "axes:\n  objective.carbon_price_usd_per_t: [0, 50]\n"
            "  battery.energy_mwh: [" + ", ".join(str(v) for v in range(449)) + ", -5]\n",
            5,
            "battery.energy_mwh",
            ["case 449", "battery.energy_mwh = -5", "greater than"],
        ),
        (
            "cases:\n  - {battery.soc_min_frac: 0.1}\n  - {battery.soc_min_frac: 0.95}\n",
            5,
            "battery.soc_min_frac",
            ["battery.soc_min_frac = 0.95", "soc_max_frac"],
        ),
        ("axes:\n  signals: [ercot-2099]\n", 4, "signals", ["'ercot-2099'", "unknown signal"]),
    ],
)
def test_bad_spec_fails_before_running_anything(tmp_path, body, line, axis, words):
    spec = write_spec(tmp_path, body)
    out = tmp_path / "out"
    with pytest.raises(InputError) as ei:
        sweep(spec, out, runner=run_case, progress=None)
    err = ei.value
    assert err.path == str(spec) and err.line == line and err.field == axis, str(err)
    for w in words:
        assert w in str(err)
    assert not out.exists()  # nothing ran, nothing written


@pytest.mark.parametrize(
    "body, words",
    [
        ("axes:\n  zip:\n    pv.dc_mw: [1, 2]\n    pv.ac_mw: [1]\n", ["equally long"]),
        ("axis:\n  pv.dc_mw: [1]\n", ["unknown key"]),
        ("axes:\n  pv.dc_mw: []\n", ["non-empty list"]),
        ("axes:\n  pv.dc_mw: [1, 2]\ncase_id_format: 'x{index}'\n", []),
        ("axes:\n  pv.dc_mw: [1, 2]\ncase_id_format: 'same'\n", ["gives the id"]),
    ],
)
def test_spec_structure_errors(tmp_path, body, words):
    path = write_spec(tmp_path, body)
    if not words:
        assert [c.case_id for c in load_spec(path).cases] == ["x0", "x1"]
        return
    with pytest.raises(InputError) as ei:
        load_spec(path)
    assert ei.value.path == str(path) and ei.value.line is not None
    for w in words:
        assert w in str(ei.value)


def test_shipped_sweep_specs_are_valid():
    sizing = load_spec(ROOT / "scenarios/sweeps/ercot-sizing.yaml")
    assert len(sizing.cases) == 20
    for c in sizing.cases:
        s = c.scenario
        assert s.solver.window_h == 168 and s.jobs.repeat == "weekly"
        assert s.pv.ac_mw == pytest.approx(s.pv.dc_mw * 65 / 80)
    carbon = load_spec(ROOT / "scenarios/sweeps/ercot-carbon-price.yaml")
    assert sorted(c.scenario.objective.carbon_price_usd_per_t for c in carbon.cases) == [
        0,
        50,
        100,
        200,
    ]


def test_a_huge_grid_is_refused_before_it_is_expanded(tmp_path):
    # 10 axes of 10 values: 10^10 cases would never finish building; refused at once.
    body = "axes:\n" + "".join(
        f"  objective.carbon_price_usd_per_t{i}: [{', '.join(map(str, range(10)))}]\n"
        for i in range(10)
    )
    with pytest.raises(InputError, match="10,000,000,000 cases") as info:
        load_spec(write_spec(tmp_path, body))
    assert info.value.line == 3 and str(info.value).startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [
        ("'{index:999999999}'", "format '999999999' of {index}"),
        ("'{index.__class__}'", "unknown field {index.__class__}"),
        ("'{hash!r}'", "conversion !r"),
        ("'-{index}'", "bad case id '-0'"),
        ("'{index}\\u202e'", "bad case id"),
    ],
)
def test_unsafe_case_id_formats_are_refused(tmp_path, fmt, needle):
    path = write_spec(tmp_path, f'case_id_format: "{fmt[1:-1]}"\n' + GRID)
    with pytest.raises(InputError, match="case_id_format") as info:
        load_spec(path)
    assert needle in str(info.value)


@pytest.mark.parametrize("axis", ["jobs.items.99.id", "jobs.items.x.id", "name.e", "pv.dc_mw.x"])
def test_a_path_through_a_missing_item_or_a_plain_value_is_an_unknown_field(tmp_path, axis):
    path = write_spec(tmp_path, f"cases:\n  - {{{axis}: 1}}\n")
    with pytest.raises(InputError, match="no such field in the scenario") as info:
        load_spec(path)
    assert info.value.field == axis and info.value.line == 4


def test_a_bad_value_from_cases_is_called_a_setting_not_an_axis(tmp_path):
    path = write_spec(tmp_path, "cases:\n  - {battery.power_mw: -5}\n")
    with pytest.raises(InputError) as info:
        load_spec(path)
    assert "case 0: setting battery.power_mw = -5:" in str(info.value), str(info.value)
    assert info.value.field == "battery.power_mw" and info.value.line == 4


def test_exponent_values_are_numbers_stored_as_numbers(tmp_path):
    """`1e2` and `2.0e2` were text to YAML 1.1: they ran as numbers but were stored as
    text, so the column, the sorting of sensitivity.csv and the case hash were text's."""
    sci = load_spec(write_spec(tmp_path, "axes:\n  battery.energy_mwh: [50, 1e2, 2.0e2]\n"))
    plain = load_spec(write_spec(tmp_path, "axes:\n  battery.energy_mwh: [50, 100, 200]\n"))
    assert [c.params["battery.energy_mwh"] for c in sci.cases] == [50, 100.0, 200.0]
    assert all(isinstance(c.params["battery.energy_mwh"], (int, float)) for c in sci.cases)
    assert [c.case_id for c in sci.cases] == [c.case_id for c in plain.cases]
    df = sweep(sci, tmp_path / "out", runner=run_case)
    assert df["battery.energy_mwh"].dtype.kind == "f"
