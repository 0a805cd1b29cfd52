"""``solve(problem, options) -> Dispatch``: Pyomo model → standard form → HiGHS (in memory).

The HiGHS plumbing (compilation, options, runs, loading the answer) is in
``optimize.highs``; this module chooses the method (HiGHS's MILP, with or without the
price-fix start and its edge search, or price-fix alone), adds battery binaries where a
solution needs them, and builds the ``Dispatch`` (``results.py``); an infeasible problem
is diagnosed by ``optimize.diagnosis``.

Timings: ``build_s`` covers ``build_model`` and the compilation to standard form,
``solve_s`` the HiGHS run and loading the solution.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time

import highspy
import numpy as np
import pyomo.environ as pyo

from optimize import progress
from optimize.battery import extra_binary_steps, simultaneous_steps
from optimize.diagnosis import diagnose
from optimize.edge_search import edge_search, recentred_edge_search
from optimize.errors import SolveError
from optimize.highs import (
    CompiledModel,
    HighsResult,
    compile_model,
    gap_basis_usd,
    highest_bound,
    load_solution,
    load_values,
    make_highs,
    relative_gap,
    run_highs,
    set_start,
)
from optimize.milp_from_start import milp_after_start
from optimize.model import build_model
from optimize.pair_moves import pair_moves
from optimize.peak_cap import (
    capped_restart,
    midway_caps,
    midway_wanted,
    quick_placement_wanted,
    restart_enough,
    restart_wanted,
)
from optimize.peak_split import SPLIT_MIN_GAP, peak_split
from optimize.price_fix import PriceFixResult, job_columns, price_fix, seeded_schedule
from optimize.probe_beside import ProbeBeside
from optimize.probing import ProbeResult, prepared_probe, probe_bound
from optimize.problem import Problem, SolverOptions
from optimize.ranges import extremes
from optimize.restart_ahead import RestartAhead, restart_ahead
from optimize.results import Dispatch, extract_dispatch
from optimize.steps_beside import Beside

# the probe (optimize.probing) aims this share of the gap inside it (so that a proof's gap
# rounds to the target or below); the first probe searches the root and at most
# FIRST_PROBE_NODES - 1 nodes after it, the last one goes on up to PROBE_NODES nodes (the
# disjunctions, SolverOptions.probe_limit, bound both first). The first probe's few nodes
# prove pro-rated ERCOT 2023-10-09 before the restart (8.4 s, against 11.3 s with the root
# alone, when the last probe proved the same start in 3 nodes); a search that fails there
# costs at most a few dozen warm LPs (docs/model_jobs_history.md)
PROBE_MARGIN = 1e-6
FIRST_PROBE_NODES = 3
PROBE_NODES = 200

# statuses that come with a feasible schedule (and its proven gap)
STOPS_WITH_SOLUTION = ("optimal", "time_limit", "node_limit", "heuristic")

# share of ``time_limit_s`` the price-fix MIP start may take before HiGHS's MILP (and the
# edge search the same share again)
START_SHARE = 0.25
# the edge search (optimize.edge_search) stops once no schedule of its neighbourhood can be
# cheaper by more than this share of the gap basis, or after this many nodes
EDGE_GAP = 1e-3
EDGE_NODE_LIMIT = 1
# the first restart's schedule is searched in at most this many rounds first, each from
# the last one's first cheaper incumbent (``_proven_rounds``); with three, full-month CAISO
# 2023-06-19 and ERCOT 2023-01-02 were no faster (docs/model_jobs_history.md, forty-first
# session)
RECENTRE_ROUNDS = 2
# the restart's edge search probes an incumbent cheaper than the start it competes with
# where it is within this multiple of ``mip_rel_gap`` of the start's bound
# (``_ProbeIncumbents``): the probe then lifts the bound by a tenth of the gap at most,
# which its disjunctions close within their budget (pro-rated ERCOT 2023-02-06: 7
# nodes); further out a probe that fails spends the budget the probe over nodes after
# the restart needs (2023-02-13: 200 disjunctions, 6.5 s, then that probe could not go on)
PROBE_INCUMBENT_GAPS = 1.1
# price-fix skips its improvement passes where its fixed schedule's LP is within this share
# of ``mip_rel_gap`` of the bound (``optimize.price_fix._close_enough``). B2 at 1 %: 50.9 s
# and 13,463,393 USD, against 57.7 s and 13,458,376 USD with the passes everywhere
ENOUGH_SHARE = 0.5


def solve_compiled(
    h: highspy.Highs,
    cm: CompiledModel,
    m: pyo.Block,
    options: SolverOptions,
    start_on: dict[str, np.ndarray] | None = None,
):
    """Solve the model in ``h`` by ``options.method``.

    Returns the ``HighsResult`` and the column values of the answer, or ``None`` when the
    answer is ``h``'s own solution. With jobs, ``"price-fix"`` returns the heuristic's
    schedule (status ``"optimal"`` if its proven gap is within ``mip_rel_gap``, else
    ``"heuristic"``; without a schedule HiGHS's MILP decides) and ``"milp"`` passes it to
    HiGHS as a MIP start (``price_fix_start``; it gets at most ``START_SHARE`` of the time
    limit, and the MILP the rest), or returns it as the answer when its proven gap is within
    ``mip_rel_gap`` already; the heuristic's time counts in ``solve_s``.
    ``start_on`` (job id -> bool per step, e.g. a neighbouring Pareto point's schedule) is
    a candidate start too: the cheaper of it and the heuristic's schedule is used. With
    ``"milp"``, a start not proven within ``mip_rel_gap`` goes through the edge search
    first (``_search_edges``), whose schedule is the answer if it is within the gap; one
    still not proven is probed at the root and a few nodes (``_probe``): a proof makes it
    the answer, and a raised bound counts in the gap either way. One not proven then meets
    the peak-capped restart and the pair moves (``_restarted``, in ``_improve_start``; a
    second restart where those leave it unproven), and the start after them is probed by a
    search over more nodes (``_last_probe``; with two threads beside HiGHS's MILP).
    """
    is_mip = cm.integrality is not None
    if not (is_mip and getattr(m, "job_ids", None) is not None and len(m.job_ids)):
        return run_highs(h, is_mip, cm), None
    if options.method == "milp" and not options.price_fix_start:
        if start_on:
            seed = seeded_schedule(h, cm, m, start_on)
            if seed.values is not None:
                set_start(h, seed.values)
        return run_highs(h, True, cm), None
    limit = options.time_limit_s
    if limit is not None and options.method == "milp":
        limit = START_SHARE * limit  # the start takes at most this share of the limit
    enough = ENOUGH_SHARE * options.mip_rel_gap
    pf = price_fix(h, cm, m, time_limit_s=limit, enough_gap=enough, target_gap=options.mip_rel_gap)
    if start_on:
        pf = _cheaper_start(pf, seeded_schedule(h, cm, m, start_on))
    if options.method == "milp":
        pf, search = _improve_start(h, cm, m, options, pf)
        pf = _split_on_peak(h, cm, m, options, pf)
        pf, answer = _last_probe(h, cm, m, options, pf, search)
        if answer is not None:
            return answer
    basis = None
    if pf.values is not None:
        basis, gap = _start_gap(cm, pf)
        # a start already proven within the gap is the answer: branch and bound could only
        # prove what is proven (and costs a presolve and a root at least)
        if options.method == "price-fix" or gap <= options.mip_rel_gap:
            status = "optimal" if gap <= options.mip_rel_gap else "heuristic"
            result = HighsResult(status, pf.objective_usd, gap, True, pf.seconds, pf.bound_usd)
            result.gap_basis = basis
            return result, pf.values
        set_start(h, pf.values)
    return milp_after_start(h, cm, options, pf, basis)


def _improve_start(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start for HiGHS's MILP: its edges searched, then probed at the root and a few
    nodes (``FIRST_PROBE_NODES``); one still not proven meets the peak-capped restarts and
    the pair moves (``_restarted``; each step passes a start proven within
    ``mip_rel_gap`` through). Returns it with the probe a search over more nodes after it
    may go on from (``_last_probe``). Probing before the restart spares it on the weeks the
    probe proves (ERCOT 2023-02-13: 2.9 s, against 18.1 s with the restart first); the
    longer search comes after it, from the restart's and the pair moves' cheaper start,
    whose target is lower.
    With two threads the restart starts at once on a second ``Highs`` and runs beside the
    edge search and the first probe (``optimize.restart_ahead``); it is the same restart
    (both start from the LP's basis), used or stopped by the same rule."""
    enough = restart_enough(options, pf)  # where the first restart stops, on either thread
    quick = quick_placement_wanted(m, cm, pf)  # and whether it also places quickly
    limit = _start_limit_s(options)
    ahead = restart_ahead(h, cm, m, options, pf, _proven_gap(cm, pf), limit, enough, quick)
    try:
        searched = _search_edges(h, cm, m, options, pf)
        midway = None  # the second restart's caps: midway to the searched start's peaks
        if searched.values is not None and midway_wanted(
            m, cm, searched.values, searched.objective_usd
        ):
            midway = midway_caps(m, cm, pf.lp_values, searched.values)
            if ahead is not None:
                ahead.start_midway(midway)
        pf, root = _probe(cm, m, options, searched, max_nodes=FIRST_PROBE_NODES)
        return _restarted(h, cm, m, options, pf, root, ahead, midway, enough, quick)
    finally:
        if ahead is not None:
            ahead.close()


def _paired(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start with pairs of jobs placed again together (``optimize.pair_moves``)
    where it is not proven within ``mip_rel_gap`` of its bound; the time is added (with
    ``time_limit_s``, the pass may take ``START_SHARE`` of it). The pass ends at the first
    schedule the start's bound proves: each step passes a proven start through."""
    gap = _proven_gap(cm, pf)  # None without a schedule or a bound
    if gap is None or gap <= options.mip_rel_gap:
        return pf

    def proves(objective_usd: float, values: np.ndarray) -> bool:
        seed = dataclasses.replace(pf, values=values, objective_usd=objective_usd)
        return _proven_gap(cm, seed) <= options.mip_rel_gap

    out = pair_moves(h, cm, m, pf, time_limit_s=_start_limit_s(options), proves=proves)
    _report_start("pair moves", cm, out, out.seconds - pf.seconds)
    return out


def _last_probe(h, cm: CompiledModel, m, options: SolverOptions, pf, search):
    """The start probed by a search over nodes (``_probe``), and None; with two threads,
    where the probe runs, HiGHS's MILP runs from the start beside it
    (``optimize.probe_beside``): its answer, unless the probe proved the start or found a
    schedule (then the start after the probe, as with one thread). The search goes on from
    the first probe (or from the probes of the restart's incumbents, ``search``) where the
    restart leaves the target as it was or lowers it (a cheaper start) instead of probing
    the root again."""
    cancel = threading.Event()
    run = _prepared_probe(cm, m, options, pf, PROBE_NODES, search, cancel)
    if run is None:
        return pf, None
    if not _probe_beside_wanted(options):
        return run()[0], None
    t0 = time.perf_counter()
    set_start(h, pf.values)
    beside = ProbeBeside(run)
    try:
        answer = milp_after_start(h, cm, options, pf, _start_gap(cm, pf)[0], beside)
    except BaseException:
        cancel.set()  # a Ctrl-C or an error in the MILP: the probe stops at its next step
        raise
    if answer[0] is not None:
        return pf, answer
    after = beside.outcome()[0]  # its own time and the MILP's dropped work
    return dataclasses.replace(after, seconds=pf.seconds + time.perf_counter() - t0), None


def _split_on_peak(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start split on its demand-charge peak (``optimize.peak_split``) where it is not
    proven within ``mip_rel_gap`` (``SolverOptions.peak_split``; gaps above
    ``SPLIT_MIN_GAP``): the start after the split. One it proves passes through the last
    probe and is the answer, as any proven start is."""
    gap = _proven_gap(cm, pf)
    wanted = options.peak_split and options.mip_rel_gap > SPLIT_MIN_GAP
    if not wanted or gap is None or gap <= options.mip_rel_gap:
        return pf
    after = peak_split(h, cm, m, options, pf)
    if after is not pf:
        _report_start("peak split", cm, after, after.seconds - pf.seconds)
    return after


def _probe_beside_wanted(options: SolverOptions) -> bool:
    """The last probe runs beside the MILP (``SolverOptions.second_thread``; a test
    switches it off to get the one-after-the-other order with the same HiGHS threads)."""
    return options.second_thread


def _search_edges(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult, prove=None):
    """The start with its runs' edges searched (``optimize.edge_search``) where it is not
    proven within ``mip_rel_gap`` of the LP bound already; the search's time is added, and
    a bound its ``prove`` raised (``_ProbeIncumbents``) is the start's bound
    (``_cheaper_start``)."""
    k = options.edge_search_steps
    if k <= 0 or pf.values is None or pf.bound_usd is None:
        return pf
    basis, gap = _start_gap(cm, pf)
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
        time_limit_s=_start_limit_s(options),
        prove=prove,
    )
    return _cheaper_start(pf, es)


def _restarted(
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
    edges searched, then with pairs of jobs placed again (``_paired``). Where that leaves
    it unproven and ``midway`` is given (``peak_cap.midway_caps`` of the searched start;
    None: no second restart, see ``peak_cap.midway_wanted``), the second restart with
    those caps, its edges searched, and its pairs placed again where it is the cheaper.
    Their time is added (with ``time_limit_s``, each step may take ``START_SHARE``). The
    last edge search's incumbents near the gap are probed as they come
    (``_ProbeIncumbents``, going on from the first probe ``root``): the second restart's
    where there may be one, else the first's; one proven is the answer. Also returns the
    probe a later one may go on from (``root`` where none ran). With the restarts ahead
    (``ahead``), the first restart's plain edge search runs beside its rounds and the
    second restart's search beside the pairs (``optimize.steps_beside``).

    The pairs come before the second restart: they take 1.2-1.6 s on a full-month week,
    the second restart and its search 3-7 s, and on full-month CAISO 2023-09-11 and ERCOT
    2023-12-04 they prove the start without it (on the second with a schedule 0.14 %
    cheaper than the second restart's; docs/model_jobs_history.md, thirty-first session)."""
    if not restart_wanted(options, pf, _proven_gap(cm, pf)):
        return _paired(h, cm, m, options, pf), root
    if ahead is not None:  # run on another thread from the start (optimize.restart_ahead)
        rs = ahead.result()
    else:
        rs = capped_restart(
            h,
            cm,
            m,
            pf.lp_values,
            time_limit_s=_start_limit_s(options),
            lp_basis=pf.lp_basis,
            enough=enough,
            quick_too=quick,
        )
    prove = _ProbeIncumbents(cm, m, options, pf, root)
    if midway is None:
        searched = _searched_restart(h, cm, m, options, pf, rs, prove, rounds_prove=prove)
        out = _cheaper_start(pf, searched)
        _report_start("restart (peaks capped)", cm, out, out.seconds - pf.seconds)
        return _paired(h, cm, m, options, out), prove.search
    # with a second restart to come, the first's incumbents wait for it: one near the line
    # is dear to prove, and the second's may be cheap enough for the bound as it is (B2
    # #36: 3.0 s of probe for 562,981 USD; the second gives 559,562 USD, proven at once)
    if ahead is None:
        searched = _searched_restart(h, cm, m, options, pf, rs, None, rounds_prove=prove)
    else:
        searched = _rounds_beside_search(h, cm, m, options, pf, rs, prove, ahead)
    out = _cheaper_start(pf, searched)
    _report_start("restart (peaks capped)", cm, out, out.seconds - pf.seconds)
    second = functools.partial(_searched_second, cm, m, options, pf, ahead, midway, quick, prove)
    search = prove.search  # a second search dropped leaves the probe as it finds it
    out, used = _paired_then_second(h, cm, m, options, out, second, ahead)
    return out, (prove.search if used else search)


def _searched_second(cm, m, options: SolverOptions, pf, ahead, midway, quick, prove, h):
    """The second restart's schedule (caps ``midway``, ``quick``: ``capped_restart``'s
    ``quick_too``; from ``ahead`` where it ran there) with its edges searched on ``h``
    (its incumbents probed by ``prove``); ``pf``: the start both restarts compete with."""
    if ahead is not None:
        mid = ahead.midway_result()
    else:
        limit = _start_limit_s(options)
        mid = capped_restart(
            h, cm, m, midway, time_limit_s=limit, lp_basis=pf.lp_basis, quick_too=quick
        )
    return _searched_restart(h, cm, m, options, pf, mid, prove)


def _paired_then_second(h, cm, m, options: SolverOptions, out, second, ahead):
    """``out`` (the first restart's start) with its pairs placed again (``_paired``), and
    where that leaves it unproven, the cheaper of it and the second restart's searched
    schedule (``second(h)``), whose pairs are placed again where it is the cheaper. With
    the restarts ahead and ``out`` not proven already, ``second`` runs beside the pairs
    (``optimize.steps_beside``) and is dropped where they prove ``out``. Also returns
    whether ``second`` was used."""
    if ahead is None or _proven_gap(cm, out) <= options.mip_rel_gap:
        paired = _paired(h, cm, m, options, out)
        if _proven_gap(cm, paired) <= options.mip_rel_gap:
            return paired, False
        return _after_second(h, cm, m, options, paired, second(h)), True
    with Beside(h, cm, second, "second-restart", ahead.wait_free) as beside:
        paired = _paired(h, cm, m, options, out)
        if _proven_gap(cm, paired) <= options.mip_rel_gap:
            return dataclasses.replace(paired, seconds=paired.seconds + beside.drop()), False
        searched, seconds = beside.answer()
    searched = dataclasses.replace(searched, seconds=seconds)
    return _after_second(h, cm, m, options, paired, searched), True


def _after_second(h, cm, m, options: SolverOptions, out, searched):
    """``out`` or, where it is cheaper, the second restart's searched schedule
    ``searched`` with its pairs placed again (``searched.seconds`` added either way)."""
    t0 = out.seconds
    best = _cheaper_start(out, searched)
    _report_start("restart midway", cm, best, best.seconds - t0)
    if best.values is out.values:
        return best
    return _paired(h, cm, m, options, best)


def _rounds_beside_search(h, cm, m, options: SolverOptions, pf, rs: PriceFixResult, prove, ahead):
    """``_searched_restart`` of the first restart's schedule ``rs`` with ``prove`` for its
    rounds only, and the plain edge search beside the rounds (``optimize.steps_beside``,
    once ``ahead``'s thread is free): the rounds' schedule where they end proven (the
    search dropped), else the search's; the seconds the caller spent added."""
    rs = dataclasses.replace(rs, bound_usd=pf.bound_usd)
    if rs.values is None:
        return rs

    def plain(other) -> PriceFixResult:
        return _search_edges(other, cm, m, options, rs)

    with Beside(h, cm, plain, "edge-search", ahead.wait_free) as beside:
        proven, after = _proven_rounds(h, cm, m, options, rs, prove)
        if proven is not None:
            return dataclasses.replace(proven, seconds=proven.seconds + beside.drop())
        searched, seconds = beside.answer()
    return _cheaper_start(after, dataclasses.replace(searched, seconds=seconds))


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
    return _search_edges(h, cm, m, options, rs, prove=prove)


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
    basis, gap = _start_gap(cm, rs)
    if options.edge_search_steps <= 0 or gap <= options.mip_rel_gap:
        return None, rs
    found = recentred_edge_search(
        h, cm, m, rs.values, rs.objective_usd, k=options.edge_search_steps,
        rounds=RECENTRE_ROUNDS, bound_usd=rs.bound_usd, rel_gap=options.mip_rel_gap,
        abs_gap_usd=EDGE_GAP * basis, time_limit_s=_start_limit_s(options), prove=prove,
    )  # fmt: skip
    out = _cheaper_start(rs, found)
    gap = _proven_gap(cm, out)
    if gap is not None and gap <= options.mip_rel_gap:
        return out, rs
    h.clearSolver()
    return None, dataclasses.replace(rs, seconds=rs.seconds + found.seconds)


def _probe(
    cm: CompiledModel,
    m,
    options: SolverOptions,
    pf: PriceFixResult,
    max_nodes: int,
    resume: ProbeResult | None = None,
) -> tuple[PriceFixResult, ProbeResult | None]:
    """The start with its bound raised by probing (``optimize.probing``, at most
    ``max_nodes`` nodes) where it is not proven within ``mip_rel_gap`` of its bound; the
    probe's time is added, and a schedule it finds below the target is the new start. The
    target sits a hair inside the gap, so a proof leaves the gap at ``mip_rel_gap`` or
    below. Also returns the probe's result (None where it did not run), whose search a
    later probe with the same target may go on from (``resume``)."""
    run = _prepared_probe(cm, m, options, pf, max_nodes, resume)
    return (pf, None) if run is None else run()


def _prepared_probe(
    cm, m, options: SolverOptions, pf: PriceFixResult, max_nodes: int, resume, cancel=None
):
    """``_probe`` set up on this thread, to run here or on another (``ProbeBeside``;
    ``cancel``: ``probing.prepared_probe``'s); None where it would not run."""
    if options.probe_limit <= 0 or pf.values is None or pf.bound_usd is None:
        return None
    basis, gap = _start_gap(cm, pf)
    jobs = job_columns(m, cm) if gap > options.mip_rel_gap else None
    if not jobs:
        return None
    target = pf.objective_usd - (1 - PROBE_MARGIN) * options.mip_rel_gap * basis
    budget = (options.probe_limit, max_nodes)
    search = prepared_probe(cm, options, jobs, target, budget, pf.lp_basis, resume, cancel)

    def run() -> tuple[PriceFixResult, ProbeResult]:
        probe = search()
        bound = max(pf.bound_usd, probe.bound_usd)
        out = dataclasses.replace(pf, bound_usd=bound, seconds=pf.seconds + probe.seconds)
        if probe.values is not None and probe.objective_usd < pf.objective_usd:
            out = dataclasses.replace(out, values=probe.values, objective_usd=probe.objective_usd)
        _report_start("probe", cm, out, probe.seconds)
        return out, probe

    return run


class _ProbeIncumbents:
    """The edge search's ``prove`` callback (``optimize.highs.StopAtGap``) in the
    restart: an incumbent cheaper than the ``start`` it competes with and within
    ``PROBE_INCUMBENT_GAPS`` x ``mip_rel_gap`` of the start's bound is probed over nodes
    against its own target (as ``_probe`` would after the restart), going on from the
    last probe's search (the first probe's at first: each target is at or below the last one
    while incumbents get cheaper); a proof is the bound returned, and the search stops
    there. Probing as incumbents come spares the rest of an edge search whose incumbent
    the probe proves already (pro-rated ERCOT 2023-02-06: the restart's edge search took
    5.5 s to go from 239,925 USD, found about 1 s in, to 239,905 USD, the schedule the
    probe after it then proved; it proves 239,925 as well). The probe is bounded by
    counts, and HiGHS's callbacks come at the same points of its search on every machine,
    so the answer does not depend on the clock. ``search``: the probe a later one may go on from."""

    def __init__(self, cm, m, options, start: PriceFixResult, root: ProbeResult | None):
        self.cm, self.options, self.start = cm, options, start
        self.jobs = job_columns(m, cm)
        self.search = root
        self.done = options.probe_limit <= 0 or not self.jobs

    def __call__(self, objective: float, basis_usd: float) -> float | None:
        gap = self.options.mip_rel_gap
        near = (objective - self.start.bound_usd) <= PROBE_INCUMBENT_GAPS * gap * basis_usd
        if self.done or objective >= self.start.objective_usd or not near:
            return None
        target = objective - (1 - PROBE_MARGIN) * gap * basis_usd
        probe = probe_bound(
            self.cm,
            self.options,
            self.jobs,
            target,
            max_probes=self.options.probe_limit,
            max_nodes=PROBE_NODES,
            lp_basis=self.start.lp_basis,
            resume=self.search,
        )
        if probe.seconds >= progress.FIRST_AFTER_S:
            gap_now = relative_gap(objective, probe.bound_usd, basis_usd)
            line = progress.progress_line(
                "probe (an incumbent)", probe.bound_usd, objective, gap_now, probe.seconds
            )
            progress.report(line)
        self.done = probe.proven or probe.search is None
        if probe.search is not None:
            self.search = probe
        return probe.bound_usd if probe.proven else None


def _start_gap(cm: CompiledModel, pf: PriceFixResult) -> tuple[float, float]:
    """The start's gap basis (USD) and its proven gap against ``pf.bound_usd``, as the
    answer would report them."""
    basis = gap_basis_usd(cm, pf.values, pf.objective_usd)
    return basis, relative_gap(pf.objective_usd, pf.bound_usd, basis)


def _proven_gap(cm: CompiledModel, pf: PriceFixResult) -> float | None:
    """The start's proven gap (``_start_gap``); None without a schedule or a bound."""
    if pf.values is None or pf.bound_usd is None:
        return None
    return _start_gap(cm, pf)[1]


def _start_limit_s(options: SolverOptions) -> float | None:
    """The time limit of a step that improves the start: ``START_SHARE`` of the solve's
    (None: none)."""
    limit = options.time_limit_s
    return None if limit is None else START_SHARE * limit


def _report_start(label: str, cm: CompiledModel, pf: PriceFixResult, seconds: float) -> None:
    """A progress line like the MILP's for a step before it that took ``seconds`` (from
    ``progress.FIRST_AFTER_S``, if progress is on): the start's bound, cost and gap."""
    if seconds >= progress.FIRST_AFTER_S:
        gap = _start_gap(cm, pf)[1]
        progress.report(progress.progress_line(label, pf.bound_usd, pf.objective_usd, gap, seconds))


def _cheaper_start(pf: PriceFixResult, seed: PriceFixResult) -> PriceFixResult:
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


def solve_model(
    problem: Problem,
    options: SolverOptions,
    highs_options: dict | None = None,
    keep_searching: bool = False,
    start_on: dict[str, np.ndarray] | None = None,
    prebuilt: tuple[pyo.ConcreteModel, CompiledModel, highspy.Highs] | None = None,
) -> tuple[pyo.ConcreteModel, HighsResult, float, float]:
    """Build, compile and solve ``problem`` by ``options.method``; the solution is loaded.

    The battery's no-simultaneous binaries are created only where they can matter (see
    ``optimize.battery``); if the solution charges and discharges at once at some other
    step, the model is rebuilt with binaries at those steps too and solved again (each
    round with the full time limit). ``highs_options``: extra HiGHS options (name ->
    value). ``keep_searching``: a MILP that reaches its time limit without any solution
    runs on with the limit doubled, up to 8 times, then without a limit. ``start_on``: a
    job schedule to start from (see ``solve_compiled``). ``prebuilt``: the model of
    ``problem``, its compiled arrays and a ``Highs`` holding them with ``options`` set,
    built already (``optimize.window_prebuild``); used for the first round.

    Returns the model, the last ``HighsResult``, and the build and solve seconds summed
    over the rounds. An infeasible model comes back with status ``"infeasible"`` (the
    caller diagnoses it); any other status without a solution raises ``SolveError``.
    """
    extra: set[int] = set()
    build_s = solve_s = 0.0
    while True:
        t0 = time.perf_counter()
        if prebuilt is not None:
            (m, cm, h), prebuilt = prebuilt, None
        else:
            with extra_binary_steps(extra):
                m = build_model(problem)
            cm = compile_model(m)
            h = make_highs(cm, options)
        for key, value in (highs_options or {}).items():
            h.setOptionValue(key, value)
        build_s += time.perf_counter() - t0
        res, values = solve_compiled(h, cm, m, options, start_on)
        if keep_searching:
            res = _search_on(h, cm, res, options)
        if res.status == "infeasible":
            return m, res, build_s, solve_s + res.solve_s
        if res.status not in STOPS_WITH_SOLUTION or not res.has_solution:
            raise SolveError(
                f"HiGHS stopped with status {res.status!r} and no feasible solution",
                status=res.status,
                suspects=extremes(cm),
            )
        t1 = time.perf_counter()
        if values is not None:
            load_values(m, cm, values)
        else:
            load_solution(m, cm, h)
        solve_s += res.solve_s + time.perf_counter() - t1
        bad = set(simultaneous_steps(m)) - extra
        if not bad:
            return m, res, build_s, solve_s
        extra |= bad


def _search_on(h: highspy.Highs, cm: CompiledModel, res: HighsResult, options) -> HighsResult:
    """No incumbent within the time limit: run on with the limit doubled, then none."""
    spent = 0.0
    limit = options.time_limit_s
    while res.status == "time_limit" and not res.has_solution and limit is not None:
        limit = 2 * limit if limit < 8 * options.time_limit_s else None
        h.setOptionValue("time_limit", float("inf") if limit is None else limit)
        spent += res.solve_s
        res = run_highs(h, cm.integrality is not None)
    res.solve_s += spent
    return res


def solve(
    problem: Problem,
    options: SolverOptions | None = None,
    start_on: dict[str, np.ndarray] | None = None,
) -> Dispatch:
    """Optimal dispatch of ``problem``; raises ``Infeasible`` with a diagnosis if none exists.

    Built and solved by ``solve_model`` (battery binaries added where a solution needs
    them); ``options.method`` chooses HiGHS's MILP or the price-fix heuristic (see
    ``solve_compiled``). ``start_on``: job id -> bool per step, a schedule to start from
    (``optimize.job_patterns`` of an earlier solve of a similar problem); it is used where
    it is feasible here and cheaper than the heuristic's own schedule.
    """
    options = options or SolverOptions()
    m, res, build_s, solve_s = solve_model(problem, options, start_on=start_on)
    if res.status == "infeasible":
        diagnose(problem, options)  # raises Infeasible
        raise SolveError("HiGHS reported infeasibility but the elastic model needs no slack")
    return extract_dispatch(
        m,
        problem,
        res.status,
        res.objective,
        res.mip_gap,
        build_s,
        solve_s,
        bound_usd=res.bound,
        gap_basis_usd=res.gap_basis,
    )
