"""The gap basis: a MIP gap is relative to what the site pays, not to a net near zero.

Case (by hand): two steps, load 10 MW each, PV 0 then 40 MW; import at 100 USD/MWh,
export at 95 USD/MWh up to 30 MW, a generator (so the model is a MIP: 5 MW minimum load
when on) at 200 USD/MWh that never pays. Optimum: import 10 MW in step 0 (1000 USD bought),
export 30 MW in step 1 (2850 USD earned): objective -1850 USD, gross cost 1000 USD. The
gap basis is max(|objective|, gross) = 1850 USD; a cost-dominated case has basis = gross.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimize as o


def _problem(export_price: float) -> o.Problem:
    n = 2
    grid = o.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.full(n, 30.0),
        import_price_usd_per_mwh=np.full(n, 100.0),
        export_price_usd_per_mwh=np.full(n, export_price),
        carbon_g_per_kwh=np.zeros(n),
    )
    gen = o.Generator(
        name="gas",
        capacity_mw=20.0,
        fuel_usd_per_mwh=200.0,
        carbon_g_per_kwh=0.0,
        min_load_frac=0.25,
    )
    return o.Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=o.Facility(inference_it_mw=np.full(n, 10.0), pue=np.ones(n)),
        renewables=(o.Renewable(name="pv", available_mw=np.array([0.0, 40.0])),),
        generators=(gen,),
    )


def test_revenue_heavy_case_gap_basis_is_the_net_magnitude():
    d = o.solve(_problem(95.0), o.SolverOptions(mip_rel_gap=1e-9))
    assert d.objective_usd == pytest.approx(1000 - 2850)
    assert d.gap_basis_usd == pytest.approx(1850)
    assert d.mip_gap == pytest.approx((d.objective_usd - d.bound_usd) / 1850, abs=1e-12)


def test_revenue_offset_case_gap_basis_is_the_gross_cost():
    # export earns only 30 USD/MWh: objective 1000 - 900 = 100 USD, gross 1000 USD
    d = o.solve(_problem(30.0), o.SolverOptions(mip_rel_gap=1e-9))
    assert d.objective_usd == pytest.approx(100.0)
    assert d.gap_basis_usd == pytest.approx(1000.0)
