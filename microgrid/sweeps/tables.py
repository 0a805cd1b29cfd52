"""HTML tables of the sweep report: headers with units, numbers with thousands separators.

A column's format comes from its name: `*_usd` whole dollars, `*_t`, `*_mw`, `*_mwh` and
`*_s` one decimal, shares and gaps as percentages; statistics suffixes (`_mean`, `_min`,
`_max`) keep the format of the figure they summarise. Other columns (the sweep's axes)
print integers without decimals and other numbers to four significant digits. Cells that
are already text (a "≈" mark, an error message) pass through, escaped.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# header text of the columns the report shows (the rest keep their name)
LABELS = {
    "case_id": "case",
    "status": "status",
    "error": "error",
    "n_cases": "cases",
    "total_cost_usd": "total cost (USD)",
    "emissions_t": "emissions (t CO2e)",
    "renewable_share": "renewable share",
    "peak_import_mw": "peak import (MW)",
    "curtailed_mwh": "curtailed (MWh)",
    "unfinished_penalty_usd": "unfinished-work penalty (USD)",
    "jobs.deadlines_met": "deadlines met",
    "jobs.n_jobs": "jobs",
    "solver.status": "solver",
    "solver.mip_gap": "MIP gap",
    "cost_tolerance_usd": "± solver tolerance (USD)",
    "n_pairs": "like-for-like pairs",
    "unpaired_cases": "cases without a partner",
    "cost_step_usd": "Δ cost vs row before (USD)",
    "emissions_step_t": "Δ emissions vs row before (t CO2e)",
    "wall_s": "wall time (s)",
}
_STAT = re.compile(r"_(mean|min|max)$")


def header(col: str) -> str:
    """`total_cost_usd_mean` -> `total cost (USD) mean`; unknown names stay as they are."""
    m = _STAT.search(col)
    base = col[: m.start()] if m else col
    return LABELS.get(base, base) + (f" {m.group(1)}" if m else "")


def _generic(v: float) -> str:
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def format_cell(col: str, v) -> str:
    """One cell as text: see the module docstring for the rules."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    base = _STAT.sub("", col)
    if base == "renewable_share":
        return f"{100 * v:.1f} %"
    if base == "solver.mip_gap":
        return f"{100 * v:.3f} %"
    if base.endswith("_usd"):
        return f"{v:,.0f}"
    if base in LABELS and base.endswith(("_t", "_mw", "_mwh", "_s")):
        return f"{v:,.1f}"
    if isinstance(v, (int, np.integer)):
        return f"{v:,d}"
    return _generic(float(v))


def signed(v: float, decimals: int) -> str:
    """`+1,234` / `-12.5`; a value that rounds to zero is `0` (never `-0` or `+0`)."""
    if round(float(v), decimals) == 0:
        return "0"
    return f"{v:+,.{decimals}f}"


def html_table(df: pd.DataFrame) -> str:
    """`df` as an HTML table (class `t`), every cell formatted by `format_cell`, headers
    by `header`; wrapped in a scrolling div so a wide table never widens the page."""
    shown = pd.DataFrame(
        {header(c): [format_cell(c, v) for v in df[c]] for c in df.columns}, index=df.index
    )
    return "<div class='wrap'>" + shown.to_html(index=False, border=0, classes="t") + "</div>"
