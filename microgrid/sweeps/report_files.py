"""A sweep report's files, put in place together: `out/report.html` and `out/report/*`.

Every file is written to a temp file beside its place first; only once all are written
are they renamed into place, so a full disk or a read-only folder leaves the earlier
report as it was (and the error is one line, exit 2). `report/.microgrid-report.json`
lists the files the report wrote: the next report removes those it no longer writes (an
axis dropped), and nothing else. The report never writes through a symbolic link, and
never replaces a `report.html` it did not write.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from microgrid.atomic import atomic_write_text, staged_write
from microgrid.errors import InputError
from microgrid.resultdir import refuse_links

MANIFEST = ".microgrid-report.json"
# how every report.html this module writes begins (`report._html_page`)
HTML_START = b"<!doctype html><html><head><meta charset='utf-8'><title>Sweep "


def check_places(out: Path) -> None:
    """Refuse a report that would write through a link or over a user's report.html."""
    refuse_links(out, ("report", "report.html"))
    html = out / "report.html"
    if html.exists() and not _ours(html):
        raise InputError(
            "exists and is not a sweep report microgrid wrote: not replaced, nothing was written",
            path=str(html),
        )
    if (out / "report").exists() and not (out / "report").is_dir():
        raise InputError("exists and is not a folder; nothing was written", path=str(out))


def _ours(html: Path) -> bool:
    try:
        with open(html, "rb") as fh:
            return fh.read(len(HTML_START)) == HTML_START
    except OSError:
        return False


def put_in_place(out: Path, files: dict[str, bytes], html: bytes) -> None:
    """Write `files` (names in `out/report`) and `report.html`, all or none; then remove
    the files the last report wrote that this one does not."""
    folder = out / "report"
    made = not folder.exists()
    staged: list[tuple[Path, Path]] = []
    try:
        folder.mkdir(exist_ok=True)
        for name, data in files.items():
            staged.append((_stage(folder / name, data), folder / name))
        staged.append((_stage(out / "report.html", html), out / "report.html"))
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise InputError(
            f"cannot write the report: {exc.strerror or exc}; the earlier report is as it was",
            path=str(out),
        ) from None
    for tmp, path in staged:
        os.replace(tmp, path)
    _remove_stale(folder, set(files))


def _stage(path: Path, data: bytes) -> Path:
    return staged_write(path, lambda tmp: tmp.write_bytes(data))


def _remove_stale(folder: Path, names: set[str]) -> None:
    """Remove what the last report wrote and this one did not; list this one's files."""
    for name in sorted(_written_before(folder) - names):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.unlink()
    with contextlib.suppress(OSError):  # the files are in place: the list is a convenience
        atomic_write_text(folder / MANIFEST, json.dumps(sorted(names), indent=0) + "\n")


def _written_before(folder: Path) -> set[str]:
    try:
        names = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()  # a report from before the list: nothing is removed
    if not isinstance(names, list):
        return set()
    # plain names in the folder only: never a path elsewhere
    return {n for n in names if isinstance(n, str) and n and "/" not in n and n[0] != "."}
