"""Input dataclasses of the optimiser: plain numpy arrays indexed by step ``t = 0 .. n-1``.

No time stamps here: ``step_h`` (1.0 or 0.25) turns MW into MWh. Arrays are converted to
float ``numpy`` arrays and checked for length in ``Problem.__post_init__`` (each dataclass
checks what it can on its own; the length ``n_steps`` is only known to ``Problem``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optimize.field_checks import (
    as_array,
    check_amount,
    check_finite,
    check_frac,
    check_fraction,
    check_len,
    check_nonneg,
    check_real,
    check_whole,
    is_number,
)


@dataclass(frozen=True)
class PeakCharge:
    """A demand charge on the highest import (MW, step average) over some steps.

    One billing month's flat demand charge is one ``PeakCharge`` over the month's steps; a
    time-of-use demand charge is one per (billing month, demand period), over that period's
    steps in the month; a coincident-peak alert day is one over its alert window.

    Billed demand (MW) = max(peak over ``steps``, ``prior_peak_mw``, ``ratchet_floor_mw``,
    fraction × the peak over ``steps`` of each charge named in ``ratchets``);
    cost (USD) = ``usd_per_mw`` × billed demand.

    The peak is of the import averaged over demand intervals of ``interval_steps`` steps
    (a rate's 30- or 60-minute demand window at shorter steps; 1: each step's average).
    Intervals follow one another from step ``interval_steps − interval_phase``: the first
    began ``interval_phase`` steps before step 0. It averages its steps from step 0 and
    the ``head_steps`` before them whose import (MW) adds up to ``head_import_mw`` (a
    window of a longer horizon); an interval cut by the end of the steps averages the
    steps it has. An interval counts for the charge when one of its steps is in ``steps``.
    """

    # Stable across rolling windows and re-plans ("demand_flat@2023-08"): the key a
    # horizon's ``prior_peak_mw`` and the ratchets refer to
    key: str
    # The bill's line item this charge adds to ("demand_flat", "demand_tou_2", ...): the
    # summary reports ``<line_item>_usd`` summed over the charges that share it
    line_item: str
    # USD per MW of billed demand, already pro-rated (a month covered in part pays its share)
    usd_per_mw: float
    # bool per step: the steps whose import sets this peak (length n_steps)
    steps: np.ndarray
    # Peak already reached in this billing period before step 0 (MW): a floor, so a horizon
    # pays only for raising it (rolling windows, the closed loop)
    prior_peak_mw: float = 0.0
    # Billed demand is at least this (MW): a ratchet on peaks before the horizon
    ratchet_floor_mw: float = 0.0
    # (key of another charge in this problem, fraction): billed demand >= fraction × that
    # charge's peak (a ratchet on an earlier month inside the horizon)
    ratchets: tuple[tuple[str, float], ...] = ()
    # steps averaged into one demand interval (module docstring); 1: each step
    interval_steps: int = 1
    # steps of step 0's interval that lie before step 0 (a horizon starting inside one)
    interval_phase: int = 0
    # of those, the steps (the last ones) whose import is known, and its sum (MW): their
    # part of the first interval's average
    head_steps: int = 0
    head_import_mw: float = 0.0

    def __post_init__(self) -> None:
        as_array(self, "steps", dtype=bool)
        owner = f"PeakCharge[{self.key}]"
        check_whole(owner, "interval_steps", self.interval_steps, least=1)
        check_whole(owner, "interval_phase", self.interval_phase)
        check_whole(owner, "head_steps", self.head_steps)
        check_amount(owner, "head_import_mw", self.head_import_mw)
        if not self.head_steps <= self.interval_phase < self.interval_steps:
            raise ValueError(f"{owner}: head_steps <= interval_phase < interval_steps")
        if self.head_steps == 0 and self.head_import_mw != 0:
            raise ValueError(f"{owner}.head_import_mw needs head_steps above 0")
        object.__setattr__(self, "ratchets", tuple((str(k), float(f)) for k, f in self.ratchets))
        for name in ("usd_per_mw", "prior_peak_mw", "ratchet_floor_mw"):
            check_amount(owner, name, getattr(self, name))
        if any(not 0 <= f <= 1 for _, f in self.ratchets):
            raise ValueError(f"PeakCharge[{self.key}].ratchets fractions must lie in [0, 1]")


@dataclass(frozen=True)
class EnergyTiers:
    """A tiered energy charge for one billing month (URDB energy tiers).

    The month's import energy (MWh over ``steps``) fills blocks in order: block ``i`` holds
    at most ``block_mwh[i]`` (widths already pro-rated; the last block has no limit whatever
    its width: energy beyond it pays the last rate, as in REopt.jl), and each
    MWh in block ``i`` imported at step ``t`` costs ``usd_per_mwh[i][t]`` on top of the grid's
    import price. Rates that never fall from one block to the next (at every step) are an
    LP; a falling rate (a declining block) needs one binary per block boundary.
    """

    key: str  # stable ("energy_tiers@2023-08")
    line_item: str  # e.g. "energy_tiers"
    steps: np.ndarray  # bool per step: the billing month's steps
    block_mwh: tuple[float, ...]
    usd_per_mwh: tuple[np.ndarray, ...]  # one array (length n_steps) per block
    # energy already imported in this billing month before step 0 (MWh): fills blocks first
    prior_mwh: float = 0.0

    def __post_init__(self) -> None:
        as_array(self, "steps", dtype=bool)
        object.__setattr__(self, "block_mwh", tuple(float(w) for w in self.block_mwh))
        object.__setattr__(
            self, "usd_per_mwh", tuple(np.asarray(r, dtype=float) for r in self.usd_per_mwh)
        )
        if len(self.block_mwh) != len(self.usd_per_mwh) or not self.block_mwh:
            raise ValueError(f"EnergyTiers[{self.key}]: one rate array per block, at least one")
        if any(not w > 0 for w in self.block_mwh):
            raise ValueError(f"EnergyTiers[{self.key}].block_mwh must be > 0")
        for r in self.usd_per_mwh:
            check_finite(f"EnergyTiers[{self.key}]", "usd_per_mwh", r)
        check_amount(f"EnergyTiers[{self.key}]", "prior_mwh", self.prior_mwh)

    def is_convex(self) -> bool:
        """True if no block is cheaper than the one before it at any step (an LP)."""
        rates = self.usd_per_mwh
        return all(np.all(b >= a - 1e-12) for a, b in zip(rates, rates[1:], strict=False))


@dataclass(frozen=True)
class Grid:
    """Point of common coupling. Power in MW (step averages), prices per MWh."""

    import_max_mw: np.ndarray
    export_max_mw: np.ndarray
    import_price_usd_per_mwh: np.ndarray
    export_price_usd_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    ramp_mw_per_h: float | None = None
    net_import_cap_mw: np.ndarray | None = None
    # A price (USD/MWh) on net import above ``net_import_cap_mw``: the cap a soft limit.
    # None: a hard one. The closed loop's re-plan where the plant's state cannot meet a cap
    # (microgrid/operate/controller.py) sets it far above every other price.
    dr_cap_over_usd_per_mwh: float | None = None
    initial_net_import_mw: float | None = None
    # Net import bounds (MW; NaN: none) that the ramp limit carries back from limits after
    # the horizon's end: a window of a longer horizon must end where the next can follow
    # (``optimize.window_state.ramp_reach``)
    reach_max_mw: np.ndarray | None = None
    reach_min_mw: np.ndarray | None = None
    # Demand charges, each on the peak import over its steps (flat monthly, TOU periods)
    peak_charges: tuple[PeakCharge, ...] = ()
    # Tiered energy charges, one per billing month (on top of import_price_usd_per_mwh)
    energy_tiers: tuple[EnergyTiers, ...] = ()
    # The bill's split of the import (export) price into line items: line item -> USD/MWh
    # per step; the parts sum to import_price_usd_per_mwh (export_price_usd_per_mwh) at
    # every step. None: one line, "energy". Used for the bill only, not by the model.
    import_price_parts: dict[str, np.ndarray] | None = None
    export_price_parts: dict[str, np.ndarray] | None = None

    _ARRAYS = (
        "import_max_mw",
        "export_max_mw",
        "import_price_usd_per_mwh",
        "export_price_usd_per_mwh",
        "carbon_g_per_kwh",
        "net_import_cap_mw",
        "reach_max_mw",
        "reach_min_mw",
    )

    def __post_init__(self) -> None:
        for name in self._ARRAYS:
            as_array(self, name)
        for name in ("import_max_mw", "export_max_mw"):
            check_nonneg("Grid", name, getattr(self, name))
        for name in ("import_price_usd_per_mwh", "export_price_usd_per_mwh", "carbon_g_per_kwh"):
            check_finite("Grid", name, getattr(self, name))
        ramp = self.ramp_mw_per_h
        if ramp is not None and not (is_number(ramp) and ramp >= 0):  # inf: no limit
            raise ValueError(f"Grid.ramp_mw_per_h must be a number >= 0 or None, got {ramp!r}")
        if self.dr_cap_over_usd_per_mwh is not None:
            check_amount("Grid", "dr_cap_over_usd_per_mwh", self.dr_cap_over_usd_per_mwh)
        if self.initial_net_import_mw is not None:
            check_real("Grid", "initial_net_import_mw", self.initial_net_import_mw)
        for name in ("net_import_cap_mw", "reach_max_mw", "reach_min_mw"):
            if getattr(self, name) is not None and np.any(np.isinf(getattr(self, name))):
                raise ValueError(f"Grid.{name}: use NaN, not inf, for 'no limit'")
        object.__setattr__(self, "peak_charges", tuple(self.peak_charges))
        object.__setattr__(self, "energy_tiers", tuple(self.energy_tiers))
        _check_charge_keys(self.peak_charges, self.energy_tiers)

    def check_length(self, n_steps: int) -> None:
        for name in self._ARRAYS:
            check_len("Grid", name, getattr(self, name), n_steps)
        for c in self.peak_charges:
            check_len(f"PeakCharge[{c.key}]", "steps", c.steps, n_steps)
        for x in self.energy_tiers:
            check_len(f"EnergyTiers[{x.key}]", "steps", x.steps, n_steps)
            for r in x.usd_per_mwh:
                check_len(f"EnergyTiers[{x.key}]", "usd_per_mwh", r, n_steps)
        for parts in (self.import_price_parts, self.export_price_parts):
            for name, arr in (parts or {}).items():
                check_len("Grid", f"price part {name}", np.asarray(arr), n_steps)


def _check_charge_keys(charges: tuple[PeakCharge, ...], tiers: tuple[EnergyTiers, ...]) -> None:
    """Keys are unique, and a ratchet names a peak charge of the same grid."""
    keys = [c.key for c in charges]
    for kind, ks in (("PeakCharge", keys), ("EnergyTiers", [x.key for x in tiers])):
        dup = {k for k in ks if ks.count(k) > 1}
        if dup:
            raise ValueError(f"Grid: duplicate {kind} key {sorted(dup)[0]!r}")
    for c in charges:
        for k, _ in c.ratchets:
            if k not in keys or k == c.key:
                raise ValueError(f"PeakCharge[{c.key}].ratchets: no other peak charge {k!r}")


@dataclass(frozen=True)
class Renewable:
    """A curtailable source: ``name`` is ``"pv"`` or ``"wind"`` (any identifier works)."""

    name: str
    available_mw: np.ndarray

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"Renewable.name must be an identifier, got {self.name!r}")
        as_array(self, "available_mw")
        check_nonneg(f"Renewable[{self.name}]", "available_mw", self.available_mw)


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
        as_array(self, "available_frac")
        check_frac("Battery", "available_frac", self.available_frac)
        for name in ("power_mw", "energy_mwh"):
            check_amount("Battery", name, getattr(self, name))
        for name in ("charge_efficiency", "discharge_efficiency"):
            check_fraction("Battery", name, getattr(self, name), open_low=True)
        for name in ("soc_min_frac", "soc_max_frac", "soc_initial_frac"):
            check_fraction("Battery", name, getattr(self, name))
        if self.soc_final_frac is not None:
            check_fraction("Battery", "soc_final_frac", self.soc_final_frac)
        if not self.soc_min_frac <= self.soc_max_frac:
            raise ValueError("Battery: need 0 <= soc_min_frac <= soc_max_frac <= 1")
        check_amount("Battery", "wear_usd_per_mwh", self.wear_usd_per_mwh)


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
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"Generator.name must be an identifier, got {self.name!r}")
        owner = f"Generator[{self.name}]"
        as_array(self, "available_frac")
        check_frac(owner, "available_frac", self.available_frac)
        check_amount(owner, "capacity_mw", self.capacity_mw)
        check_fraction(owner, "min_load_frac", self.min_load_frac)
        check_real(owner, "fuel_usd_per_mwh", self.fuel_usd_per_mwh)
        check_real(owner, "carbon_g_per_kwh", self.carbon_g_per_kwh)


@dataclass(frozen=True)
class Facility:
    """Inflexible IT load and power usage effectiveness per step; the installed IT
    capacity (MW) the inference and the jobs share at every step (None: no cap)."""

    inference_it_mw: np.ndarray
    pue: np.ndarray
    it_capacity_mw: float | None = None

    def __post_init__(self) -> None:
        as_array(self, "inference_it_mw")
        as_array(self, "pue")
        check_nonneg("Facility", "inference_it_mw", self.inference_it_mw)
        check_finite("Facility", "pue", self.pue)
        if np.any(self.pue < 1):
            raise ValueError("Facility.pue must be >= 1")
        cap = self.it_capacity_mw
        if cap is None:
            return
        check_amount("Facility", "it_capacity_mw", cap)
        over = np.flatnonzero(self.inference_it_mw > cap + 1e-9)
        if over.size:
            t = int(over[0])
            raise ValueError(
                f"Facility.inference_it_mw ({self.inference_it_mw[t]:g} MW at step {t}) "
                f"exceeds it_capacity_mw ({cap:g})"
            )


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
    # a rolling window's job: the hours of work it may leave past the model's horizon
    # (``optimize.window_guide``), in place of the horizon credit's fraction of the hours
    # after it (``optimize.jobs.horizon_credit``); None: that fraction
    credit_h: float | None = None
    # with ``credit_h``: the hours more it may leave if it runs at the model's last step (a
    # rolling window's guide runs it on past the window: stopped before, it restarts later
    # and the window pays that restart's overhead; ``optimize.window_guide``). A
    # non-preemptible job leaves only this (``credit_h`` is then 0), in place of every
    # hour after the horizon: the guide's own run after the window
    credit_on_h: float = 0.0
    # a rolling window's guide stops the job before the model's end and starts it again
    # after it: the window keeps the interruption that start needs even if it runs the
    # job at its last step (``optimize.jobs``, the spare restart)
    spare_restart: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.id, str) and self.id):
            # the id names the job's series (job_<id>_mw) and its start_on key: 3 and "3"
            # would be two jobs to a caller and one column to the results
            raise ValueError(f"Job.id must be a non-empty string, got {self.id!r}")
        owner = f"Job[{self.id}]"
        try:
            curve = tuple((float(f), float(g)) for f, g in self.throughput_curve)
        except (TypeError, ValueError) as exc:  # a point not a pair of numbers
            raise ValueError(
                f"{owner}.throughput_curve: (power, throughput) pairs: {exc}"
            ) from None
        object.__setattr__(self, "throughput_curve", curve)
        for name in ("full_power_it_mw", "work_h", "restart_overhead_h"):
            check_amount(owner, name, getattr(self, name))
        for name in ("release_step", "deadline_step"):
            check_whole(owner, name, getattr(self, name))
        if self.max_interruptions is not None:
            check_whole(owner, "max_interruptions", self.max_interruptions)
        if self.credit_h is not None:
            check_amount(owner, "credit_h", self.credit_h)
        check_amount(owner, "credit_on_h", self.credit_on_h)
        if not 0 <= self.release_step <= self.deadline_step:
            raise ValueError(f"Job {self.id}: need 0 <= release_step <= deadline_step")
        check_fraction(owner, "f_min", self.f_min, open_low=True)
        if not any(abs(f - 1.0) < 1e-12 and abs(g - 1.0) < 1e-12 for f, g in self.throughput_curve):
            raise ValueError(f"Job {self.id}: throughput_curve must include (1.0, 1.0)")


@dataclass(frozen=True)
class Objective:
    carbon_price_usd_per_t: float = 0.0
    carbon_budget_t: float | None = None
    unfinished_work_penalty_usd_per_h: float | None = None

    def __post_init__(self) -> None:
        # a negative price would pay the site to emit (the scenario refuses it too), a
        # negative penalty to leave work undone: the objective would have no minimum
        check_amount("Objective", "carbon_price_usd_per_t", self.carbon_price_usd_per_t)
        for name in ("carbon_budget_t", "unfinished_work_penalty_usd_per_h"):
            if getattr(self, name) is not None:
                check_amount("Objective", name, getattr(self, name))


# A plan's commitment may exceed its bound by the solver's feasibility tolerance; the
# closed loop fixes it again (microgrid.dr_program.with_fixed_commit)
COMMIT_TOL_MW = 1e-6


@dataclass(frozen=True)
class DemandResponseEvent:
    """One demand-response event: its steps in this horizon (``key`` is stable across
    re-plans, e.g. ``"dr@2023-08-10T14:00-05:00"``) and the step from which it is known (its
    notice; a plan made before it does not see the event, ``optimize.dr_program``)."""

    key: str
    steps: tuple[int, ...]
    announced_step: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(int(t) for t in self.steps))


@dataclass(frozen=True)
class DemandResponseProgram:
    """A capacity demand-response program (modelled in ``optimize/dr_program.py``).

    The site commits ``C`` MW (decided in ``[0, max_commit_mw]``, or fixed to ``commit_mw``)
    and is paid ``capacity_usd_per_mw`` × C for the horizon (already pro-rated). In each
    event step t the reduction is ``baseline_t − net_import_t`` (MW), with
    ``baseline_t = baseline_fixed_mw[t] + Σ weight × net_import[source]`` over the
    ``baseline_terms`` ``(t, source, weight)`` of step t (a baseline averaged over earlier
    days of the horizon is linear in the decisions). Delivered MW ``min(C, max(reduction,
    0))`` earns ``energy_usd_per_mwh``; each MWh by which it falls short of C costs
    ``shortfall_usd_per_mwh`` (a step above the baseline falls short by C, no more).
    """

    events: tuple[DemandResponseEvent, ...]
    capacity_usd_per_mw: float  # USD per MW committed, for this horizon
    energy_usd_per_mwh: float  # USD per MWh delivered in events
    shortfall_usd_per_mwh: float  # USD per MWh of shortfall below the commitment
    max_commit_mw: float
    commit_mw: float | None = None  # None: the optimiser decides C
    # MW per step (length n_steps): the baseline's fixed part (0 where terms make it all)
    baseline_fixed_mw: np.ndarray | None = None
    # (event step, step whose net import counts, weight): the baseline's variable part
    baseline_terms: tuple[tuple[int, int, float], ...] = ()

    def __post_init__(self) -> None:
        as_array(self, "baseline_fixed_mw")
        object.__setattr__(self, "events", tuple(self.events))
        object.__setattr__(
            self,
            "baseline_terms",
            tuple((int(t), int(j), float(w)) for t, j, w in self.baseline_terms),
        )
        owner = "DemandResponseProgram"
        for name in ("capacity_usd_per_mw", "energy_usd_per_mwh", "shortfall_usd_per_mwh"):
            check_amount(owner, name, getattr(self, name))
        check_amount(owner, "max_commit_mw", self.max_commit_mw)
        c = self.commit_mw
        if c is not None:
            check_amount(owner, "commit_mw", c)
        if c is not None and c > self.max_commit_mw + COMMIT_TOL_MW:
            raise ValueError(
                f"DemandResponseProgram.commit_mw ({c}) is above max_commit_mw "
                f"({self.max_commit_mw})"
            )
        if self.baseline_fixed_mw is not None:
            check_finite("DemandResponseProgram", "baseline_fixed_mw", self.baseline_fixed_mw)

    def event_steps(self) -> list[int]:
        """Every event step, in order (events do not overlap)."""
        return sorted(t for e in self.events for t in e.steps)

    def check_length(self, n_steps: int) -> None:
        check_len("DemandResponseProgram", "baseline_fixed_mw", self.baseline_fixed_mw, n_steps)
        steps = self.event_steps()
        if len(set(steps)) != len(steps):
            raise ValueError("DemandResponseProgram: events overlap")
        used = steps + [j for _, j, _ in self.baseline_terms]
        if any(not 0 <= t < n_steps for t in used):
            raise ValueError("DemandResponseProgram: a step lies outside 0 .. n_steps-1")
        event_steps = set(steps)
        if any(t not in event_steps for t, _, _ in self.baseline_terms):
            raise ValueError("DemandResponseProgram: a baseline term's step is no event step")


SIZED_ASSETS = ("battery_power", "battery_energy", "grid_import")  # besides renewables, gens


@dataclass(frozen=True)
class AssetSize:
    """One asset whose size the optimiser chooses (``optimize/sizing.py``).

    ``name``: a renewable of the problem (``"pv"``, ``"wind"``: size in MW of its
    ``profile_per_unit``), ``"battery_power"`` (MW), ``"battery_energy"`` (MWh),
    ``"grid_import"`` (MW of import capacity) or ``"generator:<name>"`` (MW).
    The size lies in ``[max(min_size, existing), max_size]``; each unit above ``existing``
    costs ``usd_per_unit`` over the horizon (annualised capital plus fixed O&M, already
    pro-rated to the horizon by the caller: the model sees one number per unit, as
    ``PeakCharge.usd_per_mw``). The sized asset replaces the problem's fixed capacity of it.
    """

    name: str
    usd_per_unit: float
    min_size: float
    max_size: float
    existing: float = 0.0
    # renewables only: available MW per MW of size, per step (length n_steps)
    profile_per_unit: np.ndarray | None = None

    def __post_init__(self) -> None:
        as_array(self, "profile_per_unit")
        for name in ("usd_per_unit", "min_size", "max_size", "existing"):
            check_amount(f"AssetSize[{self.name}]", name, getattr(self, name))
        if not max(self.min_size, self.existing) <= self.max_size:
            raise ValueError(f"AssetSize[{self.name}]: need min_size, existing <= max_size")
        if self.profile_per_unit is not None:
            check_nonneg(f"AssetSize[{self.name}]", "profile_per_unit", self.profile_per_unit)

    @property
    def lower_size(self) -> float:
        """The least size the model may choose: what exists is never removed."""
        return max(self.min_size, self.existing)


@dataclass(frozen=True)
class Sizing:
    """The assets whose sizes are decided with the dispatch (a capacity-expansion model)."""

    assets: tuple[AssetSize, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", tuple(self.assets))
        names = [a.name for a in self.assets]
        if len(set(names)) != len(names):
            raise ValueError(f"Sizing: duplicate asset names {names}")

    def get(self, name: str) -> AssetSize | None:
        return next((a for a in self.assets if a.name == name), None)


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
    # A demand-response program (commit capacity, deliver in events); None: none
    dr_program: DemandResponseProgram | None = None
    # Assets sized together with the dispatch (capacity expansion); None: all sizes fixed
    sizing: Sizing | None = None

    def __post_init__(self) -> None:
        for name in ("renewables", "generators", "jobs", "network_cuts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _check_parts(self)
        n = self.n_steps
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise ValueError(f"Problem.n_steps must be a positive int, got {n!r}")
        h = self.step_h
        if not (is_number(h) and math.isfinite(h) and h > 0):  # inf had been accepted
            raise ValueError(f"Problem.step_h must be a finite number of hours > 0, got {h!r}")
        self.grid.check_length(n)
        check_len("Facility", "inference_it_mw", self.facility.inference_it_mw, n)
        check_len("Facility", "pue", self.facility.pue, n)
        for r in self.renewables:
            check_len(f"Renewable[{r.name}]", "available_mw", r.available_mw, n)
        if self.battery is not None:
            check_len("Battery", "available_frac", self.battery.available_frac, n)
        for g in self.generators:
            check_len(f"Generator[{g.name}]", "available_frac", g.available_frac, n)
        for kind, items, key in (
            ("renewable", self.renewables, "name"),
            ("generator", self.generators, "name"),
            ("job", self.jobs, "id"),
        ):
            names = [getattr(x, key) for x in items]
            if len(set(names)) != len(names):
                raise ValueError(f"Problem: duplicate {kind} {key}s: {names}")
        pen = self.network_cut_penalty_usd_per_pct
        if pen is not None and not (is_number(pen) and math.isfinite(pen) and pen > 0):
            raise ValueError("Problem.network_cut_penalty_usd_per_pct must be > 0 and finite")
        if self.dr_program is not None:
            self.dr_program.check_length(n)
        if self.sizing is not None:
            _check_sizing(self)


def _check_parts(problem: Problem) -> None:
    """Each part is of its dataclass: a dict for a job had failed deep in the solve."""
    singles = {"grid": Grid, "facility": Facility, "objective": Objective}
    for name, kind in singles.items():
        if not isinstance(getattr(problem, name), kind):
            got = type(getattr(problem, name)).__name__
            raise TypeError(f"Problem.{name}: a {kind.__name__}, not {got}")
    for name, kind in (("renewables", Renewable), ("generators", Generator), ("jobs", Job)):
        bad = [x for x in getattr(problem, name) if not isinstance(x, kind)]
        if bad:
            raise TypeError(f"Problem.{name}: {kind.__name__} objects, not {type(bad[0]).__name__}")
    if problem.battery is not None and not isinstance(problem.battery, Battery):
        raise TypeError(f"Problem.battery: a Battery or None, not {type(problem.battery).__name__}")


def _check_sizing(problem: Problem) -> None:
    """Each sized asset names an asset of the problem (its template: efficiencies, fuel)."""
    renewables = {r.name for r in problem.renewables}
    generators = {f"generator:{g.name}" for g in problem.generators}
    for a in problem.sizing.assets:
        if a.name in renewables:
            if a.profile_per_unit is None:
                raise ValueError(f"AssetSize[{a.name}]: a renewable needs profile_per_unit")
            check_len(
                f"AssetSize[{a.name}]", "profile_per_unit", a.profile_per_unit, problem.n_steps
            )
        elif a.name in ("battery_power", "battery_energy"):
            if problem.battery is None:
                raise ValueError(f"AssetSize[{a.name}]: the problem has no battery to size")
        elif a.name != "grid_import" and a.name not in generators:
            raise ValueError(f"AssetSize[{a.name}]: no such asset in the problem")
