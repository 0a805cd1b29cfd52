"""The steps that improve the start of HiGHS's MILP share these: the start's gap and time.

A start is a ``price_fix.PriceFixResult``: a schedule (its column values and objective),
the best bound proven for it so far and the seconds spent. Each step of the chain in
``optimize.solving`` (the edge search, the probes, the peak-capped restarts of
``optimize.restart_chain``, the pair moves) takes one and returns one, the cheaper
schedule kept and the highest bound, and passes a start proven within ``mip_rel_gap``
through unchanged. This module holds what they all use: the start's proven gap as the
answer would report it, the time limit of one step, the progress line after it, how two
starts combine (``cheaper_start``), and the two steps the chain takes more than once
(``search_edges``, ``paired``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimize import progress
from optimize.edge_search import edge_search
from optimize.highs import CompiledModel, highest_bound
from optimize.pair_moves import pair_moves
from optimize.price_fix import PriceFixResult, proven_gap, start_gap
from optimize.solve_clock import capped_s, spent
from optimize.solver_options import SolverOptions

# share of ``time_limit_s`` the price-fix MIP start may take before HiGHS's MILP (and each
# step that improves it the same share again)
START_SHARE = 0.25
# the edge search (optimize.edge_search) stops once no schedule of its neighbourhood can be
# cheaper by more than this share of the gap basis, or after this many nodes
EDGE_GAP = 1e-3
EDGE_NODE_LIMIT = 1


def start_limit_s(options: SolverOptions) -> float | None:
    """The time limit of a step that improves the start: ``START_SHARE`` of the solve's
    (None: none), at most what is left of the solve's (``optimize.solve_clock``)."""
    limit = options.time_limit_s
    return capped_s(None if limit is None else START_SHARE * limit)


def report_start(label: str, cm: CompiledModel, pf: PriceFixResult, seconds: float) -> None:
    """A progress line like the MILP's for a step before it that took ``seconds`` (from
    ``progress.FIRST_AFTER_S``, if progress is on): the start's bound, cost and gap."""
    if seconds >= progress.FIRST_AFTER_S:
        gap = start_gap(cm, pf)[1]
        progress.report(progress.progress_line(label, pf.bound_usd, pf.objective_usd, gap, seconds))


def cheaper_start(pf: PriceFixResult, seed: PriceFixResult) -> PriceFixResult:
    """The price-fix result with another schedule (a seeded one, the edge search's, the
    restart's) in place of its own where that is cheaper; the other's time is added, and
    its bound where it has a higher one (each is a bound of the same model: the restart's
    edge search raises one by probing its incumbents)."""
    seconds = pf.seconds + seed.seconds
    bound_usd = highest_bound(pf.bound_usd, seed.bound_usd)
    out = dataclasses.replace(pf, seconds=seconds, bound_usd=bound_usd)
    if seed.values is None or (pf.values is not None and pf.objective_usd <= seed.objective_usd):
        return out
    return dataclasses.replace(out, values=seed.values, objective_usd=seed.objective_usd)


def search_edges(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult, prove=None):
    """The start with its runs' edges searched (``optimize.edge_search``) where it is not
    proven within ``mip_rel_gap`` of the LP bound already; the search's time is added, and
    a bound its ``prove`` raised (``ProbeIncumbents``) is the start's bound
    (``cheaper_start``)."""
    k = options.edge_search_steps
    if k <= 0 or pf.values is None or pf.bound_usd is None or spent():
        return pf
    basis, gap = start_gap(cm, pf)
    if gap <= options.mip_rel_gap:
        return pf
    es = edge_search(
        h,
        cm,
        m,
        pf.values,
        pf.objective_usd,
        k=k,
        bound_usd=pf.bound_usd,
        rel_gap=options.mip_rel_gap,
        abs_gap_usd=EDGE_GAP * basis,
        node_limit=EDGE_NODE_LIMIT,
        time_limit_s=start_limit_s(options),
        prove=prove,
    )
    return cheaper_start(pf, es)


def paired(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start with pairs of jobs placed again together (``optimize.pair_moves``)
    where it is not proven within ``mip_rel_gap`` of its bound; the time is added (with
    ``time_limit_s``, the pass may take ``START_SHARE`` of it). The pass ends at the first
    schedule the start's bound proves: each step passes a proven start through."""
    gap = proven_gap(cm, pf)  # None without a schedule or a bound
    if gap is None or gap <= options.mip_rel_gap or spent():
        return pf

    def proves(objective_usd: float, values: np.ndarray) -> bool:
        seed = dataclasses.replace(pf, values=values, objective_usd=objective_usd)
        return proven_gap(cm, seed) <= options.mip_rel_gap

    out = pair_moves(h, cm, m, pf, time_limit_s=start_limit_s(options), proves=proves)
    report_start("pair moves", cm, out, out.seconds - pf.seconds)
    return out
