"""Writing export files safely: sanitised names, no writes outside the output folder,
atomic replacement (of a file: temp file, then `os.replace`; of a folder: see
microgrid.resultdir)."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from microgrid.atomic import atomic_write_text as _atomic_write_text
from microgrid.errors import InputError, first_control_char
from microgrid.resultdir import absolute_target, check_target, is_folder_of, write_dir

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def safe_stem(job_id: str, max_len: int = 40) -> str:
    """A file-name stem from a user-given id: `[A-Za-z0-9._-]` only, plus a short hash of the
    original id so that two ids that sanitise alike still get different names."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", job_id).strip("._-")[:max_len].strip("._-")
    return f"{s or 'job'}-{short_hash(job_id)}"


def refuse_control_chars(
    value: str, *, what: str, field: str | None = None, allow: str = "", path: str | None = None
) -> str:
    """Ids and names end up in #SBATCH lines, comments and labels: control characters
    (newlines above all) are refused rather than escaped. Format characters are refused
    too: a bidi override makes a script read differently on screen than it runs."""
    ch = first_control_char(value, allow)
    if ch is not None:
        shown = repr(value[:60]) + ("..." if len(value) > 60 else "")
        name = unicodedata.name(ch, "control")
        raise InputError(
            f"{what} {shown} contains control characters (U+{ord(ch):04X} {name}); "
            "rename it to export",
            path=path,
            field=field,
        )
    return value


def check_job_text(job_id: str, command: str, *, path: str | None = None, field: str = "") -> None:
    """Refuse a job id or command that could not be exported safely (``field``: the
    job's dotted path, e.g. ``"3"`` in jobs_spec.json).

    An id starting with ``-`` is refused, not rewritten: a command such as
    ``train {job_id}`` would read it as an option, and no quoting prevents that (``'-rf'``
    is still ``-rf`` to the program); prefixing it (``./-rf``, ``_-rf``) would hand the
    program another id than the one the user chose. Commands may hold newlines and tabs
    (multi-line scripts, written escaped) but no other control or format characters.
    """
    prefix = f"{field}." if field else ""
    refuse_control_chars(job_id, what="job id", field=f"{prefix}id", path=path)
    if job_id.startswith("-"):
        raise InputError(
            f"job id {job_id[:60]!r} starts with '-': a command would read it as an option; "
            "rename the job",
            path=path,
            field=f"{prefix}id",
        )
    refuse_control_chars(
        command,
        what=f"command of job {job_id[:60]!r}",
        field=f"{prefix}command",
        allow="\n\t",
        path=path,
    )


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """`microgrid.atomic.atomic_write_text`, refusing to replace a symbolic link (an export
    must never write through a link out of `--out`)."""
    path = Path(path)
    if path.is_symlink():
        raise InputError("refusing to replace a symbolic link", path=str(path))
    _atomic_write_text(path, text, mode)


class OutputDir:
    """A folder of exported files: replaced as a whole (microgrid.resultdir: built beside
    it, swapped in crash-safely), and only if it is new, empty or an earlier export.

    Opening one refuses a file or a foreign folder at `out`; the rules that only matter
    for a replacement (never the current or home folder, nor one holding `inputs`) are
    checked by `write_all`, so `submit` may add its record to an export in the cwd."""

    def __init__(self, out: str | Path, inputs: Iterable[str | Path] = ()) -> None:
        self.inputs = list(inputs)
        self.root = absolute_target(out)
        if self.root.is_symlink() or (self.root.exists() and not self.root.is_dir()):
            raise InputError("--out must be a folder (not a file or a link)", path=str(out))
        foreign = not is_folder_of(self.root, "export")
        if foreign and self.root.is_dir() and any(self.root.iterdir()):
            check_target(self.root, "export", self.inputs)  # refuses it, saying why

    @staticmethod
    def check_name(name: str) -> None:
        """Refuse a file name that is not a plain `[A-Za-z0-9._-]` name."""
        if not _SAFE_NAME.match(name) or name in (".", ".."):
            raise InputError(f"unsafe output file name {name!r}")

    def path(self, name: str) -> Path:
        """The path of a file directly in the existing folder (to read it, or to add a file
        such as submitted_jobs.tsv); refuses odd names and symlinks."""
        self.check_name(name)
        p = self.root / name
        if p.is_symlink():
            raise InputError("refusing to write through a symbolic link", path=str(p))
        if p.resolve().parent != self.root.resolve():
            raise InputError("refusing to write outside the output folder", path=str(p))
        return p

    def write_all(self, files: Mapping[str, str], modes: Mapping[str, int] | None = None) -> None:
        """Replace the folder by one holding exactly `files` (names checked first), so no
        file of an earlier export is left behind, and a symbolic link in it is removed,
        never written through."""
        modes = modes or {}
        for name in files:
            self.check_name(name)

        def fill(tmp: Path) -> None:
            for name, text in files.items():
                (tmp / name).write_bytes(text.encode("utf-8"))
                os.chmod(tmp / name, modes.get(name, 0o644))

        write_dir(self.root, "export", fill, self.inputs)
