"""AC power-flow time series on a pandapower net.

``run_timeseries(net, injections)`` solves one AC power flow per row of ``injections`` and
returns a summary per step. Two engines:

* ``"lightsim2grid"``: lightsim2grid's batched C++ ``TimeSeriesCPP`` (Newton-Raphson, KLU
  where available; each step warm-started from the previous one). The pandapower net is
  first reduced to what the solver needs, exactly as pandapower itself models it: buses
  joined by closed bus-bus switches are fused, lines/trafos behind open switches are opened
  at that side, ``parallel`` circuits become one equivalent branch, and every PQ element
  (load, sgen, storage, with ``scaling`` and ``in_service``) is summed into one injection
  per bus. Bus voltages come back from the C++ batch; branch currents and loadings are
  computed from the branch end powers with numpy using pandapower's own formulas (line:
  ``max(i_from, i_to) / (max_i_ka * df * parallel)``; trafo: rated-current loading).
* ``"pandapower"``: a loop of ``pandapower.runpp`` (the reference).

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

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandapower as pp
import pandas as pd

from microgrid.errors import InputError
from microgrid.network import INJECTION_COLUMNS, injection_profiles

__all__ = [
    "SUMMARY_COLUMNS",
    "TimeseriesResult",
    "lightsim2grid_unsupported",
    "list_violations",
    "run_timeseries",
    "run_timeseries_detailed",
]

Engine = Literal["auto", "lightsim2grid", "pandapower"]
Profiles = Mapping[tuple[str, str], pd.DataFrame]

SUMMARY_COLUMNS = (
    "converged",
    "dc_bus_vm_pu",
    "min_vm_pu",
    "max_vm_pu",
    "max_line_loading_pct",
    "trafo_loading_pct",
    "pcc_p_mw",
    "losses_mw",
    "n_violations",
)

_PQ_TABLES = {"load": 1.0, "sgen": -1.0, "storage": 1.0}  # sign of p/q as consumption
_SQRT3 = math.sqrt(3.0)
_CHUNK = 4096  # rows per C++ batch: bounds the (rows x branches x 4) branch-result array


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
    ``pcc_p_mw`` (active power the ext grid delivers: > 0 import), ``losses_mw`` (line and
    trafo losses), ``n_violations`` (buses outside their voltage band + lines and trafos
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
        vm, line_ld, trafo_ld, pcc, losses, conv = _run_pandapower(net, profiles, index)
        used = "pandapower"
    else:
        vm, line_ld, trafo_ld, pcc, losses, conv = _run_lightsim(net, profiles, index)
        used = "lightsim2grid"
    return _assemble(
        net, index, vm, line_ld, trafo_ld, pcc, losses, conv, used,
        vm_min_pu, vm_max_pu, max_loading_pct,
    )  # fmt: skip


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
        if frame.shape[1] == 0 or table not in _PQ_TABLES or column not in ("p_mw", "q_mvar"):
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
        if isinstance(key, tuple) and key[0] not in _PQ_TABLES and frame.shape[1] > 0:
            raise InputError(f"profiles for table {key[0]!r} are not supported")
    if index is None:
        raise InputError("no load/sgen/storage profiles given")
    return profiles, index


def _element_matrices(
    net: pp.pandapowerNet, profiles: Profiles, n_steps: int
) -> dict[tuple[str, str], np.ndarray]:
    """(table, column) -> (n_steps x len(net[table])) values, profile or static."""
    out = {}
    for table in _PQ_TABLES:
        df = net[table]
        for column in ("p_mw", "q_mvar"):
            static = df[column].to_numpy(dtype=float) if len(df) else np.zeros(0)
            mat = np.broadcast_to(static, (n_steps, len(df))).copy()
            frame = profiles.get((table, column))
            if frame is not None and frame.shape[1]:
                pos = df.index.get_indexer(frame.columns)
                mat[:, pos] = frame.to_numpy(dtype=float)
            if np.isnan(mat).any():
                raise InputError(f"NaN in {table}.{column} injections")
            out[(table, column)] = mat
    return out


# --------------------------------------------------------------------------------------
# lightsim2grid engine
# --------------------------------------------------------------------------------------
def lightsim2grid_unsupported(net: pp.pandapowerNet) -> str | None:
    """Why the lightsim2grid path cannot solve ``net`` exactly as runpp would, or None."""
    for table in ("gen", "trafo3w", "impedance", "ward", "xward", "dcline", "motor", "svc",
                  "tcsc", "ssc", "vsc", "asymmetric_load", "asymmetric_sgen"):  # fmt: skip
        if table in net and len(net[table]) and net[table]["in_service"].astype(bool).any():
            return f"net.{table} has in-service elements"
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    if len(eg) != 1:
        return "needs exactly one in-service ext_grid"
    if len(net.shunt) and net.shunt.in_service.astype(bool).any():
        return "net.shunt has in-service elements"
    for c in ("const_z_p_percent", "const_i_p_percent", "const_z_q_percent",
              "const_i_q_percent", "const_z_percent", "const_i_percent"):  # fmt: skip
        if c in net.load and (net.load[c].fillna(0) != 0).any():
            return "voltage-dependent (ZIP) loads"
    if len(net.switch):
        sw = net.switch
        bb = (sw.et == "b") & sw.closed.astype(bool)
        if "z_ohm" in sw and (sw.loc[bb, "z_ohm"].fillna(0) > 0).any():
            return "closed bus-bus switches with impedance"
        if "in_service" in sw and not sw["in_service"].fillna(True).astype(bool).all():
            return "switches out of service"
    tr = net.trafo
    if len(tr):
        if (tr.parallel != 1).any():
            return "parallel transformers"
        if (
            "tap_dependency_table" in tr
            and tr.tap_dependency_table.fillna(False).astype(bool).any()
        ):
            return "transformer tap dependency tables"
        if "tap_changer_type" in tr and (tr.tap_changer_type == "Ideal").any():
            return "ideal phase shifters"
        if "tap2_pos" in tr and tr["tap2_pos"].notna().any():
            return "second tap changer"
        off = (tr.tap_pos.fillna(0) != tr.tap_neutral.fillna(0)) & (
            tr.tap_step_percent.fillna(0) != 0
        )
        kind = tr.get("tap_changer_type", pd.Series("Ratio", index=tr.index)).fillna("")
        if (off & (kind != "Ratio")).any():
            return "off-neutral taps other than 'Ratio' tap changers"
        if (off & (tr.tap_side != "hv")).any():
            return "off-neutral taps on the LV side"
        if (off & (tr.tap_step_degree.fillna(0) != 0)).any():
            return "phase-shifting taps"
    if (net.line.get("g_us_per_km", pd.Series(0.0)).fillna(0) != 0).any():
        return "line conductance g_us_per_km"
    return None


@dataclass
class _Reduced:
    """The solver net and the maps back to the user's net."""

    solver: pp.pandapowerNet
    bus_pos: np.ndarray  # net.bus position -> solver bus
    inj_bus: np.ndarray  # solver buses carrying an injection column
    inc: dict[str, np.ndarray]  # table -> (n_elements x n_inj) consumption incidence
    open_line: list[tuple[int, int]]  # (line position, side 1|2)
    open_trafo: list[tuple[int, int]]
    slack_bus: int
    trafo_shunt_s: np.ndarray  # (n_trafo x 2) magnetising shunt MVA at 1 pu, hv and lv side


def _reduce(net: pp.pandapowerNet) -> _Reduced:
    bus_idx = net.bus.index.to_numpy()
    pos_of = pd.Series(np.arange(len(bus_idx)), index=bus_idx)
    parent = np.arange(len(bus_idx))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sw = net.switch
    for b1, b2 in sw.loc[(sw.et == "b") & sw.closed.astype(bool), ["bus", "element"]].to_numpy():
        r1, r2 = find(pos_of[b1]), find(pos_of[b2])
        if r1 != r2:
            parent[max(r1, r2)] = min(r1, r2)
    roots = np.array([find(i) for i in range(len(bus_idx))])
    uniq, solver_of_pos = np.unique(roots, return_inverse=True)

    def to_solver(buses: Any) -> np.ndarray:
        return solver_of_pos[pos_of.loc[np.asarray(buses)].to_numpy()]

    solver = pp.create_empty_network(sn_mva=net.sn_mva, f_hz=net.f_hz)
    in_service = np.zeros(len(uniq), dtype=bool)
    np.logical_or.at(in_service, solver_of_pos, net.bus.in_service.to_numpy(dtype=bool))
    solver.bus = pd.DataFrame(
        {
            "name": None,
            "vn_kv": net.bus.vn_kv.to_numpy()[uniq],
            "type": "b",
            "zone": None,
            "in_service": in_service,
        },
        index=pd.RangeIndex(len(uniq)),
    ).astype({"vn_kv": float})

    line = net.line.copy().reset_index(drop=True)
    par = line.parallel.to_numpy(dtype=float)
    line["from_bus"] = to_solver(line.from_bus)
    line["to_bus"] = to_solver(line.to_bus)
    line["r_ohm_per_km"] = line.r_ohm_per_km / par
    line["x_ohm_per_km"] = line.x_ohm_per_km / par
    line["c_nf_per_km"] = line.c_nf_per_km * par
    line["parallel"] = 1
    solver.line = line

    trafo = net.trafo.copy().reset_index(drop=True)
    if len(trafo):
        trafo["hv_bus"] = to_solver(trafo.hv_bus)
        trafo["lv_bus"] = to_solver(trafo.lv_bus)
        neutral = trafo.tap_neutral.fillna(0.0).to_numpy(dtype=float)
        trafo["tap_pos"] = trafo.tap_pos.fillna(0.0).to_numpy(dtype=float) - neutral
        trafo["tap_neutral"] = 0.0
        trafo_sh = _magnetising_as_shunts(net.trafo, net.bus)
        trafo["vkr_percent"] = trafo_sh["vkr_percent"]
        trafo["vk_percent"] = trafo_sh["vk_percent"]
        trafo["pfe_kw"] = 0.0
        trafo["i0_percent"] = 0.0
        sh_bus = np.concatenate([trafo.hv_bus.to_numpy(), trafo.lv_bus.to_numpy()])
        sh_s = np.concatenate([trafo_sh["s_hv"], trafo_sh["s_lv"]])
        live = (sh_s != 0) & np.tile(trafo.in_service.to_numpy(bool), 2)
        for b, sm in zip(sh_bus[live], sh_s[live], strict=True):
            pp.create_shunt(solver, int(b), q_mvar=float(sm.imag), p_mw=float(sm.real))
        shunt_s = np.stack([trafo_sh["s_hv"], trafo_sh["s_lv"]], 1)
    else:
        shunt_s = np.zeros((0, 2), dtype=complex)
    solver.trafo = trafo

    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)].copy().reset_index(drop=True)
    eg["bus"] = to_solver(eg.bus)
    solver.ext_grid = eg
    slack_bus = int(eg.bus.iloc[0])

    # one injection column per solver bus that carries any PQ element
    el_bus = {t: to_solver(net[t].bus) if len(net[t]) else np.zeros(0, int) for t in _PQ_TABLES}
    inj_bus = np.unique(np.concatenate(list(el_bus.values())))
    col_of = {int(b): k for k, b in enumerate(inj_bus)}
    inc = {}
    for table, sign in _PQ_TABLES.items():
        df = net[table]
        m = np.zeros((len(df), len(inj_bus)))
        if len(df):
            scale = df["scaling"].fillna(1.0).to_numpy(float) if "scaling" in df else 1.0
            live = df.in_service.to_numpy(bool) & in_service[el_bus[table]]
            cols = np.array([col_of[int(b)] for b in el_bus[table]])
            m[np.arange(len(df)), cols] = sign * scale * live
        inc[table] = m
    pp.create_loads(solver, inj_bus, p_mw=0.0, q_mvar=0.0) if len(inj_bus) else None

    open_line: list[tuple[int, int]] = []
    open_trafo: list[tuple[int, int]] = []
    open_sw = sw[~sw.closed.astype(bool)]
    for et, table, first, out in (
        ("l", net.line, "from_bus", open_line),
        ("t", net.trafo, "hv_bus", open_trafo),
    ):
        s = open_sw[open_sw.et == et]
        if len(s):
            pos = table.index.get_indexer(s.element)
            side = np.where(table[first].to_numpy()[pos] == s.bus.to_numpy(), 1, 2)
            out.extend(sorted({(int(p), int(sd)) for p, sd in zip(pos, side, strict=True)}))
    return _Reduced(solver, solver_of_pos, inj_bus, inc, open_line, open_trafo, slack_bus, shunt_s)


def _magnetising_as_shunts(trafo: pd.DataFrame, bus: pd.DataFrame) -> dict[str, np.ndarray]:
    """pandapower's T model of each trafo as a series impedance plus two bus shunts.

    pandapower (trafo_model="t") turns the T model into an asymmetric pi by a wye-delta
    transform (``build_branch._wye_delta``); lightsim2grid's converter only takes a symmetric
    shunt. This does the same transform in the transformer's own per unit and returns the
    pi's series part as ``vk_percent``/``vkr_percent`` (to build the trafo with no
    magnetising branch) and its two shunts as complex power at 1 pu, in pandapower's shunt
    convention (``p_mw + j q_mvar``, ``q > 0`` absorbs): ``s_hv`` and ``s_lv``.
    """
    vkr = trafo.vkr_percent.to_numpy(float) / 100.0
    vk = trafo.vk_percent.to_numpy(float) / 100.0
    sn = trafo.sn_mva.to_numpy(float)
    par = trafo.parallel.to_numpy(float)
    r = vkr.copy()
    x = np.sqrt(vk**2 - vkr**2)
    g = trafo.pfe_kw.to_numpy(float) * 1e-3 / sn
    ym = trafo.i0_percent.to_numpy(float) / 100.0
    b = -np.sqrt(np.maximum(ym**2 - g**2, 0.0))
    rr = trafo.get("leakage_resistance_ratio_hv", pd.Series(0.5, index=trafo.index))
    xr = trafo.get("leakage_reactance_ratio_hv", pd.Series(0.5, index=trafo.index))
    rr = rr.fillna(0.5).to_numpy(float)
    xr = xr.fillna(0.5).to_numpy(float)
    s_hv = np.zeros(len(trafo), dtype=complex)
    s_lv = np.zeros(len(trafo), dtype=complex)
    t = (g != 0) | (b != 0)
    za = r[t] * rr[t] + 1j * x[t] * xr[t]
    zb = r[t] * (1 - rr[t]) + 1j * x[t] * (1 - xr[t])
    zc = 1.0 / (g[t] + 1j * b[t])
    zsum = za * zb + za * zc + zb * zc
    zab, zac, zbc = zsum / zc, zsum / zb, zsum / za
    r[t], x[t] = zab.real, zab.imag
    # shunt admittances in trafo pu -> MVA at 1 pu of the bus voltage
    tap = (trafo.tap_pos.fillna(0) - trafo.tap_neutral.fillna(0)).to_numpy(float)
    step = trafo.tap_step_percent.fillna(0).to_numpy(float)
    vn_hv_tap = trafo.vn_hv_kv.to_numpy(float) * (1 + tap * step / 100.0)
    vbus_hv = bus.vn_kv.reindex(trafo.hv_bus).to_numpy(float)
    vbus_lv = bus.vn_kv.reindex(trafo.lv_bus).to_numpy(float)
    vn_lv = trafo.vn_lv_kv.to_numpy(float)
    yf, yt = 1.0 / zac, 1.0 / zbc
    s_hv[t] = np.conj(yf) * (sn * par * (vbus_hv / vn_hv_tap) ** 2)[t]
    s_lv[t] = np.conj(yt) * (sn * par * (vbus_lv / vn_lv) ** 2)[t]
    x_raw = np.sqrt(vk**2 - vkr**2)
    vkr_new = r * 100.0
    vk_new = np.sqrt(r**2 + x**2) * 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = x_raw == 0
    vk_new[keep] = vk[keep] * 100.0
    return {"vkr_percent": vkr_new, "vk_percent": vk_new, "s_hv": s_hv, "s_lv": s_lv}


def _lightsim_grid(red: _Reduced) -> Any:
    from lightsim2grid.network import init_from_pandapower

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = init_from_pandapower(red.solver, pp_orig_file="pandapower_v3")
    for opened, deact, deact1, deact2 in (
        (red.open_line, grid.deactivate_powerline,
         grid.deactivate_powerline_side1, grid.deactivate_powerline_side2),
        (red.open_trafo, grid.deactivate_trafo,
         grid.deactivate_trafo_side1, grid.deactivate_trafo_side2),
    ):  # fmt: skip
        sides: dict[int, set[int]] = {}
        for p, s in opened:
            sides.setdefault(p, set()).add(s)
        for p, s in sides.items():
            if s == {1, 2}:
                deact(p)
            elif s == {1}:
                deact1(p)
            else:
                deact2(p)
    return grid


def _run_lightsim(
    net: pp.pandapowerNet, profiles: Profiles, index: pd.Index
) -> tuple[np.ndarray, ...]:
    from lightsim2grid.timeSerie import TimeSeriesCPP

    n = len(index)
    red = _reduce(net)
    grid = _lightsim_grid(red)
    mats = _element_matrices(net, profiles, n)
    load_p = sum(mats[(t, "p_mw")] @ red.inc[t] for t in _PQ_TABLES)
    load_q = sum(mats[(t, "q_mvar")] @ red.inc[t] for t in _PQ_TABLES)
    load_p = np.ascontiguousarray(load_p, dtype=float)
    load_q = np.ascontiguousarray(load_q, dtype=float)

    solver = red.solver
    n_sb = len(solver.bus)
    n_line, n_trafo = len(solver.line), len(solver.trafo)
    eg = solver.ext_grid.iloc[0]
    vm_set, va_set = float(eg.vm_pu), math.radians(float(eg.va_degree))
    v_flat = np.full(grid.total_bus(), vm_set, dtype=complex)
    v_flat[red.slack_bus] = vm_set * np.exp(1j * va_set)
    # start from DC angles: a flat start does not converge across phase-shifting
    # transformers (e.g. SimBench's 150 degree YNd5 units); pandapower's init="auto" does
    # the same
    v_dc = grid.copy().dc_pf(v_flat.copy(), 30, 1e-8)
    if len(v_dc) == len(v_flat) and np.all(np.isfinite(v_dc)):
        v_flat = vm_set * np.exp(1j * np.angle(v_dc))

    vm = np.full((n, n_sb), np.nan)
    s_branch = np.full((n, n_line + n_trafo, 4), np.nan)
    conv = np.zeros(n, dtype=bool)
    fallback: list[int] = []
    start = 0
    v_init = v_flat
    while start < n:
        stop = min(start + _CHUNK, n)
        ts = TimeSeriesCPP(grid)
        ts.modify_load_p(load_p[start:stop])
        ts.modify_load_q(load_q[start:stop])
        ts.compute(v_init, 30, 1e-10)
        mask = np.asarray(ts.converged_mask(), dtype=bool)
        ok = int(np.argmin(mask)) if not mask.all() else len(mask)
        if ok:
            volts = ts.get_voltages()[:ok]
            vm[start : start + ok] = np.abs(volts[:, :n_sb])
            s_branch[start : start + ok] = ts.compute_branch_results()[:ok]
            conv[start : start + ok] = True
            v_init = volts[-1].copy()
        if ok < len(mask):
            fallback.append(start + ok)
            v_init = v_flat
            start = start + ok + 1
        else:
            start = stop

    vn = solver.bus.vn_kv.to_numpy()
    ends = np.concatenate(
        [
            np.stack([solver.line.from_bus.to_numpy(), solver.line.to_bus.to_numpy()], 1),
            np.stack([solver.trafo.hv_bus.to_numpy(), solver.trafo.lv_bus.to_numpy()], 1),
        ]
    ).astype(int)
    # pandapower counts the magnetising shunts in the trafo end powers: add them back
    if n_trafo:
        for side in (0, 1):
            sh = red.trafo_shunt_s[:, side][None, :] * vm[:, ends[n_line:, side]] ** 2
            s_branch[:, n_line:, 2 * side] += sh.real
            s_branch[:, n_line:, 2 * side + 1] += sh.imag
    # branch currents (kA) from end powers, pandapower's formulas
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = np.hypot(s_branch[:, :, 0], s_branch[:, :, 1])
        s2 = np.hypot(s_branch[:, :, 2], s_branch[:, :, 3])
        i1 = s1 / (vm[:, ends[:, 0]] * vn[ends[:, 0]]) / _SQRT3
        i2 = s2 / (vm[:, ends[:, 1]] * vn[ends[:, 1]]) / _SQRT3
        i1 = np.where(s1 == 0, 0.0, i1)
        i2 = np.where(s2 == 0, 0.0, i2)
    line = net.line
    i_max = (line.max_i_ka * line.df * line.parallel).to_numpy(float)
    line_ld = np.maximum(i1[:, :n_line], i2[:, :n_line]) / i_max * 100.0
    tr = net.trafo
    if n_trafo:
        hv = i1[:, n_line:] * tr.vn_hv_kv.to_numpy(float)
        lv = i2[:, n_line:] * tr.vn_lv_kv.to_numpy(float)
        trafo_ld = (
            np.maximum(hv, lv) * _SQRT3 / tr.sn_mva.to_numpy(float) * 100.0
            / (tr.parallel * tr.df).to_numpy(float)
        )  # fmt: skip
    else:
        trafo_ld = np.zeros((n, 0))
    losses = np.nansum(s_branch[:, :, 0] + s_branch[:, :, 2], axis=1)
    at_slack1 = ends[:, 0] == red.slack_bus
    at_slack2 = ends[:, 1] == red.slack_bus
    pcc = s_branch[:, at_slack1, 0].sum(axis=1) + s_branch[:, at_slack2, 2].sum(axis=1)
    slack_col = np.nonzero(red.inj_bus == red.slack_bus)[0]
    if len(slack_col):
        pcc = pcc + load_p[:, slack_col[0]]
    losses[~conv] = np.nan
    pcc[~conv] = np.nan
    vm_net = vm[:, red.bus_pos]
    vm_net[:, ~net.bus.in_service.to_numpy(bool)] = np.nan

    if fallback:
        pv, pl, pt, ppcc, plos, pconv = _run_pandapower(
            net, {k: v.iloc[fallback] for k, v in profiles.items()}, index[fallback]
        )
        vm_net[fallback], line_ld[fallback], trafo_ld[fallback] = pv, pl, pt
        pcc[fallback], losses[fallback], conv[fallback] = ppcc, plos, pconv
    return vm_net, line_ld, trafo_ld, pcc, losses, conv


# --------------------------------------------------------------------------------------
# pandapower engine
# --------------------------------------------------------------------------------------
def _numba_kw() -> dict[str, bool]:
    try:
        import numba  # noqa: F401
    except ImportError:
        return {"numba": False}
    return {}


def _run_pandapower(
    net: pp.pandapowerNet, profiles: Profiles, index: pd.Index
) -> tuple[np.ndarray, ...]:
    n = len(index)
    mats = {k: v.to_numpy(dtype=float) for k, v in profiles.items()}
    saved = {k: net[k[0]][k[1]].copy() for k in profiles}
    pos = {k: net[k[0]].index.get_indexer(v.columns) for k, v in profiles.items()}
    vm = np.full((n, len(net.bus)), np.nan)
    line_ld = np.full((n, len(net.line)), np.nan)
    trafo_ld = np.full((n, len(net.trafo)), np.nan)
    pcc = np.full(n, np.nan)
    losses = np.full(n, np.nan)
    conv = np.zeros(n, dtype=bool)
    kw = _numba_kw()
    eg = np.nonzero(net.ext_grid.in_service.to_numpy(bool))[0]
    try:
        for t in range(n):
            for k, m in mats.items():
                col = net[k[0]].columns.get_loc(k[1])
                net[k[0]].iloc[pos[k], col] = m[t]
            try:
                pp.runpp(net, **kw)
            except pp.LoadflowNotConverged:
                continue
            conv[t] = True
            vm[t] = net.res_bus.vm_pu.to_numpy()
            line_ld[t] = net.res_line.loading_percent.to_numpy()
            trafo_ld[t] = net.res_trafo.loading_percent.to_numpy()
            pcc[t] = net.res_ext_grid.p_mw.to_numpy()[eg].sum()
            losses[t] = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
    finally:
        for (table, column), values in saved.items():
            net[table][column] = values
    return vm, line_ld, trafo_ld, pcc, losses, conv


# --------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------
def _limit(df: pd.DataFrame, column: str, override: float | None, default: float) -> pd.Series:
    if override is not None:
        return pd.Series(float(override), index=df.index)
    if column in df:
        return df[column].astype(float).fillna(default)
    return pd.Series(default, index=df.index)


def _assemble(
    net: pp.pandapowerNet,
    index: pd.Index,
    vm: np.ndarray,
    line_ld: np.ndarray,
    trafo_ld: np.ndarray,
    pcc: np.ndarray,
    losses: np.ndarray,
    conv: np.ndarray,
    engine: str,
    vm_min_pu: float | None,
    vm_max_pu: float | None,
    max_loading_pct: float | None,
) -> TimeseriesResult:
    vmin = _limit(net.bus, "min_vm_pu", vm_min_pu, 0.95)
    vmax = _limit(net.bus, "max_vm_pu", vm_max_pu, 1.05)
    lmax = _limit(net.line, "max_loading_percent", max_loading_pct, 100.0)
    tmax = _limit(net.trafo, "max_loading_percent", max_loading_pct, 100.0)
    with np.errstate(invalid="ignore"):
        n_viol = (
            (vm < vmin.to_numpy()).sum(1)
            + (vm > vmax.to_numpy()).sum(1)
            + (line_ld > lmax.to_numpy()).sum(1)
            + (trafo_ld > tmax.to_numpy()).sum(1)
        )
    dc = None
    mg = net.get("microgrid") if hasattr(net, "get") else None
    if isinstance(mg, Mapping):
        dc = mg.get("buses", {}).get("datacenter")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of failed steps
        summary = pd.DataFrame(
            {
                "converged": conv,
                "dc_bus_vm_pu": vm[:, net.bus.index.get_loc(dc)] if dc is not None else np.nan,
                "min_vm_pu": np.nanmin(vm, axis=1) if vm.shape[1] else np.nan,
                "max_vm_pu": np.nanmax(vm, axis=1) if vm.shape[1] else np.nan,
                "max_line_loading_pct": (
                    np.nanmax(line_ld, axis=1) if line_ld.shape[1] else np.nan
                ),
                "trafo_loading_pct": np.nanmax(trafo_ld, axis=1) if trafo_ld.shape[1] else np.nan,
                "pcc_p_mw": pcc,
                "losses_mw": losses,
                "n_violations": n_viol.astype(int),
            },
            index=index,
        )
    names = {
        "bus": net.bus.name,
        "line": net.line.name,
        "trafo": net.trafo.name,
    }
    return TimeseriesResult(
        summary=summary,
        vm_pu=pd.DataFrame(vm, index=index, columns=net.bus.index),
        line_loading_pct=pd.DataFrame(line_ld, index=index, columns=net.line.index),
        trafo_loading_pct=pd.DataFrame(trafo_ld, index=index, columns=net.trafo.index),
        vm_min_pu=vmin,
        vm_max_pu=vmax,
        line_max_pct=lmax,
        trafo_max_pct=tmax,
        engine=engine,
        names=names,
    )
