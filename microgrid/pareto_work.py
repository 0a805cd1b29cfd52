"""What each point of a cost-carbon front leaves undone.

With `objective.unfinished_work_penalty_usd_per_h` set, training work may go unfinished at
a price, and the low-emission points of a front can get there by leaving work undone (a
job not run emits nothing): the audit's front fell from 4,423 t to 1,224 t as its cost rose
to 13 M USD, its point at 2,290 t with 4.4 M USD of penalty and 89 h of one job undone,
while with hard deadlines the trade-off was 3.7 %. Every point therefore carries
`WORK_KEYS`: the penalty in its cost (`unfinished_penalty_usd`), the hours of work left
(`unfinished_h`), the deadlines met of all (`deadlines_met`, `deadlines_total`) and the
jobs left short (`unfinished_jobs`, e.g. "pretrain-frontier 21.06 of 110.00 h"), which
`pareto.csv`, the CLI's lines and `pareto.png` show.
"""

from __future__ import annotations

import math

import optimize
from microgrid.results import UNFINISHED_TOL_H

WORK_KEYS = (
    "unfinished_penalty_usd",
    "unfinished_h",
    "deadlines_met",
    "deadlines_total",
    "unfinished_jobs",
)
# hours of work below which a job counts as done (as summary.json's deadlines_met counts)
DONE_H = UNFINISHED_TOL_H
PENALTY_FIELD = "objective.unfinished_work_penalty_usd_per_h"


def work_figures(d: optimize.Dispatch) -> dict:
    """A solved point's `WORK_KEYS`."""
    short = {jid: j for jid, j in d.jobs.items() if j.get("unfinished_h", 0.0) > DONE_H}
    return {
        "unfinished_penalty_usd": float(d.costs.get("unfinished_penalty_usd", 0.0)),
        "unfinished_h": float(sum(j["unfinished_h"] for j in short.values())),
        "deadlines_met": len(d.jobs) - len(short),
        "deadlines_total": len(d.jobs),
        "unfinished_jobs": "; ".join(_job_text(jid, j) for jid, j in short.items()),
    }


def no_work_figures() -> dict:
    """The `WORK_KEYS` of a point with no schedule (infeasible)."""
    return {k: (None if k == "unfinished_jobs" else math.nan) for k in WORK_KEYS}


def _job_text(job_id: str, j: dict) -> str:
    """ "pretrain-frontier 21.06 of 110.00 h": the work a job's plan does of what it needs."""
    done = float(j.get("work_done_h", 0.0))
    return f"{job_id} {done:,.2f} of {done + float(j['unfinished_h']):,.2f} h"


def leaves_work_undone(row: dict) -> bool:
    """Whether the point's schedule leaves work unfinished (False where not known: a row
    without the figures, or an infeasible point)."""
    h = row.get("unfinished_h")
    return h is not None and not math.isnan(float(h)) and float(h) > DONE_H


def work_clause(row: dict) -> str:
    """ "deadlines 5/6, 88.9 h undone": the point's work, for its table and progress lines
    ("" where the figures are missing: a table of rows from before they were kept)."""
    met, total = row.get("deadlines_met"), row.get("deadlines_total")
    if met is None or total is None or math.isnan(float(met)) or not total:
        return ""
    text = f"deadlines {int(met)}/{int(total)}"
    if leaves_work_undone(row):
        text += f", {row['unfinished_h']:,.1f} h undone"
    return text


def undone_note(row: dict) -> str | None:
    """The note of a point that leaves work undone (None for any other), e.g. "e2 leaves
    88.9 h of work undone (pretrain-frontier 21.06 of 110.00 h; 5 of 6 deadlines met): its
    cost holds 4,447,000 USD of unfinished-work penalty, and its emissions are lower
    partly for the work not done"."""
    if not leaves_work_undone(row):
        return None
    return (
        f"{row['point']} leaves {row['unfinished_h']:,.1f} h of work undone "
        f"({row['unfinished_jobs']}; {int(row['deadlines_met'])} of "
        f"{int(row['deadlines_total'])} deadlines met): its cost holds "
        f"{row['unfinished_penalty_usd']:,.0f} USD of unfinished-work penalty "
        f"({PENALTY_FIELD}), and its emissions are lower partly for the work not done; "
        f"without that penalty every deadline is a hard limit"
    )
