"""Rolling-horizon solve of a long problem in windows (``solve_rolling``).

Window ``w`` commits the steps ``[a_w, a_{w+1})`` and optimises ``[a_w, e_w)`` with
``e_w = min(a_{w+1} + overlap_steps, n)`` (look-ahead). Window starts are
``0, window_steps, 2*window_steps, ...`` or the explicit ``boundaries``. Each window is a
sub-``Problem`` built from slices of the arrays and the state carried from the committed
steps of the previous window:

* battery: ``soc_initial_frac`` = committed end SOC; ``soc_final_frac`` (if set) is imposed at
  the end of every window's model horizon, or the handover guide's SOC there (below);
* grid: ``initial_net_import_mw`` = last committed net import (ramp limit across windows);
  the limits after the window's end reach it through the ramp limit
  (``optimize.window_state.ramp_reach``: ``Grid.reach_max_mw`` and ``reach_min_mw``);
  demand charges: the peak of each charge (by key) already reached in earlier windows is
  its ``prior_peak_mw``, a lower bound of its peak variable, so a window pays only for
  raising it (``optimize.demand_charges.window_charges``), at the share of the charge's
  steps from its start on that it models (``SolverOptions.window_demand_charge``
  "share", the default: later windows of the month use that peak free; "full": the
  whole charge); tiered energy: the energy of
  each billing month imported in earlier windows fills its first blocks
  (``optimize.energy_tiers.window_tiers``);
* demand-response program: ``commit_mw`` must be fixed; each window holds its events, its
  baseline terms on earlier steps become constants from the committed net import
  (``optimize.dr_settlement.window_program``); the whole horizon is settled once at the end;
* jobs: remaining work (progress = physical throughput − restart overhead × restarts),
  interruptions used, running state (``running_at_start``). A job already started and
  stopped that starts again pays its restart: its window requirement is raised by
  ``restart_overhead_h`` and one interruption is pre-counted. Jobs released after the model
  horizon wait; jobs whose deadline lies beyond it are in the window with a horizon credit
  (see ``optimize.jobs.horizon_credit``): a preemptible job may leave
  ``carry_fraction × (hours after the horizon before its deadline)`` of its work to later
  windows (with the handover guide, ``SolverOptions.window_handover`` "guided", the default:
  what price-fix's schedule of the rest leaves for after the window, ``optimize.window_guide``,
  for a job the window commits steps of); a non-preemptible job running at the horizon end
  continues. A non-preemptible job that stopped unfinished (possible only with an
  unfinished-work penalty) stays unfinished. A preemptible job that leaves work for later
  keeps a spare interruption for its restart unless it runs at the horizon end (see
  ``optimize.jobs``).

If a window is infeasible because the window before it left too much work for later, that
window is solved again with half the carry fraction, then with none (backtracking; the
handover guide's credits are scaled the same way). A window with no schedule under a guide
is solved again without it, the handover guide first, then the restart guide.

The window's problem and the carried state are ``optimize.window_state``'s; this module
drives the windows. Each window is built with ``optimize.model.build_model``, compiled and
solved with the same in-memory HiGHS path as ``optimize.solve``. The model is rebuilt per
window: its structure changes between windows (jobs enter and leave). With two threads or
more (``SolverOptions.threads``) the next two windows are built and compiled on a worker
thread while this one solves, where they can be predicted (no job carries work across
the commits before them), with their LP relaxation solved at a guessed carried state;
the real state is a few column bounds set when the window comes, and its first LP starts
from that basis (``optimize.window_pipeline``, ``optimize.carried_state``,
``optimize.window_prebuild``). The answer is the same whether a window was built ahead or
not (B2: 35.5 -> 31.3 s with the builds ahead, 30.1 -> 25.8 s with the guessed LPs,
docs/model_jobs_history.md). An infeasible window raises ``optimize.Infeasible`` with the
window's diagnosis, steps shifted to the full horizon.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from optimize.bill import grid_bill, split_bill
from optimize.carried_state import state_columns
from optimize.diagnosis import diagnose
from optimize.dr_settlement import fixed_settlement
from optimize.errors import Infeasible, Slack, SolveError
from optimize.jobs import horizon_credit
from optimize.problem import Problem
from optimize.progress import progress_series, report, series_line
from optimize.results import Dispatch, extract_dispatch
from optimize.solver_options import SolverOptions
from optimize.solving import solve_model
from optimize.window_guide import Handover, handover_guide, with_handover
from optimize.window_pipeline import WindowPipeline
from optimize.window_prebuild import Prebuilder
from optimize.window_state import Carried, JobState, carry_state, window_problem

_TOL = 1e-6


@dataclass
class RollingDispatch(Dispatch):
    """A ``Dispatch`` over the committed steps of all windows, plus per-window stats.

    ``windows``: one dict per window with ``window``, ``start``, ``end`` (committed steps),
    ``horizon_end``, ``n_jobs``, ``build_s``, ``solve_s``, ``mip_gap``, ``status``,
    ``objective_usd`` and ``bound_usd`` (of the window model, look-ahead included).
    ``status`` is ``"optimal"`` if every window was, else ``"time_limit"``; ``mip_gap`` is the
    largest window gap; ``objective_usd`` is the cost of the committed schedule (energy +
    demand + fuel + wear + carbon + unfinished penalty); ``bill`` is its grid bill (each
    demand charge on its peak over all committed steps, counted once).
    """

    windows: list[dict] = field(default_factory=list)


def solve_rolling(
    problem: Problem,
    window_steps: int,
    overlap_steps: int = 0,
    options: SolverOptions | None = None,
    *,
    boundaries: list[int] | None = None,
    end_step: int | None = None,
    carry_fraction: float = 0.5,
    on_window=None,
    highs_options: dict | None = None,
) -> RollingDispatch:
    """Solve ``problem`` window by window; see the module docstring for the carried state.

    ``boundaries``: explicit committed window starts (sorted, first 0); otherwise
    multiples of ``window_steps``. ``end_step``: stop after this step (default ``n_steps``;
    series then have length ``end_step``). ``options`` apply to every window (a time
    limit is per window; a window without any solution at its limit continues with the
    limit doubled, up to 8 times, then without a limit); ``options.method`` is the window
    solve (``optimize.solving.solve_compiled``: HiGHS's MILP or price-fix). ``on_window``:
    called with each window's stats dict when it is done. ``highs_options``: extra HiGHS
    options (name -> value) for every window.

    A ``Problem`` with ``sizing`` is refused (``ValueError``): a size holds over the whole
    horizon, which no window sees.

    Backtracking: when a window is infeasible and the window before it left work for later
    (``carry_fraction > 0``), that window is solved again with half the fraction (then 0)
    and the solve goes on from there; only an infeasibility that remains with no carried
    work is raised (``optimize.Infeasible``, steps of the full horizon).
    """
    if problem.sizing is not None:
        raise ValueError(
            "solve_rolling: a Problem with sizing needs one solve (sizes couple the horizon)"
        )
    options = options or SolverOptions()
    n = int(problem.n_steps if end_step is None else min(end_step, problem.n_steps))
    starts = _window_starts(n, window_steps, boundaries)
    ends = [*starts[1:], n]
    states = {j.id: JobState(j, float(j.work_h), running=j.running_at_start) for j in problem.jobs}
    carried = Carried(states, None, problem.grid.initial_net_import_mw)
    rules = _Rules.of(len(starts), float(carry_fraction), options)
    horizon_ends = [min(c + int(overlap_steps), problem.n_steps) for c in ends]
    windows = list(zip(starts, ends, horizon_ends, strict=True))
    with _pipeline(problem, options) as pre:
        return _solve_windows(
            problem, windows, rules, carried, options, highs_options, on_window, pre, n
        )


@dataclass
class _Rules:
    """Per window: its horizon credit's fraction (halved by backtracking), and whether the
    restart guide (``optimize.restart_guide``) and the handover guide
    (``optimize.window_guide``) set its jobs; a guide is dropped for a window that has no
    schedule with it. ``base``: the fraction asked, against which backtracking scales
    the handover guide's credits."""

    fractions: list[float]
    restarts: list[bool]
    handover: list[bool]
    base: float

    @classmethod
    def of(cls, n_windows: int, fraction: float, options: SolverOptions) -> _Rules:
        return cls(
            [fraction] * n_windows,
            [options.guide_restarts] * n_windows,
            [options.guide_handover] * n_windows,
            fraction,
        )

    def credit_scale(self, w: int) -> float:
        """The factor on window ``w``'s guided credits: its fraction against the base."""
        return self.fractions[w] / self.base if self.base > 0 else 0.0

    def drop_guide(self, w: int, handover_used: bool) -> bool:
        """Drop a guide window ``w`` was solved with (the handover first); False where
        it had none."""
        if handover_used:
            self.handover[w] = False
        elif self.restarts[w]:
            self.restarts[w] = False
        else:
            return False
        return True


@contextlib.contextmanager
def _pipeline(problem: Problem, options: SolverOptions) -> Iterator[Prebuilder | None]:
    """A ``Prebuilder`` where the next windows are built while one solves
    (``optimize.window_pipeline``): with two threads or more (``SolverOptions.threads``)
    and no demand-response program (its baseline terms depend on every committed step);
    else None. The model of a pipelined run holds the carried state in columns
    (``optimize.carried_state``), the windows built ahead or not, so that both give the
    same arrays."""
    if not options.second_thread or problem.dr_program is not None:
        yield None
        return
    with state_columns(), Prebuilder() as pre:
        yield pre


def _solve_windows(problem, windows, rules, carried, options, highs_options, on_window, pre, n):
    """The windows' loop of ``solve_rolling`` (``windows``: (start, commit end, model end))."""
    done = _Solved()
    pipe = None
    if pre is not None:
        pipe = WindowPipeline(problem, windows, rules.fractions, done.before, options, pre)
    fractions = rules.fractions
    w = 0
    while w < len(windows):
        a, c, e = windows[w]
        done.drop_from(w)
        done.before.append(carried.copy())
        # the guide's own price-fix lines name it
        with progress_series(series_line(f"window {w + 1}/{len(windows)} handover guide")):
            sub, jobs, guide = _window_of(problem, carried, windows[w], rules, w, options)
        try:
            # the lines printed inside the window's solve name it
            with progress_series(series_line(f"window {w + 1}/{len(windows)}")):
                d, m, stats = _solve_window(
                    (sub, jobs), carried, (a, e), fractions[w], options, highs_options, w, pipe
                )
        except Infeasible:
            if rules.drop_guide(w, guide is not None):  # no guide is a rule of the period
                continue
            if w > 0 and fractions[w - 1] > 0:  # backtrack: the window before leaves less
                fractions[w - 1] = fractions[w - 1] / 2 if fractions[w - 1] > 0.2 else 0.0
                w -= 1
                carried = done.before[w].copy()
                if pipe is not None:
                    pipe.backtrack()
                continue
            raise
        stats = {"window": w, "start": a, "end": c, "horizon_end": e, "n_jobs": len(jobs)} | stats
        stats |= {"carry_fraction": fractions[w], "restart_guide": rules.restarts[w]}
        stats |= _guide_stats(guide)
        done.add(d, _generator_mw(problem, m, c - a), stats)
        if on_window is not None:
            on_window(stats)
        report(_window_line(stats, len(windows)))
        carry_state(problem, carried, d.series, jobs, a, c)
        w += 1
    # per generator, the committed MW of each window
    gens = {g.name: [x[g.name] for x in done.gen_mw] for g in problem.generators}
    starts, ends = [x[0] for x in windows], [x[1] for x in windows]
    return _concatenate(problem, n, done.parts, starts, ends, done.windows, carried.states, gens)


def _window_of(problem, carried: Carried, window, rules: _Rules, w: int, options):
    """Window ``w``'s problem (``window``: ``(a, c, e)``) from the carried state, its jobs,
    and the handover guide it was given (None: none), by ``rules``."""
    a, c, e = window
    guide_until = c if rules.restarts[w] else None
    share = options.charge_share_of_rest
    sub, jobs = window_problem(problem, carried, a, e, share, guide_until)
    guide = None
    if rules.handover[w]:
        guide = handover_guide(problem, carried, window, jobs, options, rules.fractions[w])
    if guide is not None:
        sub, jobs = with_handover(sub, jobs, guide, rules.credit_scale(w))
    return sub, jobs, guide


def _guide_stats(guide: Handover | None) -> dict:
    """A window's stats of its handover guide: whether it had one, and its seconds."""
    return {"handover_guide": guide is not None, "guide_s": 0.0 if guide is None else guide.seconds}


def _window_starts(n: int, window_steps: int, boundaries: list[int] | None) -> list[int]:
    """The committed window starts: the ``boundaries`` in ``[0, n)`` with 0, or multiples
    of ``window_steps``."""
    if boundaries is None:
        return list(range(0, n, int(window_steps)))
    return sorted({int(b) for b in boundaries if 0 <= b < n} | {0})


@dataclass
class _Solved:
    """The windows solved so far, element ``w`` of each list for window ``w``: the state it
    started from, its dispatch, its stats and its generators' committed MW."""

    before: list[Carried] = field(default_factory=list)
    parts: list[Dispatch] = field(default_factory=list)
    windows: list[dict] = field(default_factory=list)
    gen_mw: list[dict[str, np.ndarray]] = field(default_factory=list)

    def drop_from(self, w: int) -> None:
        """Forget window ``w`` and those after it (it is solved again)."""
        del self.before[w:], self.parts[w:], self.windows[w:], self.gen_mw[w:]

    def add(self, d: Dispatch, gen_mw: dict[str, np.ndarray], stats: dict) -> None:
        self.parts.append(d)
        self.gen_mw.append(gen_mw)
        self.windows.append(stats)


def _generator_mw(problem: Problem, m, k: int) -> dict[str, np.ndarray]:
    """Each generator's MW in the first ``k`` (committed) steps of a solved window model."""
    return {
        g.name: np.array([m.gen_mw[g.name, t].value for t in range(k)], dtype=float)
        for g in problem.generators
    }


def _solve_window(posed, carried: Carried, span, fraction, options, highs_options, w, pipe):
    """Solve window ``w``'s problem and jobs ``posed`` (modelled over ``span``, ``(a,
    e)``; its horizon credit's ``fraction``); returns the dispatch, the solved model and
    the window stats. With a ``WindowPipeline`` ``pipe``, the window's model comes from
    it (built ahead, or here from its guessed state) and the windows after it are
    predicted and handed to it.
    Raises ``Infeasible`` with the window's diagnosis (steps of the full horizon)."""
    (sub, jobs), (a, e) = posed, span
    prebuilt, ahead, built_here_s = None, False, 0.0
    if pipe is not None:
        t0 = time.perf_counter()
        prebuilt, ahead = pipe.model(w, sub)
        built_here_s = 0.0 if ahead else time.perf_counter() - t0
        pipe.look_ahead(w, carried, jobs)
    with horizon_credit(fraction):
        try:
            m, res, build_s, solve_s = solve_model(
                sub, options, highs_options, keep_searching=True, prebuilt=prebuilt
            )
        except SolveError as exc:
            raise SolveError(f"window {w} (steps {a}-{e}): {exc}") from None
        if res.status == "infeasible":
            try:
                diagnose(sub, options)
            except Infeasible as exc:
                shifted = [
                    Slack(s.kind, s.name, [t + a for t in s.steps], s.amount, s.unit)
                    for s in exc.diagnosis
                ]
                raise Infeasible(shifted) from None
            raise SolveError(f"window {w} (steps {a}-{e}) infeasible, no slack found")
    build_s += built_here_s
    d = extract_dispatch(m, sub, res.status, res.objective, res.mip_gap, build_s, solve_s)
    stats = {
        "prebuilt": ahead,
        "build_s": build_s,
        "solve_s": solve_s,
        "mip_gap": res.mip_gap,
        "status": res.status,
        "objective_usd": res.objective,
        "bound_usd": res.bound,
        "gap_basis_usd": res.gap_basis,
    }
    return d, m, stats


def _window_line(x: dict, n_windows: int) -> str:
    """The progress line of a finished window (stderr, when progress is on)."""
    return (
        f"window {x['window'] + 1}/{n_windows} (steps {x['start']}-{x['end']}): "
        f"{x['status']}, objective {x['objective_usd']:,.0f} USD, gap {100 * x['mip_gap']:.2f} %, "
        f"{x['build_s'] + x['solve_s'] + x['guide_s']:.1f} s"
    )


def _overall_status(statuses: list[str]) -> str:
    """``"optimal"`` if every window was; else the first of ``"time_limit"``,
    ``"node_limit"`` that some window hit; else ``"heuristic"`` (price-fix windows beyond
    the gap)."""
    if all(x == "optimal" for x in statuses):
        return "optimal"
    for stop in ("time_limit", "node_limit"):
        if stop in statuses:
            return stop
    return "heuristic"


def _concatenate(problem, n, parts, starts, ends, windows, states, gen_mw) -> RollingDispatch:
    """The committed steps of all windows as one ``RollingDispatch`` over ``n`` steps."""
    series = _concatenate_series(problem, n, parts, starts, ends)
    jobs = _job_summaries(states)
    bill = grid_bill(
        problem.grid, problem.step_h, series["grid_import_mw"], series["grid_export_mw"]
    )
    costs = _committed_costs(problem, series, gen_mw, jobs, bill)
    dr = fixed_settlement(problem, series["grid_import_mw"] - series["grid_export_mw"])
    if dr is not None:  # the demand-response program over the whole horizon
        bill.update(dr.bill())
        costs["dr_program_usd"] = dr.net_cost_usd
    objective = sum(v for k, v in costs.items() if k != "emissions_t")
    return RollingDispatch(
        status=_overall_status([w["status"] for w in windows]),
        objective_usd=objective,
        mip_gap=max((w["mip_gap"] for w in windows), default=0.0),
        build_s=sum(w["build_s"] for w in windows),
        # the handover guides' price-fix runs are part of the solve
        solve_s=sum(w["solve_s"] + w["guide_s"] for w in windows),
        series=series,
        costs=costs,
        jobs=jobs,
        bill=bill,
        dr_commit_mw=None if dr is None else dr.commit_mw,
        windows=windows,
    )


def _concatenate_series(problem, n, parts, starts, ends) -> dict[str, np.ndarray]:
    """Each series over ``n`` steps from the committed steps ``[a, c)`` of each window
    (zeros where a window lacks it, e.g. a job outside it)."""
    series: dict[str, np.ndarray] = {}
    keys: list[str] = []
    for d in parts:
        keys += [k for k in d.series if k not in keys]
    for key in keys:
        arr = np.zeros(n)
        for d, a, c in zip(parts, starts, ends, strict=True):
            if key in d.series:
                arr[a:c] = d.series[key][: c - a]
        series[key] = arr
    for j in problem.jobs:  # jobs never in a window: zero series
        for suffix in ("mw", "power_fraction", "work_h"):
            series.setdefault(f"job_{j.id}_{suffix}", np.zeros(n))
    return series


def _job_summaries(states: dict[str, JobState]) -> dict[str, dict]:
    """Per job ``work_done_h``, ``unfinished_h``, ``restarts``, ``deadline_met``."""
    jobs: dict[str, dict] = {}
    for jid, st in states.items():
        unfinished = st.remaining_h if st.remaining_h > _TOL else 0.0
        jobs[jid] = {
            "work_done_h": st.work_done_h,
            "unfinished_h": unfinished,
            "restarts": st.restarts,
            "deadline_met": unfinished == 0.0,
        }
    return jobs


def _committed_costs(problem, series, gen_mw, jobs, bill) -> dict[str, float]:
    """The cost breakdown (USD) and emissions (t) of the committed schedule; energy and
    demand from its ``bill`` (each demand charge counts its peak once)."""
    step_h = problem.step_h
    g = problem.grid
    imp = series["grid_import_mw"]
    n = len(imp)
    gen_emis_t = 0.0
    fuel = 0.0
    for gen in problem.generators:
        p = np.concatenate(gen_mw[gen.name]) if gen_mw[gen.name] else np.zeros(0)
        fuel += gen.fuel_usd_per_mwh * step_h * float(p.sum())
        gen_emis_t += gen.carbon_g_per_kwh * step_h * float(p.sum()) / 1000.0
    emissions = float(np.dot(imp, g.carbon_g_per_kwh[:n])) * step_h / 1000.0 + gen_emis_t
    energy, demand = split_bill(g, bill)
    wear = 0.0
    if problem.battery is not None:
        wear = (
            problem.battery.wear_usd_per_mwh * step_h * float(series["battery_discharge_mw"].sum())
        )
    penalty = problem.objective.unfinished_work_penalty_usd_per_h or 0.0
    return {
        "energy_usd": energy,
        "demand_usd": demand,
        "fuel_usd": fuel,
        "wear_usd": wear,
        "carbon_usd": problem.objective.carbon_price_usd_per_t * emissions,
        "unfinished_penalty_usd": penalty * sum(j["unfinished_h"] for j in jobs.values()),
        "emissions_t": emissions,
    }
