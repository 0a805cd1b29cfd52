"""The peak-capped restarts' part of the chain that improves the MILP's start.

``restarted`` takes a start not proven within ``mip_rel_gap`` (after the edge search and
the first probe, ``optimize.solving._improve_start``) and competes it with the schedule
of the peak-capped restart (``optimize.peak_cap``, caps at the LP's peaks), in order:

1. the restart's schedule searched in rounds, each stopped at its first cheaper
   incumbent (``_proven_rounds``), kept only where they end proven;
2. else its plain edge search (``start_steps.search_edges``), its incumbents near the gap
   probed as they come (``start_probe.ProbeIncumbents``); the cheaper of it and the start;
3. pairs of jobs placed again (``start_steps.paired``);
4. where that leaves it unproven and a second restart is wanted (caps midway to the
   searched start's peaks, ``peak_cap.midway_caps``): that restart's schedule searched
   the same way, and its pairs placed again where it is the cheaper (``_after_second``).

Each step passes a start proven within ``mip_rel_gap`` through. With two threads the
restarts run on a thread of their own from the start (``optimize.restart_ahead``), and
once it is free, step 2 runs beside step 1 and step 4 beside step 3
(``optimize.steps_beside``): the same steps, with the same answers on either thread.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from optimize.edge_search import recentred_edge_search
from optimize.highs import CompiledModel
from optimize.peak_cap import capped_restart, restart_wanted
from optimize.price_fix import PriceFixResult, proven_gap, start_gap
from optimize.probing import ProbeResult
from optimize.restart_ahead import RestartAhead
from optimize.solve_clock import spent
from optimize.solver_options import SolverOptions
from optimize.start_probe import ProbeIncumbents
from optimize.start_steps import (
    EDGE_GAP,
    cheaper_start,
    paired,
    report_start,
    search_edges,
    start_limit_s,
)
from optimize.steps_beside import Beside

# the first restart's schedule is searched in at most this many rounds first, each from
# the last one's first cheaper incumbent (``_proven_rounds``); with three, full-month CAISO
# 2023-06-19 and ERCOT 2023-01-02 were no faster (docs/model_jobs_history.md, forty-first
# session)
RECENTRE_ROUNDS = 2


def restarted(
    h,
    cm: CompiledModel,
    m,
    options: SolverOptions,
    pf: PriceFixResult,
    root: ProbeResult | None,
    ahead: RestartAhead | None = None,
    midway: np.ndarray | None = None,
    enough: tuple[float, float] | None = None,
    quick: bool = False,
) -> tuple[PriceFixResult, ProbeResult | None]:
    """For a start not proven within ``mip_rel_gap`` of its bound (the LP's, or the
    probe's): the cheapest of it and the peak-capped restart's schedule
    (``optimize.peak_cap``, caps at the LP's peaks; ``enough``: where its final MILP
    stops, ``peak_cap.restart_enough``; ``quick``: whether the restarts also place
    quickly, ``peak_cap.quick_placement_wanted``; both of price-fix's start) with its
    edges searched, then with pairs of jobs placed again (``paired``). Where that leaves
    it unproven and ``midway`` is given (``peak_cap.midway_caps`` of the searched start;
    None: no second restart, see ``peak_cap.midway_wanted``), the second restart with
    those caps, its edges searched, and its pairs placed again where it is the cheaper.
    Their time is added (with ``time_limit_s``, each step may take ``START_SHARE``). The
    last edge search's incumbents near the gap are probed as they come
    (``ProbeIncumbents``, going on from the first probe ``root``): the second restart's
    where there may be one, else the first's (its rounds', and its plain search's where
    it runs after them); one proven is the answer. Also returns the probe a later one may
    go on from (``root`` where none ran). With the restarts ahead (``ahead``), the first
    restart's plain edge search runs beside its rounds and the second restart's search
    beside the pairs (``optimize.steps_beside``).

    The pairs come before the second restart: they take 1.2-1.6 s on a full-month week,
    the second restart and its search 3-7 s, and on full-month CAISO 2023-09-11 and ERCOT
    2023-12-04 they prove the start without it (on the second with a schedule 0.14 %
    cheaper than the second restart's; docs/model_jobs_history.md, thirty-first session)."""
    if spent():  # the solve's time limit (optimize.solve_clock)
        return pf, root
    if not restart_wanted(options, pf, proven_gap(cm, pf)):
        return paired(h, cm, m, options, pf), root
    if ahead is not None:  # run on another thread from the start (optimize.restart_ahead)
        rs = ahead.result()
    else:
        rs = capped_restart(
            h,
            cm,
            m,
            pf.lp_values,
            time_limit_s=start_limit_s(options),
            lp_basis=pf.lp_basis,
            enough=enough,
            quick_too=quick,
        )
    prove = ProbeIncumbents(cm, m, options, pf, root)
    if midway is None:
        out = _first_searched(h, cm, m, options, pf, rs, prove, ahead, plain_prove=prove)
        return paired(h, cm, m, options, out), prove.search
    # with a second restart to come, the first's incumbents wait for it: one near the line
    # is dear to prove, and the second's may be cheap enough for the bound as it is (B2
    # #36: 3.0 s of probe for 562,981 USD; the second gives 559,562 USD, proven at once)
    out = _first_searched(h, cm, m, options, pf, rs, prove, ahead, plain_prove=None)
    second = functools.partial(_searched_second, cm, m, options, pf, ahead, midway, quick, prove)
    search = prove.search  # a second search dropped leaves the probe as it finds it
    out, used = _paired_then_second(h, cm, m, options, out, second, ahead)
    return out, (prove.search if used else search)


def _first_searched(h, cm, m, options: SolverOptions, pf, rs, prove, ahead, plain_prove):
    """The cheaper of the start ``pf`` and the first restart's schedule ``rs`` searched in
    rounds (their incumbents probed by ``prove``), then plainly (probed by
    ``plain_prove``). With the restarts ahead, the plain search runs beside the rounds
    (``_rounds_beside_search``) and probes none: the rounds' probe is in use. Full-month
    CAISO 2023-07-24, which has no second restart: 11.2 -> 9.7 s, all 312 answers of both
    billings the same (docs/model_jobs_history.md, fifty-third session)."""
    if ahead is None:
        searched = _searched_restart(h, cm, m, options, pf, rs, plain_prove, rounds_prove=prove)
    else:
        searched = _rounds_beside_search(h, cm, m, options, pf, rs, prove, ahead)
    out = cheaper_start(pf, searched)
    report_start("restart (peaks capped)", cm, out, out.seconds - pf.seconds)
    return out


def _searched_second(cm, m, options: SolverOptions, pf, ahead, midway, quick, prove, h):
    """The second restart's schedule (caps ``midway``, ``quick``: ``capped_restart``'s
    ``quick_too``; from ``ahead`` where it ran there) with its edges searched on ``h``
    (its incumbents probed by ``prove``); ``pf``: the start both restarts compete with."""
    if ahead is not None:
        mid = ahead.midway_result()
    else:
        limit = start_limit_s(options)
        mid = capped_restart(
            h, cm, m, midway, time_limit_s=limit, lp_basis=pf.lp_basis, quick_too=quick
        )
    return _searched_restart(h, cm, m, options, pf, mid, prove)


def _paired_then_second(h, cm, m, options: SolverOptions, out, second, ahead):
    """``out`` (the first restart's start) with its pairs placed again (``paired``), and
    where that leaves it unproven, the cheaper of it and the second restart's searched
    schedule (``second(h)``), whose pairs are placed again where it is the cheaper. With
    the restarts ahead and ``out`` not proven already, ``second`` runs beside the pairs
    (``optimize.steps_beside``) and is dropped where they prove ``out``. Also returns
    whether ``second`` was used."""
    if ahead is None or proven_gap(cm, out) <= options.mip_rel_gap:
        after = paired(h, cm, m, options, out)
        if proven_gap(cm, after) <= options.mip_rel_gap or spent():
            return after, False
        return _after_second(h, cm, m, options, after, second(h)), True
    with Beside(h, cm, second, "second-restart", ahead.wait_free) as beside:
        after = paired(h, cm, m, options, out)
        if proven_gap(cm, after) <= options.mip_rel_gap:
            return dataclasses.replace(after, seconds=after.seconds + beside.drop()), False
        searched, seconds = beside.answer()
    searched = dataclasses.replace(searched, seconds=seconds)
    return _after_second(h, cm, m, options, after, searched), True


def _after_second(h, cm, m, options: SolverOptions, out, searched):
    """``out`` or, where it is cheaper, the second restart's searched schedule
    ``searched`` with its pairs placed again (``searched.seconds`` added either way)."""
    t0 = out.seconds
    best = cheaper_start(out, searched)
    report_start("restart midway", cm, best, best.seconds - t0)
    if best.values is out.values:
        return best
    return paired(h, cm, m, options, best)


def _rounds_beside_search(h, cm, m, options: SolverOptions, pf, rs: PriceFixResult, prove, ahead):
    """``_searched_restart`` of the first restart's schedule ``rs`` with ``prove`` for its
    rounds only, and the plain edge search beside the rounds (``optimize.steps_beside``,
    once ``ahead``'s thread is free): the rounds' schedule where they end proven (the
    search dropped), else the search's; the seconds the caller spent added."""
    rs = dataclasses.replace(rs, bound_usd=pf.bound_usd)
    if rs.values is None:
        return rs

    def plain(other) -> PriceFixResult:
        return search_edges(other, cm, m, options, rs)

    with Beside(h, cm, plain, "edge-search", ahead.wait_free) as beside:
        proven, after = _proven_rounds(h, cm, m, options, rs, prove)
        if proven is not None:
            return dataclasses.replace(proven, seconds=proven.seconds + beside.drop())
        searched, seconds = beside.answer()
    return cheaper_start(after, dataclasses.replace(searched, seconds=seconds))


def _searched_restart(
    h, cm, m, options: SolverOptions, pf, rs: PriceFixResult, prove, rounds_prove=None
):
    """A restart's schedule ``rs`` with the start ``pf``'s bound, its edges searched
    (the incumbents probed by ``prove``); with ``rounds_prove``, first in rounds whose
    incumbents that probes (``_proven_rounds``)."""
    rs = dataclasses.replace(rs, bound_usd=pf.bound_usd)
    if rs.values is None:
        return rs
    if rounds_prove is not None:
        proven, rs = _proven_rounds(h, cm, m, options, rs, rounds_prove)
        if proven is not None:
            return proven
    # its edges are searched even where it is dearer than the start: a schedule of
    # another shape has other neighbours (ERCOT 2023-10-09: 0.07 % dearer, and 0.56 %
    # cheaper than the start after the search)
    return search_edges(h, cm, m, options, rs, prove=prove)


def _proven_rounds(h, cm, m, options: SolverOptions, rs: PriceFixResult, prove):
    """The schedule ``rs`` searched in rounds, each stopped at its first cheaper incumbent
    (``edge_search.recentred_edge_search``, ``RECENTRE_ROUNDS``), its incumbents probed by
    ``prove`` (also where a second restart is to come): the rounds' schedule where it ends
    proven within ``mip_rel_gap``, else None, with ``rs`` (its time added) for the plain
    search, which then runs as it would have without the rounds (on a cleared solver).

    Only a proof is kept: a schedule the rounds leave unproven is a start the MILP takes
    elsewhere (full-month ERCOT 2023-10-09: to the node limit with 1.42 % from a cheaper
    start, against a proof in 57 s from the plain search's). Full-month CAISO 2023-06-19:
    16.2 -> 8.8 s (docs/model_jobs_history.md, forty-first session)."""
    basis, gap = start_gap(cm, rs)
    if options.edge_search_steps <= 0 or gap <= options.mip_rel_gap:
        return None, rs
    found = recentred_edge_search(
        h, cm, m, rs.values, rs.objective_usd, k=options.edge_search_steps,
        rounds=RECENTRE_ROUNDS, bound_usd=rs.bound_usd, rel_gap=options.mip_rel_gap,
        abs_gap_usd=EDGE_GAP * basis, time_limit_s=start_limit_s(options), prove=prove,
    )  # fmt: skip
    out = cheaper_start(rs, found)
    gap = proven_gap(cm, out)
    if gap is not None and gap <= options.mip_rel_gap:
        return out, rs
    h.clearSolver()
    return None, dataclasses.replace(rs, seconds=rs.seconds + found.seconds)
