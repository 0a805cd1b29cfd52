"""Sweep specs: a base scenario and the parameters that vary, expanded into validated cases.

A spec is a YAML mapping::

    name: ercot-carbon-price          # optional; default: the file's stem
    base: ../ercot-dallas-2023.yaml   # relative to the spec file
    case_id_format: "{index:03d}-{hash}"   # optional
    axes:                             # full grid (Cartesian product) ...
      objective.carbon_price_usd_per_t: [0, 50, 100, 200]
      signals: [ercot-2023]           # named shipped signal set
      zip:                            # ... of groups whose values vary together
        pv.dc_mw: [0, 80]
        pv.ac_mw: [0, 65]
    cases:                            # and/or an explicit list (crossed with the grid)
      - {battery.power_mw: 50, battery.energy_mwh: 200}

Every case is built (``Scenario.with_updates``) while loading, so a bad path or value in
case 900 is an ``InputError`` naming the axis, the value, the spec file and its line before
case 1 runs. Data files are read when a case runs (as the base scenario's are): a file an
axis names that is missing fails that case only, with an error naming the override
(``override signals.csv = 'x.csv': ...: file not found``), not a line of the base scenario.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microgrid.errors import InputError
from microgrid.scenario import Scenario, load_scenario
from microgrid.yamlio import LineMap, line_of, load_yaml

SPEC_KEYS = {"name", "description", "base", "axes", "cases", "case_id_format"}
DEFAULT_ID_FORMAT = "{index:03d}-{hash}"
# Every case is built and validated while loading (about 1 ms each), so the grid is bounded
# before it is expanded: 100,000 cases is a week of yearly runs on 16 workers.
MAX_CASES = 100_000
# A case id names a folder and a Slurm job: short, and only characters safe everywhere.
SAFE_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]{0,119}$")
# The repository's shipped data (scenarios/data/...), for named signal sets.
SHIPPED_DATA = Path(__file__).resolve().parents[2] / "scenarios" / "data"


def signal_sets() -> dict[str, Path]:
    """Named shipped signal sets: ``ercot-2023`` -> scenarios/data/grid-signals/ercot-2023.csv."""
    folder = SHIPPED_DATA / "grid-signals"
    return {p.stem: p for p in sorted(folder.glob("*.csv"))}


def expand_special(axis: str, value: Any) -> dict[str, Any]:
    """Dotted-path updates for one (axis, value); special axes map to several fields."""
    if axis == "signals":
        sets = signal_sets()
        if not isinstance(value, str) or value not in sets:
            known = ", ".join(sets) or "none shipped"
            raise ValueError(f"unknown signal set {value!r} (known: {known})")
        return {
            "signals.csv": str(sets[value]),
            "signals.price_usd_per_mwh": None,
            "signals.carbon_g_per_kwh": None,
            "signals.time_of_use": None,
        }
    return {axis: value}


def _canonical(value: Any) -> Any:
    """A JSON-stable form of a parameter value (1 and 1.0 hash alike)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        f = float(value)
        if math.isfinite(f) and f == int(f):
            return int(f)
        return f
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return str(value)


def params_hash(params: dict[str, Any], n: int = 8) -> str:
    text = json.dumps(_canonical(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def scenario_hash(scenario: Scenario) -> str:
    """Hash of the whole resolved case scenario (a changed base invalidates old results)."""
    text = scenario.model_dump_json(exclude={"base_dir"})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Case:
    index: int
    case_id: str
    params: dict[str, Any]
    scenario: Scenario = field(repr=False, compare=False)
    scenario_sha: str = ""
    # each axis's value in the case's scenario (`axis_values`): what the table shows
    values: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SweepSpec:
    name: str
    path: Path
    base_path: Path
    axes: list[str]  # the parameter names that vary (dotted paths or special axes)
    cases: list[Case]
    spec_sha256: str = ""  # of the spec file's bytes: which spec a sweep folder belongs to

    @functools.cached_property  # the table is rewritten as each case finishes
    def case_values(self) -> dict[str, dict[str, Any]]:
        """Case id -> each axis's value in that case's scenario (the table's columns)."""
        return {c.case_id: c.values for c in self.cases}

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "spec": str(self.path),
            "spec_sha256": self.spec_sha256,
            "base": str(self.base_path),
            "axes": self.axes,
            "cases": [
                {"case_id": c.case_id, "index": c.index, "params": c.params, "values": c.values}
                for c in self.cases
            ],
        }


def axis_values(scenario: Scenario, axes: list[str], params: dict) -> dict[str, Any]:
    """Each axis's value in a case's `scenario` (JSON-like): what the case set, or the
    base's where it set nothing, and None where the scenario has none (a battery set to
    null has no `battery.energy_mwh`). A special axis, which sets several fields, is its
    name in `params`, else "base"."""
    data = scenario.model_dump(mode="json")
    out: dict[str, Any] = {}
    for axis in axes:
        if axis == "signals":
            out[axis] = params.get(axis, "base")
            continue
        node: Any = data
        for key in axis.split("."):
            if isinstance(node, dict):
                node = node.get(key)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                node = None
        out[axis] = node
    return out


def _err(msg: str, path: Path, lines: LineMap, loc: tuple, field_: str | None = None):
    return InputError(msg, path=str(path), line=line_of(lines, loc), field=field_)


def _axis_values(name: str, values: Any, path: Path, lines: LineMap, loc: tuple) -> list:
    if not isinstance(values, list) or not values:
        raise _err(f"axis {name!r} needs a non-empty list of values", path, lines, loc, name)
    return values


# Axes that move together: (names, rows of values, rows of spec locs).
_AxisGroup = tuple[list[str], list[list[Any]], list[list[tuple]]]


def _grid(axes: Any, path: Path, lines: LineMap) -> tuple[list[str], list[dict], list[dict]]:
    """Axis names, the grid points (params) and for each point the spec locs of its values."""
    if axes is None:
        return [], [{}], [{}]
    if not isinstance(axes, dict):
        raise _err(
            "axes must be a mapping of dotted path -> list of values", path, lines, ("axes",)
        )
    # A plain axis is a group of one name.
    groups: list[_AxisGroup] = []
    names: list[str] = []
    for key, values in axes.items():
        if key == "zip":
            zips = values if isinstance(values, list) else [values]
            for zi, z in enumerate(zips):
                zloc = ("axes", "zip", zi) if isinstance(values, list) else ("axes", "zip")
                groups.append(_zip_group(z, zloc, path, lines))
                names.extend(groups[-1][0])
        else:
            vals = _axis_values(str(key), values, path, lines, ("axes", key))
            groups.append(
                ([str(key)], [[v] for v in vals], [[("axes", key, i)] for i in range(len(vals))])
            )
            names.append(str(key))
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _err(f"axis given twice: {', '.join(dup)}", path, lines, ("axes",))
    n_points = math.prod(len(g[1]) for g in groups)
    if n_points > MAX_CASES:
        sizes = " x ".join(str(len(g[1])) for g in groups)
        raise _err(
            f"the axes make {n_points:,} cases ({sizes}); at most {MAX_CASES:,}",
            path,
            lines,
            ("axes",),
        )
    points, point_locs = _grid_points(groups)
    return names, points, point_locs


def _zip_group(z: Any, zloc: tuple, path: Path, lines: LineMap) -> _AxisGroup:
    """Axes zipped together: one group whose rows move together."""
    if not isinstance(z, dict) or not z:
        raise _err("zip needs a mapping of dotted path -> values", path, lines, zloc)
    cols, locs = [], []
    for zname, zvals in z.items():
        cols.append(_axis_values(zname, zvals, path, lines, zloc + (zname,)))
        locs.append([zloc + (zname, i) for i in range(len(zvals))])
    if len({len(c) for c in cols}) != 1:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in zip(z, cols, strict=True))
        raise _err(f"zip axes need equally long lists ({sizes})", path, lines, zloc)
    zn = [str(k) for k in z]
    rows = [list(r) for r in zip(*cols, strict=True)]
    return zn, rows, [list(r) for r in zip(*locs, strict=True)]


def _grid_points(groups: list[_AxisGroup]) -> tuple[list[dict], list[dict]]:
    """The product of the groups: per point its params and the spec loc of each value."""
    points, point_locs = [], []
    for combo in itertools.product(*[range(len(g[1])) for g in groups]):
        p, loc = {}, {}
        for (gnames, rows, locs), i in zip(groups, combo, strict=True):
            for j, n in enumerate(gnames):
                p[n] = rows[i][j]
                loc[n] = locs[i][j]
        points.append(p)
        point_locs.append(loc)
    return points, point_locs


def _explicit(cases: Any, path: Path, lines: LineMap) -> tuple[list[str], list[dict], list[dict]]:
    if cases is None:
        return [], [{}], [{}]
    if not isinstance(cases, list) or not cases:
        raise _err("cases must be a non-empty list of mappings", path, lines, ("cases",))
    names: list[str] = []
    out, locs = [], []
    for i, c in enumerate(cases):
        if not isinstance(c, dict) or not c:
            raise _err(
                f"case {i} must be a mapping of dotted path -> value", path, lines, ("cases", i)
            )
        for k in c:
            if str(k) not in names:
                names.append(str(k))
        out.append({str(k): v for k, v in c.items()})
        locs.append({str(k): ("cases", i, k) for k in c})
    return names, out, locs


def id_format_problem(fmt: Any) -> str | None:
    """Why `fmt` is no safe case id format (None: it is one). Only `{index}`, `{hash}` and
    `{name}`, no attribute or item access, widths of at most 2 digits (a format such as
    `{index:999999999}` would build a gigabyte string)."""
    if not isinstance(fmt, str) or not 0 < len(fmt) <= 120:
        return "a text of 1-120 characters, e.g. '{index:03d}-{hash}'"
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        return f"{exc} (fields: index, hash, name)"
    for _, field_name, spec, conversion in fields:
        if field_name is None:
            continue
        if field_name not in ("index", "hash", "name"):
            return f"unknown field {{{field_name[:40]}}} (fields: index, hash, name)"
        if conversion:
            return f"conversion !{conversion} of {{{field_name}}} is not allowed"
        if spec and not re.fullmatch(r"0?\d{0,2}d?" if field_name == "index" else r"\d{0,2}", spec):
            return f"format {spec[:20]!r} of {{{field_name}}}: use e.g. index:03d"
    return None


def _describe(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def _setting(name: str, locs: dict[str, tuple]) -> str:
    """`axis NAME`, or `setting NAME` for one an entry of `cases:` gives."""
    return f"{'setting' if locs.get(name, ())[:1] == ('cases',) else 'axis'} {name}"


def build_case_scenario(
    base: Scenario,
    params: dict[str, Any],
    locs: dict[str, tuple],
    path: Path,
    lines: LineMap,
    index: int | None = None,
) -> Scenario:
    """The case's Scenario, or an InputError naming the axis, value, spec file and line."""
    case = "" if index is None else f"case {index}: "
    updates, origin = _case_updates(params, locs, path, lines, case)
    try:
        return base.with_updates(updates)
    except InputError as exc:  # with_updates names the update's dotted path as the field
        axis = origin.get(exc.field or "") or ", ".join(params)
        raise _err(
            f"{case}{_setting(axis, locs)} = {_describe(params.get(axis))}: {exc.message}",
            path,
            lines,
            locs.get(axis, ()),
            axis,
        ) from None


def _case_updates(
    params: dict[str, Any], locs: dict[str, tuple], path: Path, lines: LineMap, case: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The case's dotted-path updates and the axis each comes from; an InputError for a
    special axis's bad value or a path two axes set (which would win by axis order)."""
    updates: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for axis, value in params.items():
        try:
            u = expand_special(axis, value)
        except ValueError as exc:
            raise _err(
                f"{case}{_setting(axis, locs)} = {_describe(value)}: {exc}",
                path,
                lines,
                locs.get(axis, ()),
                axis,
            ) from None
        twice = next((k for k in u if k in updates), None)
        if twice is not None:
            raise _err(
                f"{case}axes {origin[twice]} and {axis} both set {twice}: give one of the two",
                path,
                lines,
                locs.get(axis, ()),
                axis,
            )
        updates.update(u)
        origin.update({k: axis for k in u})
    return updates, origin


def _check_keys(data: Any, path: Path, lines: LineMap) -> None:
    """The spec is a mapping of known keys with a base scenario and axes and/or cases."""
    if not isinstance(data, dict):
        raise InputError("a sweep spec must be a YAML mapping", path=str(path), line=1)
    for key in data:
        if key not in SPEC_KEYS:
            raise _err(
                f"unknown key (expected one of {', '.join(sorted(SPEC_KEYS))})",
                path,
                lines,
                (key,),
                str(key),
            )
    if "base" not in data or not isinstance(data["base"], str):
        raise _err("base: the scenario file (relative to the spec) is required", path, lines, ())
    if data.get("axes") is None and data.get("cases") is None:
        raise _err("give axes and/or cases", path, lines, ())


def _load_base(data: dict, path: Path, lines: LineMap) -> tuple[Path, Scenario]:
    """The base scenario (its path is relative to the spec)."""
    base_path = (path.resolve().parent / data["base"]).resolve()
    try:
        return base_path, load_scenario(base_path)
    except InputError as exc:
        raise InputError(
            f"base scenario {data['base']!r}: {exc}", path=str(path), line=line_of(lines, ("base",))
        ) from None


def _check_case_id(
    cid: str, i: int, fmt: str, ids: dict[str, int], path: Path, lines: LineMap
) -> None:
    """Case ids are unique and safe as file names."""
    if cid in ids:
        raise _err(
            f"case_id_format {fmt!r} gives the id {cid!r} to cases {ids[cid]} and {i} "
            "(include {hash} or {index})",
            path,
            lines,
            ("case_id_format",),
        )
    if not SAFE_CASE_ID.match(cid):
        raise _err(
            f"bad case id {cid[:60]!r}: 1-120 of A-Z a-z 0-9 . _ + = -, not starting with . or -",
            path,
            lines,
            ("case_id_format",),
        )


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec, expand it into cases and validate every case's scenario."""
    path = Path(path)
    data, lines = load_yaml(path)
    _check_keys(data, path, lines)
    base_path, base = _load_base(data, path, lines)
    fmt = data.get("case_id_format", DEFAULT_ID_FORMAT)
    problem = id_format_problem(fmt)
    if problem:
        raise _err(f"case_id_format: {problem}", path, lines, ("case_id_format",))
    name = str(data.get("name") or path.stem)

    axis_names, points, point_locs = _grid(data.get("axes"), path, lines)
    case_names, explicit, explicit_locs = _explicit(data.get("cases"), path, lines)
    if len(explicit) * len(points) > MAX_CASES:
        raise _err(
            f"cases x axes make {len(explicit) * len(points):,} cases; at most {MAX_CASES:,}",
            path,
            lines,
            ("cases",),
        )
    clash = sorted(set(axis_names) & set(case_names))
    if clash:
        raise _err(f"set both in axes and in cases: {', '.join(clash)}", path, lines, ("cases",))

    cases: list[Case] = []
    ids: dict[str, int] = {}
    for i, ((c, cl), (p, pl)) in enumerate(
        itertools.product(
            zip(explicit, explicit_locs, strict=True), zip(points, point_locs, strict=True)
        )
    ):
        params = {**c, **p}
        scen = build_case_scenario(base, params, {**cl, **pl}, path, lines, i)
        cid = fmt.format(index=i, hash=params_hash(params), name=name)
        _check_case_id(cid, i, fmt, ids, path, lines)
        ids[cid] = i
        cases.append(Case(i, cid, params, scen, scenario_hash(scen)))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    axes = case_names + axis_names
    cases = [dataclasses.replace(c, values=axis_values(c.scenario, axes, c.params)) for c in cases]
    return SweepSpec(name, path.resolve(), base_path, axes, cases, sha)
