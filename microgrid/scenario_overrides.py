"""`Scenario.with_updates`'s overrides: setting a field by dotted path in the scenario's
data, the overrides a scenario carries, and errors that name the override (its path and
value) rather than a line of the scenario file, which never held that value: while
validating, and later, when a data file an override names is read (`Scenario.error`)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from microgrid.errors import InputError, InputErrors, one_line
from microgrid.scenario_demand import WINDOW_HOUR_FIELDS, WINDOW_TIME_FIELDS


class _FileErrors(Protocol):
    """What `blame` needs of a scenario: an error at a field's line of its file."""

    def error(self, message: str, field: str | None = None) -> InputError: ...


class OverrideErrors(InputErrors):
    """Every bad override of one ``with_updates`` call (``errors``); reads as the first
    plus a count."""

    def __str__(self) -> str:
        more = len(self.errors) - 1
        return str(self.errors[0]) + (f" (and {more} more in .errors)" if more else "")


class OverrideError(InputError):
    """A bad ``Scenario.with_updates`` override: ``field`` is its dotted path, ``value``
    what was given, ``message`` what is wrong. It names no file or line: the value came
    from the caller, not from the scenario file."""

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message, field=field)
        self.value = value

    def __str__(self) -> str:
        text = f"override {self.field} = {self.value!r}: {self.message}"
        return one_line(text, self.max_chars)


def set_dotted(data: dict, dotted: object, value: object) -> OverrideError | None:
    """Set `a.b.c` in the scenario's nested dicts (lists and tuples by integer index), or
    return why the path names no field there (nothing set)."""
    if not isinstance(dotted, str) or not dotted:
        return OverrideError(
            "a field is a dotted path such as 'battery.power_mw'", field=repr(dotted), value=value
        )
    keys = dotted.split(".")
    problem = _path_problem(data, keys)
    if problem:
        message = _job_form_problem(data, keys) or (
            f"no such field in the scenario: {problem}{_csv_jobs_hint(data, keys)}"
        )
        return OverrideError(message, field=dotted, value=value)
    _put(data, keys, value)
    return None


def _csv_jobs_hint(data: dict, keys: list[str]) -> str:
    """Where `jobs.items.N` fails because the jobs come from a CSV file: how to change one."""
    jobs = data.get("jobs") or {}
    if keys[:2] != ["jobs", "items"] or not jobs.get("csv"):
        return ""
    return (
        f"; this scenario's jobs come from jobs.csv ({jobs['csv']}): override jobs.csv with "
        "another file, or set jobs.csv to None and jobs.items to the whole list"
    )


# A job's window is in hours or as date-times (`microgrid.scenario_demand.Job`); a job's
# dumped data holds the fields of its own form alone


def _job_form_problem(data: dict, keys: list[str]) -> str | None:
    """Why `jobs.items.N.<field>` is absent when the field is of the other window form than
    job N's (a field the job has, but not beside its own form's), or None."""
    if len(keys) != 4 or keys[:2] != ["jobs", "items"] or not keys[2].isdigit():
        return None
    items = (data.get("jobs") or {}).get("items") or ()
    item = items[int(keys[2])] if int(keys[2]) < len(items) else None
    if not isinstance(item, dict):
        return None
    if "deadline_at" in item and keys[3] in WINDOW_HOUR_FIELDS:
        own, fields, other = "as date-times", WINDOW_TIME_FIELDS, "in hours"
    elif "deadline_h" in item and keys[3] in WINDOW_TIME_FIELDS:
        own, fields, other = "in hours", WINDOW_HOUR_FIELDS, "as date-times"
    else:
        return None
    return (
        f"job {item.get('id')!r} gives its window {own} ({', '.join(fields)}): override "
        f"those, or set jobs.items.{keys[2]} whole to give it {other}"
    )


def _path_problem(data: dict, keys: list[str]) -> str | None:
    """Why `keys` lead to no field or item of `data`, or None when they do."""
    node: object = data
    for depth, key in enumerate(keys):
        problem = _no_child(node, key, ".".join(keys[:depth]))
        if problem:
            return problem
        node = node[int(key)] if isinstance(node, (list, tuple)) else node[key]
    return None


def _put(node: dict | list | tuple, keys: list[str], value: object) -> dict | list | tuple:
    """`node` with the item at `keys` (a valid path) replaced by `value`: dicts and lists
    change in place; a tuple (the dumped data holds pairs such as a throughput curve's
    points as tuples, which cannot change) is rebuilt and put in its parent."""
    key = int(keys[0]) if isinstance(node, (list, tuple)) else keys[0]
    item = value if len(keys) == 1 else _put(node[key], keys[1:], value)
    if isinstance(node, tuple):
        return (*node[:key], item, *node[key + 1 :])
    node[key] = item
    return node


def _no_child(node: object, key: str, parent: str) -> str | None:
    """Why `key` is no field or item of `node` (the value at dotted path `parent`), or
    None when it is one."""
    if node is None:
        return f"the section {parent} is absent from it (set {parent} whole instead)"
    if isinstance(node, (list, tuple)):
        if key.isdigit() and int(key) < len(node):
            return None
        return f"{parent} is a list of {len(node)} items, {key!r} is none of its indexes"
    if not isinstance(node, dict):
        return f"{parent} is a value ({type(node).__name__}), not a section with fields"
    if key in node:
        return None
    names = [str(k) for k in node]
    nearest = difflib.get_close_matches(key, names, n=3)
    hint = f"did you mean {', '.join(nearest)}?" if nearest else f"its fields: {', '.join(names)}"
    return f"{parent or 'the top level'} has no {key!r} ({hint})"


def nested_overrides(updates: Mapping[object, object]) -> list[OverrideError]:
    """An error for each override inside another one of the same call (``battery`` and
    ``battery.power_mw``): which value wins would depend on the mapping's order."""
    paths = [p for p in updates if isinstance(p, str) and p]
    return [
        OverrideError(
            f"it lies inside the override {outer}, which sets it too: give one of the two",
            field=inner,
            value=updates[inner],
        )
        for inner in paths
        for outer in paths
        if inner.startswith(outer + ".")
    ]


def merged_overrides(
    earlier: Mapping[str, object], updates: Mapping[str, object]
) -> dict[str, object]:
    """The overrides a scenario carries after `updates`: the earlier ones, less those that
    `updates` set again or replace with a whole section, then `updates`."""
    kept = {
        path: value
        for path, value in earlier.items()
        if not any(path == new or path.startswith(new + ".") for new in updates)
    }
    return {**kept, **updates}


def override_holding(field: str, overrides: Mapping[str, object]) -> str | None:
    """The most specific override that set `field` or a section holding it, or None: the
    value at `field` came from the scenario file."""
    holding = [p for p in overrides if p == field or field.startswith(p + ".")]
    return max(holding, key=len, default=None)


def override_error(message: str, field: str, override: str, value: object) -> OverrideError:
    """The error at `field` blamed on `override` (naming `field` too when it differs)."""
    where = f" (field {field})" if field != override else ""
    return OverrideError(message + where, field=override, value=value)


def override_of(field: str, updates: Mapping[str, object]) -> str | None:
    """The override that set `field`, a field inside it or the section holding it (the
    most specific one), or None: the value at `field` came from the scenario file."""
    related = [
        dotted
        for dotted in updates
        if not field
        or dotted == field
        or dotted.startswith(field + ".")
        or field.startswith(dotted + ".")
    ]
    return max(related, key=len, default=None)


def blame(
    scenario: _FileErrors, updates: Mapping[str, object], field: str, message: str
) -> InputError:
    """The error at `field` after `updates`: the override's when one set it (or a field
    near it), else the scenario file's line of `field`."""
    override = override_of(field, updates)
    if override is None:
        after = f" (after the overrides {', '.join(updates)})" if updates else ""
        return scenario.error(message + after, field)
    return override_error(message, field, override, updates[override])


def _named_files(value: object) -> list[str]:
    """The texts in an override's value (a path, or a section holding paths)."""
    if isinstance(value, (str, os.PathLike)):
        return [os.fspath(value)]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _named_files(v)]
    return []


def blame_file(
    err: InputError, overrides: Mapping[str, object], resolve: Callable[[Path], Path]
) -> InputError:
    """An error in a data file (`err.path`) an override named: the override's, with the
    file's own error after it (its line and column); other errors as they are."""
    if isinstance(err, OverrideError) or not err.path or not overrides:
        return err
    where = os.path.abspath(err.path)
    for dotted, value in overrides.items():
        named = {os.path.abspath(resolve(Path(t))) for t in _named_files(value)}
        if where in named:
            return OverrideError(str(err), field=dotted, value=value)
    return err
