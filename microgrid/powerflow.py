"""AC power-flow time series on a pandapower net: the driver and its summary.

``run_timeseries(net, injections)`` solves one AC power flow per row of ``injections`` and
returns a summary per step; ``check_timeseries`` returns that summary with every limit
violation listed and the engine used (a :class:`PowerflowCheck`: what ``microgrid.run``
keeps). Two engines, one module each:

* ``"lightsim2grid"`` (:mod:`microgrid.powerflow_lightsim`): lightsim2grid's batched C++
  ``TimeSeriesCPP`` on the net reduced exactly as pandapower models it.
* ``"pandapower"`` (:mod:`microgrid.powerflow_pandapower`): a loop of ``pandapower.runpp``
  (the reference).

``engine="auto"`` uses lightsim2grid when the net has only features the reduction supports
(see :func:`lightsim2grid_unsupported`) and falls back to the pandapower loop otherwise. A
step lightsim2grid does not converge is re-solved with ``runpp``.

``injections`` is either a dispatch frame with the columns of
:data:`microgrid.network.INJECTION_COLUMNS` (for a net from ``build_network``), or a dict
``{(table, column): DataFrame}`` of element profiles (rows = steps, columns = element
indices; the format of ``simbench.get_absolute_values``), with ``table`` in ``load``,
``sgen``, ``storage`` and ``column`` in ``p_mw``, ``q_mvar``. Elements without a profile keep
their value in the net.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandapower as pp
import pandas as pd

from microgrid.errors import InputError
from microgrid.network import INJECTION_COLUMNS, injection_profiles
from microgrid.powerflow_lightsim import lightsim2grid_unsupported, run_lightsim
from microgrid.powerflow_pandapower import run_pandapower
from microgrid.powerflow_steps import PQ_TABLES, Profiles, StepArrays

__all__ = [
    "SUMMARY_COLUMNS",
    "PowerflowCheck",
    "TimeseriesResult",
    "check_timeseries",
    "combine_checks",
    "lightsim2grid_unsupported",
    "list_violations",
    "run_timeseries",
    "run_timeseries_detailed",
]

Engine = Literal["auto", "lightsim2grid", "pandapower"]

SUMMARY_COLUMNS = (
    "converged",
    "dc_bus_vm_pu",
    "min_vm_pu",
    "max_vm_pu",
    "max_line_loading_pct",
    "trafo_loading_pct",
    "pcc_p_mw",
    "pcc_q_mvar",
    "losses_mw",
    "n_violations",
)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
@dataclass
class TimeseriesResult:
    """All per-step results of :func:`run_timeseries_detailed`.

    ``summary`` is what :func:`run_timeseries` returns. ``vm_pu`` (steps x ``net.bus``
    index), ``line_loading_pct`` (steps x ``net.line`` index) and ``trafo_loading_pct``
    (steps x ``net.trafo`` index) hold every element; non-converged steps are NaN.
    ``vm_min_pu``/``vm_max_pu``/``line_max_pct``/``trafo_max_pct`` are the limits used.
    """

    summary: pd.DataFrame
    vm_pu: pd.DataFrame
    line_loading_pct: pd.DataFrame
    trafo_loading_pct: pd.DataFrame
    vm_min_pu: pd.Series
    vm_max_pu: pd.Series
    line_max_pct: pd.Series
    trafo_max_pct: pd.Series
    engine: str
    names: dict[str, pd.Series] = field(default_factory=dict)

    def violations(self) -> pd.DataFrame:
        """One row per (step, element) outside its limit: see :func:`list_violations`."""
        return list_violations(self)


@dataclass
class PowerflowCheck:
    """What a run's AC check keeps (:func:`check_timeseries`): the per-step ``summary``
    (:data:`SUMMARY_COLUMNS`), every limit ``violations`` row (:func:`list_violations`'
    columns; ``step`` is the injections' index label) and the ``engine`` that solved it."""

    summary: pd.DataFrame
    violations: pd.DataFrame
    engine: str


def list_violations(result: TimeseriesResult) -> pd.DataFrame:
    """List every limit violation of a time series.

    Columns: ``step`` (the injections' index label), ``element_type`` (``bus``, ``line``,
    ``trafo``), ``element`` (pandapower index), ``name``, ``quantity`` (``vm_pu`` or
    ``loading_pct``), ``value``, ``limit`` (the bound that is crossed).
    """
    parts = []
    vm = result.vm_pu.to_numpy()
    for kind, bound in (("min", result.vm_min_pu), ("max", result.vm_max_pu)):
        lim = bound.to_numpy()[None, :]
        mask = vm < lim if kind == "min" else vm > lim
        parts.append(_violation_rows(result.vm_pu, mask, bound, "bus", "vm_pu", result.names))
    for table, frame, bound in (
        ("line", result.line_loading_pct, result.line_max_pct),
        ("trafo", result.trafo_loading_pct, result.trafo_max_pct),
    ):
        mask = frame.to_numpy() > bound.to_numpy()[None, :]
        parts.append(_violation_rows(frame, mask, bound, table, "loading_pct", result.names))
    nonempty = [p for p in parts if len(p)]
    if not nonempty:
        return parts[0].iloc[:0]
    out = pd.concat(nonempty, ignore_index=True)
    return out.sort_values(["step", "element_type", "element"], kind="stable").reset_index(
        drop=True
    )


def _violation_rows(
    frame: pd.DataFrame,
    mask: np.ndarray,
    bound: pd.Series,
    element_type: str,
    quantity: str,
    names: dict[str, pd.Series],
) -> pd.DataFrame:
    rows, cols = np.nonzero(mask)
    elements = frame.columns.to_numpy()[cols]
    name_map = names.get(element_type)
    return pd.DataFrame(
        {
            "step": frame.index.to_numpy()[rows],
            "element_type": element_type,
            "element": elements,
            "name": name_map.reindex(elements).to_numpy() if name_map is not None else None,
            "quantity": quantity,
            "value": frame.to_numpy()[rows, cols],
            "limit": bound.to_numpy()[cols],
        }
    )


# --------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------
def run_timeseries(
    net: pp.pandapowerNet,
    injections: pd.DataFrame | Profiles,
    engine: Engine = "auto",
    *,
    vm_min_pu: float | None = None,
    vm_max_pu: float | None = None,
    max_loading_pct: float | None = None,
) -> pd.DataFrame:
    """Per-step AC power flow summary, indexed like ``injections``.

    Columns (:data:`SUMMARY_COLUMNS`): ``converged``, ``dc_bus_vm_pu`` (the bus
    ``net["microgrid"]["buses"]["datacenter"]``, NaN if the net has none), ``min_vm_pu``,
    ``max_vm_pu``, ``max_line_loading_pct``, ``trafo_loading_pct`` (largest over trafos),
    ``pcc_p_mw`` (active power the ext grid delivers: > 0 import), ``pcc_q_mvar`` (its
    reactive power: > 0 into the net), ``losses_mw`` (line and trafo losses, magnetising
    included), ``n_violations`` (buses outside their voltage band + lines and trafos
    above their loading limit).

    Limits: the keyword arguments when given, else per element ``net.bus.min_vm_pu`` /
    ``max_vm_pu``, ``net.line/trafo.max_loading_percent`` (pandapower's OPF columns), else
    0.95 / 1.05 pu and 100 %.
    """
    return run_timeseries_detailed(
        net,
        injections,
        engine,
        vm_min_pu=vm_min_pu,
        vm_max_pu=vm_max_pu,
        max_loading_pct=max_loading_pct,
    ).summary


def check_timeseries(
    net: pp.pandapowerNet, injections: pd.DataFrame | Profiles, engine: Engine = "auto"
) -> PowerflowCheck:
    """The per-step summary of :func:`run_timeseries` with its violations listed and the
    engine used ("auto" resolved), at the net's own limits."""
    result = run_timeseries_detailed(net, injections, engine)
    return PowerflowCheck(result.summary, result.violations(), result.engine)


def combine_checks(parts: list[PowerflowCheck], index: pd.Index) -> PowerflowCheck:
    """Checks of disjoint sets of steps (one per topology) as one check of ``index``: the
    summary in the order of ``index``, the violations by step, the engines joined by "+"
    when they differ."""
    # empty tables left out: pandas warns about their dtypes in a concat
    found = [p.violations for p in parts if len(p.violations)] or [parts[0].violations]
    violations = pd.concat(found, ignore_index=True)
    return PowerflowCheck(
        summary=pd.concat([p.summary for p in parts]).reindex(index),
        violations=violations.sort_values(
            ["step", "element_type", "element"], kind="stable"
        ).reset_index(drop=True),
        engine="+".join(sorted({p.engine for p in parts})),
    )


def run_timeseries_detailed(
    net: pp.pandapowerNet,
    injections: pd.DataFrame | Profiles,
    engine: Engine = "auto",
    *,
    vm_min_pu: float | None = None,
    vm_max_pu: float | None = None,
    max_loading_pct: float | None = None,
) -> TimeseriesResult:
    """Like :func:`run_timeseries`, keeping every bus and branch result."""
    profiles, index = _as_profiles(net, injections)
    if engine not in ("auto", "lightsim2grid", "pandapower"):
        raise InputError(f"unknown engine {engine!r}", field="engine")
    reason = lightsim2grid_unsupported(net) if engine != "pandapower" else None
    if engine == "lightsim2grid" and reason:
        raise InputError(f"lightsim2grid engine cannot run this net: {reason}", field="engine")
    if engine == "pandapower" or reason:
        steps, used = run_pandapower(net, profiles, index), "pandapower"
    else:
        steps, used = run_lightsim(net, profiles, index), "lightsim2grid"
    return _assemble(net, index, steps, used, vm_min_pu, vm_max_pu, max_loading_pct)


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
def _as_profiles(
    net: pp.pandapowerNet, injections: pd.DataFrame | Profiles
) -> tuple[dict[tuple[str, str], pd.DataFrame], pd.Index]:
    if isinstance(injections, pd.DataFrame):
        if not any(c in injections.columns for c in INJECTION_COLUMNS):
            raise InputError("injections frame has none of the dispatch columns")
        return injection_profiles(net, injections), injections.index
    profiles: dict[tuple[str, str], pd.DataFrame] = {}
    index = None
    for key, frame in injections.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise InputError(f"profile key must be (table, column), got {key!r}")
        table, column = key
        if frame.shape[1] == 0 or table not in PQ_TABLES or column not in ("p_mw", "q_mvar"):
            continue  # empty profiles (simbench's storage/gen); other tables rejected below
        if index is None:
            index = frame.index
        elif len(frame.index) != len(index) or not frame.index.equals(index):
            raise InputError(f"profile {key} has a different index from the others")
        missing = set(frame.columns) - set(net[table].index)
        if missing:
            raise InputError(f"profile {key} names elements not in net.{table}: {sorted(missing)}")
        profiles[key] = frame
    for key, frame in injections.items():
        if isinstance(key, tuple) and key[0] not in PQ_TABLES and frame.shape[1] > 0:
            raise InputError(f"profiles for table {key[0]!r} are not supported")
    if index is None:
        raise InputError("no load/sgen/storage profiles given")
    return profiles, index


# --------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------
def _limit(df: pd.DataFrame, column: str, override: float | None, default: float) -> pd.Series:
    if override is not None:
        return pd.Series(float(override), index=df.index)
    if column in df:
        return df[column].astype(float).fillna(default)
    return pd.Series(default, index=df.index)


def _n_violations(
    steps: StepArrays, vmin: pd.Series, vmax: pd.Series, lmax: pd.Series, tmax: pd.Series
) -> np.ndarray:
    """Per step: buses outside their band plus lines and trafos above their limit."""
    with np.errstate(invalid="ignore"):
        return (
            (steps.vm_pu < vmin.to_numpy()).sum(1)
            + (steps.vm_pu > vmax.to_numpy()).sum(1)
            + (steps.line_loading_pct > lmax.to_numpy()).sum(1)
            + (steps.trafo_loading_pct > tmax.to_numpy()).sum(1)
        )


def _summary(
    net: pp.pandapowerNet, index: pd.Index, steps: StepArrays, n_viol: np.ndarray
) -> pd.DataFrame:
    """The per-step summary frame (:data:`SUMMARY_COLUMNS`)."""
    vm, line_ld, trafo_ld = steps.vm_pu, steps.line_loading_pct, steps.trafo_loading_pct
    dc = None
    mg = net.get("microgrid") if hasattr(net, "get") else None
    if isinstance(mg, Mapping):
        dc = mg.get("buses", {}).get("datacenter")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of failed steps
        return pd.DataFrame(
            {
                "converged": steps.converged,
                "dc_bus_vm_pu": vm[:, net.bus.index.get_loc(dc)] if dc is not None else np.nan,
                "min_vm_pu": np.nanmin(vm, axis=1) if vm.shape[1] else np.nan,
                "max_vm_pu": np.nanmax(vm, axis=1) if vm.shape[1] else np.nan,
                "max_line_loading_pct": (
                    np.nanmax(line_ld, axis=1) if line_ld.shape[1] else np.nan
                ),
                "trafo_loading_pct": np.nanmax(trafo_ld, axis=1) if trafo_ld.shape[1] else np.nan,
                "pcc_p_mw": steps.pcc_p_mw,
                "pcc_q_mvar": steps.pcc_q_mvar,
                "losses_mw": steps.losses_mw,
                "n_violations": n_viol.astype(int),
            },
            index=index,
        )


def _assemble(
    net: pp.pandapowerNet,
    index: pd.Index,
    steps: StepArrays,
    engine: str,
    vm_min_pu: float | None,
    vm_max_pu: float | None,
    max_loading_pct: float | None,
) -> TimeseriesResult:
    vmin = _limit(net.bus, "min_vm_pu", vm_min_pu, 0.95)
    vmax = _limit(net.bus, "max_vm_pu", vm_max_pu, 1.05)
    lmax = _limit(net.line, "max_loading_percent", max_loading_pct, 100.0)
    tmax = _limit(net.trafo, "max_loading_percent", max_loading_pct, 100.0)
    n_viol = _n_violations(steps, vmin, vmax, lmax, tmax)
    return TimeseriesResult(
        summary=_summary(net, index, steps, n_viol),
        vm_pu=pd.DataFrame(steps.vm_pu, index=index, columns=net.bus.index),
        line_loading_pct=pd.DataFrame(steps.line_loading_pct, index=index, columns=net.line.index),
        trafo_loading_pct=pd.DataFrame(
            steps.trafo_loading_pct, index=index, columns=net.trafo.index
        ),
        vm_min_pu=vmin,
        vm_max_pu=vmax,
        line_max_pct=lmax,
        trafo_max_pct=tmax,
        engine=engine,
        names={"bus": net.bus.name, "line": net.line.name, "trafo": net.trafo.name},
    )
