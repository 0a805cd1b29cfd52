"""Scenario sections of what happens in the period: event windows, the demand-response
program, operate mode's plant events and settings, and sub-hourly swings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from microgrid.scenario_checks import MAX_PERIOD_DAYS
from microgrid.scenario_fields import (
    MAX_EVENTS,
    CostUSDPerMWh,
    Frac,
    Name,
    PowerMW,
    Strict,
    Time,
    Window,
    field_error,
)


class DemandResponse(Window):
    """Net import cap in the window: an absolute MW value (`cap_mw`) or a fraction of the
    baseline run's net import at each step (`cap_fraction_of_baseline`; a negative net
    import counts as 0). The baseline run is the same scenario solved once without any
    `events.demand_response` window (the load without the requests: every fractional
    window takes the same baseline, so one cap does not move another's); the rest of the
    scenario, a `demand_response_program` included, stays."""

    cap_mw: PowerMW | None = None
    cap_fraction_of_baseline: Frac | None = None

    @model_validator(mode="after")
    def _one_cap(self) -> DemandResponse:
        if (self.cap_mw is None) == (self.cap_fraction_of_baseline is None):
            raise ValueError("give exactly one of cap_mw, cap_fraction_of_baseline")
        return self


class Derate(Window):
    """The asset's availability in the window, as a fraction (0: out, 1: whole). PV and
    wind: their available power is scaled. Battery: its charge and discharge power limits
    are scaled, not its energy (the state of charge keeps its limits). Derates of one
    asset that overlap combine as the minimum of their fractions, not the product. A
    window that covers part of a step derates the whole step (a step holds one figure).
    The asset must be in the scenario (a section of more than 0 MW, or one the sizing
    section sizes): a derate on another would change nothing and is refused."""

    asset: Literal["pv", "wind", "battery"]
    available_frac: Frac


class Events(Strict):
    """Windows that act on the period's steps: each must overlap the period (one that does
    not would change nothing and is refused); one that overlaps it in part acts on the
    steps it overlaps."""

    outages: Annotated[tuple[Window, ...], Field(max_length=MAX_EVENTS)] = ()
    demand_response: Annotated[tuple[DemandResponse, ...], Field(max_length=MAX_EVENTS)] = ()
    derates: Annotated[tuple[Derate, ...], Field(max_length=MAX_EVENTS)] = ()


class DemandResponseProgram(Strict):
    """A capacity demand-response program (microgrid/dr_program.py, docs/dr_program.md):
    commit MW (paid per MW-month), reduce against the baseline in events (paid per MWh),
    pay for each MWh short of the commitment. Not the `events.demand_response` caps.
    Events (`events` or `events_csv`) may list the program's year: each must lie in the
    period's local year(s); those outside the period are left out, one that overlaps it in
    part holds the steps it overlaps."""

    capacity_usd_per_mw_month: float = Field(ge=0, le=1_000_000)
    energy_usd_per_mwh: CostUSDPerMWh = 0.0
    shortfall_usd_per_mwh: CostUSDPerMWh = 0.0
    # None: the plan decides the commitment in [0, max_commit_mw] (default: import_max_mw)
    commit_mw: PowerMW | None = None
    max_commit_mw: PowerMW | None = None
    # operate: the controller learns of an event this long before its start
    notice_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    # prior_days_average: the mean over earlier days of the schedule's own net import
    # (which a plan can inflate); prior_days_without_program: the same days' net import in
    # the plan of the scenario without the program, fixed (no schedule can move it)
    baseline: Literal["prior_days_average", "prior_days_without_program", "declared"] = (
        "prior_days_average"
    )
    baseline_days: int = Field(default=10, ge=1, le=60)  # prior days: N days
    # prior days: the net import (MW) of days before the period; None: only the days
    # inside the period count
    prior_baseline_mw: PowerMW | None = None
    declared_baseline_mw: PowerMW | None = None  # declared: the baseline
    events: Annotated[tuple[Window, ...], Field(max_length=MAX_EVENTS)] = ()
    events_csv: Path | None = None  # columns start, end (local, or with an offset)

    @model_validator(mode="after")
    def _consistent(self) -> DemandResponseProgram:
        if (self.baseline == "declared") != (self.declared_baseline_mw is not None):
            message = "declared_baseline_mw goes with baseline 'declared', and only there"
            given = self.declared_baseline_mw is not None
            field = "declared_baseline_mw" if given else "baseline"
            raise field_error(field, message, getattr(self, field))
        if self.events and self.events_csv is not None:
            raise ValueError("give events or events_csv, not both")
        c, top = self.commit_mw, self.max_commit_mw
        if c is not None and top is not None and c > top:
            raise field_error("commit_mw", f"commit_mw ({c}) > max_commit_mw ({top})", c)
        return self


class OperateEvent(Window):
    """A plant-only event of mode `operate` (the controller is not warned; it sees the event
    at its next re-plan). `line_out` takes one circuit of the named pandapower line out of
    service (the whole line when it has one); `price_spike` multiplies the LMP by `factor`.
    Like `events`, it must overlap the period."""

    kind: Literal["grid_outage", "pv_trip", "wind_trip", "line_out", "price_spike"]
    line: Name | None = None
    factor: float | None = Field(default=None, gt=0, le=1_000)

    @model_validator(mode="after")
    def _detail(self) -> OperateEvent:
        if self.kind == "line_out" and not self.line:
            raise ValueError("a line_out event needs `line` (a pandapower line name)")
        if self.kind == "price_spike" and self.factor is None:
            raise ValueError("a price_spike event needs `factor`")
        # a field of another kind would be ignored without a word
        for field, kind in (("line", "line_out"), ("factor", "price_spike")):
            if getattr(self, field) is not None and self.kind != kind:
                message = f"`{field}` belongs to a {kind} event, not a {self.kind} one"
                raise field_error(field, message, getattr(self, field))
        return self


class Operate(Strict):
    """Closed-loop co-simulation (mode `operate`, see docs/cosimulation.md)."""

    lookahead_h: float = Field(default=48.0, gt=0, le=24 * MAX_PERIOD_DAYS)
    replan_every_steps: int = Field(default=1, ge=1, le=1_000_000)
    # also re-plan at once when an outage, a renewable trip or a price spike starts or ends
    # (as an energy management system re-dispatches on an event); false: on the period only
    replan_on_events: bool = True
    forecast: Literal["perfect", "persistence", "noisy"] = "perfect"
    noise_std_frac: float = Field(default=0.1, ge=0, le=10)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)  # numpy's seed range
    events: Annotated[tuple[OperateEvent, ...], Field(max_length=MAX_EVENTS)] = ()
    value_of_lost_load_usd_per_mwh: CostUSDPerMWh = 10000.0
    # "rerun": each event's cost is the run's cost minus a re-simulation without it
    event_costs: Literal["rerun", "none"] = "rerun"


class Swings(Strict):
    """Sub-hourly training power swings (microgrid/swings.py); `hour` must lie inside the
    period."""

    # local start of the hour profiled, inside the period; None: the peak-load hour
    hour: Time | None = None
    # At least 10 ms: a step of an hour is then at most 360,000 samples.
    resolution_s: float = Field(default=1.0, ge=0.01, le=3600)
    period_s: float = Field(default=20.0, gt=0, le=3600)  # compute + communication cycle
    compute_frac: Frac = 0.7  # share of the cycle at full power
    depth_frac: Frac = 0.3  # power dip in the communication phase (fraction of job IT)
    checkpoint_interval_s: float = Field(default=1800.0, gt=0, le=1e6)
    checkpoint_duration_s: float = Field(default=60.0, ge=0, le=1e6)
    checkpoint_depth_frac: Frac = 0.8
    ramp_limit_mw_per_min: PowerMW = 10.0
    smoothing_window_s: float = Field(default=300.0, gt=0, le=86_400)
