"""Errors raised by the weather package.

Every input problem is a :class:`WeatherDataError` (a ``ValueError``) that names the file,
the 1-based file line and the column, so a user can open the file at the right place.
"""

from __future__ import annotations

import os


class WeatherDataError(ValueError):
    """Bad or insufficient weather/resource input.

    Parameters
    ----------
    message : str
        What is wrong, e.g. ``"not a number: 'abc'"``.
    path : str or os.PathLike, optional
        File the problem is in (None for in-memory data).
    line : int, optional
        1-based line of the file (the header is line 1), or None.
    field : str, optional
        Column or field name, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"column {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UnknownTurbineError(WeatherDataError):
    """A turbine type that is not in windpowerlib's turbine library.

    ``close_matches`` holds the library names most similar to the requested one.
    """

    def __init__(self, turbine_type: str, close_matches: list[str]) -> None:
        hint = f"; close matches: {', '.join(close_matches)}" if close_matches else ""
        super().__init__(
            f"unknown turbine type {turbine_type!r} (not in windpowerlib's turbine library){hint}",
            field="turbine_type",
        )
        self.turbine_type = turbine_type
        self.close_matches = close_matches
