"""Turn a scenario and its data into the optimizer's plain-array `Problem`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

import optimize
from microgrid.billing import flat_demand_charges
from microgrid.coincident_peak import add_coincident_peaks, load_coincident_peaks
from microgrid.datacenter import inference_it_mw, pue
from microgrid.dr_program import dr_program
from microgrid.errors import InputError, InputErrors
from microgrid.jobs import JobInstance, place_jobs, scenario_jobs, to_optimize_jobs
from microgrid.network_params import NetworkParameters
from microgrid.resources import resource_profiles
from microgrid.scenario import Scenario
from microgrid.signals import load_signals
from microgrid.tariffs import grid_with_tariff, scenario_rate
from microgrid.wall_time import overlap_mask
from weather.wind import turbine_rated_mw

T = TypeVar("T")


@dataclass(frozen=True)
class Inputs:
    """Everything the optimizer and the network need, on one UTC index."""

    index: pd.DatetimeIndex
    # price_usd_per_mwh, carbon_g_per_kwh, pv_available_mw, wind_available_mw, temp_air_c,
    # inference_it_mw, pue, outage (bool)
    frame: pd.DataFrame
    jobs: list[JobInstance]
    jobs_dropped: int
    # the ids of the jobs as given (YAML items, then CSV rows), placed or not
    job_ids: tuple[str, ...] = ()


def window_mask(scenario: Scenario, index: pd.DatetimeIndex, start, end) -> np.ndarray:
    """Steps that overlap [start, end) (times local to the site when naive)."""
    return overlap_mask(index, scenario.to_utc(start), scenario.to_utc(end))


def _collected(errors: list[InputError], read: Callable[[], T]) -> T | None:
    """What `read` returns; None, its input errors added to `errors`, when it raises any."""
    try:
        return read()
    except InputErrors as exc:
        errors.extend(exc.errors)
    except InputError as exc:
        errors.append(exc)
    return None


def _flat_demand_charges(scenario: Scenario, index: pd.DatetimeIndex) -> tuple:
    """The scenario's flat monthly demand charges (``microgrid.billing``); a demand window
    the steps cannot meet is an error naming ``grid.demand_window_minutes``."""
    g = scenario.grid
    try:
        return flat_demand_charges(
            index,
            scenario.site.timezone,
            scenario.step_h,
            g.demand_charge_usd_per_kw_month,
            g.demand_charge_billing,
            g.demand_window_minutes,
        )
    except ValueError as exc:
        raise scenario.error(str(exc), "grid.demand_window_minutes") from None


def _problem_file_errors(scenario: Scenario, index: pd.DatetimeIndex) -> list[InputError]:
    """The input errors of the data files `build_problem` reads: the tariff, the
    coincident-peak lists and the demand-response events."""
    errors: list[InputError] = []
    _collected(errors, lambda: scenario_rate(scenario))
    _collected(errors, lambda: load_coincident_peaks(scenario))
    _collected(errors, lambda: dr_program(scenario, index))
    return errors


def _with_problem_file_errors(
    raised: InputError, scenario: Scenario, index: pd.DatetimeIndex
) -> InputErrors:
    """`raised` (while building the problem) with the errors of every file `build_problem`
    reads, each error once."""
    found = _problem_file_errors(scenario, index)
    listed = {str(e) for e in found}
    first = raised.errors if isinstance(raised, InputErrors) else [raised]
    errors = [e for e in first if str(e) not in listed] + found
    return InputErrors([scenario.file_error(e) for e in errors])


def load_inputs(scenario: Scenario) -> Inputs:
    """Read signals, weather, resources, the inference profile and the jobs.

    Each data file is read even when another one fails: InputErrors lists the errors of
    all of them, with those of the files `build_problem` reads (which the first error
    would otherwise hide from `validate`)."""
    index = scenario.index()
    errors: list[InputError] = []
    signals = _collected(errors, lambda: load_signals(scenario, index))
    res = _collected(errors, lambda: resource_profiles(scenario, index))
    placed = _collected(errors, lambda: _read_and_place_jobs(scenario))
    if errors:
        errors += _problem_file_errors(scenario, index)
        raise InputErrors([scenario.file_error(e) for e in errors])
    frame = pd.concat([signals, res], axis=1)
    frame["inference_it_mw"] = inference_it_mw(
        index, scenario.datacenter.inference, scenario.site.timezone
    )
    frame["pue"] = pue(frame["temp_air_c"].to_numpy(), scenario.datacenter.pue)
    outage = np.zeros(len(index), dtype=bool)
    for w in scenario.events.outages:
        outage |= window_mask(scenario, index, w.start, w.end)
    frame["outage"] = outage
    for d in scenario.events.derates:
        mask = window_mask(scenario, index, d.start, d.end)
        col = f"{d.asset}_available_frac"
        if col not in frame:
            frame[col] = 1.0
        frame.loc[mask, col] = np.minimum(frame.loc[mask, col], d.available_frac)
    ids, (instances, dropped) = placed
    return Inputs(index=index, frame=frame, jobs=instances, jobs_dropped=dropped, job_ids=ids)


def _read_and_place_jobs(
    scenario: Scenario,
) -> tuple[tuple[str, ...], tuple[list[JobInstance], int]]:
    """The ids of the jobs as given, and `place_jobs`'s answer: the jobs CSV read once."""
    jobs, csv_lines = scenario_jobs(scenario)
    return tuple(j.id for j in jobs), place_jobs(scenario, jobs, csv_lines)


def build_grid(
    scenario: Scenario, inputs: Inputs, net_import_cap_mw: np.ndarray | None = None
) -> optimize.Grid:
    """The grid connection: limits (zero in outages), wholesale price plus adders, carbon,
    ramp, the flat demand charge, then the tariff and the coincident-peak charges."""
    f = inputs.frame
    g = scenario.grid
    outage = f["outage"].to_numpy()
    price = f["price_usd_per_mwh"].to_numpy()
    grid = optimize.Grid(
        import_max_mw=np.where(outage, 0.0, g.import_max_mw),
        export_max_mw=np.where(outage, 0.0, g.export_max_mw),
        import_price_usd_per_mwh=price + g.import_adder_usd_per_mwh,
        export_price_usd_per_mwh=price + g.export_adder_usd_per_mwh,
        carbon_g_per_kwh=f["carbon_g_per_kwh"].to_numpy(),
        ramp_mw_per_h=g.ramp_mw_per_h,
        peak_charges=_flat_demand_charges(scenario, inputs.index),
        net_import_cap_mw=net_import_cap_mw,
    )
    # the tariff replaces wholesale + adders by its own parts: before the CP part is added
    grid = grid_with_tariff(scenario, inputs.index, price, grid)
    return add_coincident_peaks(scenario, inputs.index, grid)


def renewable_available_mw(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Available MW of renewable `name` ("pv" or "wind") per step, its derates applied."""
    avail = frame[f"{name}_available_mw"].to_numpy(dtype=float)
    if f"{name}_available_frac" in frame:
        avail = avail * frame[f"{name}_available_frac"].to_numpy(dtype=float)
    return avail


def build_problem(
    scenario: Scenario,
    inputs: Inputs,
    net_import_cap_mw: np.ndarray | None = None,
) -> optimize.Problem:
    """The optimizer's problem; `net_import_cap_mw` carries demand-response caps.

    An input error in a file it reads (tariff, coincident peaks, demand-response events)
    comes as InputErrors with those of the others."""
    f = inputs.frame
    n = len(inputs.index)
    try:
        grid = build_grid(scenario, inputs, net_import_cap_mw)
        program = dr_program(scenario, inputs.index)
    except InputError as exc:
        raise _with_problem_file_errors(exc, scenario, inputs.index) from None
    renewables = [
        optimize.Renewable(name=name, available_mw=renewable_available_mw(f, name))
        for name in ("pv", "wind")
        if getattr(scenario, name) is not None
    ]
    battery = _battery(scenario, f)
    generators = _generators(scenario)
    o = scenario.objective
    return optimize.Problem(
        step_h=scenario.step_h,
        n_steps=n,
        grid=grid,
        facility=optimize.Facility(
            inference_it_mw=f["inference_it_mw"].to_numpy(),
            pue=f["pue"].to_numpy(),
            it_capacity_mw=scenario.datacenter.it_capacity_mw,
        ),
        renewables=tuple(renewables),
        battery=battery,
        generators=generators,
        jobs=to_optimize_jobs(scenario, inputs.jobs, inputs.index),
        objective=optimize.Objective(
            carbon_price_usd_per_t=o.carbon_price_usd_per_t,
            carbon_budget_t=o.carbon_budget_t,
            unfinished_work_penalty_usd_per_h=o.unfinished_work_penalty_usd_per_h,
        ),
        dr_program=program,
    )


def _battery(scenario: Scenario, f) -> optimize.Battery | None:
    """The optimizer's battery (None without one, or with no energy or power)."""
    b = scenario.battery
    if b is None or b.energy_mwh <= 0 or b.power_mw <= 0:
        return None
    return optimize.Battery(
        power_mw=b.power_mw,
        energy_mwh=b.energy_mwh,
        charge_efficiency=b.charge_efficiency,
        discharge_efficiency=b.discharge_efficiency,
        soc_min_frac=b.soc_min_frac,
        soc_max_frac=b.soc_max_frac,
        soc_initial_frac=b.soc_initial_frac,
        soc_final_frac=b.soc_final_frac,
        wear_usd_per_mwh=b.wear_usd_per_mwh,
        available_frac=(
            f["battery_available_frac"].to_numpy() if "battery_available_frac" in f else None
        ),
        no_simultaneous=b.no_simultaneous_charge_discharge,
    )


def _generators(scenario: Scenario) -> tuple[optimize.Generator, ...]:
    """The optimizer's generators (a `-` in a name becomes `_`)."""
    return tuple(
        optimize.Generator(
            name=gen.name.replace("-", "_"),
            capacity_mw=gen.capacity_mw,
            fuel_usd_per_mwh=gen.fuel_usd_per_mwh,
            carbon_g_per_kwh=gen.carbon_g_per_kwh,
            min_load_frac=gen.min_load_frac,
        )
        for gen in scenario.generators
    )


def solver_options(scenario: Scenario) -> optimize.SolverOptions:
    s = scenario.solver
    return optimize.SolverOptions(
        time_limit_s=s.time_limit_s,
        mip_rel_gap=s.mip_rel_gap,
        node_limit=s.node_limit,
        threads=s.threads,
        method=s.method,
        edge_search_steps=s.edge_search_steps,
        probe_limit=s.probe_limit,
        peak_cap_restart=s.peak_cap_restart,
        peak_split=s.peak_split,
        window_demand_charge=s.window_demand_charge,
        window_restarts=s.window_restarts,
        window_handover=s.window_handover,
    )


def network_parameters(scenario: Scenario) -> NetworkParameters:
    """The pandapower network's parameters from the scenario's `network` section."""
    n = scenario.network
    return NetworkParameters(
        grid_kv=n.grid_kv,
        collector_kv=n.collector_kv,
        transformer_mva=n.transformer_mva,
        datacenter_line_km=n.datacenter_line_km,
        pv_line_km=n.pv_line_km if scenario.pv is not None else None,
        wind_line_km=n.wind_line_km if scenario.wind is not None else None,
        battery_line_km=n.battery_line_km,
        datacenter_line_parallel=n.datacenter_line_circuits,
        pv_line_parallel=n.pv_line_circuits,
        wind_line_parallel=n.wind_line_circuits,
        battery_line_parallel=n.battery_line_circuits,
        vm_min_pu=n.vm_min_pu,
        vm_max_pu=n.vm_max_pu,
        max_loading_pct=n.max_loading_pct,
        load_power_factor=n.load_power_factor,
        has_battery=scenario.battery is not None,
        has_backup=bool(scenario.generators),
        **_ratings(scenario),
    )


def _ratings(scenario: Scenario) -> dict[str, float]:
    """The equipment ratings of `NetworkParameters` the scenario states (R1's otherwise)."""
    out = {"facility_max_mw": scenario.datacenter.it_capacity_mw * scenario.datacenter.pue.max}
    bat = scenario.battery
    if bat is not None:
        out |= {"battery_power_mw": bat.power_mw, "battery_energy_mwh": bat.energy_mwh}
        out["battery_soc_min_frac"] = bat.soc_min_frac
    if scenario.pv is not None:
        out["pv_ac_mw"] = scenario.pv.ac_mw
    if scenario.wind is not None:
        out["wind_rated_mw"] = scenario.wind.n_turbines * turbine_rated_mw(
            scenario.wind.turbine_type
        )
    if scenario.generators:
        out["backup_gen_mw"] = sum(g.capacity_mw for g in scenario.generators)
    return out
