"""``solve(problem, options) -> Dispatch``: Pyomo model → standard form → HiGHS (in memory).

The HiGHS plumbing (compilation, options, runs, loading the answer) is in
``optimize.highs``; this module chooses the method (HiGHS's MILP, with or without the
price-fix start and the chain of steps that improves it, or price-fix alone), adds
battery binaries where a solution needs them, and builds the ``Dispatch``
(``results.py``); an infeasible problem is diagnosed by ``optimize.diagnosis``. The
chain's steps share ``optimize.start_steps``; its probes are ``optimize.start_probe``,
its restarts ``optimize.restart_chain``.

Timings: ``build_s`` covers ``build_model`` and the compilation to standard form,
``solve_s`` the solve by the clock (every step of the method, on either thread, until
the last of them has ended) and loading the solution.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import highspy
import numpy as np
import pyomo.environ as pyo

from optimize.answer_cost import checked_answer
from optimize.diagnosis import diagnose
from optimize.errors import SolveError
from optimize.facility import it_capacity_breaches, it_capacity_rows
from optimize.highs import (
    CompiledModel,
    HighsResult,
    compile_model,
    load_solution,
    load_values,
    make_highs,
    run_highs,
    set_start,
)
from optimize.looser_proof import LOOSER_GAP, looser_options, looser_wanted, stronger_answer
from optimize.milp_from_start import milp_after_start
from optimize.model import build_model
from optimize.peak_cap import midway_caps, midway_wanted, quick_placement_wanted, restart_enough
from optimize.peak_split import SPLIT_MIN_GAP, peak_split
from optimize.price_fix import PriceFixResult, price_fix, proven_gap, seeded_schedule, start_gap
from optimize.probe_beside import ProbeBeside
from optimize.problem import Problem
from optimize.progress import progress_series, series_line
from optimize.ranges import extremes
from optimize.restart_ahead import restart_ahead
from optimize.restart_chain import restarted
from optimize.results import Dispatch, extract_dispatch
from optimize.simultaneous import extra_binary_steps, simultaneous_steps
from optimize.solve_clock import deadline, spent
from optimize.solver_options import SolverOptions
from optimize.start_probe import PROBE_NODES, prepared_start_probe, probe_start
from optimize.start_steps import (
    START_SHARE,
    cheaper_start,
    report_start,
    search_edges,
    start_limit_s,
)

# the first probe searches the root and at most FIRST_PROBE_NODES - 1 nodes after it
# (optimize.start_probe; the last one goes on up to PROBE_NODES nodes). Its few nodes prove
# pro-rated ERCOT 2023-10-09 before the restart (8.4 s, against 11.3 s with the root
# alone, when the last probe proved the same start in 3 nodes); a search that fails there
# costs at most a few dozen warm LPs (docs/model_jobs_history.md)
FIRST_PROBE_NODES = 3

# statuses that come with a feasible schedule (and its proven gap)
STOPS_WITH_SOLUTION = ("optimal", "time_limit", "node_limit", "heuristic")

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
    first (``search_edges``), whose schedule is the answer if it is within the gap; one
    still not proven is probed at the root and a few nodes (``probe_start``): a proof makes it
    the answer, and a raised bound counts in the gap either way. One not proven then meets
    the peak-capped restart and the pair moves (``restarted``, in ``_improve_start``; a
    second restart where those leave it unproven), and the start after them is probed by a
    search over more nodes (``_last_probe``; with two threads beside HiGHS's MILP).
    Where the solve's time limit (``optimize.solve_clock``, set by ``solve_model``) runs
    out before the MILP, the start is the answer: status ``"time_limit"`` unless proven.
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
    label = "price-fix" if options.method == "price-fix" else "start (price-fix)"
    # the given schedule first: where the LP bound proves it, price-fix stops there
    seed = seeded_schedule(h, cm, m, start_on) if start_on else None
    if seed is not None:
        h.clearSolver()  # price-fix's LP from no basis, as without a start
    pf = price_fix(
        h,
        cm,
        m,
        time_limit_s=limit,
        enough_gap=enough,
        target_gap=options.mip_rel_gap,
        progress_label=label,
        known_start=seed,
    )
    if seed is not None and pf.values is not seed.values:
        pf = cheaper_start(pf, seed)
    if options.method == "milp":
        pf, search = _improve_start(h, cm, m, options, pf)
        pf = _split_on_peak(h, cm, m, options, pf)
        pf, answer = _last_probe(h, cm, m, options, pf, search)
        if answer is not None:
            return answer
    basis = None
    if pf.values is not None:
        basis, gap = start_gap(cm, pf)
        # a start already proven within the gap is the answer: branch and bound could only
        # prove what is proven (and costs a presolve and a root at least)
        # the time limit spent in the steps before the MILP: the start is the answer
        out_of_time = options.method == "milp" and spent()
        if options.method == "price-fix" or gap <= options.mip_rel_gap or out_of_time:
            stop = "time_limit" if out_of_time else "heuristic"
            status = "optimal" if gap <= options.mip_rel_gap else stop
            result = HighsResult(status, pf.objective_usd, gap, True, pf.seconds, pf.bound_usd)
            result.gap_basis = basis
            return result, pf.values
        set_start(h, pf.values)
    return milp_after_start(h, cm, options, pf, basis)


def _improve_start(h, cm: CompiledModel, m, options: SolverOptions, pf: PriceFixResult):
    """The start for HiGHS's MILP: its edges searched, then probed at the root and a few
    nodes (``FIRST_PROBE_NODES``); one still not proven meets the peak-capped restarts and
    the pair moves (``restarted``; each step passes a start proven within
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
    limit = start_limit_s(options)
    ahead = restart_ahead(h, cm, m, options, pf, proven_gap(cm, pf), limit, enough, quick)
    try:
        searched = search_edges(h, cm, m, options, pf)
        midway = None  # the second restart's caps: midway to the searched start's peaks
        if searched.values is not None and midway_wanted(
            m, cm, searched.values, searched.objective_usd
        ):
            midway = midway_caps(m, cm, pf.lp_values, searched.values)
            if ahead is not None:
                ahead.start_midway(midway)
        pf, root = probe_start(cm, m, options, searched, max_nodes=FIRST_PROBE_NODES)
        return restarted(h, cm, m, options, pf, root, ahead, midway, enough, quick)
    finally:
        if ahead is not None:
            ahead.close()


def _last_probe(h, cm: CompiledModel, m, options: SolverOptions, pf, search):
    """The start probed by a search over nodes (``probe_start``), and None; with two threads,
    where the probe runs, HiGHS's MILP runs from the start beside it
    (``optimize.probe_beside``): its answer, unless the probe proved the start or found a
    schedule (then the start after the probe, as with one thread). The search goes on from
    the first probe (or from the probes of the restart's incumbents, ``search``) where the
    restart leaves the target as it was or lowers it (a cheaper start) instead of probing
    the root again."""
    cancel = threading.Event()
    run = prepared_start_probe(cm, m, options, pf, PROBE_NODES, search, cancel)
    if run is None:
        return pf, None
    if not _probe_beside_wanted(options):
        return run()[0], None
    t0 = time.perf_counter()
    set_start(h, pf.values)
    beside = ProbeBeside(run)
    try:
        answer = milp_after_start(h, cm, options, pf, start_gap(cm, pf)[0], beside)
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
    gap = proven_gap(cm, pf)
    wanted = options.peak_split and options.mip_rel_gap > SPLIT_MIN_GAP and not spent()
    if not wanted or gap is None or gap <= options.mip_rel_gap:
        return pf
    after = peak_split(h, cm, m, options, pf)
    if after is not pf:
        report_start("peak split", cm, after, after.seconds - pf.seconds)
    return after


def _probe_beside_wanted(options: SolverOptions) -> bool:
    """The last probe runs beside the MILP (``SolverOptions.second_thread``; a test
    switches it off to get the one-after-the-other order with the same HiGHS threads)."""
    return options.second_thread


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
    round with the full time limit). The IT capacity's rows are added the same way, at
    the steps where a solution passes it (``optimize.facility``). ``highs_options``:
    extra HiGHS options (name -> value). ``keep_searching``: a MILP that reaches its time
    limit without any solution runs on with the limit doubled, up to 8 times, then
    without a limit. ``start_on``: a job schedule to start from (see ``solve_compiled``).
    ``prebuilt``: the model of ``problem``, its compiled arrays and a ``Highs`` holding
    them with ``options`` set, built already (``optimize.window_prebuild``); used for the
    first round. A solve below the default gap whose answer is proven only beyond it is
    solved again at the default gap and keeps the stronger answer (``_looser_proof``).

    Returns the model, the last ``HighsResult``, and the build and solve seconds summed
    over the rounds. An infeasible model comes back with status ``"infeasible"`` (the
    caller diagnoses it); any other status without a solution raises ``SolveError``.
    """
    extra: set[int] = set()
    capacity: set[int] = set()  # IT capacity rows, added where a solution needs them
    build_s = solve_s = 0.0
    while True:
        t0 = time.perf_counter()
        if prebuilt is not None:
            (m, cm, h), prebuilt = prebuilt, None
        else:
            with extra_binary_steps(extra), it_capacity_rows(capacity):
                m = build_model(problem)
            cm = compile_model(m)
            h = make_highs(cm, options)
        _set_highs_options(h, highs_options)
        build_s += time.perf_counter() - t0
        res, values = _timed_solve(h, cm, m, options, start_on)
        if keep_searching:
            res = _search_on(h, cm, res, options)
        # HiGHS may value a start below its cost (optimize.answer_cost)
        res, values = checked_answer(h, cm, options, res, values)
        if looser_wanted(options, res, res.solve_s):
            res, values = _looser_proof(h, cm, m, options, (res, values), highs_options, start_on)
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
        over = set(it_capacity_breaches(m)) - capacity
        if not bad and not over:
            return m, res, build_s, solve_s
        extra |= bad
        capacity |= over


def _set_highs_options(h: highspy.Highs, highs_options: dict | None) -> None:
    """The caller's extra HiGHS options (name -> value) set on ``h``."""
    for key, value in (highs_options or {}).items():
        h.setOptionValue(key, value)


def _timed_solve(h, cm: CompiledModel, m, options: SolverOptions, start_on):
    """``solve_compiled`` under one deadline for all its steps (``optimize.solve_clock``),
    its ``solve_s`` by the clock, not the steps' sum: a step beside the chain that ends
    after the answer (a restart ahead it closes, a step dropped) is time the caller waits."""
    t0 = time.perf_counter()
    with deadline(options.time_limit_s):
        res, values = solve_compiled(h, cm, m, options, start_on)
    res.solve_s = time.perf_counter() - t0
    return res, values


def _looser_proof(h, cm: CompiledModel, m, options: SolverOptions, tight, highs_options, start_on):
    """The tight answer ``tight`` (result, columns or None for ``h``'s solution) and the
    model solved again at the default gap on a ``Highs`` of its own
    (``optimize.looser_proof``): the stronger of the two."""
    res, values = tight
    x = np.asarray(h.getSolution().col_value if values is None else values, dtype=float)
    loose = looser_options(options, res.solve_s)
    h_loose = make_highs(cm, loose)
    _set_highs_options(h_loose, highs_options)
    # its progress lines say whose they are: a second series after the first's last line
    with progress_series(series_line(f"again at {100 * LOOSER_GAP:g} %")):
        res_l, values_l = _timed_solve(h_loose, cm, m, loose, start_on)
    res_l, values_l = checked_answer(h_loose, cm, loose, res_l, values_l)
    if values_l is None and res_l.has_solution:
        values_l = np.asarray(h_loose.getSolution().col_value, dtype=float)
    return stronger_answer(cm, options, (res, x), (res_l, values_l))


def _search_on(h: highspy.Highs, cm: CompiledModel, res: HighsResult, options) -> HighsResult:
    """No incumbent within the time limit: run on with the limit doubled, then none."""
    spent_s = 0.0
    limit = options.time_limit_s
    while res.status == "time_limit" and not res.has_solution and limit is not None:
        limit = 2 * limit if limit < 8 * options.time_limit_s else None
        h.setOptionValue("time_limit", float("inf") if limit is None else limit)
        spent_s += res.solve_s
        res = run_highs(h, cm.integrality is not None)
    res.solve_s += spent_s
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
    _check_call(problem, options, start_on)
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


def _check_call(problem: Problem, options: SolverOptions, start_on: dict | None) -> None:
    """The arguments are what ``solve`` takes: a dict for the options, or a start of
    another length, had failed deep in the solve with an AttributeError or IndexError."""
    for name, value, kind in (("problem", problem, Problem), ("options", options, SolverOptions)):
        if not isinstance(value, kind):
            raise TypeError(f"{name}: a {kind.__name__}, not {type(value).__name__}")
    ids = {j.id for j in problem.jobs}
    for job_id, on in (start_on or {}).items():
        if job_id not in ids:
            raise ValueError(f"start_on: no job {job_id!r} in the problem")
        if np.shape(on) != (problem.n_steps,):
            raise ValueError(
                f"start_on[{job_id!r}] has shape {np.shape(on)}, expected ({problem.n_steps},)"
            )
