"""Tiered energy charges (``Grid.energy_tiers``): a billing month's import fills blocks.

For each tiers ``x`` (steps ``S``, block widths ``w_i`` in MWh, rates ``r_i[t]`` USD/MWh,
energy ``P`` already imported this month before step 0): the room left in block ``i`` is
``W_i = clip(w_0 + … + w_i − P, 0, w_i)`` (``P`` fills the first blocks); blocks with no
room are left out, the last block may be unbounded.

Variables (MWh): ``grid_tier_mwh[x, i, t] >= 0`` for ``t in S`` and each block ``i`` with room.
Constraints:
- ``grid_tier_split[x, t]``: ``Σ_i grid_tier_mwh[x, i, t] = step_h · grid_import_mw[t]``;
- ``grid_tier_width[x, i]``: ``Σ_t grid_tier_mwh[x, i, t] <= W_i`` (finite ``W_i``).
Objective term (USD): ``Σ_{i,t} r_i[t] · grid_tier_mwh[x, i, t]`` (on top of the import price).

Rates that never fall from block ``i`` to ``i+1`` at any step (``EnergyTiers.is_convex``)
make this an LP: filling a later block before an earlier one is full never pays. A falling
rate (a declining block, a volume discount) would let the LP fill the cheaper later block
first, so one binary per block boundary, ``grid_tier_full[x, i]``, orders them:
- ``grid_tier_fill[x, i]``: ``Σ_t grid_tier_mwh[x, i, t] >= W_i · grid_tier_full[x, i]``;
- ``grid_tier_next[x, i]``: ``Σ_t grid_tier_mwh[x, i+1, t] <= M_{i+1} · grid_tier_full[x, i]``
  with ``M = W_{i+1}``, or (the unbounded last block) the month's largest import energy.

Which step's energy lies in which block is the cheapest split that fills the blocks in
order (REopt.jl's formulation: a tier limit on the month's energy, a rate per step and
tier). ``optimize.bill.tiers_usd`` prices a series the same way (the split is an LP; when
the rate differences between blocks are the same at every step, any split costs the same).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from optimize._util import linear_sum
from optimize.bill import block_room_mwh, tier_mwh
from optimize.problem import EnergyTiers


def define_energy_tiers(
    m: pyo.Block, tiers: tuple[EnergyTiers, ...], imp: list, step_h: float, imax: np.ndarray
) -> list:
    """Add the block variables of ``tiers`` to ``m``; return their objective terms (USD).
    ``imp``: import variables (MW); ``imax``: import limit per step (MW, for the big-M)."""
    if not tiers:
        return []
    idx, split, width, cost = [], {}, {}, []
    for x in tiers:
        room = block_room_mwh(x)
        steps = np.flatnonzero(x.steps).tolist()
        blocks = [i for i, w in enumerate(room) if w > 0]
        idx += [(x.key, i, t) for i in blocks for t in steps]
        split.update({(x.key, t): blocks for t in steps})
        width.update({(x.key, i): room[i] for i in blocks})
        cost += [(x.usd_per_mwh[i][t], (x.key, i, t)) for i in blocks for t in steps]
    m.grid_tier_mwh = pyo.Var(idx, within=pyo.NonNegativeReals)
    b = m.grid_tier_mwh
    m.grid_tier_split = pyo.Constraint(
        list(split),
        rule=lambda m, k, t: (
            linear_sum([1.0] * len(split[k, t]), [b[k, i, t] for i in split[k, t]])
            - step_h * imp[t]
            == 0
        ),
    )
    totals = {
        ki: linear_sum([1.0] * len(ts), [b[ki[0], ki[1], t] for t in ts])
        for ki, ts in _block_steps(tiers, width).items()
    }
    finite = [ki for ki, w in width.items() if math.isfinite(w)]
    m.grid_tier_width = pyo.Constraint(finite, rule=lambda m, k, i: totals[k, i] <= width[k, i])
    _order_blocks(m, tiers, width, totals, step_h, imax)
    return [linear_sum([c for c, _ in cost], [b[v] for _, v in cost])]


def _block_steps(tiers, width) -> dict[tuple[str, int], list[int]]:
    """(key, block) -> the steps of that tiers, for each block with room."""
    steps = {x.key: np.flatnonzero(x.steps).tolist() for x in tiers}
    return {(k, i): steps[k] for k, i in width}


def _order_blocks(m, tiers, width, totals, step_h: float, imax: np.ndarray) -> None:
    """Binaries that fill the blocks of non-convex tiers in order (module header)."""
    pairs, big = [], {}
    for x in tiers:
        if x.is_convex():
            continue
        blocks = [i for i in range(len(x.block_mwh)) if (x.key, i) in width]
        month_mwh = step_h * float(np.sum(imax[x.steps]))
        for i, j in zip(blocks, blocks[1:], strict=False):
            pairs.append((x.key, i, j))
            big[x.key, i] = min(width[x.key, j], month_mwh)
    if not pairs:
        return
    keys = [(k, i) for k, i, _ in pairs]
    nxt = {(k, i): j for k, i, j in pairs}
    m.grid_tier_full = pyo.Var(keys, within=pyo.Binary)
    z = m.grid_tier_full
    m.grid_tier_fill = pyo.Constraint(
        keys, rule=lambda m, k, i: totals[k, i] - width[k, i] * z[k, i] >= 0
    )
    m.grid_tier_next = pyo.Constraint(
        keys, rule=lambda m, k, i: totals[k, nxt[k, i]] - big[k, i] * z[k, i] <= 0
    )


def window_tiers(
    tiers: tuple[EnergyTiers, ...],
    a: int,
    e: int,
    import_before_mw: np.ndarray | None,
    step_h: float,
) -> tuple[EnergyTiers, ...]:
    """The tiers over steps ``[a, e)``: each with a step there, steps and rates cut, its
    ``prior_mwh`` raised by the energy imported over its steps before ``a``
    (``import_before_mw``: MW of the committed steps from 0, at most ``a`` of them; None:
    nothing known before ``a``)."""
    imp = np.zeros(0) if import_before_mw is None else np.asarray(import_before_mw)[:a]
    mwh_so_far = tier_mwh(tiers, step_h, imp)
    return tuple(
        replace(
            x,
            steps=x.steps[a:e],
            usd_per_mwh=tuple(r[a:e] for r in x.usd_per_mwh),
            prior_mwh=x.prior_mwh + float(mwh_so_far.get(x.key, 0.0)),
        )
        for x in tiers
        if x.steps[a:e].any()
    )
