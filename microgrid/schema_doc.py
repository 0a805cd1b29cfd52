"""Generate docs/scenario-reference.md from the scenario schema, so the two never drift.

python -m microgrid.schema_doc > docs/scenario-reference.md
"""

from __future__ import annotations

import inspect
import types
import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from microgrid.datafiles import MAX_DATA_FILE_BYTES, MIB
from microgrid.jobs import CSV_COLUMNS, MAX_JOBS
from microgrid.scenario import Scenario
from microgrid.scenario_checks import MAX_PERIOD_DAYS
from microgrid.scenario_demand import Job
from microgrid.scenario_fields import MAX_TEXT_CHARS, YEARS
from microgrid.yamlio import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"list[{_type_name(args[0])}]"  # a YAML list, held as a tuple (frozen)
    if origin in (list, tuple, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _yaml_like(value: object) -> object:
    """A list field's default as its YAML list (the field holds a tuple: frozen)."""
    if isinstance(value, tuple) and (not value or isinstance(value[0], tuple)):
        return list(value)
    return value


def _constraints(field) -> str:
    parts = []
    for meta in field.metadata:
        for key, sym in (
            ("ge", ">="),
            ("gt", ">"),
            ("le", "<="),
            ("lt", "<"),
            ("min_length", "length >="),
            ("max_length", "length <="),
        ):
            value = getattr(meta, key, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return ", ".join(parts)


def _models(annotation: object) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _default(field) -> str:
    if _extra(field, "required"):  # required unless another field is given
        return _extra(field, "required")
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if isinstance(field.default, BaseModel):
        return "(defaults)"
    return f"`{_yaml_like(field.default)!r}`"


def _extra(field, key: str) -> str:
    """`key` of the field's documentation extras (`unit`, `empty`), or ""."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return str(extra.get(key, ""))


def _section(model: type[BaseModel], prefix: str, out: list[str], seen: set) -> None:
    doc = inspect.cleandoc(model.__doc__ or "")
    out += [f"## `{prefix or 'top level'}` ({model.__name__})", ""]
    if doc and not doc.startswith("Usage docs"):
        out += [doc, ""]
    # a model whose fields say what they mean gets a column for it (the jobs: their CSV)
    meaning = any(f.description for f in model.model_fields.values())
    out += ["| field | type | default | constraints |" + (" meaning |" if meaning else "")]
    out += ["|---|---|---|---|" + ("---|" if meaning else "")]
    nested = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        row = f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
        row += f"{_constraints(field)} |" + (f" {_meaning(field)} |" if meaning else "")
        out.append(row)
        for sub in _models(field.annotation):
            if sub not in seen:
                seen.add(sub)
                nested.append((sub, f"{prefix}.{name}" if prefix else name))
    out.append("")
    if model is Job:
        out += _jobs_csv_section()
    for sub, path in nested:
        _section(sub, path, out, seen)


def _meaning(field) -> str:
    """The field's description, its unit, and what null means where it says."""
    unit, empty = _extra(field, "unit"), _extra(field, "empty")
    text = (field.description or "") + (f" ({unit})" if unit else "")
    return text + (f"; null: {empty}" if empty and field.default is None else "")


def _jobs_csv_section() -> list[str]:
    """The jobs CSV's columns (`microgrid.jobs.CSV_COLUMNS`): unit, empty cell, meaning."""
    out = [
        "## The jobs CSV (`jobs.csv`)",
        "",
        "One row per job under a header row that names its columns, in any order. The",
        "columns are the job fields above but `throughput_curve` (a list of points is no",
        "cell: give such a job in `jobs.items`, or every job's curve in",
        "`datacenter.throughput_curve`). A column of any other name is refused (`unknown",
        "column`), even one whose cells are all empty, and so is a required column that is",
        "missing; a column without a name (a trailing comma) may stay while its cells are",
        "empty. A job's deadline is `deadline_h` or `deadline_at`: the header may hold both",
        "columns (and `release_h` and `release_at`), each row fills the cells of one form.",
        "An empty cell takes the field's default (below). Numbers are plain decimals",
        "(`1.2`, no units or thousands separators); a cell holding a comma (a `command`) is",
        'quoted, `"srun a.py --x 1,2"`. UTF-8, with or without a byte-order mark; at most',
        f"{MAX_JOBS:,} rows. An example: `scenarios/data/jobs/reference-week.csv`.",
        "",
        "| column | unit | required / empty cell | meaning |",
        "|---|---|---|---|",
    ]
    for name in CSV_COLUMNS:
        field = Job.model_fields[name]
        empty = _extra(field, "empty") or _default(field)
        unit = _extra(field, "unit") or "-"
        out.append(f"| `{name}` | {unit} | {empty} | {field.description} |")
    return out + [""]


def reference() -> str:
    out = [
        "# Scenario reference",
        "",
        "Generated from the schema (`microgrid/scenario.py` and its sections,",
        "`microgrid/scenario_*.py`) by `python -m microgrid.schema_doc`; a test keeps it",
        "current. Units are in the field names (`_mw`, `_mwh`, `_usd_per_mwh`,",
        "`_g_per_kwh`, `_frac` = fraction 0..1, `_pct` = percent, `_h` = hours, `_deg`,",
        "`_c` = deg C). Unknown keys are errors; relative paths resolve against the scenario",
        "file's folder; times without an offset are local wall time at `site.timezone`.",
        "",
        "Numbers must be finite (no `.inf` or `.nan`) and within the bounds below; text",
        f"and lists have the length caps below (other text: {MAX_TEXT_CHARS} characters);",
        "names, ids and commands refuse control and Unicode format characters (NUL, ESC,",
        "bidi overrides such as U+202E); generator names use letters, digits, `_` and `-`.",
        f"Times lie in the years {YEARS[0]}-{YEARS[1]}; a local time in a DST gap (does not",
        "exist) or overlap (exists twice) is refused: give a UTC offset (but a job's",
        "`release_at` and `deadline_at`, placed as its hours would be: see `jobs.items`).",
        "`period` starts and ends on its step grid, counted from UTC hours as the data are",
        f"(UTC+05:45 zones start at :45 local), and spans at most {MAX_PERIOD_DAYS} days.",
        "Checks across fields (microgrid/scenario_checks.py): `amplitude_mw` <= `mean_mw`,",
        "`mean_mw + amplitude_mw` <= `it_capacity_mw`, `pue.max` >= `pue.base`, `vm_min_pu`",
        "< `vm_max_pu`, unique generator names and job ids, a job's `f_min` at or above its",
        "throughput curve's first point (unless the curve is the single point (1, 1)), no",
        "`wind` with clear-sky weather, every event window overlapping the period and",
        "`swings.hour` inside it, and (when the data are read) every once-job window inside",
        "the period. `true`/`false` is not a number. `microgrid validate` lists every",
        "error, one line each.",
        "",
        f"Files are bounded before they are parsed: a scenario or sweep YAML at most "
        f"{MAX_YAML_BYTES // MIB} MiB,",
        f"{MAX_DEPTH} levels deep and {MAX_NODES:,} values with its aliases expanded; a data "
        f"file (signals, weather,",
        f"jobs CSV) at most {MAX_DATA_FILE_BYTES // MIB} MiB of UTF-8 text (a UTF-8 BOM is "
        "accepted); at most",
        f"{MAX_JOBS:,} jobs, weekly repeats included. The value cap holds every list below",
        "at its length cap at once, each item with all its fields written (such a file",
        "loads in about 15 s); a long job list can also be a CSV file (`jobs.csv`).",
        "",
    ]
    _section(Scenario, "", out, {Scenario})
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(reference(), end="")
