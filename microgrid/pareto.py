"""Cost–carbon Pareto front by the ε-constraint method.

1. Minimum cost: the scenario with a carbon price of 0 and no carbon budget; its
   emissions `E_max` are the loose end of the front.
2. Minimum emissions: a carbon price of `MIN_EMISSIONS_CARBON_PRICE_USD_PER_T` (so
   large that any tonne outweighs any cost difference) gives the least emissions
   `E_min`; then, for the cost at that end, cost is minimised under the budget
   `E_min` (plus a hair for solver tolerance), carbon price 0, by the price-fix
   heuristic started from the least-emissions schedule (see below).
   Where `E_max` is within that hair of `E_min` (or below it), the cheapest schedule is
   also the cleanest found: there is no trade-off, and the front is the one point
   (`no_trade_off_note` says so), not N copies of it.
3. N − 2 budgets evenly spaced strictly between `E_max` and `E_min`, each a full solve
   minimising cost (carbon price 0) with `Objective.carbon_budget_t` = budget, tightest
   first: each starts from the cheapest schedule found so far that keeps its budget (the
   least-emissions one keeps them all), so every solve has a feasible start.

Each point but the minimum-emissions end is a MILP solve with the scenario's solver
options (the budget points without the edge search, `optimize/edge_search.py`: on R1's
week it reached the gap at none of them and took the front from 85 s to 116 s), so
with a non-zero `solver.mip_rel_gap` costs are optimal only to that gap. The
end's budget sits at the edge of feasibility: on R1's week HiGHS's branch and bound spent
its 1,000 nodes (140 s on a quiet machine, the rest of the front about 50 s) to prove a
12 % gap, where the price-fix heuristic from the least-emissions schedule takes about 2 s
and proves 30 %; the end's cost is that schedule's, its `status` says "heuristic" (or
"optimal" when its proven gap is within `mip_rel_gap`) and `mip_gap` what is proven.
`pareto.csv` has `budget_t`
(empty at the minimum-cost end: no budget), `cost_usd` (total cost as in summary.json,
carbon not priced, the tariff's fixed charge in), `emissions_t`, `status`, `mip_gap`,
`cost_tolerance_usd` (what the proven gap leaves open, in USD: `mip_gap` times the gap
basis; two points whose costs differ by less than their tolerances are not proven to
differ) and `schedule_of` (a
point whose solve, within its gap, came out dearer than a tighter point's reports the
tighter point's schedule, named here: `cheapest_schedules`), then the work the point's
schedule leaves undone (`microgrid.pareto_work.WORK_KEYS`: with an unfinished-work penalty
a point can cut its emissions by not running a job; the CLI's lines and a note say so);
`pareto.png` plots it, each point that leaves work undone ringed in red. The
table `pareto_front` returns also has each point's `solve_s` (wall-clock seconds), which
the folder keeps in `timings.json` alone, so that `pareto.csv` is the same bytes on every
run of the same inputs.
Demand-response caps (fractional ones need a baseline solve) are computed once and used
for every point.

A scenario with rolling windows (`solver.window_h`) is refused (`check_whole_period`): the
budget points cap the whole period's emissions, which no window sees, and a front solved
as one problem without a word would set beside `run`'s windowed plan a minimum-cost end
that is not it (the audit's 4-day case: 237,061 USD against `run`'s 239,926). For a long
horizon, `microgrid sweep` over `objective.carbon_price_usd_per_t` traces the trade-off
with each case solved in its windows.

With a journal (microgrid.pareto_journal, what `microgrid pareto` uses) every solve is
stored the moment it finishes and a stored solve with identical inputs is reused, so an
interrupted front resumes where it stopped; a reused point keeps its stored `solve_s`
(the time it took when it was solved, in timings.json), so the resumed front's files are
the ones an uninterrupted run would have written.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

import optimize
from microgrid.assemble import Inputs, load_inputs, solver_options
from microgrid.atomic import json_text
from microgrid.costs import TOTAL_KEYS
from microgrid.dispatch import infeasible_error, plan_problem
from microgrid.pareto_journal import PointJournal, point_key
from microgrid.pareto_work import (
    WORK_KEYS,
    leaves_work_undone,
    no_work_figures,
    undone_note,
    work_clause,
    work_figures,
)
from microgrid.resultdir import ResultWritten, check_target, scenario_inputs, write_dir
from microgrid.scenario import Scenario
from microgrid.solver_errors import solver_failure
from microgrid.tariffs import scenario_fixed_charge_usd
from optimize.step_runs import run_bounds

MIN_EMISSIONS_CARBON_PRICE_USD_PER_T = 1.0e5
BUDGET_REL_TOL = 1e-6
COLUMNS = [
    "point",
    "budget_t",
    "cost_usd",
    "emissions_t",
    "status",
    "mip_gap",
    "cost_tolerance_usd",
    "solve_s",
    "schedule_of",
    *WORK_KEYS,  # after the others: readers of the columns before them keep working
]
# figures a stored row holds as null when they are NaN (JSON has no NaN)
_FLOAT_KEYS = (
    "cost_usd",
    "emissions_t",
    "mip_gap",
    "cost_tolerance_usd",
    "solve_s",
    *(k for k in WORK_KEYS if k != "unfinished_jobs"),
)
# the clock of `solve_s` (tests replace it to compare a resumed front's files byte for byte)
_clock = time.perf_counter
# `progress(row, k, points)`: point k (1-based) of `points` is done
Progress = Callable[[dict, int, int], None]


@dataclasses.dataclass(frozen=True)
class FrontProblem:
    """What every point of a front solves: the scenario's problem (its data loaded and
    checked, demand-response caps applied) and its solver options."""

    problem: optimize.Problem
    options: optimize.SolverOptions
    inputs: Inputs
    # the tariff's fixed charge (USD): no schedule changes it, so no solve holds it, but
    # summary.json's total cost does and so does every point's `cost_usd`
    fixed_usd: float = 0.0


#: Why a front refuses rolling windows (`solver.window_h`).
WINDOWS_REFUSED = (
    "a cost-carbon front is solved over the whole period at once: its budget points cap "
    "the period's emissions, which rolling windows (solver.window_h) each see only part "
    "of, and its minimum-cost end would not be the windowed plan `run` makes; remove "
    "solver.window_h for a front, or for a long horizon run `microgrid sweep` over "
    "objective.carbon_price_usd_per_t (each case solved in its windows)"
)


def check_whole_period(scenario: Scenario) -> None:
    """Refuse a scenario with rolling windows (`WINDOWS_REFUSED` says why): the front would
    otherwise solve its whole period as one problem without a word."""
    if scenario.solver.window_h:
        raise scenario.error(WINDOWS_REFUSED, "solver.window_h")


def front_problem(scenario: Scenario) -> FrontProblem:
    """The scenario's front problem: every input error a front can meet is raised here,
    before any solve or file (rolling windows first, before the data are read)."""
    check_whole_period(scenario)
    inputs = load_inputs(scenario)
    base = plan_problem(scenario, inputs)
    fixed_usd = scenario_fixed_charge_usd(scenario, inputs.index)
    return FrontProblem(base, solver_options(scenario), inputs, fixed_usd)


def _solved_front(scenario: Scenario, fp: FrontProblem, *args) -> pd.DataFrame:
    """`solve_front(fp, *args)`, a scenario with no schedule at all (the minimum-cost end,
    no budget, infeasible) or a solver failure raised as `run` raises them: one input
    error naming the fields to look at."""
    try:
        return solve_front(fp, *args)
    except optimize.Infeasible as exc:
        raise infeasible_error(scenario, fp.inputs, fp.problem, exc) from None
    except optimize.SolveError as exc:
        raise solver_failure(scenario, exc, fp.inputs.index) from None


def _with_objective(problem: optimize.Problem, price: float, budget: float | None):
    obj = dataclasses.replace(
        problem.objective, carbon_price_usd_per_t=price, carbon_budget_t=budget
    )
    return dataclasses.replace(problem, objective=obj)


def _solve_point(problem, options, label: str, budget: float | None, start) -> dict:
    t0 = _clock()
    row = {"point": label, "budget_t": budget, "mip_gap": np.nan, "cost_tolerance_usd": np.nan}
    try:
        d = optimize.solve(problem, options, start_on=start)
    except optimize.Infeasible:
        if budget is None:  # no schedule at all: an infeasible scenario, not a point
            raise
        row.update(cost_usd=np.nan, emissions_t=np.nan, status="infeasible", **no_work_figures())
    else:
        row.update(
            cost_usd=_total_cost(d),
            emissions_t=d.costs["emissions_t"],
            status=d.status,
            mip_gap=d.mip_gap,
            cost_tolerance_usd=d.mip_gap * (d.gap_basis_usd or abs(d.objective_usd)),
            on_intervals=on_intervals(optimize.job_patterns(d)),
            **work_figures(d),
        )
    row["solve_s"] = _clock() - t0
    return row


def on_intervals(patterns: dict[str, np.ndarray]) -> dict[str, list[list[int]]]:
    """Each job's on steps as ``[first, end)`` step intervals (compact, JSON-safe: what
    the journal keeps so that a resumed front starts its points from the same schedules)."""
    out = {}
    for job, on in patterns.items():
        out[job] = [[a, e] for a, e in run_bounds(on)]
    return out


def on_patterns(intervals: dict[str, list], n_steps: int) -> dict[str, np.ndarray]:
    """The inverse of `on_intervals`."""
    out = {}
    for job, spans in intervals.items():
        on = np.zeros(n_steps, dtype=bool)
        for first, end in spans:
            on[first:end] = True
        out[job] = on
    return out


def start_for(known: list[dict], budget: float | None, n_steps: int):
    """The cheapest schedule solved so far that keeps `budget` (None: no schedule known)."""
    limit = np.inf if budget is None else budget
    # an infeasible point's NaN emissions compare false: never a start
    fits = [r for r in known if r.get("on_intervals") is not None and r["emissions_t"] <= limit]
    if not fits:
        return None
    best = min(fits, key=lambda r: r["cost_usd"])
    return on_patterns(best["on_intervals"], n_steps)


def _total_cost(d: optimize.Dispatch) -> float:
    """Total cost as in summary.json (carbon not priced)."""
    return float(sum(d.costs.get(k, 0.0) for k in TOTAL_KEYS))


def pareto_front(
    scenario: Scenario,
    points: int = 5,
    progress: Progress | None = None,
    journal: PointJournal | None = None,
    end_method: str = "price-fix",
) -> pd.DataFrame:
    """The front as a table, loosest budget first; `progress(row, k, points)` is called as
    each point is done. With `journal`, each solve is stored as it finishes and one with
    identical inputs stored before is reused (its row then has `reused` True).
    `end_method`: how the minimum-emissions end's cost is minimised, "price-fix" (seconds,
    see the module's note) or "milp" (the scenario's solver options, like every point)."""
    fp = front_problem(scenario)
    return _solved_front(scenario, fp, points, progress, journal, end_method)


def solve_front(
    fp: FrontProblem,
    points: int = 5,
    progress: Progress | None = None,
    journal: PointJournal | None = None,
    end_method: str = "price-fix",
) -> pd.DataFrame:
    """`pareto_front` of a problem already built (`front_problem`)."""
    if points < 2:
        raise ValueError("a Pareto front needs at least 2 points (its two ends)")
    base, options = fp.problem, fp.options
    rows: list[dict] = []
    known: list[dict] = []  # every solve's schedule (the lexicographic one too): the starts

    def point(label: str, price: float, budget: float | None, extra_s=0.0, opts=options) -> dict:
        problem = _with_objective(base, price, budget)
        start = start_for(known, budget, base.n_steps)
        row = _journaled(
            journal,
            problem,
            opts,
            label,
            lambda: _solve_point(problem, opts, label, budget, start),
        )
        known.append(row)
        cost_usd = row["cost_usd"] + fp.fixed_usd  # as summary.json's total: the fixed charge
        row = {**row, "point": label, "solve_s": row["solve_s"] + extra_s, "cost_usd": cost_usd}
        rows.append(row)
        if progress is not None:
            progress(row, len(rows), points)
        return row

    lo_cost = point("min-cost", 0.0, None)
    if lo_cost["status"] == "infeasible":
        return pd.DataFrame(rows, columns=COLUMNS)
    e_max = lo_cost["emissions_t"]
    clean = _with_objective(base, MIN_EMISSIONS_CARBON_PRICE_USD_PER_T, None)
    lex = _journaled(
        journal, clean, options, "min-emissions-lex", lambda: _solve_emissions(clean, options)
    )
    known.append(lex)
    e_min = lex["emissions_t"]
    end_budget = e_min * (1.0 + BUDGET_REL_TOL) + BUDGET_REL_TOL
    if e_max <= end_budget:  # no trade-off: the cheapest schedule is the cleanest found
        return pd.DataFrame(cheapest_schedules(rows), columns=COLUMNS)
    budgets = np.linspace(e_max, e_min, points)[1:-1] if points > 2 else np.array([])
    # tightest budget first: each point then starts from the cheapest schedule found so far
    # that keeps its budget (the least-emissions one keeps every budget), so every solve
    # has a feasible start and the front's points are never dearer than a tighter one's
    end_options = dataclasses.replace(options, method=end_method)
    point("min-emissions", 0.0, end_budget, extra_s=lex["solve_s"], opts=end_options)
    # no edge search under a budget: the budget row couples every step, the LP bound it
    # stops at is out of its reach, and it cost R1's front 30 s (docs/model_jobs_history.md)
    budget_options = dataclasses.replace(options, edge_search_steps=0)
    for k in reversed(range(len(budgets))):
        point(f"e{k + 1}", 0.0, float(budgets[k]), opts=budget_options)
    order = ["min-cost", *(f"e{k + 1}" for k in range(len(budgets))), "min-emissions"]
    rows.sort(key=lambda r: order.index(r["point"]))
    return pd.DataFrame(cheapest_schedules(rows), columns=COLUMNS)


def cheapest_schedules(rows: list[dict]) -> list[dict]:
    """Each point with the cheapest schedule found that keeps its budget.

    A schedule that keeps a tighter budget keeps every looser one. When a tighter point's
    solve (stopped within its gap) came out cheaper than a looser point's, the looser point
    reports that schedule's cost and emissions, and `schedule_of` names the point it came
    from (empty: its own). The front is then monotone, as the true front is, instead of
    showing a budget-constrained point below the unconstrained minimum; `status`, `mip_gap`,
    `cost_tolerance_usd` and `solve_s` stay those of the point's own solve; the work it
    leaves undone (`WORK_KEYS`) is the schedule's, as its cost and emissions are."""
    out = []
    for row in rows:
        best = row
        budget = row.get("budget_t")
        limit = np.inf if budget is None or np.isnan(budget) else budget
        limit = limit * (1 + BUDGET_REL_TOL) + BUDGET_REL_TOL
        for other in rows:  # NaN costs (infeasible points) compare false: never taken
            cheaper = other["cost_usd"] < best["cost_usd"] - 1e-9 * max(1.0, abs(best["cost_usd"]))
            if other["emissions_t"] <= limit and cheaper:
                best = other
        new = {**row, "schedule_of": "" if best is row else best["point"]}
        if best is not row:  # the schedule's figures, its work left undone among them
            new.update(cost_usd=best["cost_usd"], emissions_t=best["emissions_t"])
            new.update({k: best[k] for k in WORK_KEYS if k in best})
        out.append(new)
    return out


def _solve_emissions(problem: optimize.Problem, options) -> dict:
    """The least emissions (the carbon-priced solve behind the min-emissions end), with
    its schedule's cost (carbon not priced) and on/off intervals (a start for the points)."""
    t0 = _clock()
    d = optimize.solve(problem, options)
    return {
        "emissions_t": d.costs["emissions_t"],
        "cost_usd": _total_cost(d),
        "on_intervals": on_intervals(optimize.job_patterns(d)),
        "solve_s": _clock() - t0,
    }


def _journaled(journal, problem, options, label: str, solve: Callable[[], dict]) -> dict:
    """`solve()`'s result, or the journal's for identical inputs (marked `reused`); a
    fresh result is stored before it is returned, so it outlives an interruption."""
    if journal is None:
        return solve()
    key = point_key(problem, options)
    stored = journal.get(key)
    if stored is not None:
        back = {k: (np.nan if v is None and k in _FLOAT_KEYS else v) for k, v in stored.items()}
        return {**back, "reused": True}
    result = solve()
    journal.put(key, label, result)
    return result


def no_trade_off_note(front: pd.DataFrame) -> str | None:
    """What a front of one solved point means (None for any other front)."""
    if len(front) != 1 or front["status"].iloc[0] == "infeasible":
        return None
    emissions_t = front["emissions_t"].iloc[0]
    return (
        f"no cost-carbon trade-off: the minimum-cost schedule also has the least emissions "
        f"found ({emissions_t:,.1f} t), so the front is that one point"
    )


def progress_line(row: dict, k: int, points: int) -> str:
    """`pareto: point 3/6 (budget 12,345 t): cost 441,210 USD, 12,300.0 t CO2e, gap 0.80 %,
    7.9 s` for point k (1-based) of `points`; a reused point says so instead of a time."""
    what = {"min-cost": "min cost, no budget", "min-emissions": "min emissions"}.get(
        row["point"]
    ) or f"budget {row['budget_t']:,.1f} t"
    if row["status"] == "infeasible":
        body = "infeasible"
    else:
        body = (
            f"cost {row['cost_usd']:,.0f} USD, {row['emissions_t']:,.1f} t CO2e, "
            f"gap {100 * row['mip_gap']:.2f} %"
        )
        if leaves_work_undone(row):  # its cost and emissions are not those of the work done
            body += f", {work_clause(row)}"
    when = "reused from an earlier run" if row.get("reused") else f"{row['solve_s']:.1f} s"
    return f"pareto: point {k}/{points} ({what}): {body}, {when}"


def table_lines(front: pd.DataFrame) -> list[str]:
    """The front as text, one line per point (what `microgrid pareto` prints at the end)."""
    lines = []
    for row in front.to_dict("records"):
        budget = "-" if pd.isna(row["budget_t"]) else f"{row['budget_t']:.1f}"
        source = row.get("schedule_of")  # NaN where the front stopped before the repair
        tol = row.get("cost_tolerance_usd", np.nan)
        within = "" if pd.isna(tol) else f" ± {tol:,.0f}"
        lines.append(
            f"  {row['point']:<14} budget {budget:>10} t  cost {row['cost_usd']:>14,.0f} USD"
            f"{within:<12}  emissions {row['emissions_t']:>10,.1f} t  {row['status']}"
            + (f" (schedule of {source})" if isinstance(source, str) and source else "")
            + _work_cell(row)
        )
    return lines


def _work_cell(row: dict) -> str:
    """ "  deadlines 5/6, 88.9 h undone (penalty 4,447,000 USD)": the point's work in its
    table line ("" without jobs, or for a row from before the figures were kept)."""
    clause = work_clause(row)
    if not clause:
        return ""
    if leaves_work_undone(row):
        clause += f" (penalty {row['unfinished_penalty_usd']:,.0f} USD)"
    return f"  {clause}"


def undone_notes(front: pd.DataFrame) -> list[str]:
    """One note per point that leaves work undone (`pareto_work.undone_note`)."""
    notes = (undone_note(row) for row in front.to_dict("records"))
    return [n for n in notes if n is not None]


def front_figure(front: pd.DataFrame, title: str = ""):
    """The front as a matplotlib figure (axes as every Pareto plot: microgrid.plots)."""
    # matplotlib is heavy and only needed here: `microgrid pareto --help` must not load it
    from matplotlib.figure import Figure

    from microgrid.plots import pareto_axes

    ok = front[front["status"] != "infeasible"]
    fig = Figure(figsize=(7, 4.5), layout="constrained")  # no pyplot: nothing to close
    ax = fig.subplots()
    ax.plot(ok["emissions_t"], ok["cost_usd"], "o-", color="tab:blue")
    for r in ok.to_dict("records"):
        undone = leaves_work_undone(r)
        ax.annotate(
            f"{r['point']} ({work_clause(r)})" if undone else r["point"],
            (r["emissions_t"], r["cost_usd"]),
            fontsize=8,
            textcoords="offset points",
            xytext=(4, 4),
            color="tab:red" if undone else "black",
        )
    _mark_undone(ax, ok)
    pareto_axes(ax)
    ax.set_title(title or "cost-carbon Pareto front (epsilon-constraint)")
    return fig


def _mark_undone(ax, ok: pd.DataFrame) -> None:
    """Ring the points that leave work undone, with a legend saying what the ring means:
    their cost holds the unfinished-work penalty and their emissions the work not done."""
    undone = ok[[leaves_work_undone(r) for r in ok.to_dict("records")]]
    if undone.empty:
        return
    ax.plot(
        undone["emissions_t"],
        undone["cost_usd"],
        "o",
        markersize=11,
        markerfacecolor="none",
        markeredgecolor="tab:red",
        label="leaves work undone (unfinished-work penalty in the cost)",
    )
    ax.legend(fontsize=8, loc="best")


def plot_front(front: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """pareto.png: see `front_figure`."""
    front_figure(front, title).savefig(path, dpi=120, format="png")


def front_timings(front: pd.DataFrame) -> dict:
    """timings.json of a front's folder: each point's wall-clock `solve_s` (a reused
    point's: the time it took when it was solved), by point label."""
    if "solve_s" not in front:
        return {"solve_s": {}}
    pairs = zip(front["point"], front["solve_s"], strict=True)
    return {"solve_s": {str(point): float(s) for point, s in pairs}}


def write_front(
    front: pd.DataFrame,
    out: str | os.PathLike,
    title: str = "",
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """`pareto.csv`, `pareto.png` and `timings.json` (the points' wall-clock seconds, the
    only file that differs between two runs of the same inputs) in the folder `out`, built
    beside it and swapped in (microgrid.resultdir: only over an empty folder or an earlier
    Pareto front; `inputs` are files whose folders are never replaced). Returns `out`
    absolute."""

    def fill(tmp: Path) -> None:
        table = front.drop(columns="solve_s", errors="ignore")  # to timings.json
        table.to_csv(tmp / "pareto.csv", index=False, float_format="%.9g")
        (tmp / "timings.json").write_text(json_text(front_timings(front)), encoding="utf-8")
        plot_front(front, tmp / "pareto.png", title)

    return write_dir(out, "pareto", fill, inputs)


def front_to_folder(
    scenario: Scenario,
    out: str | os.PathLike,
    points: int = 5,
    progress: Progress | None = None,
    inputs: Iterable[str | os.PathLike] = (),
    end_method: str = "price-fix",
    started: Callable[[], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """`pareto_front` journaled beside `out` (so a re-run after an interruption solves
    only the missing points), written to `out` by `write_front`; the journal is removed
    once the front is in place. `out`, the journal's folder and the scenario's data are
    checked before anything is created; then `started()` is called (the CLI's first line)
    and the points are solved. A failure or an interrupt removes a journal that holds no
    point. `inputs`: files read besides the scenario's own (`scenario_inputs`), which are
    never in `out` either. `note(text)` is given the line for a journal holding points of an
    older format, which are solved again (`PointJournal.older_note`). Returns the front and
    `out` absolute."""
    inputs = [*inputs, *scenario_inputs(scenario)]
    target = check_target(out, "pareto", inputs)  # before any solve
    fp = front_problem(scenario)
    journal = PointJournal.open(target)
    try:
        if started is not None:
            started()
        if note is not None and (older := journal.older_note()) is not None:
            note(older)
        front = _solved_front(scenario, fp, points, progress, journal, end_method)
        title = f"{scenario.name}: cost-carbon front"
        target = write_front(front, target, title=title, inputs=inputs)
    except ResultWritten:  # Ctrl-C during the swap: the front is in place all the same
        journal.remove()
        raise
    except BaseException:  # an error or Ctrl-C: finished points stay for a re-run
        journal.abandon()
        raise
    journal.remove()
    return front, target
