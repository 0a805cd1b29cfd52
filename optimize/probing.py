"""Probing bound: is any schedule cheaper than a target? One-variable disjunctions on the
LP relaxation with an objective cutoff.

HiGHS's root spends most of a slow week's time in cut separation (path aggregation:
docs/model_jobs_history.md) and then closes the gap at its first branchings. Those branchings are
cheap to try directly: on ERCOT 2023-08-14 with the demand charge billed for the whole
month, the LP relaxation is 55,060 USD, the schedule found 67,725 USD and the target of a
1 % gap 57,668 USD; fixing ``pretrain-70b`` on or off at one step of its first day lifts
both LPs to 57,998 USD or more, while HiGHS's 460 cuts reach 56,292 USD in 12 s.

Given a schedule of cost ``U`` and a target ``T = U - rel_gap * basis`` (USD), let ``S`` be
the feasible schedules cheaper than ``T``. Starting from the LP relaxation (every integer
column continuous) with no fixings ``F``, for a binary column ``v`` (a job's on/off at one
step) fractional in the LP with ``F``:

- solve the LP with ``F`` and ``v = 0``, and with ``F`` and ``v = 1`` (dual simplex, warm
  from the current basis; HiGHS's ``objective_bound = T`` stops one as soon as its dual
  objective passes ``T``);
- if both pass ``T`` (or are infeasible), ``S`` is empty: no schedule costs less than ``T``;
- if one side passes ``T``, every schedule of ``S`` has ``v`` at the other value: add that
  fixing to ``F``. If the LP with ``F`` passes ``T``, ``S`` is empty.

Each fixing holds for every schedule of ``S``, so the LP with ``F`` is a relaxation of
``S`` and its objective ``z_F`` a lower bound of every schedule in it.

Where no disjunction of a node fixes a column, the node is branched on: of the
disjunctions tried there, the one whose weaker side has the highest LP makes two child
nodes, ``F + {v = 0}`` and ``F + {v = 1}``, each with its side's LP objective as its bound
and its basis as its start. Nodes are taken best bound first (ties: the older) and probed
the same way; a node whose LP passes ``T`` (or is infeasible) is closed. This is branch and
bound on the LP relaxation with the cutoff at ``T``: every schedule of ``S`` lies in an
open node (its fixings hold for it), so the optimum is at least ``min(T, the lowest open
bound)``. That is the bound returned, proven (no open node) or not, and it is never below
the plain LP's. A node whose LP solution has every integer column integral is a schedule
cheaper than ``T``: the search stops and returns it (and its cost counts in the bound).
Fixings are not passed on: a schedule at or above ``T`` (the start itself) may break them.

Candidates: the job on/off columns fractional in the node's LP, the largest
``power * min(x, 1 - x)`` first (the MW the relaxation holds between off and on), each
tried once at a node; after a fixing the LP is re-solved and the candidates ranked again.
A node is branched on after ``CANDIDATES`` disjunctions in a row without a fixing (or when
none is left). A node with its job columns integral but a battery or generator binary
fractional is branched on that binary. The search stops at a proof, at a schedule, after
``max_probes`` disjunctions or after ``max_nodes`` nodes: counts, not a clock, so the
result is the same on every machine. With ``max_nodes = 1`` it is the root's probe alone
(its branching still raises the bound to the weaker side of its best disjunction).

Why it proves what HiGHS's MILP takes long to: on ERCOT 2023-10-09 (B5, pro-rated) HiGHS
spent 12 s on root cuts (180,516 -> 180,829 USD) and 8 s in sub-MIP heuristics, and closed
the gap to 1 % at its first branching; the search here needs 11 nodes of warm LPs without
cuts (about 4 s; docs/model_jobs_history.md).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from optimize.highs import (
    INTEGRAL_TOL,
    CompiledModel,
    fractional_columns,
    make_highs,
    set_integrality,
)
from optimize.solve_clock import spent
from optimize.solver_options import SolverOptions

_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = highspy.HighsModelStatus.kInfeasible
# statuses that put an LP at or above the cutoff: passed it, or no solution at all
_CUT_OFF = (highspy.HighsModelStatus.kObjectiveBound, _INFEASIBLE)
# disjunctions in a row without a fixing after which a node is branched on (the root's
# probe alone, as before the search over nodes, gave up after 10: on the B5 weeks it
# proved, fixings came at most 8 disjunctions apart)
CANDIDATES = 10
# the search over nodes gives up once it has spent SLOW_AFTER disjunctions and closed less
# of the gap between the root's LP and the target than SLOW_RATE x the share of its budget
# spent. On the weeks it proves, it had closed 0.31 of it by 58 of 200 and 0.59 by 46; on
# R3 and CAISO 2023-07-03 (full month), which it does not prove in 200, 0.04-0.07 by 50
SLOW_AFTER = 50
SLOW_RATE = 0.5


@dataclass(frozen=True)
class ProbeResult:
    """``proven``: no schedule costs less than ``target_usd``; ``bound_usd``: a lower
    bound of the optimum (``target_usd`` when proven); ``probes`` (disjunctions),
    ``fixings``, ``nodes``: counts (a resumed search's include the first run's);
    ``seconds`` (this run's). ``objective_usd`` and ``values``: a schedule cheaper than
    the target, where a node's LP solution was one (else None). ``search``: the search's
    live state where a larger node budget could go on from it (``probe_bound(resume=...)``
    goes on in it: this result's other fields stay as they were, its ``search`` does not)."""

    proven: bool
    bound_usd: float
    target_usd: float
    probes: int
    fixings: int
    nodes: int
    seconds: float
    objective_usd: float | None = None
    values: np.ndarray | None = None
    search: _Tree | None = field(default=None, repr=False)


class _Relaxation:
    """The LP relaxation of ``cm`` on its own ``Highs`` object, with a cutoff and fixings."""

    def __init__(self, cm: CompiledModel, options: SolverOptions, target_usd: float) -> None:
        self.h = make_highs(cm, options)
        set_integrality(self.h, cm.integer_columns(), False)
        self.h.setOptionValue("presolve", "off")  # warm LPs: nothing to presolve
        self.h.setOptionValue("objective_bound", float(target_usd))
        self.h.setOptionValue("time_limit", float("inf"))  # the probe is bounded by counts
        self.target_usd = float(target_usd)
        self.lower, self.upper = cm.col_lower, cm.col_upper
        self.fixed: dict[int, float] = {}

    def solve(self, infeasible_cuts: bool = True) -> float:
        """Solve with the fixings: the objective, or +inf at or above the cutoff (or
        infeasible, if ``infeasible_cuts``), or -inf if not solved."""
        self.h.run()
        status = self.h.getModelStatus()
        if status == _INFEASIBLE and not infeasible_cuts:
            return -np.inf
        if status in _CUT_OFF:
            return np.inf
        z = float(self.h.getInfo().objective_function_value)
        if status != _OPTIMAL:
            return -np.inf  # not solved: proves nothing
        return np.inf if z >= self.target_usd else z

    def side(self, col: int, value: float) -> tuple[float, highspy.HighsBasis]:
        """The LP with ``col`` (not fixed) also at ``value``: its ``solve()`` and basis."""
        self.h.changeColBounds(col, value, value)
        try:
            return self.solve(), self.h.getBasis()
        finally:
            self.h.changeColBounds(col, self.lower[col], self.upper[col])

    def set_fixings(self, fixings: dict[int, float]) -> None:
        """Hold the columns of ``fixings`` at their values and every other at its bounds."""
        for col in set(self.fixed) - set(fixings):
            self.h.changeColBounds(col, self.lower[col], self.upper[col])
        for col, value in fixings.items():
            if self.fixed.get(col) != value:
                self.h.changeColBounds(col, value, value)
        self.fixed = dict(fixings)

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)


def _ranked(x: np.ndarray, cols: np.ndarray, power_mw: np.ndarray, tried: set[int]):
    """The fractional columns of ``cols`` not yet tried, most MW between off and on first."""
    frac = np.minimum(x[cols], 1.0 - x[cols])
    score = np.where(frac > INTEGRAL_TOL, power_mw * frac, 0.0)
    order = np.argsort(-score, kind="stable")
    return [int(cols[k]) for k in order if score[k] > 0 and int(cols[k]) not in tried]


@dataclass(order=True)
class _Node:
    """An open node: its fixings, a lower bound of its LP (its own objective where the
    disjunction that made it solved it, else its parent's) and a basis to start from."""

    bound_usd: float
    seq: int  # creation order: ties go to the older node (the same on every machine)
    fixings: dict[int, float] = field(compare=False)
    basis: highspy.HighsBasis | None = field(compare=False, default=None)


class _Tree:
    """Best-first search over nodes of fixings; counts of disjunctions and nodes bound it."""

    def __init__(self, lp: _Relaxation, cm: CompiledModel, jobs: list, budget: tuple[int, int]):
        self.lp = lp
        self.on_cols = np.concatenate([jc.on for jc in jobs]).astype(np.int32)
        self.power_mw = np.concatenate(
            [np.full(len(jc.on), jc.job.full_power_it_mw) for jc in jobs]
        )
        self.int_cols = np.asarray(cm.integer_columns(), dtype=np.int32)
        self.max_probes, self.max_nodes = budget
        self.open: list[_Node] = []
        self.probes = self.fixings = self.nodes = self.seq = 0
        self.schedule: tuple[float, np.ndarray] | None = None
        self.root_usd: float | None = None  # the root's LP objective
        self.halted = False  # an LP not solved ended the search: it cannot go on
        self.cancel: threading.Event | None = None  # set: stop at the next disjunction

    def push(self, bound_usd: float, fixings: dict[int, float], basis) -> None:
        heapq.heappush(self.open, _Node(bound_usd, self.seq, fixings, basis))
        self.seq += 1

    def cancelled(self) -> bool:
        """The caller gave up on the search (``prepared_probe``'s ``cancel``), or the
        solve's time limit is spent (``optimize.solve_clock``; never without one)."""
        return (self.cancel is not None and self.cancel.is_set()) or spent()

    def spent(self) -> bool:
        """The budget of disjunctions or of nodes is used up."""
        return self.probes >= self.max_probes or self.nodes >= self.max_nodes

    def slow(self) -> bool:
        """A search over nodes closes the root's gap too slowly to prove the target within
        its disjunctions: from ``SLOW_AFTER`` disjunctions on, less than ``SLOW_RATE`` x the
        share of them spent. (The root's probe alone stops by ``CANDIDATES``.) Asked by
        ``run`` between nodes, with open nodes left."""
        if self.max_nodes <= 1 or self.probes < SLOW_AFTER or self.root_usd is None:
            return False
        target = self.lp.target_usd
        closed = (self.open[0].bound_usd - self.root_usd) / max(target - self.root_usd, 1e-9)
        return closed < SLOW_RATE * self.probes / self.max_probes

    def retarget(self, target_usd: float) -> None:
        """Go on against a target at or below the current one: every schedule cheaper than
        it is cheaper than the old one, so each fixing, closed node and open node's bound
        holds for it as well; open nodes at or above it are closed."""
        self.lp.target_usd = target_usd
        self.lp.h.setOptionValue("objective_bound", target_usd)
        self.open = [n for n in self.open if n.bound_usd < target_usd]
        heapq.heapify(self.open)

    def can_go_on(self) -> bool:
        """Open nodes are left and only the node budget stopped the search."""
        return bool(self.open) and not self.halted and self.schedule is None

    def run(self) -> None:
        """Take the open nodes best bound first and probe each, until none is left, the
        budget is spent, a schedule is found, or the search is too slow (``slow``)."""
        while self.open and not self.spent() and self.schedule is None:
            if self.slow() or self.cancelled():
                return
            node = heapq.heappop(self.open)
            self.nodes += 1
            self.lp.set_fixings(node.fixings)
            if node.basis is not None:
                self.lp.h.setBasis(node.basis)
            # the root's relaxation has a schedule (the start), so "infeasible" there would
            # be numerical trouble, not a proof; a node's fixings can make it infeasible
            z = self.lp.solve(infeasible_cuts=bool(node.fixings))
            if z == -np.inf:  # not solved (numerical trouble): open for good, search over
                self.push(node.bound_usd, node.fixings, None)
                self.halted = True
                return
            if self.root_usd is None:
                self.root_usd = z
            if z < np.inf:
                self.probe(node.fixings, z)

    def probe(self, fixings: dict[int, float], z: float) -> None:
        """Probe a node whose LP (objective ``z``) is solved: fix what one side cuts off
        and re-solve, until the node is cut off or integral in its job columns, or
        ``CANDIDATES`` disjunctions in a row fix nothing (then branch on the best of them).
        A column tried at the node is not tried there again."""
        tried: set[int] = set()
        while True:
            # the candidates rank on this LP's solution (a side's LP overwrites it)
            x, basis = self.lp.values(), self.lp.h.getBasis()
            cols = _ranked(x, self.on_cols, self.power_mw, tried | set(fixings))
            if not cols:
                self.no_job_branch(fixings, z, x, basis)
                return
            best = None  # (weaker side's bound, column, off side, on side)
            for col in cols[:CANDIDATES]:
                if self.probes >= self.max_probes or self.cancelled():
                    self.push(z, fixings, basis)  # left open with its own bound
                    return
                tried.add(col)
                self.probes += 1
                off, on = self.lp.side(col, 0.0), self.lp.side(col, 1.0)
                if off[0] == np.inf and on[0] == np.inf:
                    return  # both sides cut off: so is the node
                if off[0] == np.inf or on[0] == np.inf:
                    break
                score = min(max(off[0], z), max(on[0], z))  # a side not solved keeps z
                if best is None or score > best[0]:
                    best = (score, col, off, on)
            else:  # no fixing in a row of CANDIDATES (or the last ones): branch
                self.branch(fixings, z, best)
                return
            value = 1.0 if off[0] == np.inf else 0.0
            fixings = {**fixings, col: value}
            self.fixings += 1
            # warm from the last side's basis: a setBasis costs about an LP
            self.lp.set_fixings(fixings)
            z_new = self.lp.solve()
            if z_new == -np.inf:  # not solved: the node stays open at its bound
                kept = on if value else off
                self.push(max(kept[0], z), fixings, None)
                return
            if z_new == np.inf:
                return
            z = z_new

    def branch(self, fixings: dict[int, float], z: float, best) -> None:
        """Two child nodes from the disjunction ``best``: each side's fixing, its LP
        objective as the bound (``z`` where the side was not solved) and its basis."""
        _, col, off, on = best
        for value, (z_side, basis) in ((0.0, off), (1.0, on)):
            self.push(max(z_side, z), {**fixings, col: value}, basis)

    def no_job_branch(self, fixings, z: float, x: np.ndarray, basis) -> None:
        """A node whose job columns are all integral: branch on another fractional integer
        column (a battery or generator binary) or, with none, keep the LP's solution: a
        schedule cheaper than the target."""
        frac = fractional_columns(x, self.int_cols)
        if not len(frac):
            self.schedule = (z, x.copy())
            return
        col = int(frac[0])
        for value in (0.0, 1.0):
            self.push(z, {**fixings, col: value}, basis)

    def bound_usd(self, target_usd: float) -> float:
        """``min(T, the open nodes' bounds, the schedule found)``: every schedule cheaper
        than ``T`` lies in an open node or is the one found."""
        found = [] if self.schedule is None else [self.schedule[0]]
        return min([target_usd, *[n.bound_usd for n in self.open], *found])


def probe_bound(
    cm: CompiledModel,
    options: SolverOptions,
    jobs: list,
    target_usd: float,
    *,
    max_probes: int,
    max_nodes: int,
    lp_basis: highspy.HighsBasis | None = None,
    resume: ProbeResult | None = None,
) -> ProbeResult:
    """Probe the on/off columns of ``jobs`` (``optimize.fixer.job_columns`` of the
    model compiled to ``cm``) against ``target_usd``, branching where no disjunction fixes
    a column, with at most ``max_probes`` disjunctions over at most ``max_nodes`` nodes;
    see the module docstring. ``lp_basis``: an optimal basis of the LP relaxation (e.g.
    price-fix's), to start from. ``resume``: an earlier probe of the same model with the
    same budget of disjunctions and a smaller one of nodes; with the same target, the
    search goes on from where that one stopped: the same nodes, disjunctions and result as
    a search run from the root with this budget, without probing the root again. With a
    lower target (a cheaper start) it goes on from there as well: every schedule cheaper
    than the lower target is cheaper than the first, so the first search's fixings and
    open nodes' bounds hold (``_Tree.retarget``); the result is then not that of a search
    from the root, but as valid. A higher target starts from the root."""
    budget = (max_probes, max_nodes)
    return prepared_probe(cm, options, jobs, target_usd, budget, lp_basis, resume)()


def prepared_probe(
    cm: CompiledModel,
    options: SolverOptions,
    jobs: list,
    target_usd: float,
    budget: tuple[int, int],
    lp_basis: highspy.HighsBasis | None = None,
    resume: ProbeResult | None = None,
    cancel: threading.Event | None = None,
) -> Callable[[], ProbeResult]:
    """``probe_bound`` in two parts: this sets the search up (its ``Highs`` object made
    here, on the thread whose output is muted: ``optimize.highs.new_highs``) and returns
    the search, which may run on another thread. ``budget``: (disjunctions, nodes).
    ``cancel``: once set, the search stops at its next disjunction with a result that is
    valid but worth nothing (for a caller that gives up: a Ctrl-C beside it)."""
    t0 = time.perf_counter()
    max_probes, max_nodes = budget
    tree = resume.search if resume is not None else None
    if tree is not None and tree.max_probes == max_probes and target_usd <= tree.lp.target_usd:
        tree.retarget(float(target_usd))
    else:
        tree = _Tree(_Relaxation(cm, options, target_usd), cm, jobs, budget)
        tree.push(-np.inf, {}, lp_basis)
    tree.max_nodes, tree.cancel = max_nodes, cancel
    setup_s = time.perf_counter() - t0

    def search() -> ProbeResult:
        t1 = time.perf_counter()
        tree.run()
        found = tree.schedule
        return ProbeResult(
            not tree.open and found is None,
            tree.bound_usd(target_usd),
            target_usd,
            tree.probes,
            tree.fixings,
            tree.nodes,
            setup_s + time.perf_counter() - t1,
            None if found is None else found[0],
            None if found is None else found[1],
            tree if tree.can_go_on() else None,
        )

    return search
