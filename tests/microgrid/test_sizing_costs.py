"""Annualisation by hand: capital recovery factor, annuity factor, horizon cost."""

from __future__ import annotations

import pytest

from microgrid.sizing.costs import UnitCost, annuity_factor, capital_recovery_factor


def test_crf_by_hand():
    # 7 %, 20 years: 1.07^20 = 3.8696845; 0.07 * 3.8696845 / 2.8696845 = 0.0943929
    assert capital_recovery_factor(0.07, 20) == pytest.approx(0.0943929, abs=1e-7)
    # 10 %, 1 year: repay 1 USD + 10 % interest in one payment
    assert capital_recovery_factor(0.10, 1) == pytest.approx(1.10)
    assert capital_recovery_factor(0.0, 10) == pytest.approx(0.1)  # r = 0: 1 / L


def test_annuity_factor_is_the_inverse():
    # 7 %, 20 years: 2.8696845 / (0.07 * 3.8696845) = 10.594014
    assert annuity_factor(0.07, 20) == pytest.approx(10.594014, abs=1e-6)
    assert annuity_factor(0.0, 20) == pytest.approx(20.0)


def test_crf_refuses_no_lifetime():
    with pytest.raises(ValueError):
        capital_recovery_factor(0.07, 0)


def test_unit_cost_over_a_horizon():
    # 1.3 M USD/MW, 20,000 USD/MW-year, 30 years at 7 %: CRF = 0.0805864
    c = UnitCost(capex_usd_per_unit=1.3e6, fixed_om_usd_per_unit_year=20_000, lifetime_years=30)
    capital = 1.3e6 * 0.0805864
    assert c.annualised_capital_usd_per_unit_year(0.07) == pytest.approx(capital, rel=1e-6)
    assert c.annual_usd_per_unit(0.07) == pytest.approx(capital + 20_000, rel=1e-6)
    # 48 h of a year: 48 / 8760 of the annual cost
    assert c.horizon_usd_per_unit(0.07, 48.0) == pytest.approx(
        (capital + 20_000) * 48 / 8760, rel=1e-6
    )
    assert c.horizon_usd_per_unit(0.07, 8760.0) == pytest.approx(capital + 20_000, rel=1e-6)
