"""The figures of a sizing study: the solves, the sized assets, the verified supply.

Costs are USD over the horizon (`horizon_h` hours) unless named per year; sizes are MW
(MWh for battery energy).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import optimize
from microgrid.results import renewable_share
from microgrid.scenario import Scenario
from microgrid.sizing.assets import AssetSpec


@dataclass(frozen=True)
class SolveFigures:
    """One solve: its status, objective (USD over the horizon), proven bound (None for
    rolling windows), gap and time (`solve_s`: model build + solve, s). `gap_basis_usd`:
    what the gap is relative to (USD; None for rolling windows), so that mip_gap =
    (objective_usd − bound_usd) / gap_basis_usd. `parts_bound_usd`: a sizing by parts
    whose cuts pin the battery's charge bounds only plans by those parts, not the horizon:
    its bound is here, `bound_usd` is None and mip_gap is measured against this one.
    `parts_objective_usd`: a sizing by parts' own figure, each demand charge split over the
    parts by share, each part paying on its own peak (a model figure, at most the plan's
    cost `objective_usd`, which bills each charge on its peak over all parts)."""

    status: str
    objective_usd: float
    bound_usd: float | None
    mip_gap: float
    solve_s: float
    gap_basis_usd: float | None = None
    parts_bound_usd: float | None = None
    parts_objective_usd: float | None = None

    @classmethod
    def of(cls, d: optimize.Dispatch, extra_usd: float = 0.0) -> SolveFigures:
        """`d`'s figures; `extra_usd` is added to the objective and the bound (their
        difference, the gap, is the same)."""
        bound = None if d.bound_usd is None else d.bound_usd + extra_usd
        return cls(
            d.status,
            d.objective_usd + extra_usd,
            bound,
            d.mip_gap,
            d.build_s + d.solve_s,
            d.gap_basis_usd,
        )

    def raised_by(self, added_usd: float) -> SolveFigures:
        """This solve's plan made dearer by `added_usd` (USD) after the solve: the bound
        stays, the gap is measured again against it (the gross cost, so the basis, rises
        by as much) and the status is "heuristic": no solve proved that plan."""
        basis = None if self.gap_basis_usd is None else self.gap_basis_usd + added_usd
        objective = self.objective_usd + added_usd
        gap = self.mip_gap
        bound = self.parts_bound_usd if self.bound_usd is None else self.bound_usd
        if bound is not None and basis:
            gap = (objective - bound) / basis
        parts = self.parts_objective_usd
        return replace(
            self,
            status="heuristic",
            objective_usd=objective,
            mip_gap=gap,
            gap_basis_usd=basis,
            parts_objective_usd=None if parts is None else parts + added_usd,
        )


@dataclass(frozen=True)
class AssetOutcome:
    """A sized asset: its spec, the chosen total size and its cost per unit over the
    horizon (USD per MW or MWh)."""

    spec: AssetSpec
    total: float
    horizon_usd_per_unit: float

    @property
    def new(self) -> float:
        """Units built beyond the existing fleet."""
        return max(0.0, self.total - self.spec.existing)

    @property
    def horizon_usd(self) -> float:
        """Capacity cost over the horizon (USD): new units × cost per unit."""
        return self.new * self.horizon_usd_per_unit


@dataclass(frozen=True)
class Supply:
    """Energy figures of a dispatch over the horizon."""

    facility_energy_mwh: float
    renewable_used_mwh: float
    renewable_share: float  # microgrid.results.renewable_share
    curtailed_mwh: float
    grid_import_mwh: float
    peak_import_mw: float
    emissions_t: float

    @classmethod
    def of(cls, d: optimize.Dispatch, step_h: float, renewables: list[str]) -> Supply:
        s = d.series
        used_mw = sum((np.asarray(s[f"{n}_used_mw"], float) for n in renewables), 0.0)
        used = sum(float(s[f"{n}_used_mw"].sum()) for n in renewables) * step_h
        avail = sum(float(s[f"{n}_available_mw"].sum()) for n in renewables) * step_h
        return cls(
            facility_energy_mwh=float(s["facility_load_mw"].sum()) * step_h,
            renewable_used_mwh=used,
            renewable_share=renewable_share(s["facility_load_mw"], used_mw),
            curtailed_mwh=max(0.0, avail - used),
            grid_import_mwh=float(s["grid_import_mw"].sum()) * step_h,
            peak_import_mw=float(s["grid_import_mw"].max()),
            emissions_t=float(d.costs.get("emissions_t", 0.0)),
        )


@dataclass(frozen=True)
class Sized:
    """One sizing solve: the assets' chosen sizes and the solve's figures."""

    assets: tuple[AssetOutcome, ...]
    planning: SolveFigures
    # the planning dispatch's highest grid import (MW): the connection it uses
    peak_import_mw: float
    # the connection the plan chose, when the verification had to raise it (MW; None: not)
    connection_raised_from_mw: float | None = None

    @property
    def sizes(self) -> dict[str, float]:
        return {a.spec.name: a.total for a in self.assets}

    @property
    def capacity_usd(self) -> float:
        return sum(a.horizon_usd for a in self.assets)

    def with_connection(self, mw: float) -> Sized:
        """This plan with the grid connection raised to `mw`: its dispatch stays feasible,
        its cost rises by the capacity added (`SolveFigures.raised_by`)."""
        assets = tuple(
            replace(a, total=mw) if a.spec.name == "grid_import" else a for a in self.assets
        )
        raised = replace(self, assets=assets)
        planning = self.planning.raised_by(raised.capacity_usd - self.capacity_usd)
        first = self.connection_raised_from_mw or self.sizes["grid_import"]
        return replace(raised, planning=planning, connection_raised_from_mw=first)


@dataclass(frozen=True)
class SizingStudy:
    """A sizing study's figures. Costs in USD over the horizon (`horizon_h` hours) unless named
    per year; `flexibility` is the sizing with the jobs inflexible (None: not asked),
    `inflexible_breaches` where that load passes the IT capacity (the `it_capacity_*`
    fields of microgrid/breaches.py; None: not asked), and `fixed_cost_usd` the tariff's
    fixed charge over the horizon (no size changes it, so no solve holds it; `run`'s
    summary.json `fixed_cost_usd`)."""

    scenario: Scenario
    scenario_path: Path | None
    horizon_h: float
    sized: Sized
    verified: SolveFigures
    supply: Supply
    flexibility: Sized | None
    inflexible_breaches: dict | None = None
    fixed_cost_usd: float = 0.0

    @property
    def planning_vs_verified_gap(self) -> float:
        """(verified − planning) / |verified|, both operating + capacity cost: above 0
        when the verified dispatch costs more than the plan (|.|: export revenue can make
        both costs negative, and the sign must still say which is dearer)."""
        v = self.verified.objective_usd
        return (v - self.sized.planning.objective_usd) / abs(v) if v else 0.0
