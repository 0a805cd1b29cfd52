"""The batched power-flow engine: lightsim2grid's C++ `TimeSeriesCPP` on a reduced net.

The pandapower net is first reduced to what the solver needs, exactly as pandapower itself
models it (`reduce_net`): buses joined by closed bus-bus switches are fused, lines/trafos
behind open switches are opened at that side, `parallel` circuits become one equivalent
branch, each trafo's T model becomes pandapower's asymmetric pi (series part plus two bus
shunts), and every PQ element (load, sgen, storage, with `scaling` and `in_service`) is
summed into one injection per bus. Bus voltages come back from the C++ batch (Newton-Raphson,
each step warm-started from the previous one); branch currents and loadings are computed
from the branch end powers with numpy using pandapower's own formulas (line:
`max(i_from, i_to) / (max_i_ka * df * parallel)`; trafo: rated-current loading). A step
that does not converge is re-solved with `runpp` (`microgrid.powerflow_pandapower`).
`lightsim2grid_unsupported(net)` names what the reduction cannot model.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from microgrid.errors import InputError
from microgrid.powerflow_pandapower import run_pandapower
from microgrid.powerflow_steps import PQ_TABLES, Profiles, StepArrays, StepLines

_SQRT3 = math.sqrt(3.0)
_CHUNK = 4096  # rows per C++ batch: bounds the (rows x branches x 4) branch-result array
_UNSUPPORTED_TABLES = (
    "gen", "trafo3w", "impedance", "ward", "xward", "dcline", "motor", "svc", "tcsc", "ssc",
    "vsc", "asymmetric_load", "asymmetric_sgen",
)  # fmt: skip
_ZIP_COLUMNS = (
    "const_z_p_percent", "const_i_p_percent", "const_z_q_percent", "const_i_q_percent",
    "const_z_percent", "const_i_percent",
)  # fmt: skip


# --------------------------------------------------------------------------------------
# what the reduction supports
# --------------------------------------------------------------------------------------
def lightsim2grid_unsupported(net: pp.pandapowerNet) -> str | None:
    """Why the lightsim2grid path cannot solve ``net`` exactly as runpp would, or None."""
    for table in _UNSUPPORTED_TABLES:
        if table in net and len(net[table]) and net[table]["in_service"].astype(bool).any():
            return f"net.{table} has in-service elements"
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    if len(eg) != 1:
        return "needs exactly one in-service ext_grid"
    if len(net.shunt) and net.shunt.in_service.astype(bool).any():
        return "net.shunt has in-service elements"
    for c in _ZIP_COLUMNS:
        if c in net.load and (net.load[c].fillna(0) != 0).any():
            return "voltage-dependent (ZIP) loads"
    if len(net.switch):
        sw = net.switch
        bb = (sw.et == "b") & sw.closed.astype(bool)
        if "z_ohm" in sw and (sw.loc[bb, "z_ohm"].fillna(0) > 0).any():
            return "closed bus-bus switches with impedance"
        if "in_service" in sw and not sw["in_service"].fillna(True).astype(bool).all():
            return "switches out of service"
    if len(net.trafo):
        reason = _trafo_unsupported(net.trafo)
        if reason:
            return reason
    if (net.line.get("g_us_per_km", pd.Series(0.0)).fillna(0) != 0).any():
        return "line conductance g_us_per_km"
    return None


def _trafo_unsupported(tr: pd.DataFrame) -> str | None:
    if (tr.parallel != 1).any():
        return "parallel transformers"
    if "tap_dependency_table" in tr and tr.tap_dependency_table.fillna(False).astype(bool).any():
        return "transformer tap dependency tables"
    if "tap_changer_type" in tr and (tr.tap_changer_type == "Ideal").any():
        return "ideal phase shifters"
    if "tap2_pos" in tr and tr["tap2_pos"].notna().any():
        return "second tap changer"
    off = (tr.tap_pos.fillna(0) != tr.tap_neutral.fillna(0)) & (tr.tap_step_percent.fillna(0) != 0)
    kind = tr.get("tap_changer_type", pd.Series("Ratio", index=tr.index)).fillna("")
    if (off & (kind != "Ratio")).any():
        return "off-neutral taps other than 'Ratio' tap changers"
    if (off & (tr.tap_side != "hv")).any():
        return "off-neutral taps on the LV side"
    if (off & (tr.tap_step_degree.fillna(0) != 0)).any():
        return "phase-shifting taps"
    return None


# --------------------------------------------------------------------------------------
# reduction
# --------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _BusMap:
    """net.bus index -> position -> solver bus (buses fused by closed bus-bus switches)."""

    pos_of: pd.Series  # net.bus index -> position
    solver_of_pos: np.ndarray  # position -> solver bus
    uniq: np.ndarray  # solver bus -> the position of its representative net bus

    def to_solver(self, buses: Any) -> np.ndarray:
        return self.solver_of_pos[self.pos_of.loc[np.asarray(buses)].to_numpy()]


def _fuse_buses(net: pp.pandapowerNet) -> _BusMap:
    """Union-find over closed bus-bus switches; each group's lowest position represents it."""
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
    return _BusMap(pos_of, solver_of_pos, uniq)


def _solver_buses(net: pp.pandapowerNet, bm: _BusMap) -> tuple[pd.DataFrame, np.ndarray]:
    """The solver's bus table and which solver buses are in service (any fused one is)."""
    in_service = np.zeros(len(bm.uniq), dtype=bool)
    np.logical_or.at(in_service, bm.solver_of_pos, net.bus.in_service.to_numpy(dtype=bool))
    bus = pd.DataFrame(
        {
            "name": None,
            "vn_kv": net.bus.vn_kv.to_numpy()[bm.uniq],
            "type": "b",
            "zone": None,
            "in_service": in_service,
        },
        index=pd.RangeIndex(len(bm.uniq)),
    ).astype({"vn_kv": float})
    return bus, in_service


def _solver_lines(net: pp.pandapowerNet, bm: _BusMap) -> pd.DataFrame:
    """Lines on solver buses; `parallel` circuits as one branch (r/n, x/n, c*n)."""
    line = net.line.copy().reset_index(drop=True)
    par = line.parallel.to_numpy(dtype=float)
    line["from_bus"] = bm.to_solver(line.from_bus)
    line["to_bus"] = bm.to_solver(line.to_bus)
    line["r_ohm_per_km"] = line.r_ohm_per_km / par
    line["x_ohm_per_km"] = line.x_ohm_per_km / par
    line["c_nf_per_km"] = line.c_nf_per_km * par
    line["parallel"] = 1
    return line


def _solver_trafos(
    net: pp.pandapowerNet, solver: pp.pandapowerNet, bm: _BusMap
) -> tuple[pd.DataFrame, np.ndarray]:
    """Trafos on solver buses with taps relative to neutral and their magnetising branch
    moved into bus shunts (created in `solver`); returns the table and the (n x 2) shunt
    powers at 1 pu."""
    trafo = net.trafo.copy().reset_index(drop=True)
    if not len(trafo):
        return trafo, np.zeros((0, 2), dtype=complex)
    trafo["hv_bus"] = bm.to_solver(trafo.hv_bus)
    trafo["lv_bus"] = bm.to_solver(trafo.lv_bus)
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
    return trafo, np.stack([trafo_sh["s_hv"], trafo_sh["s_lv"]], 1)


def _injection_incidence(
    net: pp.pandapowerNet, bm: _BusMap, in_service: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One injection column per solver bus that carries any PQ element, and per table the
    (elements x columns) matrix summing its consumption (sign, scaling, in service) there."""
    el_bus = {t: bm.to_solver(net[t].bus) if len(net[t]) else np.zeros(0, int) for t in PQ_TABLES}
    inj_bus = np.unique(np.concatenate(list(el_bus.values())))
    col_of = {int(b): k for k, b in enumerate(inj_bus)}
    inc = {}
    for table, sign in PQ_TABLES.items():
        df = net[table]
        m = np.zeros((len(df), len(inj_bus)))
        if len(df):
            scale = df["scaling"].fillna(1.0).to_numpy(float) if "scaling" in df else 1.0
            live = df.in_service.to_numpy(bool) & in_service[el_bus[table]]
            cols = np.array([col_of[int(b)] for b in el_bus[table]])
            m[np.arange(len(df)), cols] = sign * scale * live
        inc[table] = m
    return inj_bus, inc


def _open_sides(net: pp.pandapowerNet) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(position, side 1|2) of the lines and trafos behind an open switch."""
    open_line: list[tuple[int, int]] = []
    open_trafo: list[tuple[int, int]] = []
    open_sw = net.switch[~net.switch.closed.astype(bool)]
    for et, table, first, out in (
        ("l", net.line, "from_bus", open_line),
        ("t", net.trafo, "hv_bus", open_trafo),
    ):
        s = open_sw[open_sw.et == et]
        if len(s):
            pos = table.index.get_indexer(s.element)
            side = np.where(table[first].to_numpy()[pos] == s.bus.to_numpy(), 1, 2)
            out.extend(sorted({(int(p), int(sd)) for p, sd in zip(pos, side, strict=True)}))
    return open_line, open_trafo


def reduce_net(net: pp.pandapowerNet) -> _Reduced:
    """The solver net of `net` (see the module docstring) and the maps back."""
    bm = _fuse_buses(net)
    solver = pp.create_empty_network(sn_mva=net.sn_mva, f_hz=net.f_hz)
    solver.bus, in_service = _solver_buses(net, bm)
    solver.line = _solver_lines(net, bm)
    solver.trafo, shunt_s = _solver_trafos(net, solver, bm)
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)].copy().reset_index(drop=True)
    eg["bus"] = bm.to_solver(eg.bus)
    solver.ext_grid = eg
    slack_bus = int(eg.bus.iloc[0])
    inj_bus, inc = _injection_incidence(net, bm, in_service)
    if len(inj_bus):
        pp.create_loads(solver, inj_bus, p_mw=0.0, q_mvar=0.0)
    open_line, open_trafo = _open_sides(net)
    return _Reduced(
        solver, bm.solver_of_pos, inj_bus, inc, open_line, open_trafo, slack_bus, shunt_s
    )


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


# --------------------------------------------------------------------------------------
# solve
# --------------------------------------------------------------------------------------
def _lightsim_grid(red: _Reduced) -> Any:
    # Lazy: lightsim2grid takes seconds to import; runs on the pandapower engine (and nets
    # lightsim2grid cannot model) never need it.
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


def _element_matrices(
    net: pp.pandapowerNet, profiles: Profiles, n_steps: int
) -> dict[tuple[str, str], np.ndarray]:
    """(table, column) -> (n_steps x len(net[table])) values, profile or static."""
    out = {}
    for table in PQ_TABLES:
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


def _bus_loads(
    net: pp.pandapowerNet, profiles: Profiles, red: _Reduced, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(steps x injection columns) consumption P (MW) and Q (Mvar) per solver bus."""
    mats = _element_matrices(net, profiles, n)
    load_p = sum(mats[(t, "p_mw")] @ red.inc[t] for t in PQ_TABLES)
    load_q = sum(mats[(t, "q_mvar")] @ red.inc[t] for t in PQ_TABLES)
    return (
        np.ascontiguousarray(load_p, dtype=float),
        np.ascontiguousarray(load_q, dtype=float),
    )


def _start_voltage(grid: Any, red: _Reduced) -> np.ndarray:
    """The ext grid's set-point at DC angles (complex pu per solver bus)."""
    eg = red.solver.ext_grid.iloc[0]
    vm_set, va_set = float(eg.vm_pu), math.radians(float(eg.va_degree))
    v_flat = np.full(grid.total_bus(), vm_set, dtype=complex)
    v_flat[red.slack_bus] = vm_set * np.exp(1j * va_set)
    # start from DC angles: a flat start does not converge across phase-shifting
    # transformers (e.g. SimBench's 150 degree YNd5 units); pandapower's init="auto" does
    # the same
    v_dc = grid.copy().dc_pf(v_flat.copy(), 30, 1e-8)
    if len(v_dc) == len(v_flat) and np.all(np.isfinite(v_dc)):
        v_flat = vm_set * np.exp(1j * np.angle(v_dc))
    return v_flat


@dataclass
class _Batch:
    """What the C++ batches return: solver bus voltages, branch end powers, convergence."""

    vm: np.ndarray  # steps x solver buses, pu
    s_branch: np.ndarray  # steps x (lines + trafos) x (p1, q1, p2, q2), MW / Mvar
    conv: np.ndarray  # bool per step
    fallback: list[int]  # steps that did not converge: for runpp


def _solve_batches(
    grid: Any, red: _Reduced, load_p: np.ndarray, load_q: np.ndarray, v_flat: np.ndarray
) -> _Batch:
    """Run TimeSeriesCPP in chunks of _CHUNK steps, each step warm-started from the one
    before; after a step that does not converge, restart flat from the next one."""
    # Lazy, like _lightsim_grid: lightsim2grid takes seconds to import.
    from lightsim2grid.timeSerie import TimeSeriesCPP

    n, n_sb = len(load_p), len(red.solver.bus)
    n_branch = len(red.solver.line) + len(red.solver.trafo)
    out = _Batch(
        np.full((n, n_sb), np.nan), np.full((n, n_branch, 4), np.nan), np.zeros(n, bool), []
    )
    start = 0
    v_init = v_flat
    lines = StepLines(n)
    while start < n:
        lines.done(start)
        stop = min(start + _CHUNK, n)
        ts = TimeSeriesCPP(grid)
        ts.modify_load_p(load_p[start:stop])
        ts.modify_load_q(load_q[start:stop])
        ts.compute(v_init, 30, 1e-10)
        mask = np.asarray(ts.converged_mask(), dtype=bool)
        ok = int(np.argmin(mask)) if not mask.all() else len(mask)
        if ok:
            volts = ts.get_voltages()[:ok]
            out.vm[start : start + ok] = np.abs(volts[:, :n_sb])
            out.s_branch[start : start + ok] = ts.compute_branch_results()[:ok]
            out.conv[start : start + ok] = True
            v_init = volts[-1].copy()
        if ok < len(mask):
            out.fallback.append(start + ok)
            v_init = v_flat
            start = start + ok + 1
        else:
            start = stop
    return out


def _branch_ends(red: _Reduced) -> np.ndarray:
    """(lines + trafos) x 2 solver buses: from/hv and to/lv."""
    solver = red.solver
    return np.concatenate(
        [
            np.stack([solver.line.from_bus.to_numpy(), solver.line.to_bus.to_numpy()], 1),
            np.stack([solver.trafo.hv_bus.to_numpy(), solver.trafo.lv_bus.to_numpy()], 1),
        ]
    ).astype(int)


def _loadings(
    net: pp.pandapowerNet, red: _Reduced, b: _Batch, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Line and trafo loading (%) from the branch end powers, pandapower's formulas. Adds
    the trafo magnetising shunts to `b.s_branch` first (pandapower counts them in the trafo
    end powers)."""
    n_line, n_trafo = len(red.solver.line), len(red.solver.trafo)
    vm, s_branch = b.vm, b.s_branch
    if n_trafo:
        for side in (0, 1):
            sh = red.trafo_shunt_s[:, side][None, :] * vm[:, ends[n_line:, side]] ** 2
            s_branch[:, n_line:, 2 * side] += sh.real
            s_branch[:, n_line:, 2 * side + 1] += sh.imag
    vn = red.solver.bus.vn_kv.to_numpy()
    # branch currents (kA) from end powers
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
    if not n_trafo:
        return line_ld, np.zeros((len(vm), 0))
    hv = i1[:, n_line:] * tr.vn_hv_kv.to_numpy(float)
    lv = i2[:, n_line:] * tr.vn_lv_kv.to_numpy(float)
    trafo_ld = (
        np.maximum(hv, lv) * _SQRT3 / tr.sn_mva.to_numpy(float) * 100.0
        / (tr.parallel * tr.df).to_numpy(float)
    )  # fmt: skip
    return line_ld, trafo_ld


def _slack_flow(
    red: _Reduced, s_branch: np.ndarray, ends: np.ndarray, load: np.ndarray, part: int
) -> np.ndarray:
    """What the ext grid delivers per step, MW (`part` 0) or Mvar (`part` 1): the branch
    end powers leaving the slack bus plus its own load."""
    at_slack1 = ends[:, 0] == red.slack_bus
    at_slack2 = ends[:, 1] == red.slack_bus
    flow = s_branch[:, at_slack1, part].sum(axis=1) + s_branch[:, at_slack2, 2 + part].sum(axis=1)
    slack_col = np.nonzero(red.inj_bus == red.slack_bus)[0]
    if len(slack_col):
        flow = flow + load[:, slack_col[0]]
    return flow


def _pcc_and_losses(
    red: _Reduced, b: _Batch, ends: np.ndarray, load_p: np.ndarray, load_q: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ext grid import (MW and Mvar, `_slack_flow`) and losses (MW: sum of both end
    powers); NaN where a step did not converge."""
    s_branch = b.s_branch
    losses = np.nansum(s_branch[:, :, 0] + s_branch[:, :, 2], axis=1)
    pcc_p = _slack_flow(red, s_branch, ends, load_p, 0)
    pcc_q = _slack_flow(red, s_branch, ends, load_q, 1)
    for values in (losses, pcc_p, pcc_q):
        values[~b.conv] = np.nan
    return pcc_p, pcc_q, losses


def run_lightsim(net: pp.pandapowerNet, profiles: Profiles, index: pd.Index) -> StepArrays:
    """One AC power flow per row of `index` in lightsim2grid batches; the steps it does not
    converge are re-solved with runpp."""
    red = reduce_net(net)
    grid = _lightsim_grid(red)
    load_p, load_q = _bus_loads(net, profiles, red, len(index))
    batch = _solve_batches(grid, red, load_p, load_q, _start_voltage(grid, red))
    ends = _branch_ends(red)
    line_ld, trafo_ld = _loadings(net, red, batch, ends)
    pcc_p, pcc_q, losses = _pcc_and_losses(red, batch, ends, load_p, load_q)
    vm_net = batch.vm[:, red.bus_pos]
    vm_net[:, ~net.bus.in_service.to_numpy(bool)] = np.nan
    out = StepArrays(vm_net, line_ld, trafo_ld, pcc_p, pcc_q, losses, batch.conv)
    if batch.fallback:
        fb = batch.fallback
        redo = run_pandapower(net, {k: v.iloc[fb] for k, v in profiles.items()}, index[fb])
        out.set_rows(fb, redo)
    return out
