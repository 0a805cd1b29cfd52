"""Demand charges (``Grid.peak_charges``): each on the peak import over its own steps.

For each charge ``k`` (key ``k``, steps ``S_k``, USD per MW ``c_k``):

Variables (MW): ``grid_peak_import_mw[k] >= prior_peak_mw_k`` (the peak of the billing
period, the steps before the horizon included); for a charge with ratchets or a ratchet
floor above its prior peak also ``grid_billed_demand_mw[k] >= ratchet_floor_mw_k``.
Constraints:
- ``grid_peak_def[k, t]``: ``grid_import_mw[t] <= grid_peak_import_mw[k]`` for ``t in S_k``.
- ``grid_billed_peak[k]``: ``grid_billed_demand_mw[k] >= grid_peak_import_mw[k]``.
- ``grid_ratchet[k, j]``: ``grid_billed_demand_mw[k] >= f_kj · grid_peak_import_mw[j]`` for
  each ratchet ``(j, f_kj)`` of ``k``.
Objective term (USD): ``Σ_k c_k · billed_k`` with ``billed_k`` the billed-demand variable
where there is one, else the peak variable. Minimising makes each variable the max of its
lower bounds: billed_k = max(peak over S_k, prior, floor, f_kj · peak_j).

Demand is measured on step averages (MW over ``step_h``): a utility's 15-minute demand
window on hourly steps reads the hour's average, lower than its highest 15 minutes.

``window_charges`` cuts the charges to steps ``[a, e)`` of a longer horizon (rolling
windows, the closed loop): the peaks reached before ``a`` become ``prior_peak_mw``, and a
ratchet on a charge with no step left in the window becomes a floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.problem import PeakCharge


def needs_billed_var(c: PeakCharge) -> bool:
    """Whether charge ``c`` gets a billed-demand variable (ratchets, or a floor above its
    prior peak)."""
    return bool(c.ratchets) or c.ratchet_floor_mw > c.prior_peak_mw


def define_peak_charges(m: pyo.Block, charges: tuple[PeakCharge, ...], imp: list) -> list:
    """Add the peak (and billed-demand) variables of ``charges`` to ``m``; return their
    objective terms (USD). ``imp``: the import variables (MW) per step."""
    if not charges:
        return []
    keys = [c.key for c in charges]
    m.grid_charges = pyo.Set(initialize=keys, ordered=True)
    m.grid_peak_import_mw = pyo.Var(m.grid_charges, within=pyo.NonNegativeReals)
    peak = m.grid_peak_import_mw
    pairs = []
    for c in charges:
        peak[c.key].setlb(float(c.prior_peak_mw))
        pairs += [(c.key, t) for t in np.flatnonzero(c.steps).tolist()]
    m.grid_peak_def = pyo.Constraint(pairs, rule=lambda m, k, t: imp[t] - peak[k] <= 0)
    billed = {c.key: peak[c.key] for c in charges}
    ratcheted = [c for c in charges if needs_billed_var(c)]
    if ratcheted:
        rk = [c.key for c in ratcheted]
        m.grid_billed_demand_mw = pyo.Var(rk, within=pyo.NonNegativeReals)
        bv = m.grid_billed_demand_mw
        for c in ratcheted:
            bv[c.key].setlb(float(c.ratchet_floor_mw))
            billed[c.key] = bv[c.key]
        m.grid_billed_peak = pyo.Constraint(rk, rule=lambda m, k: bv[k] - peak[k] >= 0)
        frac = {(c.key, j): f for c in ratcheted for j, f in c.ratchets}
        m.grid_ratchet = pyo.Constraint(
            list(frac), rule=lambda m, k, j: bv[k] - frac[k, j] * peak[j] >= 0
        )
    return [linear_sum([c.usd_per_mw for c in charges], [billed[k] for k in keys])]


def window_charges(
    charges: tuple[PeakCharge, ...], a: int, e: int, peak_so_far_mw: Mapping[str, float]
) -> tuple[PeakCharge, ...]:
    """The charges over steps ``[a, e)``: each charge with a step there, its steps cut, its
    ``prior_peak_mw`` raised to ``peak_so_far_mw[key]`` (MW reached before ``a``); a ratchet
    on a charge with no step in ``[a, e)`` becomes a floor (fraction × that charge's peak
    so far)."""

    def so_far(c: PeakCharge) -> float:
        return max(c.prior_peak_mw, float(peak_so_far_mw.get(c.key, 0.0)))

    by_key = {c.key: c for c in charges}
    kept = [c for c in charges if c.steps[a:e].any()]
    keep = {c.key for c in kept}
    out = []
    for c in kept:
        floor = c.ratchet_floor_mw
        for j, f in c.ratchets:
            if j not in keep:
                floor = max(floor, f * so_far(by_key[j]))
        out.append(
            replace(
                c,
                steps=c.steps[a:e],
                prior_peak_mw=so_far(c),
                ratchet_floor_mw=floor,
                ratchets=tuple((j, f) for j, f in c.ratchets if j in keep),
            )
        )
    return tuple(out)
