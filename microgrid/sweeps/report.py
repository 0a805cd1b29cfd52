"""Sweep report from whatever has finished: sensitivity tables, plots, one HTML page.

`sweep_report(out_dir)` reads the case records (the source of truth, see records.py) and
writes, each file atomically:

    out/report/sensitivity_<axis>.csv   cost and carbon per axis value (mean/min/max/n)
    out/report/sensitivity.csv          the same, all axes in one long table
    out/report/pareto.csv               the cost-emissions Pareto set
    out/report/*.png                    cost and carbon vs each axis, heat maps, Pareto
    out/report.html                     one self-contained page (PNGs embedded)
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from microgrid.atomic import atomic_write_bytes  # noqa: E402
from microgrid.datafiles import read_json_file  # noqa: E402
from microgrid.errors import InputError  # noqa: E402
from microgrid.resultdir import is_folder_of  # noqa: E402
from microgrid.sweeps.records import read_records, records_table  # noqa: E402

METRICS = {"total_cost_usd": "total cost (USD)", "emissions_t": "emissions (t CO2)"}
MAX_HEATMAPS = 6
MAX_HTML_ROWS = 500


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
    """Mean/min/max/count of cost and emissions per value of `axis` (ok cases)."""
    key = _axis_key(df, axis)
    g = df.assign(_v=key).groupby("_v", sort=True, dropna=False)
    parts = {}
    for m in METRICS:
        if m in df:
            parts[m] = g[m].agg(["mean", "min", "max"])
    table = pd.concat(parts, axis=1)
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "n_cases", g.size())
    table.index.name = axis
    return table.reset_index()


def pareto_front(df: pd.DataFrame, x: str = "total_cost_usd", y: str = "emissions_t"):
    """Rows not dominated in (x, y), both minimised; sorted by x."""
    d = df.dropna(subset=[x, y]).sort_values([x, y])
    keep, best_y = [], None
    for i, row in d.iterrows():
        if best_y is None or row[y] < best_y - 1e-9 * max(1.0, abs(best_y)):
            keep.append(i)
            best_y = row[y]
    return d.loc[keep]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _axis_plot(table: pd.DataFrame, axis: str, numeric: bool) -> bytes:
    fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
    x = table[axis].to_numpy() if numeric else np.arange(len(table))
    for ax, (m, label) in zip(axs, METRICS.items(), strict=True):
        if f"{m}_mean" not in table:
            ax.set_visible(False)
            continue
        mean, lo, hi = (table[f"{m}_{s}"].to_numpy(float) for s in ("mean", "min", "max"))
        ax.plot(x, mean, "o-", label="mean")
        ax.fill_between(x, lo, hi, alpha=0.25, label="min-max")
        ax.set_xlabel(axis)
        ax.set_ylabel(label)
        if not numeric:
            ax.set_xticks(x, [_label(v) for v in table[axis]], rotation=30, ha="right")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"cost and carbon vs {axis}")
    return _png(fig)


def _heatmap(df: pd.DataFrame, a: str, b: str) -> bytes | None:
    d = df.assign(_a=_axis_key(df, a), _b=_axis_key(df, b))
    if d["_a"].nunique() < 2 or d["_b"].nunique() < 2:
        return None
    # Zipped axes move together: no grid to show.
    if d[["_a", "_b"]].drop_duplicates().shape[0] <= max(d["_a"].nunique(), d["_b"].nunique()):
        return None
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (m, label) in zip(axs, METRICS.items(), strict=True):
        if m not in d:
            ax.set_visible(False)
            continue
        piv = d.pivot_table(index="_a", columns="_b", values=m, aggfunc="mean")
        im = ax.imshow(piv.to_numpy(float), aspect="auto", origin="lower", cmap="viridis")
        ax.set_yticks(range(len(piv.index)), [_label(v) for v in piv.index])
        ax.set_xticks(range(len(piv.columns)), [_label(v) for v in piv.columns], rotation=30)
        ax.set_ylabel(a)
        ax.set_xlabel(b)
        ax.set_title(f"mean {label}")
        for (i, j), v in np.ndenumerate(piv.to_numpy(float)):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
        fig.colorbar(im, ax=ax)
    return _png(fig)


def _pareto_plot(df: pd.DataFrame, front: pd.DataFrame) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(df["total_cost_usd"], df["emissions_t"], s=18, alpha=0.6, label="cases")
    ax.plot(front["total_cost_usd"], front["emissions_t"], "r.-", label="Pareto set")
    for _, r in front.iterrows():
        ax.annotate(str(r["case_id"]), (r["total_cost_usd"], r["emissions_t"]), fontsize=7)
    ax.set_xlabel(METRICS["total_cost_usd"])
    ax.set_ylabel(METRICS["emissions_t"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("cost vs emissions across cases")
    return _png(fig)


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def _html_table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:,.4g}")


@dataclass
class _Page:
    """The report being built: HTML sections, images and the files written so far."""

    folder: Path  # out/report
    sections: list[str] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    def write_csv(self, name: str, table: pd.DataFrame) -> None:
        atomic_write_bytes(self.folder / name, _csv(table))
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
            "<h2>Failed cases</h2>" + _html_table(bad[["case_id", "status", "error"]])
        )


def _sensitivity_sections(page: _Page, ok: pd.DataFrame, varying: list[str]) -> None:
    """Per axis: the sensitivity table (CSV and HTML) and its plot; then all in one CSV."""
    long_tables = []
    for axis in varying:
        table = sensitivity(ok, axis)
        page.write_csv(f"sensitivity_{_slug(axis)}.csv", table)
        long_tables.append(
            table.rename(columns={axis: "value"}).assign(axis=axis)[
                ["axis", "value"] + [c for c in table.columns if c != axis]
            ]
        )
        page.sections.append(f"<h3>{html.escape(axis)}</h3>" + _html_table(table))
        if len(table) >= 2:
            png = _axis_plot(table, axis, _is_numeric(ok[axis]))
            page.sections.append(page.image(f"axis_{_slug(axis)}.png", png))
    if long_tables:
        long = pd.concat(long_tables, ignore_index=True)
        long["value"] = long["value"].map(_label)
        page.write_csv("sensitivity.csv", long)


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
    if "total_cost_usd" not in ok or "emissions_t" not in ok:
        return
    front = pareto_front(ok)
    cols = ["case_id", *[a for a in axes if a in front], "total_cost_usd", "emissions_t"]
    page.write_csv("pareto.csv", front[cols])
    img = page.image("pareto.png", _pareto_plot(ok, front))
    page.sections.append("<h2>Pareto set: cost vs emissions</h2>" + img)
    page.sections.append(_html_table(front[cols]))


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
        "table.t{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "table.t td,table.t th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><p>spec: {html.escape(str(meta.get('spec', '?')))}<br>"
        f"base: {html.escape(str(meta.get('base', '?')))}</p>"
        + "\n".join(sections)
        + "</body></html>"
    )


def sweep_report(out_dir: str | Path) -> Path:
    """Write the report files for the finished cases of a sweep; return report.html."""
    out = Path(out_dir)
    meta, recs, n_ids = _read_sweep(out)
    df_all = records_table(recs)
    n_total = n_ids if n_ids else len(df_all)
    axes = list(meta.get("axes") or sorted({k for r in recs for k in (r.get("params") or {})}))
    ok = df_all[df_all["status"] == "ok"] if len(df_all) else df_all
    page = _Page(out / "report")
    page.folder.mkdir(exist_ok=True)
    _status_sections(page, df_all, n_total)
    varying = [a for a in axes if a in ok and _axis_key(ok, a).nunique(dropna=False) >= 1]
    if len(ok) and any(m in ok for m in METRICS):
        page.sections.append("<h2>Sensitivity</h2>")
        _sensitivity_sections(page, ok, varying)
        _heatmap_sections(page, ok, varying)
        _pareto_sections(page, ok, axes)
    _write_images(page)
    if len(df_all):
        shown = df_all.drop(columns=["host", "finished_utc"], errors="ignore").head(MAX_HTML_ROWS)
        more = "" if len(df_all) <= MAX_HTML_ROWS else f" (first {MAX_HTML_ROWS})"
        page.sections.append(f"<h2>All finished cases{more}</h2>" + _html_table(shown))
    atomic_write_bytes(out / "report.html", _html_page(meta, out, page.sections).encode())
    return out / "report.html"


def _img(name: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode()
    return f"<p><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'></p>"
