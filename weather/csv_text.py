"""Reading a CSV file's text: every cell as a string with each row's file line, and a
parse error or a byte that is not UTF-8 named at its line. Shared by the site CSV reader
(``weather.site_csv``) and the product's signal and job files (``microgrid``)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import re

import numpy as np
import pandas as pd

from weather.errors import WeatherDataError

#: Bytes read at a time to find the line of a byte that is not UTF-8.
_DECODE_CHUNK_BYTES = 1 << 20

# pandas' words for a row with too many cells ("... in line 42, saw 5")
_RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv_cells(path: str | os.PathLike, **options) -> pd.DataFrame:
    """Every cell of a CSV as text (a UTF-8 byte-order mark skipped), blank and
    whitespace-only lines left out, and ``attrs["file_lines"]``: each row's 1-based line
    in the file (pandas skips blank lines itself and would shift every later line number;
    a quoted cell over several lines still counts as one). pandas' errors pass through:
    ``csv_parse_problem`` words its parser's."""
    raw = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skip_blank_lines=False,
        **options,
    )
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    lines = np.flatnonzero(~blank) + 2  # line 1 is the header
    kept = raw[~blank].reset_index(drop=True)
    kept.attrs["file_lines"] = lines
    kept.attrs["repeated_columns"] = _repeated_header_cells(path)
    return kept


def _repeated_header_cells(path: str | os.PathLike) -> list[str]:
    """Names the header line gives more than once (pandas renames the second ``x`` to
    ``x.1``, so a reader would quietly take the first)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    names = [cell.strip() for cell in header]
    return sorted({name for name in names if names.count(name) > 1})


def csv_parse_problem(exc: BaseException) -> tuple[int | None, str]:
    """pandas' parser error as (file line or None, one short line of text)."""
    ragged = _RAGGED_ROW.search(str(exc))
    if ragged is not None:
        want, line, saw = ragged.groups()
        return int(line), f"{saw} cells where the header has {want}"
    return None, f"cannot read CSV: {short_error(exc)}".replace("\n", " ").strip()


def read_text_csv(path: str | os.PathLike) -> pd.DataFrame:
    """``read_csv_cells``; any reason the file cannot be read is a WeatherDataError."""
    try:
        return read_csv_cells(path, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        # pandas decodes in chunks: its error knows neither the line nor the file offset
        byte, reason, line = _first_non_utf8(path) or (exc.object[exc.start], exc.reason, None)
        raise WeatherDataError(
            f"not UTF-8 text (byte 0x{byte:02x}: {reason})", path=path, line=line
        ) from None
    except pd.errors.EmptyDataError:
        raise WeatherDataError("file is empty", path=path) from None
    except (OSError, ValueError) as exc:  # ValueError: pandas' ParserError and kin
        line, text = csv_parse_problem(exc)
        raise WeatherDataError(text, path=path, line=line) from None


def _first_non_utf8(path: str | os.PathLike) -> tuple[int, str, int] | None:
    """The first byte of the file that is not UTF-8, why, and its 1-based line; None if
    there is none, or the file cannot be read again. Read in chunks (a sequence split
    between two is carried over)."""
    line, carry = 1, b""
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        while chunk := fh.read(_DECODE_CHUNK_BYTES):
            data = carry + chunk
            try:
                _, used = codecs.utf_8_decode(data, "strict", False)
            except UnicodeDecodeError as exc:
                return data[exc.start], exc.reason, line + data.count(b"\n", 0, exc.start)
            line += data.count(b"\n", 0, used)
            carry = data[used:]
        if carry:  # a sequence cut short by the end of the file
            return carry[0], "unexpected end of data", line
    return None


def short_error(exc: BaseException, limit: int = 200) -> str:
    """An exception as bounded text: parsers may quote a whole binary buffer."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
