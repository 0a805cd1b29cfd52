"""How a ``Problem`` is solved: the method, the gap, HiGHS's threads and stops, and the
steps of the solve (docs/model_jobs.md, "How `method: milp` solves a job MILP"). Every
stop is a count or a gap by default, so the same inputs give the same answer on any
machine; a time limit is one setting away."""

from __future__ import annotations

from dataclasses import dataclass

from optimize.field_checks import check_amount, check_fraction, check_whole, is_number


@dataclass(frozen=True)
class SolverOptions:
    # A wall-clock limit makes results depend on the machine's speed: off by default (the
    # node limit below is the deterministic stop); one deadline for every step of the solve
    # (optimize.solve_clock); reported as status "time_limit" if it binds
    time_limit_s: float | None = None
    # 1 %: an answer in seconds on a week, its proven gap reported; 1e-3 or 0 for exactness
    mip_rel_gap: float = 1e-2
    # HiGHS branch-and-bound nodes (``mip_max_nodes``): a stop that is the same on every
    # machine; status "node_limit" (best schedule and its proven gap) if it binds
    node_limit: int | None = 1_000
    # HiGHS's threads. From 2, its branch and bound runs ceil(1.7 x threads) search workers
    # in rounds that HiGHS synchronises in a fixed order, so the answer depends on this
    # number and not on the machine's cores or load (on one core the same workers take
    # turns: slower, the same answer). From 2 also (``second_thread``): the peak-capped
    # restart runs beside the edge search (optimize/restart_ahead.py), the last probe
    # beside the MILP (optimize/probe_beside.py), and a rolling solve builds its next
    # window while one solves (optimize/window_prebuild.py), on a second Python thread.
    # 1: one worker, the reference search; no "automatic" (0), which would size the search
    # by the machine (docs/model_jobs.md)
    threads: int = 1
    seed: int = 0
    # "milp": HiGHS's branch and bound to ``mip_rel_gap``; "price-fix": the price-guided
    # job-fixing heuristic alone (``optimize.price_fix``: a feasible schedule and a proven
    # gap, in a few LP solves)
    method: str = "milp"
    # "milp" with jobs: start HiGHS from the price-fix schedule (a MIP start)
    price_fix_start: bool = True
    # HiGHS ``mip_pscost_minreliable`` (strong-branching reliability); None = HiGHS's
    # default (8). 1 was tried and not kept: mixed results (docs/model_jobs_history.md)
    pscost_min_reliable: int | None = None
    # HiGHS ``mip_heuristic_effort``, the share of its work spent in primal heuristics
    # (HiGHS's default, 0.05). 0.3 took R1 to 0.1 % in 27 s instead of 54 s, but on the B5
    # sample it was no faster to 1 % and slower to 0.1 % (docs/model_jobs_history.md)
    heuristic_effort: float = 0.05
    # HiGHS ``mip_allow_restart``: after the root, presolve again with the columns the
    # root fixed and redo the root (its cuts and sub-MIP heuristics) on the smaller model.
    # Off (2026-11-30): B5 pro-rated to 1 % took 972 s and 1,090 s in all (two runs) against
    # 1,323 s, R1 to 0.1 % 18 s against 34 s; R1 to 1 % 5.1 s against 1.7 s (a better
    # schedule), and ERCOT 2023-10-09 stops at the node limit with 1.13 %
    # (docs/model_jobs_history.md)
    root_restart: bool = False
    # "milp" with the price-fix start: before HiGHS's MILP, a sub-MIP may move the edges of
    # the start's job runs this many steps either way (``optimize.edge_search``); 0: off
    edge_search_steps: int = 2
    # a start not proven within ``mip_rel_gap`` is probed: one-variable disjunctions on the
    # LP relaxation with the cutoff at the gap, branched on where none fixes a column
    # (``optimize.probing``): at most this many disjunctions (each two warm LPs) per probe,
    # at the root before the peak-capped restart and over nodes after it; 0: off
    probe_limit: int = 200
    # a start not proven within ``mip_rel_gap`` after the edge search and the probe:
    # price-fix again with the demand-charge peaks capped at the LP relaxation's, and that
    # schedule's edges searched (``optimize.peak_cap``). On (2026-11-30): B5 pro-rated to
    # 1 % in 253 s of solve against 413 s, every week reached (ERCOT 2023-10-09 had stopped
    # at the node limit); the full-month sample's median 6.0 s against 8.4 s
    # (docs/model_jobs_history.md)
    peak_cap_restart: bool = True
    # a start still not proven after the restarts and the pairs: HiGHS's MILP on each side
    # of its demand-charge peak halfway to the LP's, the start's target as cutoff
    # (``optimize.peak_split``; side by side with two threads; gaps above 0.2 % only, and
    # where the peak's rise explains at least ``SPLIT_MIN_SHARE`` of the start's gap). On
    # since the fiftieth session, with that share: without it R1's Pareto front had taken
    # 39 -> 59 s (docs/model_jobs_history.md)
    peak_split: bool = True
    # HiGHS's banner and log on stdout (off: the CLI prints them with --verbose)
    log_to_console: bool = False
    # rolling windows (``optimize.rolling``): what a window pays for raising a demand
    # charge's peak. "share": the charge times the share of its steps from the window's
    # start on that the window models (a peak raised now serves the rest of the month,
    # which later windows use free); "full": the whole charge, the bill's own marginal
    # cost. On 25 rolling runs of an outside audit, "share" cost 0.9 % less in the median
    # (up to 32 % less where generators kept the windows off the grid, at most 1.9 %
    # more); B2 1.5 % less (docs/model_jobs.md, "Rolling horizon")
    window_demand_charge: str = "share"
    # rolling windows: the interruptions a window may spend of a preemptible job due after
    # it. "guided": all it has left but those the job's cheapest pattern over the rest of
    # its span, at the period's grid prices, spends after the window
    # (``optimize.restart_guide``); "all": all it has left, which windows blind to the
    # price spikes after them spent before the spikes (R1's heat-wave week in 48 h
    # windows: 774,893 -> 52,316 USD; 102 other week-configurations the same in all;
    # docs/model_jobs.md, "Rolling horizon")
    window_restarts: str = "guided"
    # rolling windows: what a window hands to the next. "guided": the work a preemptible
    # job due after the window may leave for later, and the battery's SOC at the window's
    # end, are those of price-fix's schedule of the rest of the job's span
    # (``optimize.window_guide``); "fixed": ``carry_fraction`` of the hours after the
    # window, and the battery's final SOC target at every window's end (R1's heat-wave
    # week in 48 h windows: 52,316 -> -6,191 USD; docs/model_jobs.md, "Rolling horizon")
    window_handover: str = "guided"

    def __post_init__(self) -> None:
        if self.method not in SOLVE_METHODS:
            raise ValueError(f"SolverOptions.method must be one of {SOLVE_METHODS}")
        if self.window_demand_charge not in WINDOW_DEMAND_CHARGES:
            raise ValueError(
                f"SolverOptions.window_demand_charge must be one of {WINDOW_DEMAND_CHARGES}"
            )
        if self.window_restarts not in WINDOW_RESTARTS:
            raise ValueError(f"SolverOptions.window_restarts must be one of {WINDOW_RESTARTS}")
        if self.window_handover not in WINDOW_HANDOVERS:
            raise ValueError(f"SolverOptions.window_handover must be one of {WINDOW_HANDOVERS}")
        for name in ("edge_search_steps", "probe_limit", "seed"):
            check_whole("SolverOptions", name, getattr(self, name))
        check_whole("SolverOptions", "threads", self.threads, least=1)
        if self.pscost_min_reliable is not None:
            check_whole("SolverOptions", "pscost_min_reliable", self.pscost_min_reliable)
        check_fraction("SolverOptions", "heuristic_effort", self.heuristic_effort)
        check_amount("SolverOptions", "mip_rel_gap", self.mip_rel_gap)
        t = self.time_limit_s
        if t is not None and not (is_number(t) and t > 0):  # NaN > 0 is false
            raise ValueError(f"SolverOptions.time_limit_s must be > 0 or None, got {t!r}")
        if self.node_limit is not None:
            check_whole("SolverOptions", "node_limit", self.node_limit, least=1)

    @property
    def second_thread(self) -> bool:
        """Work that needs nothing of what runs beside it goes to a second Python thread
        (``threads`` from 2; see that field)."""
        return self.threads >= 2

    @property
    def charge_share_of_rest(self) -> bool:
        """A window pays its share of the rest of each demand charge for a peak
        (``window_demand_charge`` "share"; ``demand_charges.window_charges``)."""
        return self.window_demand_charge == "share"

    @property
    def guide_restarts(self) -> bool:
        """A window spends the interruptions ``optimize.restart_guide`` gives it
        (``window_restarts`` "guided")."""
        return self.window_restarts == "guided"

    @property
    def guide_handover(self) -> bool:
        """A window hands over the work and SOC ``optimize.window_guide``'s schedule of the
        rest does (``window_handover`` "guided")."""
        return self.window_handover == "guided"


SOLVE_METHODS = ("milp", "price-fix")
WINDOW_DEMAND_CHARGES = ("share", "full")
WINDOW_RESTARTS = ("guided", "all")
WINDOW_HANDOVERS = ("guided", "fixed")
