"""Which differences between sweep cases the solver can vouch for.

Each case is solved to a relative MIP gap: its objective is proven within
`mip_gap × gap_basis_usd` USD of the optimum (optimize.highs.gap_basis_usd; `bound_usd` is
the proven lower bound). Two cases whose cost difference is no larger than the sum of
their tolerances may be equally good: the sign of the difference is not known, so it is
no trend. Cost is the objective, so an emissions change between two such cases is not a
trend either: the solver stopped at one of several schedules it cannot tell apart.

The cost compared is `total_cost_usd` (carbon not priced); with a carbon price in the
objective the gap bounds the priced cost, which this treats as the cost's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microgrid.sweeps.tables import signed

COST = "total_cost_usd"
EMISSIONS = "emissions_t"
TOLERANCE = "cost_tolerance_usd"
# the costs the gap basis sums (gross: what the site pays), for records without a basis
_GROSS_KEYS = (
    "energy_cost_usd",
    "demand_cost_usd",
    "fuel_cost_usd",
    "wear_cost_usd",
    "carbon_cost_usd",
)
# below this share of the cost, two values are the same number (float noise of an LP)
REL_EPS = 1e-9
WITHIN_MARK = "≈"
FOOTNOTE = (
    f"{WITHIN_MARK}: the difference from the row before is within the two rows' combined "
    "solver tolerance (MIP gap × gap basis, USD): the solver cannot tell these costs "
    "apart, so it is no trend; cost is the objective, so the emissions change between "
    "them is no trend either."
)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(df[name], errors="coerce") if name in df else pd.Series(np.nan, df.index)


def _gross_usd(df: pd.DataFrame) -> pd.Series:
    """The gap basis where a record has none (rolling windows): the larger of |objective|
    and the sum of the positive cost terms (USD)."""
    parts = [_col(df, k).clip(lower=0).fillna(0.0) for k in _GROSS_KEYS]
    gross = sum(parts, pd.Series(0.0, df.index))
    objective = _col(df, "solver.objective_usd").abs()
    return np.fmax(objective, gross)


def case_tolerance_usd(df: pd.DataFrame) -> pd.Series:
    """Each case's cost tolerance (USD): mip_gap × gap_basis_usd; without a basis,
    objective − bound, else mip_gap × the gross cost; NaN where the record has no gap."""
    gap = _col(df, "solver.mip_gap")
    basis = _col(df, "solver.gap_basis_usd")
    by_bound = (_col(df, "solver.objective_usd") - _col(df, "solver.bound_usd")).clip(lower=0)
    tol = (gap * basis).where(basis.notna(), by_bound)
    return tol.where(tol.notna(), gap * _gross_usd(df)).rename(TOLERANCE)


@dataclass(frozen=True)
class Step:
    """From one row of a table to the next: cost and emissions change, and whether the
    cost change is within the two rows' combined solver tolerance."""

    cost_usd: float
    emissions_t: float
    tolerance_usd: float  # combined: both rows' tolerances
    within: bool


def step_between(cost_a, cost_b, tol_a, tol_b, em_a=np.nan, em_b=np.nan) -> Step:
    """The step from row a to row b (costs and tolerances in USD, emissions in t). An
    unknown tolerance (NaN) counts as 0: only float noise is then within it."""
    tol = float(np.nan_to_num(tol_a) + np.nan_to_num(tol_b))
    diff = float(cost_b) - float(cost_a)
    noise = REL_EPS * max(1.0, abs(float(cost_a)), abs(float(cost_b)))
    return Step(diff, float(em_b) - float(em_a), tol, abs(diff) <= tol + noise)


def steps(cost: pd.Series, tol: pd.Series, emissions: pd.Series | None = None) -> list[Step]:
    """The steps between consecutive rows (len − 1 of them)."""
    c, t = cost.to_numpy(float), tol.to_numpy(float)
    e = np.full(len(c), np.nan) if emissions is None else emissions.to_numpy(float)
    return [step_between(c[i], c[i + 1], t[i], t[i + 1], e[i], e[i + 1]) for i in range(len(c) - 1)]


def _moves(value: float, unit: str, decimals: int, plural: bool = False) -> str:
    """`rises by 1,234 USD`, `fall by 2.0 t CO2e` (plural), `is unchanged`."""
    if signed(value, decimals) == "0":
        return "are unchanged" if plural else "is unchanged"
    verb = ("rise" if value > 0 else "fall") + ("" if plural else "s")
    return f"{verb} by {abs(value):,.{decimals}f} {unit}"


def _within_line(where: str, s: Step) -> str:
    """A step the solver cannot vouch for: neither its cost nor its emissions change is
    a trend."""
    cost = "cost unchanged" if signed(s.cost_usd, 0) == "0" else f"cost {signed(s.cost_usd, 0)} USD"
    if s.tolerance_usd >= 0.5:
        why = f"within the solver tolerance of ±{s.tolerance_usd:,.0f} USD"
    else:
        why = "the same cost to solver precision"
    em = "" if np.isnan(s.emissions_t) else signed(s.emissions_t, 1)
    moved = em not in ("", "0")
    tail = f"; the emissions change of {em} t CO2e is no trend either" if moved else ""
    return f"{where}: {cost}, {WITHIN_MARK} {why} (no trend){tail}."


def trend_lines(axis: str, labels: list[str], found: list[Step]) -> list[str]:
    """One sentence per step of `axis` (labels: the axis values in table order); a step
    within tolerance is said to be no trend, for cost and for emissions."""
    lines = []
    for (a, b), s in zip(zip(labels, labels[1:], strict=False), found, strict=True):
        where = f"{axis} {a} → {b}"
        if s.within:
            lines.append(_within_line(where, s))
            continue
        em = "" if np.isnan(s.emissions_t) else _moves(s.emissions_t, "t CO2e", 1, plural=True)
        tail = f"; emissions {em}" if em else ""
        lines.append(f"{where}: cost {_moves(s.cost_usd, 'USD', 0)}{tail}.")
    return lines
