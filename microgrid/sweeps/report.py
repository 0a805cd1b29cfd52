"""Sweep report from whatever has finished: sensitivity tables, plots, one HTML page.

`sweep_report(out_dir)` reads the case records (the source of truth, see records.py) of
the cases in the sweep's table (records made with what their case has now) and writes,
all together or none (`microgrid.sweeps.report_files`):

    out/report/sensitivity_<axis>.csv   cost and carbon per axis value (mean/min/max/n),
                                        the step from the row before (like for like: over
                                        the pairs of cases that differ in this axis alone,
                                        how many) and whether it is within the solver
                                        tolerance
    out/report/sensitivity.csv          the same, all axes in one long table
    out/report/pareto.csv               the cost-emissions Pareto set, with each case's
                                        unfinished-work penalty and deadlines met
    out/report/cases.csv                every finished case, every column of the records
                                        but the run's own (the page shows the ones a
                                        planner reads)
    out/report/timings.csv              each case's wall_s, host and finished_utc: the
                                        only report file that differs between two runs
    out/report/*.png                    cost and carbon vs each axis, heat maps, Pareto
    out/report.html                     one self-contained page (PNGs embedded)

Differences the solver cannot vouch for (within the cases' combined MIP tolerance,
microgrid.sweeps.tolerance) are marked "≈" in tables, drawn dotted with hollow markers in
plots, and never described as a trend.

An axis's step compares like with like (`microgrid.sweeps.sensitivity`: the cases that
differ in that axis alone); a step no such pair exists for is said to be missing. The page
and every plot say when the sweep is unfinished (n of N cases).
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from pathlib import Path, PurePath

import pandas as pd

from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.parquet_files import read_parquet
from microgrid.resultdir import is_folder_of
from microgrid.sweeps import report_plots
from microgrid.sweeps.records import read_records, records_table
from microgrid.sweeps.report_files import check_places, put_in_place
from microgrid.sweeps.sensitivity import (
    METRICS,
    PairedStep,
    axis_key,
    is_numeric,
    pareto_front,
    sensitivity,
    tied_axes,
    value_label,
    value_order,
    with_steps,
)
from microgrid.sweeps.tables import html_table, signed
from microgrid.sweeps.tolerance import (
    COST,
    EMISSIONS,
    FOOTNOTE,
    TOLERANCE,
    WITHIN_MARK,
    case_tolerance_usd,
    trend_lines,
)

MAX_HEATMAPS = 6
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"  # times in the CSVs, as in a run's timeseries.csv
MAX_HTML_ROWS = 500
NO_PAIR = "no pair"  # a step's cells when no two cases differ in its axis alone
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
)
# What the Pareto set shows after cost and emissions: the work each case leaves undone
# (with objective.unfinished_work_penalty_usd_per_h, a clean case may be one that runs
# less of its jobs, its penalty in the cost).
PARETO_WORK_COLUMNS = ("unfinished_penalty_usd", "jobs.deadlines_met", "jobs.n_jobs")
# What a case's run was, not what it found (wall-clock seconds, machine, clock time): in
# report/timings.csv alone, so that every other report file is the same on every run.
RUN_COLUMNS = ("wall_s", "host", "finished_utc")


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_") or "axis"


def _marked_steps(table: pd.DataFrame) -> pd.DataFrame:
    """The step columns as text for the page: signed, with thousands separators, "≈"
    before a step within the solver tolerance, NO_PAIR for a step without a pair."""
    if "within_tolerance" not in table:
        return table
    out = table.drop(columns="within_tolerance")
    mark = [f"{WITHIN_MARK} " if w else "" for w in table["within_tolerance"]]
    no_pair = table["n_pairs"].fillna(-1).eq(0) if "n_pairs" in table else [False] * len(table)
    for col, decimals in (("cost_step_usd", 0), ("emissions_step_t", 1)):
        out[col] = [
            NO_PAIR if missing else "" if pd.isna(v) else m + signed(v, decimals)
            for m, v, missing in zip(mark, table[col], no_pair, strict=True)
        ]
    return out


def _shown_sensitivity(table: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table as the page shows it: min/max only where a value has more than
    one case, the cases without a partner only where there are any, steps marked
    (`_marked_steps`)."""
    drop = (
        [] if (table["n_cases"] > 1).any() else [c for c in table if c.endswith(("_min", "_max"))]
    )
    if "unpaired_cases" in table and not table["unpaired_cases"].fillna(0).any():
        drop.append("unpaired_cases")
    shown = _marked_steps(table.drop(columns=drop))
    return shown.rename(columns={f"{TOLERANCE}_mean": TOLERANCE})


@dataclass
class _Page:
    """The report being built: HTML sections, images and the files written so far."""

    unfinished: str = ""  # "unfinished: n of N cases done" on the page and every plot
    sections: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # out/report/NAME: written last

    def write_csv(self, name: str, table: pd.DataFrame) -> None:
        self.files[name] = table.to_csv(index=False, date_format=ISO_Z).encode()

    def image(self, name: str, png: bytes) -> str:
        """Keep the PNG for the folder; return its embedded <img> paragraph."""
        self.files[name] = png
        return _img(name, png)


def _read_sweep(out: Path) -> tuple[dict, list[dict], int]:
    """The sweep description, the records of its cases and the number of cases."""
    if out.is_symlink():
        raise InputError("is a symbolic link: give the sweep folder it points to", path=str(out))
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
    _check_description(meta, out / "sweep.json")
    ids = {c["case_id"] for c in meta.get("cases") or []}
    recs = [r for cid, r in read_records(out).items() if not ids or cid in ids]
    standing = _table_case_ids(out)
    if standing is not None:
        recs = [r for r in recs if r["case_id"] in standing]
    for rec in recs:
        _check_figures(out, rec)
    return meta, recs, len(ids)


def _check_description(meta: dict, path: Path) -> None:
    """What the report reads of sweep.json has its type (a damaged file was an internal
    error): `cases` a list of objects, each with a text `case_id` and its `params` and
    `values` objects; `axes` a list of axis names. InputError naming the field."""
    cases = meta.get("cases") or []
    if not isinstance(cases, list):
        raise InputError("must be a list of cases", path=str(path), field="cases")
    for i, case in enumerate(cases):
        if not (isinstance(case, dict) and isinstance(case.get("case_id"), str)):
            raise InputError(
                "must be an object with a text case_id", path=str(path), field=f"cases.{i}"
            )
        for key in ("params", "values"):
            if not isinstance(case.get(key) or {}, dict):
                raise InputError("must be a JSON object", path=str(path), field=f"cases.{i}.{key}")
    axes = meta.get("axes") or []
    if not (isinstance(axes, list) and all(isinstance(a, str) for a in axes)):
        raise InputError("must be a list of axis names", path=str(path), field="axes")


def _table_case_ids(out: Path) -> set[str] | None:
    """The cases of the sweep's table, which holds only records made with what their
    case has now (a case a resume with other data or options has not re-run yet has
    none); None without a table."""
    path = out / "cases.parquet"
    if not path.exists():
        return None
    try:
        return set(read_parquet(path, columns=["case_id"])["case_id"])
    except (OSError, ValueError, KeyError) as exc:  # pyarrow's errors are ValueErrors
        raise InputError(f"cannot read the sweep's table: {exc}", path=str(path)) from None


def _check_figures(out: Path, rec: dict) -> None:
    """An ok record's cost and emissions are numbers (or null): a record edited by hand
    is named, not met later as a bug of the report."""
    if rec.get("status") != "ok":
        return
    summary = rec.get("summary")
    for key in METRICS:
        value = summary.get(key) if isinstance(summary, dict) else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(
                f"not a number: {value!r}",
                path=str(out / "records" / f"{rec['case_id']}.json"),
                field=f"summary.{key}",
            )


def _status_sections(page: _Page, df_all: pd.DataFrame, n_total: int) -> None:
    counts = df_all["status"].value_counts().to_dict() if len(df_all) else {}
    if page.unfinished:
        page.sections.append(
            f"<p class='warn'><b>Unfinished sweep: {len(df_all)} of {n_total} cases done.</b> "
            "The figures are those of the cases done: the means of an axis value are over "
            "its cases done; a step (Δ) compares only cases that differ in that axis alone "
            "(the same values on every other axis), and a plot joins two values only where "
            "they hold the same combinations of the other axes.</p>"
        )
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _step_line(axis: str, a: str, b: str, found: PairedStep) -> str:
    """What changes from value a to b of `axis`, and on how many pairs of cases that
    rests when some cases have no partner."""
    if found.step is None:
        return (
            f"{axis} {a} → {b}: no step: no two ok cases differ in {axis} alone (the same "
            "values on every other axis)."
        )
    (line,) = trend_lines(axis, [a, b], [found.step])
    if not found.unpaired:
        return line
    return (
        f"{line} Like for like: {_count(found.n_pairs, 'pair')} of cases; "
        f"{_count(found.unpaired, 'case')} without a partner left out."
    )


def _trend_list(axis: str, table: pd.DataFrame, found: list[PairedStep]) -> str:
    labels = pairwise(value_label(v) for v in table[axis])
    lines = [_step_line(axis, a, b, f) for (a, b), f in zip(labels, found, strict=True)]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<ul class='trend'>{items}</ul>" if items else ""


def _axis_section(
    page: _Page,
    ok: pd.DataFrame,
    axis: str,
    table: pd.DataFrame,
    found: list[PairedStep],
    partners: list[str],
) -> None:
    """One axis: its table (steps marked), what changes from value to value, its plot.
    ``partners``: the axes that move with it (a zip group), shown in its table and named
    in its heading instead of in sections of their own, which would repeat it."""
    heading = html.escape(axis)
    if partners:
        heading += " <small>(with " + html.escape(", ".join(partners)) + ")</small>"
    shown = _with_partner_values(_shown_sensitivity(table), ok, axis, partners)
    page.sections.append(f"<h3>{heading}</h3>" + html_table(shown))
    page.sections.append(_trend_list(axis, table, found))
    if len(table) >= 2 and f"{COST}_mean" in table:
        fig = report_plots.axis_figure(
            table,
            axis,
            is_numeric(ok[axis]),
            within=[f.step is not None and f.step.within for f in found],
            joined=[f.joined for f in found],
            note=page.unfinished,
        )
        page.sections.append(page.image(f"axis_{_slug(axis)}.png", report_plots.png(fig)))


def _with_partner_values(
    shown: pd.DataFrame, ok: pd.DataFrame, axis: str, partners: list[str]
) -> pd.DataFrame:
    """``shown`` (one row per value of ``axis``, its first column) with each partner's
    value beside it: tied axes have one partner value per value of ``axis``."""
    out = shown.copy()
    key = ok[axis].map(value_label)
    for k, partner in enumerate(partners):
        value_of = dict(zip(key, ok[partner], strict=True))
        values = out[axis].map(lambda v, m=value_of: m.get(value_label(v)))
        out.insert(1 + k, partner, values)
    return out


def _sensitivity_sections(
    page: _Page, ok: pd.DataFrame, varying: list[str], ties: dict[str, set[str]]
) -> None:
    """Per axis: the sensitivity table (CSV and HTML) and its plot; then all in one CSV.
    An axis's steps pair the cases on every other axis but those tied to it (`ties`)."""
    page.sections.append(_tolerance_note(ok))
    long_tables = []
    in_a_section: set[str] = set()  # axes shown already, with a partner they move with
    for axis in varying:
        match = [a for a in varying if a != axis and a not in ties.get(axis, ())]
        table, found = sensitivity(ok, axis, match)
        page.write_csv(f"sensitivity_{_slug(axis)}.csv", table)
        long_tables.append(
            table.rename(columns={axis: "value"}).assign(axis=axis)[
                ["axis", "value"] + [c for c in table.columns if c != axis]
            ]
        )
        if axis in in_a_section:
            continue
        partners = [a for a in varying if a in ties.get(axis, ())]
        in_a_section.update(partners)
        _axis_section(page, ok, axis, table, found, partners)
    if long_tables:
        long = pd.concat(long_tables, ignore_index=True)
        long["value"] = long["value"].map(value_label)
        page.write_csv("sensitivity.csv", long)


def _heatmap(df: pd.DataFrame, a: str, b: str, note: str) -> bytes | None:
    """Mean cost and emissions over axes `a` × `b`, or None when they form no grid."""
    d = df.assign(_a=axis_key(df, a), _b=axis_key(df, b))
    if d["_a"].nunique() < 2 or d["_b"].nunique() < 2:
        return None
    # Zipped axes move together: no grid to show.
    if d[["_a", "_b"]].drop_duplicates().shape[0] <= max(d["_a"].nunique(), d["_b"].nunique()):
        return None
    piv = {
        m: _in_value_order(
            d.pivot_table(index="_a", columns="_b", values=m, aggfunc="mean"), d, a, b
        )
        for m in METRICS
        if m in d
    }
    return report_plots.png(report_plots.heatmap_figure(piv, a, b, value_label, note))


def _in_value_order(piv: pd.DataFrame, df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """A heat map's grid with the rows (values of `a`) and columns (of `b`) in the
    tables' order (`value_order`: date-times by time)."""
    rows = value_order(df, a, list(piv.index))
    return piv.reindex(index=rows, columns=value_order(df, b, list(piv.columns)))


def _heatmap_sections(
    page: _Page, ok: pd.DataFrame, varying: list[str], ties: dict[str, set[str]]
) -> None:
    # Zipped axes group the cases identically: one of them is enough for heat maps.
    distinct: list[str] = []
    for a in varying:
        if not any(d in ties.get(a, ()) for d in distinct):
            distinct.append(a)
    n_maps = 0
    for a, b in combinations(distinct, 2):
        if n_maps >= MAX_HEATMAPS:
            break
        png = _heatmap(ok, a, b, page.unfinished)
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
    cols += PARETO_WORK_COLUMNS  # a case cheap or clean for the work it leaves undone
    table = with_steps(front[[c for c in cols if c in front]].reset_index(drop=True), "")
    page.write_csv("pareto.csv", table)
    fig = report_plots.cases_pareto_figure(ok, front, page.unfinished)
    page.sections.append(
        "<h2>Pareto set: cost vs emissions</h2>" + page.image("pareto.png", report_plots.png(fig))
    )
    page.sections.append(html_table(_marked_steps(table)))


def _cases_section(page: _Page, df_all: pd.DataFrame, axes: list[str]) -> None:
    """Every finished case: all columns to report/cases.csv but the run's (`RUN_COLUMNS`,
    to report/timings.csv), a planner's columns on the page."""
    run_columns = [c for c in RUN_COLUMNS if c in df_all]
    page.write_csv("timings.csv", df_all[["case_id", *run_columns]])
    df_all = df_all.drop(columns=run_columns)
    page.write_csv("cases.csv", df_all)
    cols = ["case_id", "status", *[a for a in axes if a in df_all], *CASE_COLUMNS]
    shown = df_all[[c for c in dict.fromkeys(cols) if c in df_all]].head(MAX_HTML_ROWS)
    more = "" if len(df_all) <= MAX_HTML_ROWS else f" (first {MAX_HTML_ROWS})"
    page.sections.append(
        f"<h2>All finished cases{more}</h2><p class='note'>{len(shown.columns)} of "
        f"{len(df_all.columns)} columns; every column is in report/cases.csv.</p>"
        + html_table(shown)
    )


def _html_page(meta: dict, out: Path, page: _Page) -> str:
    title = html.escape(
        f"Sweep {meta.get('name', out.name)}" + (f" ({page.unfinished})" if page.unfinished else "")
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1200px}"
        "div.wrap{overflow-x:auto;max-width:100%}"
        "table.t{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "table.t td,table.t th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "p.note{font-size:12px;color:#444}ul.trend{font-size:13px}"
        "p.warn{background:#fff3cd;border:1px solid #e0c36c;padding:0.5em}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{title}</h1><p>spec: {html.escape(_file_name(meta, 'spec'))}<br>"
        f"base: {html.escape(_file_name(meta, 'base'))}</p>"
        + "\n".join(page.sections)
        + "</body></html>"
    )


def _ok_cases(df_all: pd.DataFrame) -> pd.DataFrame:
    """The ok cases, each with its cost tolerance (USD, `TOLERANCE` column)."""
    ok = df_all[df_all["status"] == "ok"] if len(df_all) else df_all
    return ok.assign(**{TOLERANCE: case_tolerance_usd(ok)}) if len(ok) else ok


def _file_name(meta: dict, key: str) -> str:
    """The name of the file ``sweep.json`` records under ``key``, without its folders: the
    page is the same wherever the sweep ran, and names no user's folders (sweep.json keeps
    the whole path, as provenance)."""
    value = meta.get(key)
    return PurePath(value).name if isinstance(value, str) and value else "?"


def _case_params(meta: dict, recs: list[dict]) -> list[dict]:
    """The parameters of every case of the sweep (sweep.json), else of those recorded."""
    cases = meta.get("cases") or recs
    return [c.get("params") or {} for c in cases if isinstance(c, dict)]


def _case_values(meta: dict) -> dict:
    """Case id -> each axis's value in its scenario, as sweep.json lists them (a folder
    written before they were listed: none, and the table shows each case's parameters)."""
    cases = meta.get("cases") or []
    return {
        c["case_id"]: c["values"]
        for c in cases
        if isinstance(c, dict) and isinstance(c.get("values"), dict) and "case_id" in c
    }


def sweep_report(out_dir: str | Path) -> Path:
    """Write the report files for the finished cases of a sweep; return report.html."""
    out = Path(out_dir)
    meta, recs, n_ids = _read_sweep(out)
    check_places(out)
    df_all = records_table(recs, _case_values(meta))
    n_total = n_ids if n_ids else len(df_all)
    axes = list(meta.get("axes") or sorted({k for r in recs for k in (r.get("params") or {})}))
    ties = tied_axes(_case_params(meta, recs), axes)
    ok = _ok_cases(df_all)
    page = _Page()
    if len(df_all) < n_total:
        page.unfinished = f"unfinished: {len(df_all)} of {n_total} cases done"
    _status_sections(page, df_all, n_total)
    varying = [a for a in axes if a in ok and axis_key(ok, a).nunique(dropna=False) >= 1]
    if len(ok) and any(m in ok for m in METRICS):
        page.sections.append("<h2>Sensitivity</h2>")
        _sensitivity_sections(page, ok, varying, ties)
        _heatmap_sections(page, ok, varying, ties)
        _pareto_sections(page, ok, axes)
    if len(df_all):
        _cases_section(page, df_all.assign(**{TOLERANCE: case_tolerance_usd(df_all)}), axes)
    put_in_place(out, page.files, _html_page(meta, out, page).encode())
    return out / "report.html"


def _img(name: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode()
    return f"<p><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'></p>"
