"""A re-plan's window reads the energy the plant has imported so far in its tiered
charges' months, and pays its share of the rest of a demand charge for a peak
(microgrid/operate/controller.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import optimize as o
from microgrid.operate.controller import _window_grid
from microgrid.operate.state import Known, PlantState
from tests.optimize.small_problems import grid_problem


def _tiers(steps) -> o.EnergyTiers:
    """2 MWh at 10 USD/MWh, then 20 USD/MWh, over ``steps``."""
    n = len(steps)
    return o.EnergyTiers(
        key="tiers@m0",
        line_item="energy_tiers",
        steps=np.asarray(steps, dtype=bool),
        block_mwh=(2.0, np.inf),
        usd_per_mwh=(np.full(n, 10.0), np.full(n, 20.0)),
    )


@pytest.mark.parametrize(("steps", "prior_mwh"), [([1, 1, 1, 1], 0.5 + 1.25), ([0, 1, 1, 1], 1.25)])
def test_a_replan_counts_the_plants_import_in_the_tiers_months_steps(steps, prior_mwh):
    # half-hour steps: 1 MW then 2.5 MW imported before step 2; only the tiers' own steps
    # count (the second case's first step is in the month before)
    p = grid_problem([1.0] * 4, 0.0, energy_tiers=(_tiers(steps),))
    p = dataclasses.replace(p, step_h=0.5)
    state = PlantState(soc_mwh=0.0, net_import_mw=2.5, import_history_mw=[1.0, 2.5])
    forecast = pd.DataFrame({"price_usd_per_mwh": [0.0] * 2, "carbon_g_per_kwh": [0.0] * 2})
    g = _window_grid(p, np.zeros(4), forecast, 2, state, Known(hold_steps=1), False)
    (tiers,) = g.energy_tiers
    assert tiers.prior_mwh == pytest.approx(prior_mwh)
    assert len(tiers.steps) == 2


@pytest.mark.parametrize(("charge_share", "usd_per_mw"), [(True, 100.0 / 3), (False, 100.0)])
def test_a_replan_pays_its_share_of_the_rest_of_a_demand_charge(charge_share, usd_per_mw):
    # a charge over the 4 steps at 100 USD/MW; the re-plan at step 1 looks 1 step ahead, 1
    # of the 3 steps left: 100 / 3 USD/MW with the share (a peak raised now serves the
    # steps after it, which later re-plans use free), 100 with the whole charge
    charge = o.PeakCharge("demand_flat@m0", "demand_flat", 100.0, np.ones(4, dtype=bool))
    p = grid_problem([1.0] * 4, 0.0, peak_charges=(charge,))
    state = PlantState(soc_mwh=0.0, net_import_mw=1.0, import_history_mw=[1.0])
    forecast = pd.DataFrame({"price_usd_per_mwh": [0.0], "carbon_g_per_kwh": [0.0]})
    g = _window_grid(p, np.zeros(4), forecast, 1, state, Known(hold_steps=1), charge_share)
    (cut,) = g.peak_charges
    assert cut.usd_per_mw == pytest.approx(usd_per_mw)
    assert cut.prior_peak_mw == pytest.approx(1.0)
