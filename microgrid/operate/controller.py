"""The controller: a rolling-horizon MILP over ``operate.lookahead_h``, re-planned every
``operate.replan_every_steps`` steps from forecasts and the plant's state.

At a re-plan at step k it solves ``[k, k + lookahead)`` as an ``optimize.Problem`` cut from
the run's problem (the same grid limits, ramp limit and demand-response caps): forecast
availability, prices and carbon; the events going on now held for ``hold_steps``; the
plant's SOC, last net import (ramp), each demand charge's peak and each tiered charge's
energy so far (by key: ``optimize.demand_charges.window_charges``) and each job's
remaining work (a paused job's next restart paid ahead: overhead and interruption). A job
due after the window does in it only what cannot be done after it;
the battery ends the window at the initial SOC fraction unless the window reaches the end.

A window the plant's state leaves without a schedule is solved again with the limits
that state breaks relaxed by what they are short (``_solve_window``): the ramp from the
last net import and the SOC to end at; a demand-response cap that the plant's state
cannot meet (a drawn-down battery) becomes soft, priced far above everything else
(``caps.soft_caps``), unless the scenario's inputs cannot meet it either
(``caps.check_caps``): that stops the run as plan mode does. Each solve starts from the
last plan's job schedule shifted to the window (``warm_start``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

import optimize
from microgrid.operate.caps import CapBeyondInputs, capped, check_caps, soft_caps
from microgrid.operate.conditions import PlantConditions
from microgrid.operate.forecast import ForecastBase
from microgrid.operate.plant import DONE_H, LIMIT_TOL_MW
from microgrid.operate.state import JobProgress, Known, PlantState, SetPoints
from microgrid.operate.warm_start import shifted_start
from optimize.demand_charges import window_charges
from optimize.dr_settlement import window_program
from optimize.energy_tiers import window_tiers

#: Large but finite: the controller never plans an infeasible window after a shed.
CONTROLLER_UNFINISHED_USD_PER_H = 1.0e6
#: The diagnosis's kinds of a grid ramp limit (``optimize.grid``).
_RAMP_KINDS = ("ramp_limit_up", "ramp_limit_down")
#: Added to a shortfall (MW or MWh) when a re-plan relaxes its limit: the diagnosis's LP is
#: exact only to the solver's tolerances.
_RELAX_MARGIN = 1e-4
#: A re-plan relaxed this many times over and still without a schedule stops the run: each
#: round adds what the last diagnosis found short (a floor's share is an estimate).
_RELAX_ROUNDS = 3
#: A plan that uses its forecast resource to within this (MW) is followed to the actual one.
_UNCURTAILED_MW = 1e-6


# the name of the plan's load-shedding unit (``with_lost_load``; not added where a
# scenario's generator has it)
LOST_LOAD = "_lost_load"


@dataclass(frozen=True)
class Plan:
    """One re-plan: the window's problem, its forecast and its dispatch."""

    start_step: int
    window: optimize.Problem
    forecast: pd.DataFrame  # FORECAST_SERIES over the window
    dispatch: optimize.Dispatch

    @property
    def n_steps(self) -> int:
        return self.dispatch.series["grid_import_mw"].shape[0]

    def row(self, k: int) -> dict[str, float]:
        """The plan's one-dimensional series at step k (MW, fractions)."""
        s, i = self.dispatch.series, k - self.start_step
        return {c: float(s[c][i]) for c in s if s[c].ndim == 1}

    def set_points(
        self, k: int, row: dict[str, float], conditions: PlantConditions, job_ids: list[str]
    ) -> SetPoints:
        """The decision for step k: the plan's row, with renewables that the plan used in
        full following the actual resource, else its set point capped by the resource;
        jobs not in the plan (done, or not in the window) at 0."""
        i = k - self.start_step
        forecast = {r.name: float(r.available_mw[i]) for r in self.window.renewables}
        used = {}
        for name, actual in (("pv", conditions.pv_mw[k]), ("wind", conditions.wind_mw[k])):
            planned = row.get(f"{name}_used_mw", 0.0)
            if name not in forecast:
                used[name] = 0.0
            elif planned >= forecast[name] - _UNCURTAILED_MW:
                used[name] = actual
            else:
                used[name] = min(planned, actual)
        return SetPoints(
            net_import_mw=row.get("grid_import_mw", 0.0) - row.get("grid_export_mw", 0.0),
            pv_mw=used["pv"],
            wind_mw=used["wind"],
            battery_charge_mw=row.get("battery_charge_mw", 0.0),
            battery_discharge_mw=row.get("battery_discharge_mw", 0.0),
            job_power_frac={j: row.get(f"job_{j}_power_fraction", 0.0) for j in job_ids},
            gen_mw={
                g.name: row.get(f"gen_{g.name}_mw", 0.0)
                for g in self.window.generators
                if g.name != LOST_LOAD
            },
        )


@dataclass
class Controller:
    """Re-plans when due; counts its solves (what ``summary.operate`` reports)."""

    problem: optimize.Problem  # the whole run's, with the demand-response caps
    forecasts: ForecastBase
    options: optimize.SolverOptions
    lookahead_steps: int
    replan_every_steps: int
    # also re-plan where the events going on change (an outage, trip or spike starts or
    # ends) since the last re-plan (``operate.replan_on_events``)
    replan_on_events: bool = False
    # charge key -> first step the controller knows it (coincident-peak alerts from their
    # notice, microgrid/coincident_peak.py); a charge not listed is known from the start
    visible_from_step: dict[str, int] = field(default_factory=dict)
    # the grid's import and export limits without the scenario's outages (MW; None: the
    # problem's): a window without a schedule even with load shed is planned with them
    grid_back_mw: tuple[float, float] | None = None
    # the price of a MWh of load shed (USD): a window without a schedule is planned with
    # shedding at this price (``with_lost_load``); None: not
    voll_usd_per_mwh: float | None = None
    plan: Plan | None = None
    n_solves: int = 0
    solve_s: float = 0.0
    infeasible_replans: int = 0
    time_limited_solves: int = 0
    # each re-plan's solver status and proven gap, in order (``replan_figures``)
    replans: list[tuple[str, float | None]] = field(default_factory=list)
    # the spans of steps whose caps the inputs can meet (``caps.check_caps``), solved once
    caps_checked: set[tuple[int, int]] = field(default_factory=set)

    def due(self, k: int, conditions: PlantConditions) -> bool:
        """A re-plan is due at step ``k``: the first, one every ``replan_every_steps``
        (or at the plan's end), and with ``replan_on_events`` one where the events going
        on differ from those at the last re-plan."""
        p = self.plan
        if p is None or k - p.start_step >= min(self.replan_every_steps, p.n_steps):
            return True
        if not self.replan_on_events:
            return False
        return conditions.events_at(k) != conditions.events_at(p.start_step)

    def replan(self, k: int, state: PlantState, conditions: PlantConditions) -> Plan:
        """Forecast, cut the window, solve; a window without an outage whose DR cap the
        plant's state cannot meet is planned with the cap soft (``_solve_window``; a cap
        the inputs cannot meet raises ``CapBeyondInputs``); a window with an outage the
        battery and generators cannot carry is planned with load shed at the value of
        lost load, so that the plan still fills the battery before it and sheds the
        least; where that has no schedule either, or the window no outage, as if the grid
        were back: the plant sheds."""
        h = min(self.lookahead_steps, self.problem.n_steps - k)
        fc = self.forecasts.issue(k, h)
        known = Known(
            hold_steps=self.replan_every_steps,
            outage=bool(conditions.outage[k]),
            price_factor=float(conditions.price_factor[k]),
            tripped=conditions.tripped(k),
        )
        full = self.known_problem(k)
        share = self.options.charge_share_of_rest  # as rolling windows pay for a peak
        window = window_problem(full, self.forecasts, fc, k, state, known, share)
        # a window with an outage sheds instead (_without_schedule), the cap's miss with it
        within = partial(check_caps, full, k, h, self.options, self.caps_checked)
        within = None if _holds_outage(window) else within
        start = self.start_on(k, window)
        try:
            d, window, relaxed = _solve_window(window, self.options, k, within, start_on=start)
        except CapBeyondInputs:
            raise
        except optimize.Infeasible:
            d, window = self._without_schedule(window, full, fc, k, state, known, start)
            relaxed = True  # infeasible as the controller knew it
        self.infeasible_replans += relaxed
        self.n_solves += 1
        self.time_limited_solves += d.status == "time_limit"
        self.replans.append((d.status, d.mip_gap))
        self.solve_s += d.solve_s + d.build_s
        self.plan = Plan(start_step=k, window=window, forecast=fc, dispatch=d)
        return self.plan

    def start_on(self, k: int, window: optimize.Problem) -> dict[str, np.ndarray] | None:
        """The MILP's start at the re-plan at step ``k``: the last plan's job schedule
        shifted to ``window`` (``warm_start.shifted_start``; None before the first plan)."""
        p = self.plan
        return None if p is None else shifted_start(p.dispatch, k - p.start_step, window)

    def _without_schedule(self, window, full, fc, k, state, known, start):
        """The dispatch and window of a re-plan whose window has no schedule: with load
        shed at the value of lost load where it holds an outage, else with the grid back
        (``replan``). ``start`` applies to both: they have the window's jobs and steps."""
        names = {g.name for g in window.generators}
        # only an outage sheds in the plan: a cap the plant's state cannot meet is soft
        # (caps.soft_caps), one the inputs cannot meet is plan mode's error (check_caps)
        outage = _holds_outage(window)
        if self.voll_usd_per_mwh is not None and outage and LOST_LOAD not in names:
            shed = with_lost_load(window, self.voll_usd_per_mwh)
            with contextlib.suppress(optimize.Infeasible):
                return _solve_window(shed, self.options, k, start_on=start)[:2]
        unknown = known.without_outages()
        share = self.options.charge_share_of_rest
        back = window_problem(self.grid_back(full), self.forecasts, fc, k, state, unknown, share)
        return _solve_window(back, self.options, k, start_on=start)[:2]

    def grid_back(self, full: optimize.Problem) -> optimize.Problem:
        """``full`` as if the grid were back: without the scenario's scheduled outages
        (``events.outages``, zero limits in the problem's grid) as well as the ones going
        on now, which ``Known.without_outages`` drops."""
        if self.grid_back_mw is None:
            return full
        import_mw, export_mw = self.grid_back_mw
        n = full.n_steps
        grid = dataclasses.replace(
            full.grid, import_max_mw=np.full(n, import_mw), export_max_mw=np.full(n, export_mw)
        )
        return dataclasses.replace(full, grid=grid)

    def known_problem(self, k: int) -> optimize.Problem:
        """The run's problem without the peak charges not yet known at step ``k``."""
        g = self.problem.grid
        known = tuple(c for c in g.peak_charges if self.visible_from_step.get(c.key, 0) <= k)
        if len(known) == len(g.peak_charges):
            return self.problem
        return dataclasses.replace(self.problem, grid=dataclasses.replace(g, peak_charges=known))


def with_lost_load(window: optimize.Problem, voll_usd_per_mwh: float) -> optimize.Problem:
    """``window`` with a generator ``LOST_LOAD`` that serves any load at the value of lost
    load: the plan's shedding. The plant has no such unit, so its set-point is a deficit
    the plant covers as it can and sheds (``Plan.set_points`` leaves it out)."""
    f = window.facility
    full_mw = f.inference_it_mw + sum(j.full_power_it_mw for j in window.jobs)
    shed = optimize.Generator(LOST_LOAD, float(np.max(full_mw * f.pue)), voll_usd_per_mwh, 0.0)
    return dataclasses.replace(window, generators=(*window.generators, shed))


def _solve_window(
    window: optimize.Problem,
    options: optimize.SolverOptions,
    k: int,
    check_caps: Callable[[], None] | None = None,
    start_on: dict[str, np.ndarray] | None = None,
) -> tuple[optimize.Dispatch, optimize.Problem, bool]:
    """Solve the window starting at step ``k``. Where the plant's state alone leaves it no
    schedule (the plant left the plan: a forecast miss, an outage's end, a shed), it is
    solved again with the limits the diagnosis names relaxed by what they are short
    (``_relaxed``): the plan then misses them by that much, as the plant does and
    records, instead of the run stopping. Where that finds none and the window holds a
    demand-response cap, ``check_caps`` (if given) raises where the scenario's inputs
    cannot meet the cap, else the window is solved with the cap soft (``soft_caps``).
    Returns the dispatch, the window solved and whether it was relaxed; an infeasibility
    left is raised with its steps counted from the period's start. ``start_on``: a job
    schedule to start each solve from (``Controller.start_on``); relaxing and soft caps
    change limits, not the jobs or the steps."""
    try:
        return optimize.solve(window, options, start_on=start_on), window, False
    except optimize.Infeasible as exc:
        diagnosis = exc.diagnosis
    try:
        return _relaxed_solve(window, diagnosis, options, k, start_on)
    except optimize.Infeasible:
        if check_caps is None or not capped(window):
            raise
    check_caps()
    soft = soft_caps(window)
    try:
        return optimize.solve(soft, options, start_on=start_on), soft, True
    except optimize.Infeasible as exc:
        return _relaxed_solve(soft, exc.diagnosis, options, k, start_on)


def _relaxed_solve(
    window: optimize.Problem,
    diagnosis: list[optimize.Slack],
    options: optimize.SolverOptions,
    k: int,
    start_on: dict[str, np.ndarray] | None = None,
) -> tuple[optimize.Dispatch, optimize.Problem, bool]:
    """Up to ``_RELAX_ROUNDS`` rounds of relaxing what ``diagnosis`` (and each new one)
    names (``_relaxed``) and solving again, each from ``start_on``; raise the last
    diagnosis, in period steps."""
    for _ in range(_RELAX_ROUNDS):
        relaxed = _relaxed(window, diagnosis)
        if relaxed is None:
            break
        window = relaxed
        try:
            return optimize.solve(window, options, start_on=start_on), window, True
        except optimize.Infeasible as exc:
            diagnosis = exc.diagnosis
    raise optimize.Infeasible([_in_period(s, k) for s in diagnosis])


def _relaxed(window: optimize.Problem, diagnosis: list[optimize.Slack]) -> optimize.Problem | None:
    """The window with the limits that only the plant's state can break relaxed by the
    diagnosis's shortfall (and ``_RELAX_MARGIN``), where those are all it finds (else
    None): the ramp at the first step, from the plant's last net import (that import is
    moved towards the step's need), and the SOC the window ends at (lowered).

    A demand-response cap that the ramp from the plant's last net import cannot reach
    (``_cap_out_of_reach``) is the ramp's shortfall too, whichever of the two the
    diagnosis blames: that import is moved down until the cap is in reach, and the plant,
    which keeps the cap before the ramp, records a ramp breach.

    A battery floor the diagnosis breaks under a ramp limit (beside a ramp at the first
    step, or after one was relaxed) is the same shortfall: the import cannot rise fast
    enough, so the battery covers the rest until it runs empty. The diagnosis sums MW and
    MWh alike, so at short steps it blames the floor (an MWh costs it a quarter of an MW
    at 15 minutes). That floor is met by the import raised by ``E·η_d / (Δ·(s + 1))`` MW
    from the first step on (E MWh short at window step s; the battery then discharges
    that much less at each step before)."""
    g, b = window.grid, window.battery
    cap_short_mw, cap_steps = _cap_out_of_reach(window)
    behind = [s for s in diagnosis if _behind_ramp(s, cap_steps)]
    rest = [s for s in diagnosis if not _behind_ramp(s, cap_steps)]
    ramp = [s for s in rest if s.kind in _RAMP_KINDS and s.name == "grid" and s.steps == [0]]
    soc = [s for s in rest if s.kind == "soc_final" and s.name == "battery"]
    rising = g.initial_net_import_mw is not None and g.ramp_mw_per_h is not None
    floor = [s for s in rest if s.kind == "soc_min" and s.name == "battery" and rising]
    if len(ramp) + len(soc) + len(floor) != len(rest):
        return None
    if ramp and g.initial_net_import_mw is None:
        return None
    if ramp or floor or behind:
        up = sum(s.amount + _RELAX_MARGIN for s in ramp if s.kind == "ramp_limit_up")
        down = sum(s.amount + _RELAX_MARGIN for s in ramp if s.kind == "ramp_limit_down")
        down += cap_short_mw + _RELAX_MARGIN if behind else 0.0
        up += max((_floor_as_import_mw(window, s) for s in floor), default=0.0)
        g = dataclasses.replace(g, initial_net_import_mw=g.initial_net_import_mw + up - down)
    if soc:
        short_frac = (soc[0].amount + _RELAX_MARGIN) / b.energy_mwh
        final = b.soc_final_frac - short_frac
        b = dataclasses.replace(b, soc_final_frac=final if final > b.soc_min_frac else None)
    return dataclasses.replace(window, grid=g, battery=b)


def _holds_outage(window: optimize.Problem) -> bool:
    """The window's grid is out (zero import limit) at some step."""
    return bool(np.any(window.grid.import_max_mw <= 0.0))


def _cap_out_of_reach(window: optimize.Problem) -> tuple[float, frozenset[int]]:
    """How far (MW) the ramp from the plant's last net import leaves the window's DR cap
    out of reach, and the window steps where it does: at step ``s`` net import can fall
    no lower than ``initial − r·(s + 1)`` (``r`` the ramp per step). (0, none) without a
    cap, a ramp or a last import, or with a soft cap (``soft_caps``: none is out of
    reach)."""
    g = window.grid
    if g.net_import_cap_mw is None or g.ramp_mw_per_h is None or g.initial_net_import_mw is None:
        return 0.0, frozenset()
    if g.dr_cap_over_usd_per_mwh is not None:
        return 0.0, frozenset()
    steps = np.flatnonzero(~np.isnan(g.net_import_cap_mw))
    lowest_mw = g.initial_net_import_mw - g.ramp_mw_per_h * window.step_h * (steps + 1)
    short_mw = lowest_mw - g.net_import_cap_mw[steps]
    out = short_mw > LIMIT_TOL_MW
    if not out.any():
        return 0.0, frozenset()
    return float(short_mw.max()), frozenset(int(s) for s in steps[out])


def _behind_ramp(slack: optimize.Slack, cap_steps: frozenset[int]) -> bool:
    """A DR-cap slack at steps where the ramp leaves the cap out of reach, or a ramp-down
    slack up to the last of them: the one shortfall of the plant's last import."""
    if slack.name != "grid" or not cap_steps or not slack.steps:
        return False
    if slack.kind == "dr_cap":
        return set(slack.steps) <= cap_steps
    return slack.kind == "ramp_limit_down" and max(slack.steps) <= max(cap_steps)


def _floor_as_import_mw(window: optimize.Problem, floor: optimize.Slack) -> float:
    """The rise of import from the window's first step that meets a battery floor short
    by ``floor.amount`` MWh at its first step (see ``_relaxed``)."""
    s = floor.steps[0] if floor.steps else 0
    short_mwh = floor.amount + _RELAX_MARGIN
    return short_mwh * window.battery.discharge_efficiency / (window.step_h * (s + 1))


def _in_period(slack: optimize.Slack, k: int) -> optimize.Slack:
    """A window's slack with its steps counted from the period's start."""
    return dataclasses.replace(slack, steps=[t + k for t in slack.steps])


def window_problem(
    full: optimize.Problem,
    forecasts: ForecastBase,
    fc: pd.DataFrame,
    k: int,
    state: PlantState,
    known: Known,
    charge_share: bool,
) -> optimize.Problem:
    """The controller's problem for steps [k, k + len(fc)); ``charge_share``: each demand
    charge at the re-plan's share of its steps from ``k`` on (``window_charges``'
    ``share_of_rest``: a peak raised now serves the rest of the month)."""
    h = len(fc)
    sl = slice(k, k + h)
    jobs = tuple(_window_jobs(full, state.jobs, k, h))
    obj = full.objective
    if obj.unfinished_work_penalty_usd_per_h is None and jobs:
        obj = dataclasses.replace(
            obj, unfinished_work_penalty_usd_per_h=CONTROLLER_UNFINISHED_USD_PER_H
        )
    return optimize.Problem(
        step_h=full.step_h,
        n_steps=h,
        grid=_window_grid(full, forecasts.lmp_usd_per_mwh, fc, k, state, known, charge_share),
        facility=dataclasses.replace(
            full.facility,
            inference_it_mw=full.facility.inference_it_mw[sl],
            pue=full.facility.pue[sl],
        ),
        renewables=_window_renewables(full, forecasts.derate_frac, fc, k, known),
        battery=_window_battery(full, k, h, state.soc_mwh),
        generators=tuple(
            dataclasses.replace(g, available_frac=_cut(g.available_frac, sl))
            for g in full.generators
        ),
        jobs=jobs,
        objective=obj,
        # the events announced by now, the baseline's past days at their actual import
        dr_program=window_program(
            full.dr_program, k, k + h, np.asarray(state.net_import_history_mw), plan_step=k
        ),
    )


def _cut(arr: np.ndarray | None, sl: slice) -> np.ndarray | None:
    return None if arr is None else arr[sl]


def _window_grid(
    full: optimize.Problem,
    lmp: np.ndarray,
    fc: pd.DataFrame,
    k: int,
    state: PlantState,
    known: Known,
    charge_share: bool,
) -> optimize.Grid:
    """Limits and caps of the run; forecast prices with the plan's adders; an ongoing
    outage or spike held for ``known.hold_steps``; the ramp from the last net import; the
    demand peaks and tier energy so far from the plant's import (each charge at the
    re-plan's share of its rest with ``charge_share``)."""
    g, h = full.grid, len(fc)
    imports = np.asarray(state.import_history_mw)
    sl = slice(k, k + h)
    imax = g.import_max_mw[sl].copy()
    emax = g.export_max_mw[sl].copy()
    price = fc["price_usd_per_mwh"].to_numpy(float).copy()
    hold = min(known.hold_steps, h)
    if known.outage:
        imax[:hold] = 0.0
        emax[:hold] = 0.0
    price[:hold] *= known.price_factor
    return dataclasses.replace(
        g,
        import_max_mw=imax,
        export_max_mw=emax,
        import_price_usd_per_mwh=price + (g.import_price_usd_per_mwh[sl] - lmp[sl]),
        export_price_usd_per_mwh=price + (g.export_price_usd_per_mwh[sl] - lmp[sl]),
        carbon_g_per_kwh=fc["carbon_g_per_kwh"].to_numpy(float),
        net_import_cap_mw=_cut(g.net_import_cap_mw, sl),
        initial_net_import_mw=state.net_import_mw if k > 0 else g.initial_net_import_mw,
        peak_charges=window_charges(g.peak_charges, k, k + h, imports, charge_share),
        energy_tiers=window_tiers(g.energy_tiers, k, k + h, imports, full.step_h),
        import_price_parts=None,
        export_price_parts=None,
    )


def _window_renewables(
    full: optimize.Problem, derate: dict[str, np.ndarray], fc: pd.DataFrame, k: int, known: Known
) -> tuple[optimize.Renewable, ...]:
    """Forecast resource times the known derates; a tripped unit at 0 for ``hold_steps``."""
    h = len(fc)
    hold = min(known.hold_steps, h)
    out = []
    for r in full.renewables:
        avail = np.maximum(fc[f"{r.name}_available_mw"].to_numpy(float), 0.0)
        avail = avail * derate[r.name][k : k + h]
        if r.name in known.tripped:
            avail[:hold] = 0.0
        out.append(optimize.Renewable(name=r.name, available_mw=avail))
    return tuple(out)


def _window_battery(
    full: optimize.Problem, k: int, h: int, soc_mwh: float
) -> optimize.Battery | None:
    """The battery from the plant's SOC; the window ends at the initial SOC fraction unless
    it reaches the end of the run (then the scenario's final SOC)."""
    b = full.battery
    if b is None:
        return None
    soc0 = float(np.clip(soc_mwh / b.energy_mwh, b.soc_min_frac, b.soc_max_frac))
    final = b.soc_final_frac if k + h >= full.n_steps else b.soc_initial_frac
    if final is not None:
        final = min(final, b.soc_max_frac)
    return dataclasses.replace(
        b,
        soc_initial_frac=soc0,
        soc_final_frac=final,
        available_frac=_cut(b.available_frac, slice(k, k + h)),
    )


def _window_jobs(full: optimize.Problem, progress: dict[str, JobProgress], k: int, h: int):
    """Jobs with work left that can run in the window, with what the window must do.

    A job that has run and is paused now restarts when it runs again, and the plant then
    adds its overhead (``Plant.advance``); the window's model counts a job's first start in
    it as free, so that restart is paid here: its overhead is added to the work and it
    takes one interruption from the budget (as ``optimize.rolling`` does between windows).
    """
    for j in full.jobs:
        js = progress[j.id]
        if js.remaining_h <= DONE_H or j.deadline_step <= k:
            continue
        rel = max(0, j.release_step - k)
        dl = j.deadline_step - k
        resumes = js.has_run and not js.running
        need = js.remaining_h + (j.restart_overhead_h if resumes else 0.0)
        if dl > h:  # due after the window: only what cannot be done after it
            after_h = (j.deadline_step - (k + h)) * full.step_h
            need = max(0.0, need - after_h)
            dl = h
        if rel >= dl:
            continue
        mi = j.max_interruptions
        yield dataclasses.replace(
            j,
            work_h=need,
            release_step=rel,
            deadline_step=dl,
            # a budget already used up (by a shed, or a window that stopped the job at
            # its end) still lets a paused job resume once (docs/cosimulation.md)
            max_interruptions=None if mi is None else max(0, mi - js.restarts - resumes),
            running_at_start=bool(js.running and rel == 0),
        )
