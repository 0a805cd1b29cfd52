"""Finished Pareto solves kept on disk while a front is computed, so that an interrupted
`microgrid pareto` (Ctrl-C, kill, a batch job's time limit) keeps them and a re-run with
the same `--out` solves only the missing ones.

The journal is the folder `.NAME.pareto-points` beside `--out` (NAME: the last part of
`--out`), outside the result folder's temp build folder, which the next write removes as
a dead writer's leftover. It holds one `<key>.json` per finished solve, written
atomically (microgrid.atomic), and the result folders' marker (microgrid.resultdir) of
kind `pareto-journal`. The key
is a SHA-256 of everything the solve depends on: the problem handed to the solver (the
scenario's loaded data, with this point's carbon price and budget) and the solver
options, so a changed scenario, data file or option gives other keys and a stale point
is never reused; the key holds the journal's format version too, so a record of an older
format (which lacks a field this one keeps: version 3 added the work a schedule leaves
undone; 4 a checksum of the result) is never reused either: `older_note` says how many the
journal holds, and they are solved again. A point stopped by the solver's time limit is a
finished point too.

A record keeps the SHA-256 of its result (`result_sha256`). Our writer leaves a record
whole or absent, so one that is there but cut short, edited (a wrong type, a wrong
figure: a flipped bit), or another point's was damaged outside microgrid: `get` raises
InputError naming it and its folder (one line, exit code 2). It is neither reused, which
would put a wrong point on the front, nor solved again without a word, which would hide
the damage.

A folder of that name without the marker, not empty, is refused (nothing is written
into it). Once the front is written, `remove` deletes the journal's own files only, then
the folder if nothing else is in it; a front that fails removes the folder only if it
holds no point, and then the empty folders `open` created above it (`abandon`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import re
import uuid
from pathlib import Path

import numpy as np

import optimize
from microgrid.atomic import atomic_write_json, json_text
from microgrid.errors import InputError
from microgrid.resultdir import MARKER_NAME, ensure_marker, is_folder_of

JOURNAL_KIND = "pareto-journal"  # the kind in the journal folder's marker
FORMAT_NAME = "microgrid-pareto-journal"  # of the records and the keys
# 2: a record keeps its schedule's on/off intervals; 3: and the work it leaves undone
# (microgrid.pareto_work); 4: and its result's checksum. The version is in every key, so
# an older record is never reused: `older_records` counts them, for the line that says
# they are solved again.
FORMAT_VERSION = 4
# what each format added, for the line on an older journal's records
_ADDED_IN = {3: "the work each schedule leaves undone", 4: "a checksum of each point"}
_MAX_RECORD_BYTES = 1 << 22
# solver options that change what is printed, not what is solved
_OUTPUT_ONLY_OPTIONS = frozenset({"log_to_console", "solve_progress"})
# `<key>.json`, and what a killed `atomic_write` leaves: `.<key>.json.tmp-XXXX.json`
_OWN_FILE = re.compile(r"[0-9a-f]{64}\.json|\.[0-9a-f]{64}\.json\.tmp-[A-Za-z0-9_]+\.json")
_RECORD = re.compile(r"[0-9a-f]{64}\.json")  # a finished record (not a killed write's temp)


def journal_path(out: Path) -> Path:
    """The journal folder of the result folder `out` (absolute, see check_target)."""
    return out.parent / f".{out.name}.pareto-points"


def point_key(problem: optimize.Problem, options: optimize.SolverOptions) -> str:
    """SHA-256 (hex) of a solve's inputs: every field of `problem` (arrays by dtype,
    shape and bytes) and of `options` except those that only change the log."""
    h = hashlib.sha256(f"{FORMAT_NAME}/{FORMAT_VERSION}\n".encode())
    _feed(h, problem)
    for f in dataclasses.fields(options):
        if f.name not in _OUTPUT_ONLY_OPTIONS:
            _feed(h, (f.name, getattr(options, f.name)))
    return h.hexdigest()


def _feed(h, x) -> None:
    """Hash `x` canonically; every value is tagged with its type, so 1 and 1.0 and "1"
    differ and a sequence's end is unambiguous."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        h.update(f"<{type(x).__qualname__}:".encode())
        for f in dataclasses.fields(x):
            _feed(h, (f.name, getattr(x, f.name)))
        h.update(b">")
    elif isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        h.update(f"<nd {a.dtype.str} {a.shape}:".encode() + a.tobytes() + b">")
    elif isinstance(x, dict):
        _feed(h, sorted(((str(k), v) for k, v in x.items()), key=lambda kv: kv[0]))
    elif isinstance(x, (list, tuple)):
        h.update(f"<seq {len(x)}:".encode())
        for v in x:
            _feed(h, v)
        h.update(b">")
    elif x is None or isinstance(x, (bool, int, float, str, np.generic)):
        h.update(f"<{type(x).__name__} {x!r}>".encode())
    else:
        h.update(b"<obj:" + _opaque_bytes(x) + b">")


def _opaque_bytes(x) -> bytes:
    """A type we do not know: its pickle, or (not picklable) a random value, so that
    such a solve is never matched rather than matched wrongly."""
    try:
        return pickle.dumps(x, protocol=4)
    except Exception:
        return uuid.uuid4().bytes


class PointJournal:
    """The finished solves of one `--out`: `get(key)`, `put(key, label, result)`."""

    def __init__(self, folder: Path, made_parents: tuple[Path, ...] = ()):
        self.folder = folder
        self.made_parents = made_parents  # folders above it that `open` created, deepest first

    @classmethod
    def open(cls, out: Path) -> PointJournal:
        """The journal beside `out`, created (with its marker) if missing; InputError if
        the path is taken by something that is not ours."""
        folder = journal_path(Path(out))
        why = _taken(folder)
        if why:
            raise InputError(
                f"the Pareto journal folder {why}; nothing was written", path=str(folder)
            )
        made_parents = tuple(p for p in folder.parents if not p.exists())
        try:
            folder.mkdir(parents=True, exist_ok=True)
            ensure_marker(folder, JOURNAL_KIND)
        except OSError as exc:
            raise InputError(
                f"cannot write the Pareto journal: {exc.strerror or exc}", path=str(folder)
            ) from None
        return cls(folder, made_parents)

    def get(self, key: str) -> dict | None:
        """The stored result of the solve `key`, or None if none is stored (or a symbolic
        link is in its place: not ours, replaced by `put`). InputError naming the record
        if it is there but damaged (the module's docstring)."""
        path = self.folder / f"{key}.json"
        if path.is_symlink() or not path.exists():
            return None
        try:
            with open(path, "rb") as fh:
                doc = json.loads(fh.read(_MAX_RECORD_BYTES))
        except OSError as exc:
            raise _damaged(path, f"unreadable: {exc.strerror or exc}") from None
        except ValueError:
            raise _damaged(path, "cut short or not JSON") from None
        why = _record_problem(doc, key)
        if why is not None:
            raise _damaged(path, why)
        return doc["result"]

    def older_records(self) -> dict[int, int]:
        """How many records of each older format version the journal holds (their keys
        hold that version, so `get` never finds them: their solves are made again)."""
        counts: dict[int, int] = {}
        with contextlib.suppress(OSError):
            for e in os.scandir(self.folder):
                if not _RECORD.fullmatch(e.name) or not e.is_file(follow_symlinks=False):
                    continue
                version = _record_version(Path(e.path))
                if version is not None and version < FORMAT_VERSION:
                    counts[version] = counts.get(version, 0) + 1
        return counts

    def older_note(self) -> str | None:
        """The line for a journal with records of an older format (None if it has none),
        e.g. "the Pareto journal .p.pareto-points holds 3 points stored by an older
        microgrid (journal format 3; this one writes 4, with a checksum of each point):
        they are solved again"."""
        counts = self.older_records()
        if not counts:
            return None
        n = sum(counts.values())
        versions = ", ".join(str(v) for v in sorted(counts))
        added = [what for v, what in _ADDED_IN.items() if v > min(counts)]
        return (
            f"the Pareto journal {self.folder} holds {n} point{'s' * (n > 1)} stored by an "
            f"older microgrid (journal format {versions}; this one writes {FORMAT_VERSION}, "
            f"with {' and '.join(added)}): they are solved again"
        )

    def put(self, key: str, label: str, result: dict) -> None:
        """Store a finished solve (atomically: a kill leaves the old file or the new)."""
        stored = json.loads(json_text(result))  # as `get` reads it (NaN as null)
        doc = {**_record_format(), "key": key, "label": label, "result": stored}
        doc["result_sha256"] = result_digest(stored)
        try:
            atomic_write_json(self.folder / f"{key}.json", doc)
        except OSError as exc:
            raise InputError(
                f"cannot write the Pareto journal: {exc.strerror or exc}", path=str(self.folder)
            ) from None

    def remove(self) -> None:
        """Delete the journal's own files, then the folder as in `remove_if_empty`.
        Best effort: the front is written already, so this never fails the command."""
        with contextlib.suppress(OSError):
            for e in list(os.scandir(self.folder)):
                if _OWN_FILE.fullmatch(e.name) and e.is_file(follow_symlinks=False):
                    os.unlink(e.path)
        self.remove_if_empty()

    def remove_if_empty(self) -> None:
        """If only the marker is left, delete it and the folder (anything else in it keeps
        the folder, still marked as ours); best effort, never fails the command."""
        with contextlib.suppress(OSError):
            if os.listdir(self.folder) == [MARKER_NAME]:
                os.unlink(self.folder / MARKER_NAME)
                os.rmdir(self.folder)

    def abandon(self) -> None:
        """A front that failed: `remove_if_empty`, then the folders `open` created above
        the journal if they are empty (the default `out/`): its finished points stay for a
        re-run, nothing else of it does. Best effort."""
        self.remove_if_empty()
        with contextlib.suppress(OSError):
            for parent in self.made_parents:
                os.rmdir(parent)  # fails, and stops, at the first folder not empty


def result_digest(result: dict) -> str:
    """SHA-256 (hex) of a stored result's canonical JSON (keys sorted, no spaces)."""
    text = json.dumps(result, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _record_problem(doc, key: str) -> str | None:
    """What is wrong with the record read from `<key>.json` (None: nothing)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return "not a record of the Pareto journal"
    if doc.get("format_version") != FORMAT_VERSION or doc.get("key") != key:
        return "another point's record, not this file name's"  # both are in the file name
    result = doc.get("result")
    if not isinstance(result, dict) or doc.get("result_sha256") != result_digest(result):
        return "its result does not match its checksum: cut short or edited"
    return None


def _damaged(path: Path, why: str) -> InputError:
    """The error of a damaged record: the folder as the line's file and the record's name
    apart, so that a long path shortened in the line keeps the name whole."""
    return InputError(
        f"the Pareto journal record {path.name} is damaged ({why}): it is not reused; "
        "delete that file and run again to solve its point again (the journal's other "
        "points are kept)",
        path=str(path.parent),
    )


def _record_version(path: Path) -> int | None:
    """The format version of our record at `path` (None: unreadable, or not ours)."""
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read(_MAX_RECORD_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return None
    version = doc.get("format_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _record_format() -> dict:
    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}


def _taken(folder: Path) -> str | None:
    """Why `folder` cannot be our journal, or None."""
    if folder.is_symlink():
        return "is a symbolic link"
    if not folder.exists():
        return None
    if not folder.is_dir():
        return "exists and is not a folder"
    if is_folder_of(folder, JOURNAL_KIND) or not any(folder.iterdir()):
        return None
    return f"exists, is not empty and was not written by microgrid (no {MARKER_NAME})"
