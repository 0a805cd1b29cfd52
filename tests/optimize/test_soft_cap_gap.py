"""A soft demand-response cap's penalty is no cost of the site: the gap's basis leaves it
out (``optimize.highs.gap_basis_usd``), so the rest of the schedule is proven within the
gap of what the site pays, not of a basis the penalty inflates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize
from optimize.problem import Job
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import small_problem

PENALTY_USD_PER_MWH = 1.0e6


def _capped_problem():
    # a day of the small site with a 10 MW job (8 h of work, pausable) and a 0 MW cap on
    # net import over the first four night hours: 6 MW of inference, no PV, so the
    # battery cannot carry it and the soft cap is missed by several MWh
    p = small_problem(n=24, jobs=(Job("a", 10.0, 8.0, 0, 24, preemptible=True),))
    cap = np.full(24, np.nan)
    cap[0:4] = 0.0
    grid = dataclasses.replace(
        p.grid, net_import_cap_mw=cap, dr_cap_over_usd_per_mwh=PENALTY_USD_PER_MWH
    )
    return dataclasses.replace(p, grid=grid)


def _miss_mwh(d) -> float:
    net = d.series["grid_import_mw"] - d.series["grid_export_mw"]
    return float(np.maximum(net[0:4], 0.0).sum())


def test_the_soft_caps_penalty_is_not_in_the_gaps_basis():
    p = _capped_problem()
    d = optimize.solve(p, SolverOptions(mip_rel_gap=0.01))
    penalty_usd = PENALTY_USD_PER_MWH * _miss_mwh(d)
    assert penalty_usd > 1.0e6  # the cap is missed by more than a MWh
    site_usd = d.objective_usd - penalty_usd  # what the site pays, net
    assert d.gap_basis_usd < 0.01 * penalty_usd  # not the penalty's scale
    assert d.gap_basis_usd >= abs(site_usd) - 1e-6
    exact = optimize.solve(p, SolverOptions(mip_rel_gap=0.0))
    assert _miss_mwh(d) == pytest.approx(_miss_mwh(exact), abs=1e-6)
    # proven within 1 % of the site's cost, not of a basis holding the penalty
    assert d.objective_usd - exact.objective_usd <= 0.01 * d.gap_basis_usd + 1e-6
    assert d.bound_usd <= exact.objective_usd + 1e-6
