"""Input dataclasses of the optimiser: plain numpy arrays indexed by step ``t = 0 .. n-1``.

No time stamps here: ``step_h`` (1.0 or 0.25) turns MW into MWh. Arrays are converted to
float ``numpy`` arrays and checked for length in ``Problem.__post_init__`` (each dataclass
checks what it can on its own; the length ``n_steps`` is only known to ``Problem``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _as_array(obj: object, name: str, dtype: type = float) -> None:
    """Convert attribute ``name`` of a frozen dataclass to a 1-D numpy array in place."""
    value = getattr(obj, name)
    if value is None:
        return
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{type(obj).__name__}.{name} must be 1-D, got shape {arr.shape}")
    object.__setattr__(obj, name, arr)


def _check_len(owner: str, name: str, arr: np.ndarray | None, n_steps: int) -> None:
    if arr is not None and arr.shape != (n_steps,):
        raise ValueError(f"{owner}.{name} has length {arr.shape[0]}, expected n_steps={n_steps}")


def _check_finite(owner: str, name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{owner}.{name} is not finite at step {bad}")


def _check_nonneg(owner: str, name: str, arr: np.ndarray) -> None:
    _check_finite(owner, name, arr)
    if np.any(arr < 0):
        bad = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{owner}.{name} is negative at step {bad}: {arr[bad]}")


def _check_frac(owner: str, name: str, arr: np.ndarray | None) -> None:
    if arr is None:
        return
    _check_finite(owner, name, arr)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{owner}.{name} must lie in [0, 1]")


@dataclass(frozen=True)
class Grid:
    """Point of common coupling. Power in MW (step averages), prices per MWh."""

    import_max_mw: np.ndarray
    export_max_mw: np.ndarray
    import_price_usd_per_mwh: np.ndarray
    export_price_usd_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    ramp_mw_per_h: float | None = None
    demand_charge_usd_per_mw: float = 0.0
    month_of_step: np.ndarray | None = None
    net_import_cap_mw: np.ndarray | None = None
    initial_net_import_mw: float | None = None
    # Peak import already reached in a billing month before step 0 (month index -> MW):
    # a floor of that month's peak, so the horizon pays only for raising it. Used by
    # rolling windows and the closed-loop controller.
    prior_peak_import_mw: dict[int, float] | None = None
    # Share of each billing month's demand charge that this horizon pays (month index ->
    # share in [0, 1]; a month not listed pays the whole charge). microgrid pro-rates a
    # month the horizon covers in part by the horizon's share of the month's hours.
    demand_charge_share: dict[int, float] | None = None

    _ARRAYS = (
        "import_max_mw",
        "export_max_mw",
        "import_price_usd_per_mwh",
        "export_price_usd_per_mwh",
        "carbon_g_per_kwh",
        "net_import_cap_mw",
    )

    def __post_init__(self) -> None:
        for name in self._ARRAYS:
            _as_array(self, name)
        _as_array(self, "month_of_step", dtype=np.int64)
        for name in ("import_max_mw", "export_max_mw"):
            _check_nonneg("Grid", name, getattr(self, name))
        for name in ("import_price_usd_per_mwh", "export_price_usd_per_mwh", "carbon_g_per_kwh"):
            _check_finite("Grid", name, getattr(self, name))
        if self.ramp_mw_per_h is not None and not self.ramp_mw_per_h >= 0:
            raise ValueError("Grid.ramp_mw_per_h must be >= 0 or None")
        if not (
            math.isfinite(self.demand_charge_usd_per_mw) and self.demand_charge_usd_per_mw >= 0
        ):
            raise ValueError("Grid.demand_charge_usd_per_mw must be finite and >= 0")
        if self.demand_charge_usd_per_mw > 0 and self.month_of_step is None:
            raise ValueError("Grid.month_of_step is required when a demand charge is set")
        if any(not 0.0 <= s <= 1.0 for s in (self.demand_charge_share or {}).values()):
            raise ValueError("Grid.demand_charge_share values must lie in [0, 1]")
        if self.month_of_step is not None and np.any(self.month_of_step < 0):
            raise ValueError("Grid.month_of_step must be >= 0")
        if self.net_import_cap_mw is not None and np.any(np.isinf(self.net_import_cap_mw)):
            raise ValueError("Grid.net_import_cap_mw: use NaN, not inf, for 'no cap'")

    def month_share(self, month: int) -> float:
        """The share of billing month ``month``'s demand charge this horizon pays."""
        return (self.demand_charge_share or {}).get(int(month), 1.0)

    def month_demand_charge_usd_per_mw(self, month: int) -> float:
        """USD per MW of billing month ``month``'s peak import, after its share."""
        return self.demand_charge_usd_per_mw * self.month_share(month)

    def month_peak_import_mw(self, import_mw: np.ndarray) -> dict[int, float]:
        """Billing month -> peak of an import series (MW per step of ``month_of_step``),
        months in order."""
        months = np.asarray(self.month_of_step)[: len(import_mw)]
        return {int(k): float(import_mw[months == k].max()) for k in np.unique(months)}

    def demand_charge_usd(self, import_mw: np.ndarray) -> float:
        """The demand charge of an import series: each billing month's peak times that
        month's charge."""
        if self.demand_charge_usd_per_mw <= 0 or len(import_mw) == 0:
            return 0.0
        peaks = self.month_peak_import_mw(import_mw)
        return float(sum(self.month_demand_charge_usd_per_mw(k) * mw for k, mw in peaks.items()))

    def check_length(self, n_steps: int) -> None:
        for name in (*self._ARRAYS, "month_of_step"):
            _check_len("Grid", name, getattr(self, name), n_steps)


@dataclass(frozen=True)
class Renewable:
    """A curtailable source: ``name`` is ``"pv"`` or ``"wind"`` (any identifier works)."""

    name: str
    available_mw: np.ndarray

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"Renewable.name must be an identifier, got {self.name!r}")
        _as_array(self, "available_mw")
        _check_nonneg(f"Renewable[{self.name}]", "available_mw", self.available_mw)


@dataclass(frozen=True)
class Battery:
    """Energy store; SOC fractions are of ``energy_mwh``; wear is per MWh discharged."""

    power_mw: float
    energy_mwh: float
    charge_efficiency: float
    discharge_efficiency: float
    soc_min_frac: float
    soc_max_frac: float
    soc_initial_frac: float
    soc_final_frac: float | None = None
    wear_usd_per_mwh: float = 0.0
    available_frac: np.ndarray | None = None
    no_simultaneous: bool = False

    def __post_init__(self) -> None:
        _as_array(self, "available_frac")
        _check_frac("Battery", "available_frac", self.available_frac)
        if not (self.power_mw >= 0 and self.energy_mwh >= 0):
            raise ValueError("Battery.power_mw and energy_mwh must be >= 0")
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"Battery.{name} must lie in (0, 1]")
        if not 0 <= self.soc_min_frac <= self.soc_max_frac <= 1:
            raise ValueError("Battery: need 0 <= soc_min_frac <= soc_max_frac <= 1")
        for name in ("soc_initial_frac", "soc_final_frac"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"Battery.{name} must lie in [0, 1]")
        if not (math.isfinite(self.wear_usd_per_mwh) and self.wear_usd_per_mwh >= 0):
            raise ValueError("Battery.wear_usd_per_mwh must be finite and >= 0")


@dataclass(frozen=True)
class Generator:
    """Dispatchable backup generator (binary on/off with minimum load when min_load_frac>0)."""

    name: str
    capacity_mw: float
    fuel_usd_per_mwh: float
    carbon_g_per_kwh: float
    min_load_frac: float = 0.0
    available_frac: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"Generator.name must be an identifier, got {self.name!r}")
        _as_array(self, "available_frac")
        _check_frac(f"Generator[{self.name}]", "available_frac", self.available_frac)
        if not self.capacity_mw >= 0:
            raise ValueError("Generator.capacity_mw must be >= 0")
        if not 0 <= self.min_load_frac <= 1:
            raise ValueError("Generator.min_load_frac must lie in [0, 1]")
        if not (math.isfinite(self.fuel_usd_per_mwh) and math.isfinite(self.carbon_g_per_kwh)):
            raise ValueError("Generator fuel cost and carbon must be finite")


@dataclass(frozen=True)
class Facility:
    """Inflexible IT load and power usage effectiveness per step."""

    inference_it_mw: np.ndarray
    pue: np.ndarray

    def __post_init__(self) -> None:
        _as_array(self, "inference_it_mw")
        _as_array(self, "pue")
        _check_nonneg("Facility", "inference_it_mw", self.inference_it_mw)
        _check_finite("Facility", "pue", self.pue)
        if np.any(self.pue < 1):
            raise ValueError("Facility.pue must be >= 1")


@dataclass(frozen=True)
class Job:
    """A flexible training job (modelled in ``optimize/jobs.py``)."""

    id: str
    full_power_it_mw: float
    work_h: float
    release_step: int
    deadline_step: int
    preemptible: bool = True
    max_interruptions: int | None = None
    restart_overhead_h: float = 0.0
    f_min: float = 1.0
    throughput_curve: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    running_at_start: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "throughput_curve", tuple((float(f), float(g)) for f, g in self.throughput_curve)
        )
        if not self.full_power_it_mw >= 0 or not self.work_h >= 0:
            raise ValueError(f"Job {self.id}: full_power_it_mw and work_h must be >= 0")
        if not 0 <= self.release_step <= self.deadline_step:
            raise ValueError(f"Job {self.id}: need 0 <= release_step <= deadline_step")
        if not 0 < self.f_min <= 1:
            raise ValueError(f"Job {self.id}: f_min must lie in (0, 1]")
        if self.max_interruptions is not None and self.max_interruptions < 0:
            raise ValueError(f"Job {self.id}: max_interruptions must be >= 0 or None")
        if self.restart_overhead_h < 0:
            raise ValueError(f"Job {self.id}: restart_overhead_h must be >= 0")
        if not any(abs(f - 1.0) < 1e-12 and abs(g - 1.0) < 1e-12 for f, g in self.throughput_curve):
            raise ValueError(f"Job {self.id}: throughput_curve must include (1.0, 1.0)")


@dataclass(frozen=True)
class Objective:
    carbon_price_usd_per_t: float = 0.0
    carbon_budget_t: float | None = None
    unfinished_work_penalty_usd_per_h: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.carbon_price_usd_per_t):
            raise ValueError("Objective.carbon_price_usd_per_t must be finite")
        if self.carbon_budget_t is not None and not self.carbon_budget_t >= 0:
            raise ValueError("Objective.carbon_budget_t must be >= 0 or None")


@dataclass(frozen=True)
class SolverOptions:
    # A wall-clock limit makes results depend on the machine's speed: off by default (the
    # node limit below is the deterministic stop); reported as status "time_limit" if it binds
    time_limit_s: float | None = None
    # 1 %: an answer in seconds on a week, its proven gap reported; 1e-3 or 0 for exactness
    mip_rel_gap: float = 1e-2
    # HiGHS branch-and-bound nodes (``mip_max_nodes``): a stop that is the same on every
    # machine; status "node_limit" (best schedule and its proven gap) if it binds
    node_limit: int | None = 1_000
    threads: int = 1
    seed: int = 0
    # "milp": HiGHS's branch and bound to ``mip_rel_gap``; "price-fix": the price-guided
    # job-fixing heuristic alone (``optimize.price_fix``: a feasible schedule and a proven
    # gap, in a few LP solves)
    method: str = "milp"
    # "milp" with jobs: start HiGHS from the price-fix schedule (a MIP start)
    price_fix_start: bool = True
    # HiGHS ``mip_pscost_minreliable`` (strong-branching reliability); None = HiGHS's
    # default (8). 1 was tried and not kept: mixed results (docs/model_jobs.md)
    pscost_min_reliable: int | None = None
    # HiGHS ``mip_heuristic_effort``, the share of its work spent in primal heuristics
    # (HiGHS's default, 0.05). 0.3 took R1 to 0.1 % in 27 s instead of 54 s, but on the B5
    # sample it was no faster to 1 % and slower to 0.1 % (docs/model_jobs.md)
    heuristic_effort: float = 0.05
    # HiGHS's banner and log on stdout (off: the CLI prints them with --verbose)
    log_to_console: bool = False

    def __post_init__(self) -> None:
        if self.method not in SOLVE_METHODS:
            raise ValueError(f"SolverOptions.method must be one of {SOLVE_METHODS}")


SOLVE_METHODS = ("milp", "price-fix")


@dataclass(frozen=True)
class Problem:
    step_h: float
    n_steps: int
    grid: Grid
    facility: Facility
    renewables: tuple[Renewable, ...] = ()
    battery: Battery | None = None
    generators: tuple[Generator, ...] = ()
    jobs: tuple[Job, ...] = ()
    objective: Objective = field(default_factory=Objective)
    # optimize.network_cuts.LinearCut rows (e.g. AC power-flow sensitivities); () = none
    network_cuts: tuple = ()
    # None: the cuts are hard limits. Else they are soft: each unit a cut is missed by costs
    # this many USD per % (a pu voltage cut counts 100 % per pu), per step
    network_cut_penalty_usd_per_pct: float | None = None

    def __post_init__(self) -> None:
        for name in ("renewables", "generators", "jobs", "network_cuts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        n = self.n_steps
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise ValueError(f"Problem.n_steps must be a positive int, got {n!r}")
        if not self.step_h > 0:
            raise ValueError("Problem.step_h must be > 0")
        self.grid.check_length(n)
        _check_len("Facility", "inference_it_mw", self.facility.inference_it_mw, n)
        _check_len("Facility", "pue", self.facility.pue, n)
        for r in self.renewables:
            _check_len(f"Renewable[{r.name}]", "available_mw", r.available_mw, n)
        if self.battery is not None:
            _check_len("Battery", "available_frac", self.battery.available_frac, n)
        for g in self.generators:
            _check_len(f"Generator[{g.name}]", "available_frac", g.available_frac, n)
        for kind, items, key in (
            ("renewable", self.renewables, "name"),
            ("generator", self.generators, "name"),
            ("job", self.jobs, "id"),
        ):
            names = [getattr(x, key) for x in items]
            if len(set(names)) != len(names):
                raise ValueError(f"Problem: duplicate {kind} {key}s: {names}")
        pen = self.network_cut_penalty_usd_per_pct
        if pen is not None and not (math.isfinite(pen) and pen > 0):
            raise ValueError("Problem.network_cut_penalty_usd_per_pct must be > 0 and finite")
