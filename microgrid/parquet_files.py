"""Parquet files read and written through Python file objects.

pyarrow encodes a path given as text to UTF-8 strictly, so a path that Python holds
surrogate-escaped (a non-ASCII folder under a non-UTF-8 file-system encoding, e.g.
`LC_ALL=C PYTHONUTF8=0`) failed after the whole solve, where Python's `open` takes it.
"""

from __future__ import annotations

import io
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """`frame` (without its index) as parquet at `path` (the same bytes as pandas'
    `to_parquet(path)`). Built in memory: pandas hands pyarrow the name of a file object
    it is given, which would bring the path back."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    with open(path, "wb") as fh:
        fh.write(buf.getbuffer())


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """`pd.read_parquet(path, columns=columns)` through a file object."""
    with open(path, "rb") as fh:
        return pd.read_parquet(fh, columns=columns)


def read_parquet_table(path: str | os.PathLike, columns: list[str]) -> tuple[list[str], pa.Table]:
    """The file's column names and a table of `columns` (those it has of them)."""
    with open(path, "rb") as fh:
        names = pq.read_schema(fh).names
        fh.seek(0)
        table = pq.read_table(fh, columns=[c for c in columns if c in names])
    return names, table
