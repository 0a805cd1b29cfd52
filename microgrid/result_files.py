"""Names and limits of the files a run's result folder holds, shared by the writer
(``microgrid.output``) and the readers (``microgrid.export``, ``microgrid.report_html``)."""

from __future__ import annotations

from microgrid.datafiles import MAX_DATA_FILE_BYTES

TIMESERIES_PARQUET = "timeseries.parquet"
TIMESERIES_CSV = "timeseries.csv"
TIME_COLUMN = "timestamp_utc"  # the first column of timeseries and planned_vs_actual
# a parquet file is binary and column-compressed: a week at 15 min is ~100 kB, a year ~5 MB
MAX_PARQUET_BYTES = 64 * MAX_DATA_FILE_BYTES
