"""Sweep report from whatever has finished: sensitivity tables, plots, one HTML page.

`sweep_report(out_dir)` reads the case records (the source of truth, see records.py) and
writes, each file atomically:

    out/report/sensitivity_<axis>.csv   cost and carbon per axis value (mean/min/max/n),
                                        the step from the row before and whether it is
                                        within the solver tolerance
    out/report/sensitivity.csv          the same, all axes in one long table
    out/report/pareto.csv               the cost-emissions Pareto set
    out/report/cases.csv                every finished case, every column (the page shows
                                        the ones a planner reads)
    out/report/*.png                    cost and carbon vs each axis, heat maps, Pareto
    out/report.html                     one self-contained page (PNGs embedded)

Differences the solver cannot vouch for (within the cases' combined MIP tolerance,
microgrid.sweeps.tolerance) are marked "≈" in tables, drawn dotted with hollow markers in
plots, and never described as a trend.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from microgrid.atomic import atomic_write_bytes
from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.resultdir import is_folder_of
from microgrid.sweeps import report_plots
from microgrid.sweeps.records import read_records, records_table
from microgrid.sweeps.tables import html_table, signed
from microgrid.sweeps.tolerance import (
    COST,
    EMISSIONS,
    FOOTNOTE,
    TOLERANCE,
    WITHIN_MARK,
    Step,
    case_tolerance_usd,
    steps,
    trend_lines,
)

METRICS = (COST, EMISSIONS)
MAX_HEATMAPS = 6
MAX_HTML_ROWS = 500
# What the table of all cases shows after case, status and the axes (a planner's columns;
# report/cases.csv has every column of the records).
CASE_COLUMNS = (
    COST,
    TOLERANCE,
    EMISSIONS,
    "renewable_share",
    "peak_import_mw",
    "curtailed_mwh",
    "jobs.deadlines_met",
    "jobs.n_jobs",
    "solver.status",
    "solver.mip_gap",
    "wall_s",
)


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_") or "axis"


def _is_numeric(values: pd.Series) -> bool:
    return all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values.dropna()
    )


def _label(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "null"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def _axis_key(df: pd.DataFrame, axis: str) -> pd.Series:
    """The axis column as a sortable group key (numbers stay numbers, the rest strings)."""
    col = df[axis]
    return col if _is_numeric(col) else col.map(_label)


def sensitivity(df: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Per value of `axis` (ok cases): the number of cases, mean/min/max of cost and
    emissions, the mean cost tolerance (USD), and the step from the row before (see
    `with_steps`)."""
    key = _axis_key(df, axis)
    g = df.assign(_v=key).groupby("_v", sort=True, dropna=False)
    parts = {m: g[m].agg(["mean", "min", "max"]) for m in METRICS if m in df}
    if TOLERANCE in df:
        parts[TOLERANCE] = g[TOLERANCE].agg(["mean"])
    table = pd.concat(parts, axis=1)
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "n_cases", g.size())
    table.index.name = axis
    return with_steps(table.reset_index())


def table_steps(table: pd.DataFrame, suffix: str = "_mean") -> list[Step]:
    """The steps between consecutive rows of a table with cost, tolerance and emissions
    columns (`<metric><suffix>`); none without a cost column."""
    cost = f"{COST}{suffix}"
    if cost not in table:
        return []
    tol = table.get(f"{TOLERANCE}{suffix}", pd.Series(np.nan, table.index))
    return steps(table[cost], tol, table.get(f"{EMISSIONS}{suffix}"))


def with_steps(table: pd.DataFrame, suffix: str = "_mean") -> pd.DataFrame:
    """`table` plus, per row, the cost (USD) and emissions (t) step from the row before and
    whether it is within the two rows' combined solver tolerance (first row: none)."""
    found = table_steps(table, suffix)
    if not found:
        return table
    out = table.copy()
    out["cost_step_usd"] = [np.nan, *(s.cost_usd for s in found)]
    out["emissions_step_t"] = [np.nan, *(s.emissions_t for s in found)]
    out["within_tolerance"] = [None, *(s.within for s in found)]
    return out


def pareto_front(df: pd.DataFrame, x: str = COST, y: str = EMISSIONS) -> pd.DataFrame:
    """Rows not dominated in (x, y), both minimised; sorted by x."""
    d = df.dropna(subset=[x, y]).sort_values([x, y])
    keep, best_y = [], None
    for i, row in d.iterrows():
        if best_y is None or row[y] < best_y - 1e-9 * max(1.0, abs(best_y)):
            keep.append(i)
            best_y = row[y]
    return d.loc[keep]


def _marked_steps(table: pd.DataFrame) -> pd.DataFrame:
    """The step columns as text for the page: signed, with thousands separators, "≈"
    before a step within the solver tolerance."""
    if "within_tolerance" not in table:
        return table
    out = table.drop(columns="within_tolerance")
    mark = [f"{WITHIN_MARK} " if w else "" for w in table["within_tolerance"]]
    for col, decimals in (("cost_step_usd", 0), ("emissions_step_t", 1)):
        out[col] = [
            "" if pd.isna(v) else m + signed(v, decimals)
            for m, v in zip(mark, table[col], strict=True)
        ]
    return out


def _shown_sensitivity(table: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table as the page shows it: min/max only where a value has more than
    one case, steps marked (`_marked_steps`)."""
    drop = (
        [] if (table["n_cases"] > 1).any() else [c for c in table if c.endswith(("_min", "_max"))]
    )
    shown = _marked_steps(table.drop(columns=drop))
    return shown.rename(columns={f"{TOLERANCE}_mean": TOLERANCE})


@dataclass
class _Page:
    """The report being built: HTML sections, images and the files written so far."""

    folder: Path  # out/report
    sections: list[str] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    def write_csv(self, name: str, table: pd.DataFrame) -> None:
        atomic_write_bytes(self.folder / name, table.to_csv(index=False).encode())
        self.written.append(self.folder / name)

    def image(self, name: str, png: bytes) -> str:
        """Keep the PNG for the folder; return its embedded <img> paragraph."""
        self.images.append((name, png))
        return _img(name, png)


def _read_sweep(out: Path) -> tuple[dict, list[dict], int]:
    """The sweep description, the records of its cases and the number of cases."""
    if not is_folder_of(out, "sweep"):  # report files go into it: only into a sweep's folder
        raise InputError(
            "not a sweep output folder (no .microgrid-result.json of kind sweep, no "
            "sweep.json and records/)",
            path=str(out),
        )
    meta = {}
    if (out / "sweep.json").exists():
        meta = read_json_file(out / "sweep.json")
    if not isinstance(meta, dict):
        raise InputError("not a sweep description (a JSON object)", path=str(out / "sweep.json"))
    ids = {c["case_id"] for c in meta.get("cases", [])}
    recs = [r for cid, r in read_records(out).items() if not ids or cid in ids]
    return meta, recs, len(ids)


def _status_sections(page: _Page, df_all: pd.DataFrame, n_total: int) -> None:
    counts = df_all["status"].value_counts().to_dict() if len(df_all) else {}
    page.sections.append(
        f"<p>{len(df_all)} of {n_total} cases finished: {counts.get('ok', 0)} ok, "
        f"{counts.get('failed', 0)} failed, {counts.get('timeout', 0)} timed out; "
        f"{n_total - len(df_all)} not run yet.</p>"
    )
    bad = df_all[df_all["status"] != "ok"] if len(df_all) else df_all
    if len(bad):
        page.sections.append(
            "<h2>Failed cases</h2>" + html_table(bad[["case_id", "status", "error"]])
        )


def _tolerance_note(ok: pd.DataFrame) -> str:
    """What the marks mean, and which cases have no gap to judge their differences by."""
    missing = int(ok[TOLERANCE].isna().sum()) if TOLERANCE in ok else len(ok)
    note = f"<p class='note'>{html.escape(FOOTNOTE)}</p>"
    if missing:
        note += (
            f"<p class='note'>{missing} case(s) have no MIP gap in their record: their "
            "differences are compared without a solver tolerance.</p>"
        )
    return note


def _trend_list(axis: str, table: pd.DataFrame) -> str:
    lines = trend_lines(axis, [_label(v) for v in table[axis]], table_steps(table))
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<ul class='trend'>{items}</ul>" if items else ""


def _axis_section(page: _Page, ok: pd.DataFrame, axis: str, table: pd.DataFrame) -> None:
    """One axis: its table (steps marked), what changes from value to value, its plot."""
    page.sections.append(f"<h3>{html.escape(axis)}</h3>" + html_table(_shown_sensitivity(table)))
    page.sections.append(_trend_list(axis, table))
    if len(table) >= 2 and f"{COST}_mean" in table:
        fig = report_plots.axis_figure(table, axis, _is_numeric(ok[axis]), table_steps(table))
        page.sections.append(page.image(f"axis_{_slug(axis)}.png", report_plots.png(fig)))


def _sensitivity_sections(page: _Page, ok: pd.DataFrame, varying: list[str]) -> None:
    """Per axis: the sensitivity table (CSV and HTML) and its plot; then all in one CSV."""
    page.sections.append(_tolerance_note(ok))
    long_tables = []
    for axis in varying:
        table = sensitivity(ok, axis)
        page.write_csv(f"sensitivity_{_slug(axis)}.csv", table)
        long_tables.append(
            table.rename(columns={axis: "value"}).assign(axis=axis)[
                ["axis", "value"] + [c for c in table.columns if c != axis]
            ]
        )
        _axis_section(page, ok, axis, table)
    if long_tables:
        long = pd.concat(long_tables, ignore_index=True)
        long["value"] = long["value"].map(_label)
        page.write_csv("sensitivity.csv", long)


def _heatmap(df: pd.DataFrame, a: str, b: str) -> bytes | None:
    """Mean cost and emissions over axes `a` × `b`, or None when they form no grid."""
    d = df.assign(_a=_axis_key(df, a), _b=_axis_key(df, b))
    if d["_a"].nunique() < 2 or d["_b"].nunique() < 2:
        return None
    # Zipped axes move together: no grid to show.
    if d[["_a", "_b"]].drop_duplicates().shape[0] <= max(d["_a"].nunique(), d["_b"].nunique()):
        return None
    piv = {
        m: d.pivot_table(index="_a", columns="_b", values=m, aggfunc="mean")
        for m in METRICS
        if m in d
    }
    return report_plots.png(report_plots.heatmap_figure(piv, a, b, _label))


def _heatmap_sections(page: _Page, ok: pd.DataFrame, varying: list[str]) -> None:
    # Zipped axes group the cases identically: one of them is enough for heat maps.
    distinct, seen = [], set()
    for a in varying:
        sig = tuple(pd.factorize(_axis_key(ok, a))[0])
        if sig not in seen:
            seen.add(sig)
            distinct.append(a)
    n_maps = 0
    for a, b in combinations(distinct, 2):
        if n_maps >= MAX_HEATMAPS:
            break
        png = _heatmap(ok, a, b)
        if png is None:
            continue
        n_maps += 1
        img = page.image(f"heatmap_{_slug(a)}__{_slug(b)}.png", png)
        page.sections.append(f"<h3>{html.escape(a)} × {html.escape(b)}</h3>" + img)


def _pareto_sections(page: _Page, ok: pd.DataFrame, axes: list[str]) -> None:
    """The Pareto set of the cases (cheapest first; steps between neighbours marked)."""
    if COST not in ok or EMISSIONS not in ok:
        return
    front = pareto_front(ok)
    cols = ["case_id", *[a for a in axes if a in front], COST, TOLERANCE, EMISSIONS]
    table = with_steps(front[[c for c in cols if c in front]].reset_index(drop=True), "")
    page.write_csv("pareto.csv", table)
    fig = report_plots.cases_pareto_figure(ok, front)
    page.sections.append(
        "<h2>Pareto set: cost vs emissions</h2>" + page.image("pareto.png", report_plots.png(fig))
    )
    page.sections.append(html_table(_marked_steps(table)))


def _cases_section(page: _Page, df_all: pd.DataFrame, axes: list[str]) -> None:
    """Every finished case: all columns to report/cases.csv, a planner's columns on the page."""
    page.write_csv("cases.csv", df_all)
    cols = ["case_id", "status", *[a for a in axes if a in df_all], *CASE_COLUMNS]
    shown = df_all[[c for c in dict.fromkeys(cols) if c in df_all]].head(MAX_HTML_ROWS)
    more = "" if len(df_all) <= MAX_HTML_ROWS else f" (first {MAX_HTML_ROWS})"
    page.sections.append(
        f"<h2>All finished cases{more}</h2><p class='note'>{len(shown.columns)} of "
        f"{len(df_all.columns)} columns; every column is in report/cases.csv.</p>"
        + html_table(shown)
    )


def _write_images(page: _Page) -> None:
    """The PNGs, and removal of an earlier report's files this one no longer has (e.g. an
    axis removed)."""
    for name, png in page.images:
        atomic_write_bytes(page.folder / name, png)
    keep = {name for name, _ in page.images} | {p.name for p in page.written}
    for p in page.folder.iterdir():
        if p.suffix in (".png", ".csv") and p.name not in keep:
            p.unlink()


def _html_page(meta: dict, out: Path, sections: list[str]) -> str:
    title = html.escape(f"Sweep {meta.get('name', out.name)}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "div.wrap{overflow-x:auto;max-width:100%}"
        "table.t{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "table.t td,table.t th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "p.note{font-size:12px;color:#444}ul.trend{font-size:13px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><p>spec: {html.escape(str(meta.get('spec', '?')))}<br>"
        f"base: {html.escape(str(meta.get('base', '?')))}</p>"
        + "\n".join(sections)
        + "</body></html>"
    )


def _ok_cases(df_all: pd.DataFrame) -> pd.DataFrame:
    """The ok cases, each with its cost tolerance (USD, `TOLERANCE` column)."""
    ok = df_all[df_all["status"] == "ok"] if len(df_all) else df_all
    return ok.assign(**{TOLERANCE: case_tolerance_usd(ok)}) if len(ok) else ok


def sweep_report(out_dir: str | Path) -> Path:
    """Write the report files for the finished cases of a sweep; return report.html."""
    out = Path(out_dir)
    meta, recs, n_ids = _read_sweep(out)
    df_all = records_table(recs)
    n_total = n_ids if n_ids else len(df_all)
    axes = list(meta.get("axes") or sorted({k for r in recs for k in (r.get("params") or {})}))
    ok = _ok_cases(df_all)
    page = _Page(out / "report")
    page.folder.mkdir(exist_ok=True)
    _status_sections(page, df_all, n_total)
    varying = [a for a in axes if a in ok and _axis_key(ok, a).nunique(dropna=False) >= 1]
    if len(ok) and any(m in ok for m in METRICS):
        page.sections.append("<h2>Sensitivity</h2>")
        _sensitivity_sections(page, ok, varying)
        _heatmap_sections(page, ok, varying)
        _pareto_sections(page, ok, axes)
    if len(df_all):
        _cases_section(page, df_all.assign(**{TOLERANCE: case_tolerance_usd(df_all)}), axes)
    _write_images(page)
    atomic_write_bytes(out / "report.html", _html_page(meta, out, page.sections).encode())
    return out / "report.html"


def _img(name: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode()
    return f"<p><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'></p>"
