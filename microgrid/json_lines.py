"""Where each value of a JSON text starts: its line, by key path (``("items", 1, "rate")``),
so an error about a nested value names the value's line, not its key's first mention.

Python's ``json`` says nothing of positions; this walks the text once more, after
``json.loads`` has accepted it, with ``json.decoder.scanstring`` for keys and
``raw_decode`` for scalars.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import re

LineMap = dict[tuple, int]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _Walk:
    """One pass over a valid JSON text, noting each value's line in ``lines``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: LineMap = {}

    def skip(self, pos: int) -> int:
        return _SPACE.match(self.text, pos).end()

    def value(self, pos: int, path: tuple) -> int:
        """Note the value at ``pos`` (after white space) under ``path``; return its end."""
        pos = self.skip(pos)
        self.lines[path] = bisect.bisect_right(self.newlines, pos) + 1
        opener = self.text[pos]
        if opener == "{":
            return self.members(pos + 1, path)
        if opener == "[":
            return self.items(pos + 1, path)
        return _DECODER.raw_decode(self.text, pos)[1]

    def members(self, pos: int, path: tuple) -> int:
        pos = self.skip(pos)
        while self.text[pos] != "}":
            key, pos = json.decoder.scanstring(self.text, pos + 1)
            pos = self.skip(self.skip(pos) + 1)  # past the colon
            pos = self.skip(self.value(pos, (*path, key)))
            if self.text[pos] == ",":
                pos = self.skip(pos + 1)
        return pos + 1

    def items(self, pos: int, path: tuple) -> int:
        pos, i = self.skip(pos), 0
        while self.text[pos] != "]":
            pos = self.skip(self.value(pos, (*path, i)))
            i += 1
            if self.text[pos] == ",":
                pos = self.skip(pos + 1)
        return pos + 1


def json_line_map(text: str) -> LineMap:
    """Key path -> line (1-based) where that value starts, for a text ``json.loads``
    accepts; empty where the nesting is too deep to walk."""
    walk = _Walk(text)
    try:
        walk.value(0, ())
    except RecursionError:
        return {}
    return walk.lines
