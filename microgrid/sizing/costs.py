"""Annualised capital, net present value and the horizon's share of a year's cost.

- capital recovery factor CRF(r, L) = r (1 + r)^L / ((1 + r)^L - 1), L years at a real
  discount rate r per year (r = 0: 1 / L); its inverse is the annuity factor
  AF(r, N) = ((1 + r)^N - 1) / (r (1 + r)^N) (r = 0: N);
- annual cost per unit (USD per MW-year or MWh-year) = capex × CRF(r, lifetime) + fixed O&M;
- cost per unit over the horizon (what the model sees) = annual × horizon_h / 8760;
- NPV of costs over N years = equivalent annual cost × AF(r, N).
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_YEAR = 8760.0


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF (1/year): the constant yearly payment that repays 1 USD over `years` at `rate`."""
    if years <= 0:
        raise ValueError(f"years must be > 0, got {years}")
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


def annuity_factor(rate: float, years: float) -> float:
    """AF (years): the present value of 1 USD a year for `years` at `rate` (1 / CRF)."""
    return 1.0 / capital_recovery_factor(rate, years)


@dataclass(frozen=True)
class UnitCost:
    """The cost inputs of one unit (MW or MWh) of an asset."""

    capex_usd_per_unit: float
    fixed_om_usd_per_unit_year: float
    lifetime_years: float

    def annualised_capital_usd_per_unit_year(self, rate: float) -> float:
        """capex × CRF(rate, lifetime) (USD per unit-year)."""
        return self.capex_usd_per_unit * capital_recovery_factor(rate, self.lifetime_years)

    def annual_usd_per_unit(self, rate: float) -> float:
        """Annualised capital plus fixed O&M (USD per unit-year)."""
        return self.annualised_capital_usd_per_unit_year(rate) + self.fixed_om_usd_per_unit_year

    def horizon_usd_per_unit(self, rate: float, horizon_h: float) -> float:
        """The annual cost pro-rated to a horizon of `horizon_h` hours (USD per unit)."""
        return self.annual_usd_per_unit(rate) * horizon_h / HOURS_PER_YEAR
