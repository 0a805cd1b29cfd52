"""Small helpers shared by the ``define_*`` modules (fast variable bounds, linear sums)."""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def set_upper_bounds(var: pyo.Var, ub: Sequence[float]) -> None:
    """Set ``var[t].ub = ub[t]`` for a Var indexed by ``m.T`` (0..n-1) in one pass."""
    for t, v in var.items():
        v.setub(ub[t])


def linear_sum(coefs: Sequence[float], vars_: Sequence, constant: float = 0.0):
    """``constant + Σ coefs[i] * vars_[i]`` as one flat ``LinearExpression`` (no tree walk)."""
    return LinearExpression(constant=constant, linear_coefs=list(coefs), linear_vars=list(vars_))


def var_list(var: pyo.Var) -> list:
    """The VarData of a Var indexed by ``m.T``, in step order."""
    return list(var.values())


def mark_priced_slack(m: pyo.Block, var: pyo.Var) -> None:
    """Record ``var`` as a slack priced at a made-up penalty (a soft limit), not a cost of
    the site: ``optimize.highs.gap_basis_usd`` leaves its cost out of the gap's basis."""
    names = getattr(m, PRICED_SLACKS, ())
    setattr(m, PRICED_SLACKS, (*names, var.local_name))


#: The model attribute naming its priced slacks' Var components (``mark_priced_slack``)
PRICED_SLACKS = "priced_slack_components"
