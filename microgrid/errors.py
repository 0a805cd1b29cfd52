"""Input errors the CLI reports as one line and exit code 2."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

# One error line stays readable whatever the input: a word (a path, a value) longer than
# _MAX_WORD keeps its first and last _KEEP characters, the whole line at most _MAX_LINE.
_KEEP = 60
_MAX_WORD = 2 * _KEEP + 3
_MAX_LINE = 600


def _escape(ch: str) -> str:
    """A control, format (bidi), separator or surrogate character as a visible escape, so
    echoed text can neither break the line nor reorder it on a terminal."""
    if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029":
        return ch.encode("unicode_escape").decode("ascii")
    return ch


def first_control_char(value: str, allow: str = "") -> str | None:
    """The first control (Unicode Cc) or format character (Cf: bidi overrides such as
    U+202E, isolates U+2066-2069, zero-width characters) of ``value`` not in ``allow``: what
    names, ids and commands may not hold, since it hides what they say."""
    for ch in value:
        if ch not in allow and unicodedata.category(ch) in ("Cc", "Cf"):
            return ch
    return None


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]}...{text[-keep:]}"


def one_line(text: str, max_chars: int = _MAX_LINE) -> str:
    """`text` as one bounded line: control characters escaped, long words and the whole
    line (past `max_chars`) shortened in the middle (`first...last`)."""
    words = [_shorten(w, _MAX_WORD) for w in text.split(" ")]
    text = _shorten(" ".join(words), 4 * max_chars)  # bounds the per-character work
    text = "".join(_escape(ch) for ch in text)
    words = [_shorten(w, _MAX_WORD) for w in text.split(" ")]  # escapes lengthen words
    return _shorten(" ".join(words), max_chars)


def whole_clauses(clauses: Sequence[str], max_chars: int, sep: str = "; ") -> tuple[str, int]:
    """As many of `clauses` as fit whole in `max_chars` when joined by `sep` (the first
    always), and how many were left out: a long generated message is cut between its
    clauses, never in the middle of one, and says how much it left out."""
    kept: list[str] = []
    used = 0
    for clause in clauses:
        extra = len(clause) + (len(sep) if kept else 0)
        if kept and used + extra > max_chars:
            break
        kept.append(clause)
        used += extra
    return sep.join(kept), len(clauses) - len(kept)


class InputError(ValueError):
    """Bad user input: names the file, the line (1-based) and the field where known.

    ``max_chars`` bounds its line (``one_line``); a message that bounds its own length by
    whole clauses (``whole_clauses``: the infeasibility diagnosis) may raise it, so that the
    line is not shortened again in the middle of a clause (``allow_long``)."""

    max_chars: int = _MAX_LINE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.message}" if prefix else str(self.message)
        return one_line(text, self.max_chars)


def allow_long(err: InputError, max_chars: int) -> InputError:
    """`err`, its line shortened only past `max_chars` characters (see ``InputError``)."""
    err.max_chars = max(err.max_chars, max_chars)
    return err


class InputErrors(InputError):
    """Several input errors found at once (`validate` lists them all, one per line).

    As a plain InputError it reads as the first error plus a count, so commands that report
    one line (`run`) stay one line.
    """

    def __init__(self, errors: list[InputError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        first = errors[0]
        super().__init__(first.message, path=first.path, line=first.line, field=first.field)
        self.errors = list(errors)

    def __str__(self) -> str:
        more = len(self.errors) - 1
        tail = f" (and {more} more: run `microgrid validate`)" if more else ""
        return str(self.errors[0]) + tail
