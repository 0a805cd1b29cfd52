"""A sweep's statistics, from its cases table: per axis value the cost and carbon
(mean/min/max/n), the step between neighbouring values compared like with like, and the
cost-emissions Pareto set. The report (`microgrid.sweeps.report`) lays them out.

An axis's step compares like with like: the cases that differ in that axis alone (the same
values on every other axis but its zip partners), their differences averaged; a step no
such pair exists for is said to be missing, not computed from cases that differ in other
axes too. So a sweep still running (or with failed cases) gives steps over the pairs done,
and a finished full grid the difference of the means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microgrid.sweeps.axis_order import label_zones, time_order
from microgrid.sweeps.tolerance import COST, EMISSIONS, TOLERANCE, Step, step_between, steps

METRICS = (COST, EMISSIONS)
_UNSET = "\0unset"  # a case that does not set an axis (explicit cases)


def is_numeric(values: pd.Series) -> bool:
    return all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values.dropna()
    )


def value_label(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "null"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def axis_key(df: pd.DataFrame, axis: str) -> pd.Series:
    """The axis column as a sortable group key (numbers stay numbers, the rest strings)."""
    col = df[axis]
    return col if is_numeric(col) else col.map(value_label)


def sensitivity(
    df: pd.DataFrame, axis: str, match: list[str]
) -> tuple[pd.DataFrame, list[PairedStep]]:
    """Per value of `axis` (ok cases): the number of cases, mean/min/max of cost and
    emissions, the mean cost tolerance (USD), and the step from the row before over the
    cases that differ only in `axis` (the same values on the `match` axes); and those
    steps (see `paired_steps` and `with_paired_steps`)."""
    table = value_stats(df, axis)
    found = paired_steps(df, axis, table[axis], match)
    return with_paired_steps(table, found), found


def value_order(df: pd.DataFrame, axis: str, values: list) -> list:
    """`values` of `axis` (its `axis_key`s, sorted) in the report's order: numbers by
    value, date-times by time (`axis_order.time_order`), other text as text."""
    if is_numeric(df[axis]):
        return values
    return time_order(values, label_zones(df, axis_key(df, axis))) or values


def value_stats(df: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Per value of `axis`, in `value_order`: the number of cases, mean/min/max of cost
    and emissions and the mean cost tolerance (USD), over the cases of that value."""
    key = axis_key(df, axis)
    g = df.assign(_v=key).groupby("_v", sort=True, dropna=False)
    parts = {m: g[m].agg(["mean", "min", "max"]) for m in METRICS if m in df}
    if TOLERANCE in df:
        parts[TOLERANCE] = g[TOLERANCE].agg(["mean"])
    table = pd.concat(parts, axis=1)
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "n_cases", g.size())
    table = table.loc[value_order(df, axis, list(table.index))]
    table.index.name = axis
    return table.reset_index()


@dataclass(frozen=True)
class PairedStep:
    """From one value of an axis to the next, like for like: over the pairs of ok cases
    that differ in that axis alone."""

    step: Step | None  # the mean step of the pairs; None: no pair
    n_pairs: int  # combinations of the other axes done at both values
    unpaired: int  # ok cases at either value without a partner at the other

    @property
    def joined(self) -> bool:
        """Both values hold the same combinations of the other axes: the difference of
        their means is the step (a plot may join them)."""
        return self.step is not None and self.unpaired == 0


def _value_id(v) -> str:
    """An axis value as a comparable string (1 and 1.0 alike, as the case hash)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return json.dumps(v, sort_keys=True, default=str)


def tied_axes(params: list[dict], axes: list[str]) -> dict[str, set[str]]:
    """Per axis, the other axes that move with it over the sweep's cases (`params`, one
    dict per case): each value of one goes with one value of the other, both ways (a zip
    group, or explicit cases that set both). Pairs for a step do not match on these."""
    ids = {a: [_value_id(p[a]) if a in p else _UNSET for p in params] for a in axes}

    def determines(a: str, b: str) -> bool:
        seen: dict[str, str] = {}
        return all(seen.setdefault(x, y) == y for x, y in zip(ids[a], ids[b], strict=True))

    return {a: {b for b in axes if b != a and determines(a, b) and determines(b, a)} for a in axes}


def _match_key(df: pd.DataFrame, match: list[str]) -> pd.Series:
    """Per case, its values on the `match` axes as one string (a case without a column:
    null)."""
    if not match:
        return pd.Series("", df.index)
    cols = [df[m].map(value_label) if m in df else pd.Series("null", df.index) for m in match]
    return pd.Series([json.dumps(list(t)) for t in zip(*cols, strict=True)], df.index)


def paired_steps(
    df: pd.DataFrame, axis: str, values: pd.Series, match: list[str]
) -> list[PairedStep]:
    """The steps between consecutive `values` of `axis` (a `value_stats` column), each
    over the pairs of ok cases with the same values on every `match` axis (several cases
    of one value and combination count as their mean); none without a cost column."""
    if COST not in df:
        return []
    row = pd.Index(values).get_indexer(axis_key(df, axis))
    d = df.assign(_row=row, _key=_match_key(df, match))
    cols = [c for c in (COST, TOLERANCE, EMISSIONS) if c in d]
    per = d.groupby(["_row", "_key"])[cols].mean()
    counts = d.groupby(["_row", "_key"]).size()
    return [_paired_step(per, counts, i - 1, i) for i in range(1, len(values))]


def _paired_step(per: pd.DataFrame, counts: pd.Series, row_a: int, row_b: int) -> PairedStep:
    """The step from table row a to row b over the combinations both hold (`per`: mean
    cost, tolerance and emissions by (row, combination); `counts`: its cases)."""
    a, b = per.xs(row_a, level="_row"), per.xs(row_b, level="_row")
    common = a.index.intersection(b.index)
    n_a, n_b = counts.xs(row_a, level="_row"), counts.xs(row_b, level="_row")
    unpaired = int(n_a.drop(common).sum() + n_b.drop(common).sum())
    if common.empty:
        return PairedStep(None, 0, unpaired)
    a, b = a.loc[common], b.loc[common]

    def mean(frame: pd.DataFrame, col: str) -> float:
        return frame[col].mean() if col in frame else np.nan

    # the mean of the pairs' differences is the difference of the pairs' means
    step = step_between(
        mean(a, COST),
        mean(b, COST),
        mean(a, TOLERANCE),
        mean(b, TOLERANCE),
        mean(a, EMISSIONS),
        mean(b, EMISSIONS),
    )
    return PairedStep(step, len(common), unpaired)


def with_paired_steps(table: pd.DataFrame, found: list[PairedStep]) -> pd.DataFrame:
    """`table` (`value_stats`) plus, per row, the step from the row before (`found`): the
    pairs it rests on and the cases without a partner, the cost (USD) and emissions (t)
    step and whether it is within the pairs' combined solver tolerance; first row, and a
    step without a pair: none."""
    if len(found) != len(table) - 1:  # no cost column
        return table
    out = table.copy()
    out["n_pairs"] = pd.array([None, *(p.n_pairs for p in found)], dtype="Int64")
    out["unpaired_cases"] = pd.array([None, *(p.unpaired for p in found)], dtype="Int64")
    out["cost_step_usd"] = [np.nan, *(p.step.cost_usd if p.step else np.nan for p in found)]
    out["emissions_step_t"] = [np.nan, *(p.step.emissions_t if p.step else np.nan for p in found)]
    out["within_tolerance"] = [None, *(p.step.within if p.step else None for p in found)]
    return out


def table_steps(table: pd.DataFrame, suffix: str = "_mean") -> list[Step]:
    """The steps between consecutive rows of a table with cost, tolerance and emissions
    columns (`<metric><suffix>`); none without a cost column."""
    cost = f"{COST}{suffix}"
    if cost not in table:
        return []
    tol = table.get(f"{TOLERANCE}{suffix}", pd.Series(np.nan, table.index))
    return steps(table[cost], tol, table.get(f"{EMISSIONS}{suffix}"))


def with_steps(table: pd.DataFrame, suffix: str = "_mean") -> pd.DataFrame:
    """`table` plus, per row, the cost (USD) and emissions (t) step from the row before and
    whether it is within the two rows' combined solver tolerance (first row: none)."""
    found = table_steps(table, suffix)
    if not found:
        return table
    out = table.copy()
    out["cost_step_usd"] = [np.nan, *(s.cost_usd for s in found)]
    out["emissions_step_t"] = [np.nan, *(s.emissions_t for s in found)]
    out["within_tolerance"] = [None, *(s.within for s in found)]
    return out


def pareto_front(df: pd.DataFrame, x: str = COST, y: str = EMISSIONS) -> pd.DataFrame:
    """Rows not dominated in (x, y), both minimised; sorted by x."""
    d = df.dropna(subset=[x, y]).sort_values([x, y])
    keep, best_y = [], None
    for i, row in d.iterrows():
        if best_y is None or row[y] < best_y - 1e-9 * max(1.0, abs(best_y)):
            keep.append(i)
            best_y = row[y]
    return d.loc[keep]
