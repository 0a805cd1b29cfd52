"""sizing.json and sizes.csv of a sizing study, and its result folder.

Annual figures scale the horizon's to a year by 8760 / horizon_h (1 for a year of 8760 h);
the NPV of costs is the equivalent annual cost × the annuity factor AF(r, analysis_years)
(microgrid/sizing/costs.py); the levelised cost of supply is the annual cost / the
facility energy served in a year. Per-asset fixed O&M counts the new units only, as the
sizing objective does (the existing fleet's O&M is the same whatever is built). The
tariff's fixed charge is in the operating and total costs, as in `run`'s total: no size
changes it, so the objective leaves it out, but the site pays it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from microgrid.atomic import json_text
from microgrid.result_files import split_seconds
from microgrid.resultdir import scenario_inputs, write_dir
from microgrid.scenario_yaml import scenario_bytes, scenario_digest, scenario_file_name
from microgrid.sizing.costs import HOURS_PER_YEAR, annuity_factor, capital_recovery_factor
from microgrid.sizing.outcome import AssetOutcome, Sized, SizingStudy, SolveFigures

SIZES_COLUMNS = ("asset", "unit", "existing", "new", "total", "annual_usd")


def _asset_entry(a: AssetOutcome, rate: float) -> dict:
    c = a.spec.cost
    return {
        "unit": a.spec.unit,
        "existing": a.spec.existing,
        "new": a.new,
        "total": a.total,
        "min": a.spec.min_size,
        "max": a.spec.max_size,
        "capex_usd": a.new * c.capex_usd_per_unit,
        "annualised_capital_usd_per_year": a.new * c.annualised_capital_usd_per_unit_year(rate),
        "fixed_om_usd_per_year": a.new * c.fixed_om_usd_per_unit_year,
        "annual_usd_per_year": a.new * c.annual_usd_per_unit(rate),
        "capital_recovery_factor": capital_recovery_factor(rate, c.lifetime_years),
    }


def _solve_entry(f: SolveFigures) -> dict:
    entry = {
        "objective_usd": f.objective_usd,
        "bound_usd": f.bound_usd,
        "status": f.status,
        "mip_gap": f.mip_gap,
        "gap_basis_usd": f.gap_basis_usd,
        "solve_s": f.solve_s,
    }
    if f.parts_bound_usd is not None:  # parts with a battery: no bound of the horizon
        entry["parts_bound_usd"] = f.parts_bound_usd
    if f.parts_objective_usd is not None:  # the parts' figure, demand charges split
        entry["parts_objective_usd"] = f.parts_objective_usd
    return entry


def _annual(study: SizingStudy) -> dict:
    """The verified figures scaled to a year, NPV and levelised cost."""
    sz = study.scenario.sizing
    scale = HOURS_PER_YEAR / study.horizon_h
    s = study.supply
    fixed = study.fixed_cost_usd * scale
    total = study.verified.objective_usd * scale + fixed
    capacity = study.sized.capacity_usd * scale
    energy = s.facility_energy_mwh * scale
    af = annuity_factor(sz.discount_rate, sz.analysis_years)
    return {
        "scale_to_year": scale,
        "note": f"the {study.horizon_h:g} h horizon's verified figures x 8760 / "
        f"{study.horizon_h:g}" + ("" if scale == 1 else " (the horizon is not one year)"),
        "total_cost_usd_per_year": total,
        "capacity_cost_usd_per_year": capacity,
        "operating_cost_usd_per_year": total - capacity,
        "fixed_cost_usd_per_year": fixed,
        "carbon_cost_usd_per_year": _carbon_cost_usd(study) * scale,
        "annuity_factor": af,
        "npv_of_costs_usd": total * af,
        "npv_note": f"equivalent annual cost x annuity factor AF({sz.discount_rate:g}, "
        f"{sz.analysis_years}) = ((1+r)^N - 1) / (r (1+r)^N)",
        "facility_energy_mwh_per_year": energy,
        "levelised_cost_of_supply_usd_per_mwh": total / energy if energy > 0 else None,
        "renewable_share": s.renewable_share,
        "emissions_t_per_year": s.emissions_t * scale,
        "curtailed_renewable_mwh_per_year": s.curtailed_mwh * scale,
        "grid_import_mwh_per_year": s.grid_import_mwh * scale,
    }


def _horizon(study: SizingStudy) -> dict:
    s = study.supply
    return {
        "hours": study.horizon_h,
        "facility_energy_mwh": s.facility_energy_mwh,
        "renewable_used_mwh": s.renewable_used_mwh,
        "curtailed_renewable_mwh": s.curtailed_mwh,
        "grid_import_mwh": s.grid_import_mwh,
        "peak_import_mw": s.peak_import_mw,
        "emissions_t": s.emissions_t,
        "capacity_cost_usd": study.sized.capacity_usd,
        "operating_cost_usd": study.verified.objective_usd
        - study.sized.capacity_usd
        + study.fixed_cost_usd,
        "fixed_cost_usd": study.fixed_cost_usd,
        "carbon_cost_usd": _carbon_cost_usd(study),
    }


def _carbon_cost_usd(study: SizingStudy) -> float:
    """The carbon price's part of the operating cost (USD over the horizon): the sizing
    objective prices emissions as `microgrid run` does, but `run` shows that part apart
    from what the site pays; here it is in the operating and total costs, and this says
    how much of them it is."""
    return study.scenario.objective.carbon_price_usd_per_t * study.supply.emissions_t


def flexibility_entry(
    flexible: Sized, inflexible: Sized, scale: float, breaches: dict | None = None
) -> dict:
    """What flexible training is worth: the inflexible sizing minus the flexible one;
    `breaches` where the inflexible load passes the IT capacity (SizingStudy's)."""
    flex = flexible.sizes
    return {
        "description": "sized again with the jobs inflexible (asap at full power, fixed "
        "load: REopt's view); differences are inflexible minus flexible, costs are the "
        "two sizing solves' planning objectives (operating + capacity) scaled to a year",
        "inflexible_sizes": inflexible.sizes,
        "inflexible_limit_breaches": breaches or {},
        "inflexible_planning": _solve_entry(inflexible.planning),
        "size_difference": {name: v - flex[name] for name, v in inflexible.sizes.items()},
        "grid_import_difference_mw": (
            inflexible.sizes["grid_import"] - flex["grid_import"] if "grid_import" in flex else None
        ),
        "peak_import_difference_mw": inflexible.peak_import_mw - flexible.peak_import_mw,
        "annual_cost_difference_usd_per_year": (
            inflexible.planning.objective_usd - flexible.planning.objective_usd
        )
        * scale,
    }


def sizing_summary(study: SizingStudy) -> dict:
    """The content of sizing.json, with each solve's wall-clock `solve_s`, which the
    folder keeps in timings.json alone (`_fill`)."""
    sc = study.scenario
    sz = sc.sizing
    scale = HOURS_PER_YEAR / study.horizon_h
    return {
        "scenario": {
            "name": sc.name,
            "path": scenario_file_name(study.scenario_path),
            "sha256": scenario_digest(sc),
        },
        "period": sc.period_record(),
        "time_aggregation": "none",
        "time_aggregation_note": "the full horizon at the scenario's step, no representative "
        "periods: no aggregation error",
        "method": sz.method,
        "discount_rate": sz.discount_rate,
        "analysis_years": sz.analysis_years,
        "assets": {a.spec.name: _asset_entry(a, sz.discount_rate) for a in study.sized.assets},
        "planning": _solve_entry(study.sized.planning),
        "connection_raised_from_mw": study.sized.connection_raised_from_mw,
        "verified": _solve_entry(study.verified),
        "planning_vs_verified_gap": study.planning_vs_verified_gap,
        "cost_basis": "operating objective + capacity cost of the sized assets over the horizon",
        "horizon": _horizon(study),
        "annual": _annual(study),
        "flexibility": None
        if study.flexibility is None
        else flexibility_entry(study.sized, study.flexibility, scale, study.inflexible_breaches),
    }


def sizes_table(study: SizingStudy) -> pd.DataFrame:
    """sizes.csv: one row per sized asset; annual_usd = new units × annual cost per unit."""
    rate = study.scenario.sizing.discount_rate
    rows = [
        (
            a.spec.name,
            a.spec.unit,
            a.spec.existing,
            a.new,
            a.total,
            a.new * a.spec.cost.annual_usd_per_unit(rate),
        )
        for a in study.sized.assets
    ]
    return pd.DataFrame(rows, columns=list(SIZES_COLUMNS))


def _fill(study: SizingStudy, tmp: Path) -> None:
    summary, timings = split_seconds(sizing_summary(study))  # the solves' wall-clock
    (tmp / "sizing.json").write_text(json_text(summary), encoding="utf-8")
    (tmp / "timings.json").write_text(json_text(timings), encoding="utf-8")
    buf = io.StringIO()
    sizes_table(study).to_csv(buf, index=False, lineterminator="\n")
    (tmp / "sizes.csv").write_text(buf.getvalue(), encoding="utf-8")
    (tmp / "scenario.yaml").write_bytes(scenario_bytes(study.scenario, study.scenario_path))


def write_sizing_dir(study: SizingStudy, out: Path) -> Path:
    """Build the sizing folder beside `out` and swap it in (microgrid.resultdir: only over
    an empty folder or an earlier sizing folder); return `out` absolute."""
    inputs = [] if study.scenario_path is None else [study.scenario_path]
    inputs += scenario_inputs(study.scenario)  # its data files: never in `out` either
    return write_dir(out, "sizing", lambda tmp: _fill(study, tmp), inputs)
