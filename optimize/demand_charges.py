"""Demand charges (``Grid.peak_charges``): each on the peak import over its own steps.

For each charge ``k`` (key ``k``, steps ``S_k``, USD per MW ``c_k``):

Variables (MW): ``grid_peak_import_mw[k] >= prior_peak_mw_k`` (the peak of the billing
period, the steps before the horizon included); for a charge with ratchets or a ratchet
floor above its prior peak also ``grid_billed_demand_mw[k] >= ratchet_floor_mw_k``.
Constraints:
- ``grid_peak_def[k, t]``: ``grid_import_mw[t] <= grid_peak_import_mw[k]`` for ``t in S_k``;
  for a charge on demand intervals of more than one step (``PeakCharge.interval_steps``)
  ``grid_peak_interval[k, i]``: ``(head_i + Σ_{t in I_i} grid_import_mw[t]) / |I_i| <=
  grid_peak_import_mw[k]`` for each of its intervals ``I_i`` (``optimize.bill.
  demand_intervals``; ``head_i``, ``|I_i|`` count the first interval's known steps before
  step 0).
- ``grid_billed_peak[k]``: ``grid_billed_demand_mw[k] >= grid_peak_import_mw[k]``.
- ``grid_ratchet[k, j]``: ``grid_billed_demand_mw[k] >= f_kj · grid_peak_import_mw[j]`` for
  each ratchet ``(j, f_kj)`` of ``k``.
Objective term (USD): ``Σ_k c_k · billed_k`` with ``billed_k`` the billed-demand variable
where there is one, else the peak variable. Minimising makes each variable the max of its
lower bounds: billed_k = max(peak over S_k, prior, floor, f_kj · peak_j).

Demand is measured on step averages (MW over ``step_h``), or on a charge's demand
intervals where they are longer: a utility's 15-minute demand window on hourly steps reads
the hour's average, lower than its highest 15 minutes.

``window_charges`` cuts the charges to steps ``[a, e)`` of a longer horizon (rolling
windows, the closed loop): the peaks reached before ``a`` become ``prior_peak_mw``, and a
ratchet on a charge with no step left in the window becomes a floor. A charge on demand
intervals takes its peak so far from the import before ``a`` (its intervals ended by
``a``), and the interval ``a`` falls inside as its phase and head. With ``share_of_rest``
a window's charge is ``c_k · |S_k ∩ [a, e)| / |S_k ∩ [a, ∞)|``: a peak a window raises is
billed for the whole month, and every later window of the month imports up to it free; a
window that paid all of ``c_k`` for it weighed the peak against its own steps only, and
where another supply (generators) is near ``c_k`` per MWh of its steps, the windows of a
month kept off the grid one after another (figures in docs/model_jobs.md, "Rolling
horizon"). The share prices the peak by the part of the rest of the billing period the
window sees: it is a guide for the window's choice, not its bill.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.bill import demand_intervals, interval_demand_mw
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
        if c.interval_steps == 1:
            pairs += [(c.key, t) for t in np.flatnonzero(c.steps).tolist()]
    m.grid_peak_def = pyo.Constraint(pairs, rule=lambda m, k, t: imp[t] - peak[k] <= 0)
    _define_interval_peaks(m, [c for c in charges if c.interval_steps > 1], imp)
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


def _define_interval_peaks(m: pyo.Block, charges: list[PeakCharge], imp: list) -> None:
    """``grid_peak_interval[k, i]`` (module docstring), rows scaled by ``|I_i|``."""
    if not charges:
        return
    rows = {
        (c.key, i): iv for c in charges for i, iv in enumerate(demand_intervals(c, len(c.steps)))
    }
    peak = m.grid_peak_import_mw

    def rule(m, k, i):
        a, b, head_mw, count = rows[k, i]
        return linear_sum([1.0] * (b - a), imp[a:b]) - count * peak[k] <= -head_mw

    m.grid_peak_interval = pyo.Constraint(list(rows), rule=rule)


def window_charges(
    charges: tuple[PeakCharge, ...],
    a: int,
    e: int,
    import_before_mw: np.ndarray | None,
    share_of_rest: bool = False,
) -> tuple[PeakCharge, ...]:
    """The charges over steps ``[a, e)``: each charge with a step there, its steps cut, its
    ``prior_peak_mw`` raised to its peak over ``import_before_mw`` (MW of the committed
    steps from 0, at most ``a`` of them; None: nothing known before ``a``); a ratchet on a
    charge with no step in ``[a, e)`` becomes a floor (fraction × that charge's peak so
    far). A charge on demand intervals counts the intervals ended by ``a`` and takes the
    one ``a`` falls inside as its phase and head: it needs all ``a`` steps.
    ``share_of_rest``: each charge's USD per MW times the share of its steps from ``a`` on
    that lie in ``[a, e)`` (module docstring)."""
    imp = None if import_before_mw is None else np.asarray(import_before_mw, dtype=float)[:a]
    intervals = {c.key: _interval_state(c, a, imp) for c in charges if c.interval_steps > 1}

    def so_far(c: PeakCharge) -> float:
        if c.key in intervals:
            return intervals[c.key][0]
        sel = np.zeros(0) if imp is None else imp[c.steps[: len(imp)]]
        return max(c.prior_peak_mw, float(sel.max()) if sel.size else 0.0)

    by_key = {c.key: c for c in charges}
    kept = [c for c in charges if c.steps[a:e].any()]
    keep = {c.key for c in kept}
    out = []
    for c in kept:
        floor = c.ratchet_floor_mw
        for j, f in c.ratchets:
            if j not in keep:
                floor = max(floor, f * so_far(by_key[j]))
        phase, head_steps, head_mw = intervals.get(c.key, (0.0, 0, 0, 0.0))[1:]
        share = _share_of_rest(c.steps, a, e) if share_of_rest else 1.0
        out.append(
            replace(
                c,
                usd_per_mw=c.usd_per_mw * share,
                steps=c.steps[a:e],
                prior_peak_mw=so_far(c),
                ratchet_floor_mw=floor,
                ratchets=tuple((j, f) for j, f in c.ratchets if j in keep),
                interval_phase=phase,
                head_steps=head_steps,
                head_import_mw=head_mw,
            )
        )
    return tuple(out)


def _share_of_rest(steps: np.ndarray, a: int, e: int) -> float:
    """The share (0-1] of a charge's steps from ``a`` on that lie in ``[a, e)``."""
    return float(np.count_nonzero(steps[a:e])) / float(np.count_nonzero(steps[a:]))


def _interval_state(
    c: PeakCharge, a: int, import_before_mw: np.ndarray | None
) -> tuple[float, int, int, float]:
    """``(peak so far MW, phase, head steps, head MW)`` of charge ``c`` (on demand
    intervals) at step ``a``: the peak over its intervals ended by ``a``, and the interval
    ``a`` falls inside: its steps before ``a`` and those of them known, with their summed
    import (``PeakCharge``)."""
    phase = (a + c.interval_phase) % c.interval_steps
    if import_before_mw is None:
        return c.prior_peak_mw, phase, 0, 0.0
    imp = import_before_mw
    if len(imp) < a:
        raise ValueError(f"window_charges needs the import of the {a} steps before the window")
    if a - phase < 0:  # a lies inside the interval the charge's first step is in
        return c.prior_peak_mw, phase, c.head_steps + a, c.head_import_mw + float(imp.sum())
    ended = interval_demand_mw(c, imp[: a - phase])
    peak_mw = max(c.prior_peak_mw, float(ended.max()) if ended.size else 0.0)
    return peak_mw, phase, phase, float(imp[a - phase :].sum())
