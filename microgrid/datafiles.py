"""Checks on a user-named file before a parser sees it: it exists, is a regular file, is
not empty, not binary and not larger than a cap; and strict UTF-8 reading with the place
of the first bad byte. The caps bound the time and memory any file can cost."""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import json.decoder
import json.scanner
from pathlib import Path
from typing import Any, Protocol

from microgrid.errors import InputError

MIB = 1024 * 1024
# A data CSV (signals, weather, jobs) of 8 MiB is about 265,000 signal rows: two and a half
# years at 5 minutes. A whole `microgrid validate` took 2.6-3.0 s and 280 MB on such a file,
# and 3.4-5.1 s and 300 MB on 400,000 rows (12.5 MB, 2.2 s of it in the reader): 8 MiB
# keeps every input within 5 s and 500 MB. The shipped yearly hourly files are 0.4 MB.
MAX_DATA_FILE_BYTES = 8 * MIB
_CHUNK_BYTES = 1 << 20
# Binary files (a spreadsheet, an image) are recognised by a NUL byte near the start.
_SNIFF_BYTES = 64 * 1024


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / MIB:.1f} MiB" if n_bytes >= MIB else f"{n_bytes} bytes"


def file_problem(path: Path, max_bytes: int) -> str | None:
    """Why `path` cannot be read as a text data file of at most `max_bytes` bytes, or None.

    Covers a missing file, a directory, a device or pipe, an over-long name, no permission,
    an empty file, a file over the cap and a binary file (a NUL byte in its first 64 KiB).
    """
    try:
        st = path.stat()
        if not path.is_file():
            return "is a directory, not a file" if path.is_dir() else "is not a regular file"
        if st.st_size > max_bytes:
            return (
                f"file is {_size_text(st.st_size)}, larger than the {_size_text(max_bytes)} limit"
            )
        if st.st_size == 0:
            return "file is empty"
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        return _os_reason(exc)
    return _encoding_problem(head)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes; `missing` or `unreadable` when it cannot be read as a
    data file (a device or pipe, a file over the data-file cap: reading it whole hung the
    sweep on /dev/zero), so that the case fails when it runs, naming why, and runs again
    once the file is right."""
    if not path.exists():
        return "missing"
    if file_problem(path, MAX_DATA_FILE_BYTES) is not None:
        return "unreadable"
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK_BYTES):
                h.update(chunk)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "unreadable"
    return h.hexdigest()


def _encoding_problem(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return "not UTF-8 text (UTF-16/32 byte-order mark): save it as UTF-8"
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"binary or UTF-16 file (NUL byte at byte offset {nul}), not UTF-8 text"
    return None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return f"cannot read file: {exc.strerror or type(exc).__name__}"


def decode_utf8(data: bytes) -> str:
    """`data` as text; a UTF-8 byte-order mark is dropped. ValueError says where the first
    byte that is not UTF-8 is (byte offset and 1-based line)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"(line {line}); save it as UTF-8"
        ) from None


def not_utf8_error(path: Path, max_bytes: int = MAX_DATA_FILE_BYTES) -> InputError:
    """The error for a file a parser found not to be UTF-8: its first bad byte, why, and
    its 1-based line (a parser reading in chunks knows neither the offset nor the line)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes)
        data.decode("utf-8-sig")
    except OSError as exc:
        return InputError(_os_reason(exc), path=str(path))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}: {exc.reason}); save it as UTF-8",
            path=str(path),
            line=line,
        )
    return InputError("not UTF-8 text; save it as UTF-8", path=str(path))


def read_text_file(path: Path, max_bytes: int) -> str:
    """The UTF-8 text of `path`; InputError naming the file for every reason it cannot be."""
    problem = file_problem(path, max_bytes)
    if problem is not None:
        raise InputError(problem, path=str(path))
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since the check
    except OSError as exc:
        raise InputError(_os_reason(exc), path=str(path)) from None
    if len(data) > max_bytes:
        raise InputError(f"file is larger than the {_size_text(max_bytes)} limit", path=str(path))
    try:
        return decode_utf8(data)
    except ValueError as exc:
        raise InputError(str(exc), path=str(path)) from None


class _NamesFields(Protocol):
    """A scenario (or anything) that turns a message and a dotted field into an InputError
    naming its own file and the field's line."""

    def error(self, message: str, field: str | None = None) -> InputError: ...


class _DuplicateKey(ValueError):
    """A JSON object names `key` twice; `pos` is the offset of its second occurrence."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.pos: int | None = None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object's pairs as a dict; _DuplicateKey when a key repeats (json's default
    keeps the last value silently, as a YAML loader must not either)."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _second_key_pos(decoder: json.JSONDecoder, s: str, pos: int, key: str) -> int | None:
    """The offset of `key`'s second occurrence among the keys of the object whose text
    starts after its `{` at `pos` (the text up to its end is valid JSON)."""
    ws = json.decoder.WHITESPACE.match
    seen = False
    while True:
        pos = ws(s, pos).end()
        if s[pos] != '"':
            return None
        name, after = json.decoder.scanstring(s, pos + 1)
        if name == key and seen:
            return pos
        seen = seen or name == key
        _, pos = decoder.scan_once(s, ws(s, ws(s, after).end() + 1).end())
        pos = ws(s, pos).end()
        if s[pos] != ",":
            return None
        pos += 1


def _duplicate_key_line(text: str) -> int | None:
    """The line of the first duplicate key of a JSON text: a second, pure-Python parse
    whose objects note where they start (the C parser does not say)."""
    decoder = json.JSONDecoder(object_pairs_hook=_unique_pairs)

    def parse_object(s_and_end, *args):
        try:
            return json.decoder.JSONObject(s_and_end, *args)
        except _DuplicateKey as exc:
            if exc.pos is None:  # the innermost object holds the duplicate
                exc.pos = _second_key_pos(decoder, s_and_end[0], s_and_end[1], exc.key)
            raise

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        decoder.decode(text)
    except _DuplicateKey as exc:
        return text.count("\n", 0, exc.pos) + 1 if exc.pos is not None else None
    except RecursionError:  # the Python parser nests deeper than the C one
        return None
    return None


def read_json_file(path: Path, max_bytes: int = MAX_DATA_FILE_BYTES) -> Any:
    """A JSON file of bounded size (read_text_file: UTF-8, not binary, at most
    `max_bytes`); bad or too deeply nested JSON, or an object naming a key twice, is an
    InputError naming the file and line (and the key)."""
    text = read_text_file(path, max_bytes)
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", path=str(path)) from None
    except _DuplicateKey as exc:
        raise InputError(
            f"duplicate key {exc.key!r}: a JSON object names each key once",
            path=str(path),
            line=_duplicate_key_line(text),
            field=exc.key,
        ) from None


def require_data_file(
    owner: _NamesFields, path: Path, field: str, max_bytes: int = MAX_DATA_FILE_BYTES
) -> None:
    """Refuse a data file named by `owner`'s `field` that cannot be read as text (see
    `file_problem`); the message names the scenario file, the field's line and `path`."""
    problem = file_problem(path, max_bytes)
    if problem is not None:
        raise owner.error(f"{path}: {problem}", field)


def read_small_csv(
    owner: _NamesFields, path: Path, field: str, columns: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of each data row of a small CSV named by `owner`'s `field`:
    blank lines and lines starting with `#` are skipped, the header must be exactly
    `columns`, each row has that many values (stripped); InputError naming the file and
    line otherwise."""
    require_data_file(owner, path, field)
    text = read_text_file(path, MAX_DATA_FILE_BYTES)
    numbered = [
        (i, line)
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise InputError("no header row", path=str(path))
    rows = list(csv.reader(line for _, line in numbered))
    header = tuple(c.strip() for c in rows[0])
    if header != columns:
        raise InputError(
            f"header must be {','.join(columns)}, got {','.join(header)}",
            path=str(path),
            line=numbered[0][0],
        )
    out = []
    for (line_no, _), row in zip(numbered[1:], rows[1:], strict=True):
        if len(row) != len(columns):
            raise InputError(f"expected {len(columns)} values", path=str(path), line=line_no)
        out.append((line_no, dict(zip(columns, (c.strip() for c in row), strict=True))))
    return out
