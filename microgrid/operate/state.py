"""Typed state of the closed loop: what the plant carries from step to step, what the
controller knows at a re-plan, its set-points for one step, and the plant's limits there.

Units are in the names: MW (step averages), MWh, h. Net import = import − export (MW).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import optimize


@dataclass
class JobProgress:
    """One training job as the plant has run it so far."""

    remaining_h: float  # work left (h at full power), restart overheads paid included
    running: bool = False  # ran in the last step: continuing needs no restart
    has_run: bool = False  # ran at all: a later start is a restart
    restarts: int = 0
    # a non-preemptible job stopped with work left (a shed, or a plan that stops it): an
    # interruption its rules forbid, which the plant resumes from its last checkpoint
    forced_interruptions: int = 0


@dataclass
class PlantState:
    """What one step hands to the next (and the controller reads at a re-plan)."""

    soc_mwh: float  # battery state of charge (0 without a battery)
    net_import_mw: float | None  # last step's actual net import; None: no ramp reference
    # actual net import of every step so far (MW): demand-response baselines on past days
    net_import_history_mw: list[float] = field(default_factory=list)
    # actual import of every step so far (MW): the demand peaks so far (the controller
    # pays only for more), the demand interval a re-plan starts inside and the tiered
    # charges' energy so far
    import_history_mw: list[float] = field(default_factory=list)
    jobs: dict[str, JobProgress] = field(default_factory=dict)


def initial_state(problem: optimize.Problem) -> PlantState:
    """The plant before step 0: the scenario's initial SOC, no job has run."""
    b = problem.battery
    return PlantState(
        soc_mwh=b.soc_initial_frac * b.energy_mwh if b is not None else 0.0,
        net_import_mw=problem.grid.initial_net_import_mw,
        jobs={j.id: JobProgress(remaining_h=j.work_h) for j in problem.jobs},
    )


@dataclass(frozen=True)
class Known:
    """The events going on at a re-plan as the controller sees them; it assumes they last
    ``hold_steps`` steps (until its next re-plan) and then end."""

    hold_steps: int
    outage: bool = False
    price_factor: float = 1.0  # price spike factor (1: none)
    tripped: frozenset[str] = frozenset()  # renewables (``pv``, ``wind``) tripped now

    def without_outages(self) -> Known:
        """Plan as if the grid and the renewables were back (the plant sheds what it must)."""
        return Known(hold_steps=self.hold_steps, price_factor=self.price_factor)


@dataclass(frozen=True)
class SetPoints:
    """The controller's decision for one step (its plan's row), MW and power fractions."""

    net_import_mw: float
    pv_mw: float  # PV to use: the actual resource when the plan used all it forecast
    wind_mw: float
    battery_charge_mw: float
    battery_discharge_mw: float
    job_power_frac: dict[str, float]  # job id -> planned power fraction (0: paused)
    gen_mw: dict[str, float] = field(default_factory=dict)  # generator -> planned MW


@dataclass(frozen=True)
class Unit:
    """One backup generator at a step: off, or between its minimum load and its
    available capacity (MW); its merit-order cost, fuel + carbon price × carbon."""

    name: str
    min_mw: float  # minimum load when on (``min_load_frac`` × capacity; 0: none)
    max_mw: float  # available capacity (below ``min_mw``: it cannot run)
    cost_usd_per_mwh: float


@dataclass(frozen=True)
class StepLimits:
    """What the plant can do in one step (MW)."""

    import_max_mw: float  # actual (0 in an outage)
    export_max_mw: float
    net_import_min_mw: float  # within the ramp limit where it can be kept
    net_import_max_mw: float  # within the ramp limit and the demand-response cap
    charge_max_mw: float  # battery power, and what SOC room allows
    discharge_max_mw: float
    units: tuple[Unit, ...] = ()  # the generators, cheapest first (merit order)


@dataclass
class Flows:
    """The plant's working point in a step (MW), moved by the balancing order."""

    net_import_mw: float
    pv_mw: float
    wind_mw: float
    charge_mw: float
    discharge_mw: float
    gen_mw: dict[str, float] = field(default_factory=dict)  # generator -> MW

    @property
    def backup_mw(self) -> float:
        """All generators' output (MW)."""
        return sum(self.gen_mw.values(), 0.0)

    def supply_mw(self) -> float:
        """Power into the facility bus: net import + renewables + battery + backup."""
        return (
            self.net_import_mw + self.pv_mw + self.wind_mw + self.discharge_mw
            - self.charge_mw + self.backup_mw
        )  # fmt: skip
