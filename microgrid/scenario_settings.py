"""Scenario sections of how to solve and what to write: objective, solver, network
parameters, exports, and what to size."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from microgrid.scenario_checks import MAX_PERIOD_DAYS
from microgrid.scenario_fields import (
    MAX_GENERATORS,
    MAX_POWER_MW,
    EnergyMWh,
    Frozen,
    FrozenDict,
    LineKm,
    Name,
    PowerMW,
    Strict,
    TimeZoneName,
    field_error,
)


class Objective(Strict):
    # Carbon prices in use are below 200 USD/t. Budgets stop at the solver's largest finite
    # bound (optimize/ranges.py), 1e9 t: a fiftieth of the world's yearly emissions.
    carbon_price_usd_per_t: float = Field(default=0.0, ge=0, le=100_000)
    carbon_budget_t: float | None = Field(default=None, ge=0, le=1e9)
    # Per hour of unfinished job work; above 1e7 it only worsens the solver's scaling.
    unfinished_work_penalty_usd_per_h: float | None = Field(default=None, ge=0, le=1e7)


class Solver(Strict):
    # Off by default: a wall-clock limit makes the result depend on the machine's speed.
    time_limit_s: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)  # a week
    # 1 %: proven within 1 % of the optimum (the gap is reported); 0.001 or 0 for exactness
    # (an answer that stops short of 1 % is never weaker than 1 %'s: optimize/looser_proof.py)
    mip_rel_gap: float = Field(default=1e-2, ge=0, lt=1)
    # Branch-and-bound nodes per solve: a stop that is the same on every machine (None: none)
    node_limit: int | None = Field(default=1_000, ge=1, le=10**9)
    # "milp": HiGHS's branch and bound to mip_rel_gap, started from the price-fix schedule;
    # "price-fix": that schedule alone (optimize/price_fix.py: feasible, with a proven gap,
    # about a second per week of jobs; status "heuristic" when the gap exceeds mip_rel_gap)
    method: Literal["milp", "price-fix"] = "milp"
    # "milp": before branch and bound, the start's job runs may move this many steps at
    # each edge in a sub-MIP (optimize/edge_search.py; 0: off)
    edge_search_steps: int = Field(default=2, ge=0, le=24)
    # "milp": a start not proven within mip_rel_gap is probed before branch and bound: at most
    # this many one-step on/off disjunctions on the LP relaxation per probe, branched on where
    # none fixes a step (optimize/probing.py; 0: off)
    probe_limit: int = Field(default=200, ge=0, le=100_000)
    # "milp": a start the probe does not prove is rebuilt by price-fix with the demand-charge
    # peaks held at the LP relaxation's while the jobs are fixed (optimize/peak_cap.py)
    peak_cap_restart: bool = True
    # "milp": a start still not proven after that gets two HiGHS runs, one each side
    # of its demand-charge peak halfway to the LP relaxation's, at gaps above 0.2 % and
    # where the peak's rise explains much of the start's gap (optimize/peak_split.py)
    peak_split: bool = True
    # HiGHS's threads. From 2 its branch and bound searches with several workers in rounds
    # synchronised in a fixed order, so the answer depends on this number, not on the
    # machine's cores or load, and a rolling run builds its next window, a start's
    # restart and the last probe run on the second core (docs/model_jobs.md); a sweep case
    # uses this many.
    threads: int = Field(default=1, ge=1, le=64)
    # Rolling horizon for long periods: window and look-ahead in hours (None: one solve).
    window_h: int | None = Field(default=None, gt=0, le=24 * MAX_PERIOD_DAYS)
    overlap_h: int = Field(default=0, ge=0, le=24 * MAX_PERIOD_DAYS)
    # Where the windows start: every window_h hours from the period start, or from the
    # jobs' weeks (Monday 00:00 local, the first window up to the first one): a weekly job
    # then never straddles a window's commit (microgrid/dispatch.py, window_starts)
    window_anchor: Literal["period_start", "job_week"] = "period_start"
    # What a rolling window pays for raising a demand charge's peak: "share", the charge
    # times the share of the rest of its month (its steps from the window's start on) the
    # window models, since later windows of the month use that peak free; "full", the
    # whole charge, which is the bill's own cost of that peak but weighs it against the
    # window's steps only (docs/model_jobs.md, "Rolling horizon"). The bill is the same
    # either way; only the windows' choices differ. No effect without window_h.
    window_demand_charge: Literal["share", "full"] = "share"
    # The interruptions a rolling window may spend of a preemptible job due after it:
    # "guided", all it has left but those the job's cheapest on/off pattern over the rest
    # of its span at the grid's prices spends after the window; "all", all it has left,
    # which windows that do not see the price spikes ahead spend before them
    # (docs/model_jobs.md, "Rolling horizon"). No effect without window_h.
    window_restarts: Literal["guided", "all"] = "guided"
    # What a rolling window hands to the next: "guided", the work a job due after the
    # window leaves for later (a non-preemptible one: its run after the window, or all of
    # it where that schedule starts it later), the interruptions it may spend and the
    # battery's SOC at the window's end are those of a quick (price-fix) schedule of the
    # rest of the job's span; "fixed", half of a preemptible job's hours after the
    # window (a non-preemptible one started by the window's end: all of them), and the
    # battery's soc_final_frac at every window's end (docs/model_jobs.md, "Rolling
    # horizon"). No effect without window_h.
    window_handover: Literal["guided", "fixed"] = "guided"

    @model_validator(mode="after")
    def _anchor_needs_windows(self) -> Solver:
        if self.window_anchor == "job_week" and self.window_h is None:
            raise ValueError("window_anchor job_week needs window_h (rolling windows)")
        return self


class Network(Strict):
    """pandapower network parameters; see docs/network.md for values and sources."""

    # Up to 1,100 kV: the highest transmission voltage in service.
    grid_kv: float = Field(default=138.0, gt=0, le=1_100)
    collector_kv: float = Field(default=34.5, gt=0, le=1_100)
    transformer_mva: float = Field(default=150.0, gt=0, le=MAX_POWER_MW)
    datacenter_line_km: LineKm = 2.0
    pv_line_km: LineKm = 5.0
    wind_line_km: LineKm = 15.0
    battery_line_km: float = Field(default=0.0, ge=0, le=1_000)  # 0: at the substation
    # Parallel circuits of each feeder (0.9 kA, 54 MVA each at 34.5 kV): R1's by default;
    # a plant larger than R1's needs more (R3's 200 MWac overloads the PV feeder's two)
    datacenter_line_circuits: int = Field(default=4, ge=1, le=50)
    pv_line_circuits: int = Field(default=2, ge=1, le=50)
    wind_line_circuits: int = Field(default=2, ge=1, le=50)
    battery_line_circuits: int = Field(default=2, ge=1, le=50)
    # Voltage limits (pu): a power flow outside 0.5-1.5 pu has no meaning for a site.
    vm_min_pu: float = Field(default=0.95, ge=0.5, le=1.5)
    vm_max_pu: float = Field(default=1.05, ge=0.5, le=1.5)
    max_loading_pct: float = Field(default=100.0, gt=0, le=1_000)
    load_power_factor: float = Field(default=0.98, gt=0, le=1)
    engine: Literal["auto", "lightsim2grid", "pandapower"] = "auto"


SLURM_WORD = re.compile(r"[A-Za-z0-9_.,:+-]{1,64}")


def slurm_word(value: str) -> str:
    """A Slurm partition or account name as an `#SBATCH` line takes it; checked here so
    that `validate` refuses it at its line, not the export."""
    if not SLURM_WORD.fullmatch(value):
        raise ValueError(f"{value!r}: only letters, digits and . _ , : + - (1-64 characters)")
    return value


SlurmWord = Annotated[str, AfterValidator(slurm_word)]


class SlurmExport(Strict):
    timezone: TimeZoneName | None = None  # the cluster's wall-clock zone; default: site's
    partition: SlurmWord | None = None
    account: SlurmWord | None = None
    gpus_per_node: int | None = Field(default=None, gt=0, le=1_024)
    request_gpus: bool = True


class Export(Strict):
    slurm: SlurmExport = SlurmExport()


# Sizing cost inputs: generous but finite (the dearest technologies cost a few million
# USD per MW; docs/sizing_costs.md gives the shipped values and their sources).
MAX_CAPEX_USD_PER_UNIT = 1e8  # USD per MW or per MWh
MAX_FIXED_OM_USD_PER_UNIT_YEAR = 1e7  # USD per MW-year or MWh-year
Lifetime = Annotated[float, Field(gt=0, le=100)]  # years


def _check_sized_bounds(min_size: float, max_size: float, existing: float, unit: str) -> None:
    """min <= max and existing <= max (what exists is never removed)."""
    if min_size > max_size:
        message = f"min_{unit} ({min_size}) > max_{unit} ({max_size})"
        raise field_error(f"min_{unit}", message, min_size)
    if existing > max_size:
        message = f"existing_{unit} ({existing}) > max_{unit} ({max_size})"
        raise field_error(f"existing_{unit}", message, existing)


class SizedPower(Strict):
    """An asset sized in MW (PV MWdc, wind nameplate, battery power, grid import, a
    generator): capital cost USD/MW, fixed O&M USD/MW-year, bounds and the existing MW."""

    capex_usd_per_mw: float = Field(ge=0, le=MAX_CAPEX_USD_PER_UNIT)
    fixed_om_usd_per_mw_year: float = Field(default=0.0, ge=0, le=MAX_FIXED_OM_USD_PER_UNIT_YEAR)
    lifetime_years: Lifetime
    min_mw: PowerMW = 0.0
    max_mw: PowerMW
    existing_mw: PowerMW = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> SizedPower:
        _check_sized_bounds(self.min_mw, self.max_mw, self.existing_mw, "mw")
        return self


class SizedEnergy(Strict):
    """Battery energy sized in MWh: capital cost USD/MWh, fixed O&M USD/MWh-year."""

    capex_usd_per_mwh: float = Field(ge=0, le=MAX_CAPEX_USD_PER_UNIT)
    fixed_om_usd_per_mwh_year: float = Field(default=0.0, ge=0, le=MAX_FIXED_OM_USD_PER_UNIT_YEAR)
    lifetime_years: Lifetime
    min_mwh: EnergyMWh = 0.0
    max_mwh: EnergyMWh
    existing_mwh: EnergyMWh = 0.0

    @model_validator(mode="after")
    def _bounds(self) -> SizedEnergy:
        _check_sized_bounds(self.min_mwh, self.max_mwh, self.existing_mwh, "mwh")
        return self


class Sizing(Strict):
    """What to build (`microgrid size`, microgrid/sizing/, docs/sizing.md): the listed
    assets are sized with the dispatch; the others keep the scenario's fixed sizes."""

    discount_rate: float = Field(default=0.07, ge=0, le=1)  # real, per year (fraction)
    analysis_years: int = Field(default=20, ge=1, le=100)  # NPV horizon
    # the sizing solve: "price-fix" or "milp" (one model of the whole horizon: weeks), or
    # "parts" (the horizon cut into parts of about part_h hours, linked by the sizes through
    # Benders cuts, first with the jobs relaxed, then with whole-job schedules: a year;
    # optimize/sizing_parts.py)
    method: Literal["price-fix", "milp", "parts"] = "price-fix"
    part_h: int = Field(default=168, ge=24, le=24 * 92)  # "parts": hours per part
    # also size with the jobs inflexible (asap at full power) and report the difference
    flexibility: bool = False
    pv: SizedPower | None = None
    wind: SizedPower | None = None
    battery_power: SizedPower | None = None
    battery_energy: SizedEnergy | None = None
    grid_import: SizedPower | None = None
    # scenario generator name -> its sizing
    generators: Annotated[dict[Name, SizedPower], Field(max_length=MAX_GENERATORS), Frozen] = (
        FrozenDict()
    )
