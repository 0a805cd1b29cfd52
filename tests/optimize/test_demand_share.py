"""A pro-rated demand charge (``PeakCharge.usd_per_mw`` = the month's charge × its share).

Case (derived by hand): load 10 then 30 MW at 10 USD/MWh; a battery of 20 MW / 20 MWh
that charges at η = 1 and discharges at η = 0.5, empty at the start. Charging c MW in
step 0 lets it discharge c/2 in step 1, so energy costs 400 + 10·c − 10·c/2 = 400 + 5·c
and the peak is max(10 + c, 30 − c/2), smallest (23.33 MW) at c = 13.33. With k USD per
MW of the month's peak, shaving pays when k·0.5 > 5, i.e. k > 10 USD/MW:
- full charge 100: c = 13.33, objective 400 + 66.67 + 100 · 23.33 = 2800;
- share 0.5 (k = 50): c = 13.33, objective 400 + 66.67 + 50 · 23.33 = 1633.33;
- share 0.05 (k = 5): no shaving, objective 400 + 5 · 30 = 550, demand 150.
"""

from __future__ import annotations

import numpy as np
import pytest

import optimize as o


def _case(share: float) -> o.Problem:
    n = 2
    grid = o.Grid(
        import_max_mw=np.full(n, 100.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.full(n, 10.0),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
        peak_charges=(o.PeakCharge("demand_flat@m0", "demand_flat", 100.0 * share, [1, 1]),),
    )
    battery = o.Battery(
        power_mw=20.0,
        energy_mwh=20.0,
        charge_efficiency=1.0,
        discharge_efficiency=0.5,
        soc_min_frac=0.0,
        soc_max_frac=1.0,
        soc_initial_frac=0.0,
    )
    return o.Problem(
        step_h=1.0,
        n_steps=n,
        grid=grid,
        facility=o.Facility(inference_it_mw=np.array([10.0, 30.0]), pue=np.ones(n)),
        battery=battery,
    )


@pytest.mark.parametrize(
    ("share", "objective", "peak_mw"),
    [(1.0, 2800.0, 70 / 3), (0.5, 4900 / 3, 70 / 3), (0.05, 550.0, 30.0)],
)
def test_share_scales_the_charge_and_the_optimum_follows(share, objective, peak_mw):
    d = o.solve(_case(share), o.SolverOptions(mip_rel_gap=1e-9))
    assert d.objective_usd == pytest.approx(objective, rel=1e-7)
    assert d.series["grid_import_mw"].max() == pytest.approx(peak_mw, rel=1e-7)
    assert d.costs["demand_usd"] == pytest.approx(100.0 * share * peak_mw, rel=1e-7)
    assert d.bill["demand_flat_usd"] == pytest.approx(d.costs["demand_usd"], rel=1e-12)


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_a_negative_or_nan_charge_is_refused(bad):
    with pytest.raises(ValueError, match="usd_per_mw"):
        _case(bad)
