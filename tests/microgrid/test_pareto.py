"""Cost-carbon Pareto front (microgrid/pareto.py) and `microgrid pareto` on the tiny
scenario of test_baselines.py, solved to a zero MIP gap so the front is exact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scenario_factory import FIXED_ONLY_RATE, TINY

import microgrid
from microgrid.cli import main
from microgrid.pareto import pareto_front, write_front
from microgrid.resultdir import MARKER_NAME
from microgrid.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("pareto") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def front(tiny_path):
    # the end's cost by the MILP too (default: price-fix), so every point is exact
    return pareto_front(load_scenario(tiny_path), points=4, end_method="milp")


def test_front_is_monotone_and_within_budgets(front):
    assert list(front["point"]) == ["min-cost", "e1", "e2", "min-emissions"]
    assert (front["status"] == "optimal").all()
    assert (front["cost_tolerance_usd"] <= 1e-6 * front["cost_usd"].abs().max()).all()  # gap 0
    cost = front["cost_usd"].to_numpy()
    em = front["emissions_t"].to_numpy()
    budget = front["budget_t"].to_numpy(dtype=float)
    # budgets tighten down the table; cost never falls, emissions never rise
    assert np.isnan(budget[0]) and np.all(np.diff(budget[1:]) < 0)
    assert np.all(np.diff(cost) >= -1e-6 * np.abs(cost[:-1]))
    assert np.all(np.diff(em) <= 1e-6)
    assert np.all(em[1:] <= budget[1:] + 1e-6)
    # the ends differ: clean hours cost more here (battery cycling, peak)
    assert em[-1] < em[0] - 1.0 and cost[-1] > cost[0] + 1.0
    # interior budgets are evenly spaced between the two ends' emissions
    assert budget[1] == pytest.approx(em[0] - (em[0] - em[-1]) / 3, rel=1e-3)


def test_write_front_is_atomic_and_complete(front, tmp_path):
    out = write_front(front, tmp_path / "p")
    names = [MARKER_NAME, "pareto.csv", "pareto.png", "timings.json"]
    assert sorted(p.name for p in out.iterdir()) == names
    assert [p.name for p in tmp_path.iterdir()] == ["p"]  # no temp folder left beside it
    back = pd.read_csv(out / "pareto.csv")
    assert list(back.columns[:5]) == ["point", "budget_t", "cost_usd", "emissions_t", "status"]
    assert "solve_s" not in back  # wall-clock: in timings.json alone
    timings = json.loads((out / "timings.json").read_text())
    assert timings["solve_s"] == dict(zip(front["point"], front["solve_s"], strict=True))
    assert back["cost_usd"].to_numpy() == pytest.approx(front["cost_usd"].to_numpy())
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_pareto(tiny_path, tmp_path, capsys):
    assert main(["pareto", str(tiny_path), "--points", "2", "--out", str(tmp_path / "o")]) == 0
    assert "min-emissions" in capsys.readouterr().out
    back = pd.read_csv(tmp_path / "o" / "pareto.csv")
    assert list(back["point"]) == ["min-cost", "min-emissions"]


def test_two_fronts_of_the_same_inputs_are_the_same_files_but_timings(tiny_path, tmp_path):
    """pareto.csv once had each point's wall-clock solve_s: no two runs had equal bytes."""
    for name in ("a", "b"):
        argv = ["pareto", str(tiny_path), "--points", "3", "--out", str(tmp_path / name)]
        assert main([*argv, "--quiet"]) == 0
    for name in ("pareto.csv", "pareto.png", MARKER_NAME):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    timings = json.loads((tmp_path / "a" / "timings.json").read_text())
    assert set(timings["solve_s"]) == {"min-cost", "e1", "min-emissions"}


def test_a_site_without_a_trade_off_has_a_one_point_front(tmp_path, capsys):
    """Flat price and carbon, no battery, no demand charge: every schedule costs and emits
    the same. The front once listed the one point four times, its budgets out of order."""
    sc = yaml.safe_load(yaml.safe_dump(TINY))
    for band in sc["signals"]["time_of_use"]:
        band["carbon_g_per_kwh"] = 400
    del sc["battery"]
    sc["grid"]["demand_charge_usd_per_kw_month"] = 0
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump(sc))
    assert main(["pareto", str(path), "--points", "4", "--out", str(tmp_path / "o")]) == 0
    assert "note: no cost-carbon trade-off" in capsys.readouterr().out
    back = pd.read_csv(tmp_path / "o" / "pareto.csv")
    assert list(back["point"]) == ["min-cost"] and back["status"][0] == "optimal"


def test_cost_holds_the_tariffs_fixed_charge_as_run_s_total_does(tmp_path):
    """pareto.csv's cost_usd is "total cost as in summary.json", but it had left out the
    tariff's fixed charge that `run`'s total holds (an audit's CAISO week: 53,098 USD at
    the front's min-cost end beside `run`'s and the sweep's 53,437 USD)."""
    (tmp_path / "rate.json").write_text(json.dumps(FIXED_ONLY_RATE))
    sc = yaml.safe_load(yaml.safe_dump(TINY))
    sc["grid"]["tariff"] = {"urdb": "rate.json"}
    sc["grid"]["demand_charge_usd_per_kw_month"] = 0
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(sc))
    scenario = load_scenario(path)
    front = pareto_front(scenario, points=2)
    summary = microgrid.run(scenario, powerflow=False, baselines=False).summary
    assert summary["fixed_cost_usd"] == pytest.approx(60.0)  # two days at 30 USD/day
    # a zero MIP gap: the front's min-cost end is run's plan
    assert front["cost_usd"].iloc[0] == pytest.approx(summary["total_cost_usd"], rel=1e-9)


def _refused_front(tmp_path, capsys, section: str, field: str, value):
    """`microgrid pareto` on TINY with ``section.field = value``: exit 2, one stderr line,
    no front and no journal. Returns the line and the scenario's path."""
    sc = yaml.safe_load(yaml.safe_dump(TINY))
    sc[section][field] = value
    path = tmp_path / "refused.yaml"
    path.write_text(yaml.safe_dump(sc))
    out = tmp_path / "o"
    assert main(["pareto", str(path), "--points", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert not out.exists() and not list(tmp_path.glob(".*"))
    return err[0], path


def test_an_infeasible_scenario_is_an_input_error_not_a_front(tmp_path, capsys):
    """A scenario with no schedule at all once wrote a front of one NaN row, exit 0."""
    err, _ = _refused_front(tmp_path, capsys, "grid", "import_max_mw", 1)
    assert "field grid.import_max_mw: infeasible scenario:" in err


def test_rolling_windows_are_refused_in_one_line(tmp_path, capsys):
    """The audit: `pareto` solved a scenario with solver.window_h as one problem without a
    word (its min-cost end 237,061 USD beside `run`'s windowed 239,926 USD)."""
    err, path = _refused_front(tmp_path, capsys, "solver", "window_h", 24)
    line = [n for n, t in enumerate(path.read_text().splitlines(), 1) if "window_h" in t][0]
    assert err.startswith(
        f"error: {path}, line {line}, field solver.window_h: a cost-carbon front is solved "
        "over the whole period at once"
    )
    assert "`microgrid sweep` over objective.carbon_price_usd_per_t" in err


def test_pareto_help_says_windows_are_refused():
    proc = subprocess.run(
        [sys.executable, "-m", "microgrid.cli", "pareto", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    flat = " ".join(proc.stdout.split())
    assert "rolling windows (solver.window_h) is refused" in flat
    assert "microgrid sweep` over objective.carbon_price_usd_per_t" in flat


@pytest.mark.slow
@pytest.mark.parametrize("points", ["1", "51"])
def test_cli_pareto_rejects_too_few_or_too_many_points(tiny_path, tmp_path, points):
    proc = subprocess.run(
        [sys.executable, "-m", "microgrid.cli", "pareto", str(tiny_path), "--points", points],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: --points must be 2-50 (the two ends of the front and the points between; "
        f"got {points})"
    ]
