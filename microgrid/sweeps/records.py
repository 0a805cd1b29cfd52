"""A sweep's output folder: case records, case result directories and the table.

Layout::

    out/sweep.json              the expanded spec (case ids and parameters)
    out/cases/<case_id>/        each case's result directory (Result.write, atomic)
    out/records/<case_id>.json  each case's record, written atomically and LAST
    out/cases.parquet           one row per record, rebuilt atomically after every case

A record is the only proof that a case finished: the result directory is installed before
the record is written, both by rename, and `cases.parquet` is derived from the records.
Killing anything at any moment leaves at most orphan temp files (`clean_temp`, at the next
start) and cases without a record, which the next run executes again. A kill between the
two renames leaves a result directory without an ok record: the next start removes it
(`remove_orphan_results`), so that a directory is there exactly for the ok records.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from microgrid.atomic import atomic_write
from microgrid.datafiles import read_json_file
from microgrid.errors import InputError
from microgrid.parquet_files import write_parquet
from microgrid.result_files import split_timings
from microgrid.resultdir import discard, is_folder_of, is_our_folder, recover, replace_dir
from microgrid.sweeps.spec import SweepSpec

RECORD_VERSION = 1


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def record_path(out: Path, case_id: str) -> Path:
    return out / "records" / f"{case_id}.json"


# ---------------------------------------------------------------------------------------
# Records


def read_record(path: Path) -> dict | None:
    """A record, or None if missing or unreadable (a torn file cannot exist, but be safe),
    or if a field the table and the resume read has the wrong type (a hand-edited record:
    its case runs again, as one that is not JSON does)."""
    try:
        rec = read_json_file(path)
    except InputError:
        return None
    return rec if isinstance(rec, dict) and _well_formed(rec) else None


#: a record's fields the table and the resume read, and the types each may hold
_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "index": (int,),
    "params": (dict,),
    "summary": (dict, type(None)),
}


def _well_formed(rec: dict) -> bool:
    """A status, and each of the other typed fields absent or of its type (an index is
    no bool)."""
    if "status" not in rec or isinstance(rec.get("index"), bool):
        return False
    return all(isinstance(rec[k], types) for k, types in _RECORD_TYPES.items() if k in rec)


def read_records(out: Path, spec: SweepSpec | None = None) -> dict[str, dict]:
    """Records in out/records (only the spec's cases if given), by case id."""
    ids = None if spec is None else {c.case_id for c in spec.cases}
    recs = {}
    for p in sorted((Path(out) / "records").glob("*.json")):
        if p.name.startswith("."):
            continue
        if ids is not None and p.stem not in ids:
            continue
        rec = read_record(p)
        if rec is not None and rec.get("case_id") == p.stem:
            recs[p.stem] = rec
    return recs


# ---------------------------------------------------------------------------------------
# Case result directories


def install_result(result: Any, cases_dir: Path, case_id: str) -> Path:
    """Write the result to a fresh staging dir (Result.write is atomic), then swap it into
    place (microgrid.resultdir: crash-safe); an older directory of the same case (from an
    earlier run) is replaced, and what a killed worker left beside it is cleaned first."""
    staging = cases_dir / f".staging-{case_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    result.write(staging)
    final = cases_dir / case_id
    recover(final)
    replace_dir(staging, final)
    return final


def remove_result(cases_dir: Path, case_id: str) -> None:
    final = cases_dir / case_id
    if final.exists():
        trash = cases_dir / f".trash-{case_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(final, trash)
        discard(trash)  # the marker last: a kill part-way leaves it for clean_temp


def remove_orphan_results(out: Path) -> list[str]:
    """Remove the result directories without an ok record of their case (a worker killed
    after installing its directory, before writing its record; the case runs again): run
    results only (their marker), never a folder a user put there. Returns the case ids
    whose directory was removed, sorted."""
    cases_dir = out / "cases"
    removed = []
    for p in sorted(cases_dir.iterdir()):
        if p.name.startswith(".") or not is_folder_of(p, "run"):
            continue  # temp folders are clean_temp's; anything else is not a result
        rec = read_record(record_path(out, p.name))
        if rec is None or rec.get("case_id") != p.name or rec["status"] != "ok":
            remove_result(cases_dir, p.name)
            removed.append(p.name)
    return removed


# `microgrid.atomic`'s temp file of `.NAME`: `.NAME.tmp-PID@HOST-XXXXXXXX.SUFFIX` (before
# the sixty-second session without `PID@HOST-`)
_ATOMIC_TEMP = re.compile(r"\..+\.tmp-(\d+@[A-Za-z0-9._-]+-)?[a-z0-9_]{8}(\.[A-Za-z0-9]+)?")


def clean_temp(out: Path) -> None:
    """Remove what killed writers left (the sweep's lock is held: none is writing now):
    atomic temp files, and staging, trash and temp folders that are ours (their marker,
    or empty: `microgrid.resultdir`). A user's file or folder is left, whatever its name."""
    for folder in (out, out / "records", out / "cases"):
        for p in folder.glob(".*"):
            if p.is_symlink():
                continue
            if p.is_dir():
                named = p.name.startswith((".staging-", ".trash-")) or ".tmp-" in p.name
                if named and is_our_folder(p):
                    discard(p)
            elif _ATOMIC_TEMP.fullmatch(p.name):
                with contextlib.suppress(OSError):
                    p.unlink()


# ---------------------------------------------------------------------------------------
# Table


def _flatten(d: dict | None, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def _row(r: dict, case_values: dict) -> dict:
    row = {
        "case_id": r["case_id"],
        "index": r.get("index"),
        "status": r["status"],
        "wall_s": r.get("wall_s"),
        "error": r.get("error"),
    }
    # each axis as the case's scenario has it (its parameters where the spec says nothing)
    for k, v in (case_values.get(r["case_id"]) or r.get("params") or {}).items():
        row[k] = _cell(v)
    # without the solver's seconds (a record written before they were kept apart has them)
    summary = r.get("summary")
    summary = split_timings(summary)[0] if isinstance(summary, dict) else summary
    for k, v in _flatten(summary).items():
        row.setdefault(k, _cell(v))
    row["host"] = r.get("host")
    row["finished_utc"] = r.get("finished_utc")
    return row


def records_table(records: list[dict], case_values: dict | None = None) -> pd.DataFrame:
    """One row per record: case id, axes, status, wall time, error, KPIs, host and
    `finished_utc` (a tz-aware UTC time; a record's unreadable time is NaT). Each axis is
    its value in the case's scenario (`case_values`: case id -> axis -> value, as the
    spec's `axis_values`): a case that does not set an axis shows the base's value, one
    whose scenario has none (its battery set to null) an empty cell."""
    case_values = case_values or {}
    rows = [_row(r, case_values) for r in sorted(records, key=lambda r: r.get("index", 0))]
    cols = ["case_id", "index", "status", "wall_s", "error"]
    df = pd.DataFrame(rows, columns=None if rows else cols)
    # Mixed-type object columns (e.g. null and numbers) are fine for pyarrow; strings and
    # numbers mixed are not: store such columns as text.
    for c in df.columns:
        if df[c].dtype == object:
            kinds = {type(v) for v in df[c] if v is not None and not pd.isna(v)}
            if len(kinds - {int, float}) and len(kinds) > 1:
                df[c] = df[c].map(lambda v: None if v is None else str(v))
    if "finished_utc" in df:  # parquet's UTC timestamp, as timeseries.parquet's times
        df["finished_utc"] = pd.to_datetime(df["finished_utc"], utc=True, errors="coerce")
    return df


def write_table(out: Path, records: list[dict], case_values: dict | None = None) -> pd.DataFrame:
    df = records_table(records, case_values)
    atomic_write(out / "cases.parquet", lambda tmp: write_parquet(df, tmp))
    return df
