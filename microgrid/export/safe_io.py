"""Writing export files safely: sanitised names, no writes outside the output folder,
atomic replacement (temp file in the same folder, then `os.replace`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from microgrid.atomic import atomic_write_text as _atomic_write_text
from microgrid.errors import InputError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def safe_stem(job_id: str, max_len: int = 40) -> str:
    """A file-name stem from a user-given id: `[A-Za-z0-9._-]` only, plus a short hash of the
    original id so that two ids that sanitise alike still get different names."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", job_id).strip("._-")[:max_len].strip("._-")
    return f"{s or 'job'}-{short_hash(job_id)}"


def refuse_control_chars(value: str, *, what: str, field: str | None = None) -> str:
    """Ids and names end up in #SBATCH lines, comments and labels: control characters
    (newlines above all) are refused rather than escaped."""
    if _CONTROL.search(value):
        raise InputError(
            f"{what} {value!r} contains control characters (newline, tab, ...); "
            "rename it to export",
            field=field,
        )
    return value


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """`microgrid.atomic.atomic_write_text`, refusing to replace a symbolic link (an export
    must never write through a link out of `--out`)."""
    path = Path(path)
    if path.is_symlink():
        raise InputError("refusing to replace a symbolic link", path=str(path))
    _atomic_write_text(path, text, mode)


class OutputDir:
    """A folder the exporter may write plain files into, and nowhere else."""

    def __init__(self, out: str | Path) -> None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError("--out must be a folder", path=str(out))
        out.mkdir(parents=True, exist_ok=True)
        self.root = out.resolve()

    def path(self, name: str) -> Path:
        """The path of a file directly in the folder; refuses odd names and symlinks."""
        if not _SAFE_NAME.match(name) or name in (".", ".."):
            raise InputError(f"unsafe output file name {name!r}")
        p = self.root / name
        if p.is_symlink():
            raise InputError("refusing to write through a symbolic link", path=str(p))
        if p.resolve().parent != self.root:
            raise InputError("refusing to write outside the output folder", path=str(p))
        return p

    def write_all(self, files: Mapping[str, str], modes: Mapping[str, int] | None = None) -> None:
        """Write all files; each is atomic. Names are checked before anything is written."""
        modes = modes or {}
        paths = {name: self.path(name) for name in files}
        for name, text in files.items():
            atomic_write_text(paths[name], text, modes.get(name, 0o644))
