"""plan-ac: Jacobian sensitivities against finite differences, and the weak case iterated
to AC feasibility."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

import optimize
from microgrid.acplan import _Checked, plan_ac, sensitivities
from microgrid.assemble import build_problem, load_inputs
from microgrid.dispatch import solve_dispatch
from microgrid.network import NetworkParameters, apply_injections, build_network
from microgrid.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
STEP = {
    "facility_load_mw": 110.0,
    "pv_used_mw": 35.0,
    "wind_used_mw": 12.0,
    "battery_charge_mw": 0.0,
    "battery_discharge_mw": 8.0,
    "backup_gen_mw": 5.0,
}


@pytest.fixture(scope="module")
def net():
    # a long data-center feed and PV at pf 0.95 so every Q path is exercised
    return build_network(
        NetworkParameters(datacenter_line_km=10.0, pv_power_factor=0.95, has_backup=True)
    )


def test_sensitivities_match_finite_differences(net):
    s = sensitivities(net, STEP)
    dc = net["microgrid"]["buses"]["datacenter"]
    assert s.base_vm_pu[dc] < 0.96  # a heavily loaded operating point
    h = 1e-3
    for var in s.vm_pu.columns:
        step = dict(STEP)
        step[var] += h
        apply_injections(net, step)
        pp.runpp(net, numba=False)
        fd_vm = (net.res_bus.vm_pu - s.base_vm_pu) / h
        fd_line = (net.res_line.loading_percent - s.base_line_loading_pct) / h
        fd_trafo = (net.res_trafo.loading_percent - s.base_trafo_loading_pct) / h
        for fd, an in (
            (fd_vm, s.vm_pu[var]),
            (fd_line, s.line_loading_pct[var]),
            (fd_trafo, s.trafo_loading_pct[var]),
        ):
            mask = np.abs(fd.to_numpy()) > 1e-9
            rel = np.abs(fd.to_numpy()[mask] - an.to_numpy()[mask]) / np.abs(fd.to_numpy()[mask])
            assert rel.max() < 1e-3, (var, rel.max())
    # signs a planner can check by hand: load pulls its bus down, local generation lifts it
    assert s.vm_pu.at[dc, "facility_load_mw"] < 0
    assert s.vm_pu.at[dc, "backup_gen_mw"] > 0
    # the load's Q (tan phi) matters: its effect exceeds that of the same MW at pf 1 there
    assert abs(s.vm_pu.at[dc, "facility_load_mw"]) > abs(s.vm_pu.at[dc, "backup_gen_mw"])


@pytest.mark.slow
def test_weak_connection_becomes_ac_feasible():
    sc = load_scenario(ROOT / "scenarios" / "ercot-dallas-weak.yaml")
    sc = sc.with_updates(
        {
            "period.end": "2023-08-22T00:00",
            "jobs.items": [
                {
                    "id": "pretrain",
                    "gpus": 40960,
                    "work_h": 12,
                    "release_h": 0,
                    "deadline_h": 24,
                    "preemptible": True,
                    "max_interruptions": 3,
                    "restart_overhead_h": 0.0,
                    "f_min": 0.6,
                }
            ],
            "network.datacenter_line_km": 14.0,
            "solver.mip_rel_gap": 1e-4,
        }
    )
    inputs = load_inputs(sc)
    problem = build_problem(sc, inputs)
    first = solve_dispatch(sc, inputs, problem)
    shown = io.StringIO()
    with optimize.solve_progress(True, shown):  # as the CLI runs it: one line per iteration
        dispatch, rep = plan_ac(sc, inputs, problem, first, max_iterations=6)
    hist = rep["history"]
    lines = [s for s in shown.getvalue().splitlines() if s.startswith("plan-ac:")]
    assert lines == [
        f"plan-ac: iteration {i} of at most 6: {h['violations']} AC limit violations"
        for i, h in enumerate(hist)
    ]
    assert hist[0]["violations"] > 0 and hist[0]["min_dc_bus_vm_pu"] < 0.95
    assert rep["converged"] and rep["violations_left"] == 0
    assert hist[-1]["min_dc_bus_vm_pu"] >= 0.95
    assert 1 <= rep["iterations"] <= 6
    # feasibility is not free: the cut plan cannot be cheaper than the copper-plate optimum
    assert rep["cost_of_ac_feasibility_usd"] >= -1e-4 * abs(rep["objective_before_usd"])
    assert dispatch.jobs["pretrain"]["unfinished_h"] == 0.0


def _checked_with(vm_pu: list[float], diverged: int = 0):
    """A plan's check with one bus-voltage violation per value (limit 0.95 pu)."""
    viol = pd.DataFrame(
        {
            "step": range(len(vm_pu)),
            "quantity": "vm_pu",
            "value": vm_pu,
            "limit": 0.95,
        }
    )
    dispatch = SimpleNamespace(objective_usd=100.0, costs={})
    return _Checked(0, dispatch, viol, np.arange(diverged))


def test_the_plan_kept_is_the_one_with_the_smallest_violations():
    """A 40 km feeder once kept the copper-plate plan (0.750 pu at its worst) over the
    soft cuts' plan (0.839 pu) for having one violating step fewer."""
    deep = _checked_with([0.750] * 47)
    near = _checked_with([0.839] * 48)
    assert near.excess_pct == pytest.approx(48 * 11.1)
    assert near.rank < deep.rank
    assert _checked_with([]).rank < near.rank  # AC-feasible first
    assert near.rank < _checked_with([0.949], diverged=1).rank  # then no diverged steps
