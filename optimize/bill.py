"""The grid bill of an import/export series: one place that prices a series on a ``Grid``
(numpy only; the model of each charge is in ``optimize.demand_charges`` and
``optimize.energy_tiers``, which price the same way).

With ``n`` = the series' length (at most the grid's steps; a committed part is priced on
the grid's first ``n`` steps) and ``step_h`` in hours, each line item in USD is:

- ``<part>_usd = step_h · Σ_t part[t] · import[t]`` for each import price part
  (``Grid.import_price_parts``; one part ``energy`` = the import price without parts),
  minus ``step_h · Σ_t part[t] · export[t]`` for each export price part (same name: the
  lines add up; without export parts one part, ``energy`` when the import has no parts
  either, else ``export``). Where the parts do not sum to the price (a price changed
  after the parts were set: the closed loop's price spikes), the first part takes the
  difference, so the lines always sum to the priced energy;
- ``<line_item>_usd = Σ_k usd_per_mw_k · billed_k`` over the peak charges ``k`` of that line,
  ``billed_k = max(peak_k, prior_peak_mw_k, ratchet_floor_mw_k, f_kj · peak_j)`` with
  ``peak_k`` = max(prior_peak_mw_k, import over the charge's steps), (MW), the import
  averaged over the charge's demand intervals where they are longer than a step
  (``demand_intervals``);
- ``<line_item>_usd`` of the tiered energy charges: the cheapest split of each step's
  import energy into blocks that fill the blocks in order (``optimize.energy_tiers``).

Sum of the lines = the model's ``energy_usd + demand_usd`` terms of the same series:
``demand_usd`` is the peak-charge lines, ``energy_usd`` all the others.
"""

from __future__ import annotations

import math

import numpy as np

from optimize.problem import EnergyTiers, Grid, PeakCharge


def billed_demand_mw(grid: Grid, import_mw: np.ndarray) -> dict[str, float]:
    """Key -> billed demand (MW) of each peak charge of ``grid`` for the import series."""
    peaks = peaks_mw(grid.peak_charges, import_mw)
    out = {}
    for c in grid.peak_charges:
        ratchet = [f * peaks[j] for j, f in c.ratchets]
        out[c.key] = max(peaks[c.key], c.ratchet_floor_mw, *ratchet)
    return out


def demand_lines(grid: Grid) -> set[str]:
    """The bill's keys (``<line_item>_usd``) that are demand charges."""
    return {f"{c.line_item}_usd" for c in grid.peak_charges}


def _parts(
    price: np.ndarray, parts: dict[str, np.ndarray] | None, line: str
) -> dict[str, np.ndarray]:
    """The price's parts (USD/MWh per step) cut to ``len(price)``; the first takes any
    difference between the price and their sum. No parts: the whole price, as ``line``."""
    if not parts:
        return {line: price}
    n = len(price)
    out = {name: np.asarray(p, dtype=float)[:n] for name, p in parts.items()}
    first = next(iter(out))
    out[first] = out[first] + (price - sum(out.values()))
    return out


def _add(bill: dict[str, float], line: str, usd: float) -> None:
    bill[f"{line}_usd"] = bill.get(f"{line}_usd", 0.0) + float(usd)


def grid_bill(
    grid: Grid, step_h: float, import_mw: np.ndarray, export_mw: np.ndarray
) -> dict[str, float]:
    """The bill (line item + ``_usd`` -> USD) of an import and export series (MW per step);
    see the module header."""
    imp = np.asarray(import_mw, dtype=float)
    exp = np.asarray(export_mw, dtype=float)
    n = len(imp)
    bill: dict[str, float] = {}
    # without parts one line, "energy"; with import parts only, export is its own line
    export_line = "energy" if grid.import_price_parts is None else "export"
    for sign, mw, price, parts, line in (
        (1.0, imp, grid.import_price_usd_per_mwh, grid.import_price_parts, "energy"),
        (-1.0, exp, grid.export_price_usd_per_mwh, grid.export_price_parts, export_line),
    ):
        for name, part in _parts(price[:n], parts, line).items():
            _add(bill, name, sign * step_h * float(np.dot(mw, part)))
    billed = billed_demand_mw(grid, imp)
    for c in grid.peak_charges:
        _add(bill, c.line_item, c.usd_per_mw * billed[c.key])
    for line, usd in tiers_usd(grid.energy_tiers, step_h, imp).items():
        _add(bill, line, usd)
    return bill


def split_bill(grid: Grid, bill: dict[str, float]) -> tuple[float, float]:
    """``(energy_usd, demand_usd)`` of a bill: demand is the peak-charge lines."""
    demand = demand_lines(grid)
    demand_usd = sum(v for k, v in bill.items() if k in demand)
    return sum(v for k, v in bill.items() if k not in demand), demand_usd


def peaks_mw(charges: tuple[PeakCharge, ...], import_mw: np.ndarray) -> dict[str, float]:
    """Key -> the peak of each charge (MW): the highest import over its steps (averaged
    over its demand intervals), at least its ``prior_peak_mw``. ``import_mw`` may be
    shorter than the steps (a committed part; its last interval averages what it has)."""
    imp = np.asarray(import_mw, dtype=float)
    out = {}
    for c in charges:
        on_steps = c.interval_steps == 1
        sel = imp[c.steps[: len(imp)]] if on_steps else interval_demand_mw(c, imp)
        out[c.key] = max(c.prior_peak_mw, float(sel.max()) if sel.size else 0.0)
    return out


def demand_intervals(c: PeakCharge, n: int) -> list[tuple[int, int, float, int]]:
    """``(a, b, head_mw, count)`` of each demand interval of ``c`` within steps ``[0, n)``
    that has a step of ``c.steps``: its steps ``[a, b)``, the import (MW) summed over its
    steps before step 0, and the number of steps it averages (``PeakCharge``)."""
    out = []
    a, b = 0, min(c.interval_steps - c.interval_phase, n)
    head_mw, before = c.head_import_mw, c.head_steps
    while a < n:
        if c.steps[a:b].any():
            out.append((a, b, head_mw, before + b - a))
        a, b = b, min(b + c.interval_steps, n)
        head_mw, before = 0.0, 0
    return out


def interval_demand_mw(c: PeakCharge, import_mw: np.ndarray) -> np.ndarray:
    """The average import (MW) of each demand interval of ``c`` (``demand_intervals``)
    within the series."""
    imp = np.asarray(import_mw, dtype=float)
    return np.array(
        [(head + float(imp[a:b].sum())) / k for a, b, head, k in demand_intervals(c, len(imp))]
    )


def block_room_mwh(x: EnergyTiers) -> list[float]:
    """``W_i``: the room (MWh) left in each block once ``prior_mwh`` has filled the first;
    the last block has no limit (energy beyond the last tier pays the last tier's rate)."""
    room, start = [], 0.0
    for w in x.block_mwh[:-1]:
        room.append(min(max(start + w - x.prior_mwh, 0.0), w))
        start += w
    return [*room, math.inf]


def tier_mwh(tiers: tuple[EnergyTiers, ...], step_h: float, import_mw) -> dict[str, float]:
    """Key -> the import energy (MWh) of the series over each tiers' steps."""
    imp = np.asarray(import_mw, dtype=float)
    return {x.key: step_h * float(imp[x.steps[: len(imp)]].sum()) for x in tiers}


def tiers_usd(tiers: tuple[EnergyTiers, ...], step_h: float, import_mw) -> dict[str, float]:
    """Line item -> USD of the tiered charges of an import series (MW per step; may be
    shorter than the steps): blocks filled in order, the cheapest split (module header)."""
    imp = np.asarray(import_mw, dtype=float)
    out: dict[str, float] = {}
    for x in tiers:
        sel = x.steps[: len(imp)]
        e_mwh = step_h * imp[sel]
        rates = np.array([r[: len(imp)][sel] for r in x.usd_per_mwh])
        usd = _split_usd(rates, e_mwh, _fill(block_room_mwh(x), float(e_mwh.sum())))
        out[x.line_item] = out.get(x.line_item, 0.0) + usd
    return out


def _fill(room: list[float], total_mwh: float) -> np.ndarray:
    """MWh in each block when ``total_mwh`` fills the blocks' room in order."""
    out, left = [], total_mwh
    for w in room:
        out.append(min(w, left))
        left -= out[-1]
    return np.array(out)


def _split_usd(rates: np.ndarray, e_mwh: np.ndarray, block_mwh: np.ndarray) -> float:
    """min Σ rates[i, t]·s[i, t] s.t. Σ_i s[i, t] = e_mwh[t], Σ_t s[i, t] = block_mwh[i],
    s >= 0 (USD): closed form when each block's rate is the first block's plus a constant,
    else a small HiGHS LP."""
    if e_mwh.size == 0:
        return 0.0
    delta = rates - rates[0]
    if np.allclose(delta, delta[:, :1], rtol=0.0, atol=1e-9):
        return float(rates[0] @ e_mwh + delta[:, 0] @ block_mwh)
    k, n = rates.shape
    # HiGHS only here, for tier rates that differ by step: the rest of the bill (and
    # `microgrid validate`, which imports it) never loads the solver
    import highspy

    from optimize.highs import new_highs

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = k * n, n + k
    lp.col_cost_ = rates.ravel()
    lp.col_lower_, lp.col_upper_ = np.zeros(k * n), np.full(k * n, highspy.kHighsInf)
    rhs = np.concatenate([e_mwh, block_mwh])
    lp.row_lower_, lp.row_upper_ = rhs - 1e-9, rhs + 1e-9
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * k * n + 1, 2, dtype=np.int32)
    rows = [(t, n + i) for i in range(k) for t in range(n)]
    lp.a_matrix_.index_ = np.array(rows, dtype=np.int32).ravel()
    lp.a_matrix_.value_ = np.ones(2 * k * n)
    h = new_highs()
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError("EnergyTiers: the block split LP has no optimum")
    return float(h.getInfo().objective_function_value)
