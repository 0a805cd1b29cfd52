"""Numbers and labels for the report: units read from a key's suffix (the project's naming
convention, docs/architecture.md), thousands separators, HTML-escaped text."""

from __future__ import annotations

import html
import math

# key suffix -> (unit shown, decimals); longest suffixes first so `_mwh` wins over `_h`
UNITS: tuple[tuple[str, str, int], ...] = (
    ("_usd_per_mwh", "USD/MWh", 2),
    ("_usd_per_kw_month", "USD/kW-month", 2),
    ("_g_per_kwh", "g/kWh", 1),
    ("_usd", "USD", 0),
    ("_mwh", "MWh", 1),
    ("_mw", "MW", 1),
    ("_pct", "%", 1),
    ("_pu", "pu", 4),
    ("_steps", "steps", 0),
    ("_t", "t", 1),
    ("_h", "h", 1),
    ("_s", "s", 2),
)


def unit_of(key: str) -> tuple[str, int | None]:
    """The unit a key names by its suffix and the decimals shown ("", None: none named)."""
    for suffix, unit, decimals in UNITS:
        if key.endswith(suffix):
            return unit, decimals
    return "", None


def label_of(key: str) -> str:
    """`cost_saving_pct` -> "cost saving (%)"; a dotted key keeps its last part's unit."""
    unit, _ = unit_of(key)
    stem = key
    for suffix, u, _ in UNITS:
        if u == unit and key.endswith(suffix):
            stem = key[: -len(suffix)]
            break
    words = stem.replace(".", ": ").replace("_", " ").replace("-", " ").strip()
    return f"{words} ({unit})" if unit else words


def number(value: float, decimals: int | None) -> str:
    """`value` with thousands separators and `decimals` places (None: up to 4 digits)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and decimals in (None, 0):
        return f"{value:,d}"
    if not math.isfinite(value):
        return str(value)
    if decimals is None:
        return f"{value:,.4g}"
    text = f"{value:,.{decimals}f}"
    # "-0.0" from a tiny negative reads as a sign that is not there
    return text.lstrip("-") if text.strip("-0.,") == "" else text


def signed(value: float, decimals: int) -> str:
    """`number` with its sign always shown ("+930,854", "-1.5", "0"): a difference."""
    text = number(value, decimals)
    return text if text.startswith("-") or text.strip("0.,") == "" else "+" + text


def value_text(key: str, value: object) -> str:
    """A summary value as shown in a table cell (HTML-escaped)."""
    if isinstance(value, (int, float)):
        return number(value, unit_of(key)[1])
    if value is None:
        return "&mdash;"
    if isinstance(value, list):
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    return html.escape(str(value))


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def chart_text(text: object) -> str:
    """Text for a plotly label or hover, shown as written: plotly reads `<a href>`, `<i>`,
    `<br>` in its text as markup (a job id `<a href=...>` was a live link in the chart);
    its entities `&lt;`, `&gt;`, `&amp;` show the characters themselves."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
