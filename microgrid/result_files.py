"""Names and limits of the files a run's result folder holds, shared by the writer
(``microgrid.output``) and the readers (``microgrid.export``, ``microgrid.report_html``)."""

from __future__ import annotations

from microgrid.datafiles import MAX_DATA_FILE_BYTES

TIMESERIES_PARQUET = "timeseries.parquet"
TIMESERIES_CSV = "timeseries.csv"
TIME_COLUMN = "timestamp_utc"  # the first column of timeseries and planned_vs_actual
# each baseline's time series: BASELINES_DIR/<name>/timeseries.csv and .parquet
BASELINES_DIR = "baselines"
# a parquet file is binary and column-compressed: a week at 15 min is ~100 kB, a year ~5 MB
MAX_PARQUET_BYTES = 64 * MAX_DATA_FILE_BYTES


# wall-clock seconds in the summary: written to timings.json (and kept out of a sweep's
# table), so that every other file of a run is the same on every machine and under any
# load (the solves stop on the gap or the node limit, not on time)
TIMING_KEYS = (("solver", "build_s"), ("solver", "solve_s"), ("operate", "solve_s"))


def split_timings(summary: dict) -> tuple[dict, dict]:
    """``summary`` without its wall-clock seconds, and those seconds by section."""
    kept = {k: (dict(v) if isinstance(v, dict) else v) for k, v in summary.items()}
    timings: dict[str, dict] = {}
    for section, key in TIMING_KEYS:
        if isinstance(kept.get(section), dict) and key in kept[section]:
            timings.setdefault(section, {})[key] = kept[section].pop(key)
    return kept, timings


def split_seconds(tree: dict, keys: tuple[str, ...] = ("solve_s",)) -> tuple[dict, dict]:
    """``tree`` without the entries named ``keys`` at any depth of its nested dicts, and
    those entries in the same nesting (a folder's timings.json: sizing.json's solves)."""
    kept: dict = {}
    timings: dict = {}
    for k, v in tree.items():
        if k in keys:
            timings[k] = v
        elif isinstance(v, dict):
            kept[k], inner = split_seconds(v, keys)
            if inner:
                timings[k] = inner
        else:
            kept[k] = v
    return kept, timings
