"""The start's bound raised by probing (``optimize.probing``), as a step of the chain.

``probe_start`` probes a start not proven within ``mip_rel_gap`` against a target a hair
inside the gap (``PROBE_MARGIN``), so that a proof leaves the reported gap at the target
or below; ``prepared_start_probe`` sets the same probe up to run on another thread
(``optimize.probe_beside``). ``ProbeIncumbents`` probes an edge search's incumbents as
they come (the restart's, ``optimize.restart_chain``). Every probe is bounded by counts
(``SolverOptions.probe_limit`` disjunctions, ``PROBE_NODES`` nodes), never by the clock.
"""

from __future__ import annotations

import dataclasses

from optimize import progress
from optimize.fixer import job_columns
from optimize.highs import CompiledModel, relative_gap
from optimize.price_fix import PriceFixResult, start_gap
from optimize.probing import ProbeResult, prepared_probe, probe_bound
from optimize.solve_clock import spent
from optimize.solver_options import SolverOptions
from optimize.start_steps import report_start

# the probe aims this share of the gap inside it (so that a proof's gap rounds to the
# target or below); a probe over nodes goes on up to PROBE_NODES nodes (the disjunctions,
# SolverOptions.probe_limit, bound it first)
PROBE_MARGIN = 1e-6
PROBE_NODES = 200
# the restart's edge search probes an incumbent cheaper than the start it competes with
# where it is within this multiple of ``mip_rel_gap`` of the start's bound
# (``ProbeIncumbents``): the probe then lifts the bound by a tenth of the gap at most,
# which its disjunctions close within their budget (pro-rated ERCOT 2023-02-06: 7
# nodes); further out a probe that fails spends the budget the probe over nodes after
# the restart needs (2023-02-13: 200 disjunctions, 6.5 s, then that probe could not go on)
PROBE_INCUMBENT_GAPS = 1.1


def probe_start(
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
    run = prepared_start_probe(cm, m, options, pf, max_nodes, resume)
    return (pf, None) if run is None else run()


def prepared_start_probe(
    cm, m, options: SolverOptions, pf: PriceFixResult, max_nodes: int, resume, cancel=None
):
    """``probe_start`` set up on this thread, to run here or on another (``ProbeBeside``;
    ``cancel``: ``probing.prepared_probe``'s); None where it would not run."""
    if options.probe_limit <= 0 or pf.values is None or pf.bound_usd is None or spent():
        return None
    basis, gap = start_gap(cm, pf)
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
        report_start("probe", cm, out, probe.seconds)
        return out, probe

    return run


class ProbeIncumbents:
    """The edge search's ``prove`` callback (``optimize.highs.StopAtGap``) in the
    restart: an incumbent cheaper than the ``start`` it competes with and within
    ``PROBE_INCUMBENT_GAPS`` x ``mip_rel_gap`` of the start's bound is probed over nodes
    against its own target (as ``probe_start`` would after the restart), going on from the
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
        if self.done or objective >= self.start.objective_usd or not near or spent():
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
