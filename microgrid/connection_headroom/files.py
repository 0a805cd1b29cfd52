"""A headroom result's folder: headroom.csv (one row per limit and supply case),
headroom.json (the same with the case's sizes and notes), headroom.png (the curves) and
timings.json (the wall-clock seconds, the only file that differs between two runs of the
same inputs).

The folder is written as every microgrid result folder (``microgrid.resultdir``: marker
of kind ``"headroom"``, built beside ``--out`` and swapped in); files inside through
``microgrid.atomic``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from microgrid.atomic import atomic_write_json, atomic_write_text  # noqa: E402
from microgrid.connection_headroom.curve import HeadroomResult, HeadroomRow  # noqa: E402
from microgrid.plots import save  # noqa: E402
from microgrid.resultdir import write_dir  # noqa: E402
from microgrid.results import solver_zeros_cleared  # noqa: E402
from optimize.headroom import HeadroomPoint  # noqa: E402

KIND = "headroom"
COLUMNS = (
    "curtail_pct",
    "onsite",
    "connection_mw",
    "max_campus_it_mw",
    "max_campus_bound_it_mw",
    "curtailed_mwh",
    "curtailed_hours",
    "curtailed_training_pct",
    "curtailed_energy_pct",
    "max_curtailed_mw",
    "campus_it_mw",
    "connection_needed_mw",
    "connection_needed_bound_mw",
    "needed_curtailed_mwh",
    "needed_curtailed_hours",
    "needed_curtailed_training_pct",
    "needed_max_curtailed_mw",
    "status",
)
NOTES = (
    "The campus runs at its full IT capacity at every step; only training is curtailed "
    "(inference never).",
    "max_campus_it_mw: the largest campus on the scenario's connection (connection_mw); "
    "curtailed_* are that campus's least curtailment.",
    "connection_needed_mw: the least connection for the scenario's campus (campus_it_mw); "
    "needed_* are its least curtailment; empty when no connection serves it (inference in "
    "an outage with nothing on site).",
    "*_bound_*: the proven bound (no larger campus fits, no smaller connection serves); "
    "equal to the answer with the energy measure, and where the hours MILP proved its "
    "optimum.",
    "onsite: with the scenario's PV, wind and battery as sized in the scenario (and backup "
    "generators per 'backup'); without: the grid alone.",
)


def row_record(row: HeadroomRow, result: HeadroomResult) -> dict[str, object]:
    """One CSV row (MW, MWh, h, %); a solver's -0.0 or round-off near 0 written as 0."""
    return {
        k: float(solver_zeros_cleared(v)) if isinstance(v, float) else v
        for k, v in _row_values(row, result).items()
    }


def _row_values(row: HeadroomRow, result: HeadroomResult) -> dict[str, object]:
    a, b = row.max_campus, row.connection_needed
    return {
        "curtail_pct": row.curtail_pct,
        "onsite": row.onsite,
        "connection_mw": result.connection_mw,
        "max_campus_it_mw": a.campus_it_mw,
        "max_campus_bound_it_mw": a.size_bound_mw,
        "curtailed_mwh": a.curtailed_mwh,
        "curtailed_hours": a.curtailed_hours,
        "curtailed_training_pct": 100 * a.curtailed_share_training,
        "curtailed_energy_pct": 100 * a.curtailed_share_energy,
        "max_curtailed_mw": a.max_curtailed_mw,
        "campus_it_mw": result.campus_it_mw,
        "connection_needed_mw": b.connection_mw if b.feasible else None,
        "connection_needed_bound_mw": _if_feasible(b, b.size_bound_mw),
        "needed_curtailed_mwh": _if_feasible(b, b.curtailed_mwh),
        "needed_curtailed_hours": _if_feasible(b, b.curtailed_hours),
        "needed_curtailed_training_pct": _if_feasible(b, 100 * b.curtailed_share_training),
        "needed_max_curtailed_mw": _if_feasible(b, b.max_curtailed_mw),
        "status": _status(a, b),
    }


def _status(a: HeadroomPoint, b: HeadroomPoint) -> str:
    """ "optimal" if both solves are; else the first that is not (infeasible: the reverse)."""
    return next((p.status for p in (a, b) if p.status != "optimal"), "optimal")


def _if_feasible(p: HeadroomPoint, value: float) -> float | None:
    return value if p.feasible else None


def csv_text(result: HeadroomResult) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in result.rows:
        rec = row_record(row, result)
        w.writerow({k: _cell(v) for k, v in rec.items()})
    return buf.getvalue()


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e6 else f"{v:.1f}"
    return str(v)


def json_doc(result: HeadroomResult) -> dict[str, object]:
    return {
        "scenario": result.scenario_name,
        "period": result.period,
        "measure": result.measure,
        "backup": result.backup,
        "connection_mw": result.connection_mw,
        "campus_it_mw": result.campus_it_mw,
        "has_onsite_assets": result.has_onsite,
        "step_h": result.step_h,
        "n_steps": result.n_steps,
        "outage_steps": result.outage_steps,
        "notes": list(NOTES),
        "rows": [row_record(r, result) for r in result.rows],
    }


def timings_doc(result: HeadroomResult) -> dict[str, object]:
    """timings.json: the whole run's wall-clock `run_s` and each row's `solve_s` (both
    solves of the row: the largest campus and the connection needed), rows in the CSV's
    order, named by their limit and case."""
    rows = [
        {
            "curtail_pct": r.curtail_pct,
            "onsite": r.onsite,
            "solve_s": r.max_campus.solve_s + r.connection_needed.solve_s,
        }
        for r in result.rows
    ]
    return {"run_s": result.run_s, "rows": rows}


def headroom_figure(result: HeadroomResult) -> Figure:
    """Left: the largest campus (IT MW) over X; right: the connection needed (MW) over X;
    with and without the on-site assets, and the scenario's own size as a dashed line."""
    fig, (ax_l, ax_c) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    unit = "% of training energy" if result.measure == "energy" else "% of hours"
    for onsite, color in ((False, "#7f7f7f"), (True, "#2a9d8f")):
        rows = [r for r in result.rows if r.onsite == onsite]
        if onsite and not result.has_onsite:
            continue
        x = [r.curtail_pct for r in rows]
        label = "with on-site assets" if onsite else "grid only"
        ax_l.plot(x, [r.max_campus.campus_it_mw for r in rows], "o-", color=color, label=label)
        need = [r.connection_needed.connection_mw for r in rows]  # NaN where infeasible
        ax_c.plot(x, need, "o-", color=color, label=label)
    ax_l.axhline(result.campus_it_mw, color="k", ls="--", lw=0.8, label="scenario campus")
    ax_c.axhline(result.connection_mw, color="k", ls="--", lw=0.8, label="scenario connection")
    ax_l.set_title(f"largest campus on {result.connection_mw:g} MW")
    ax_c.set_title(f"connection for a {result.campus_it_mw:g} MW IT campus")
    ax_l.set_ylabel("campus IT capacity (MW)")
    ax_c.set_ylabel("grid connection (MW)")
    for ax in (ax_l, ax_c):
        ax.set_xlabel(f"curtailment limit ({unit})")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{result.scenario_name}: interconnection headroom")
    return fig


def write_headroom(
    result: HeadroomResult, out: str | Path, inputs: Iterable[str | Path] = ()
) -> Path:
    """Write the folder ``out`` (refused where ``resultdir.check_target`` refuses)."""

    def fill(tmp: Path) -> None:
        atomic_write_text(tmp / "headroom.csv", csv_text(result))
        atomic_write_json(tmp / "headroom.json", json_doc(result))
        atomic_write_json(tmp / "timings.json", timings_doc(result))
        save(headroom_figure(result), tmp / "headroom.png")

    return write_dir(out, KIND, fill, inputs)
