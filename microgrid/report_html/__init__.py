"""The HTML report of a run's result folder (`microgrid report RUN_DIR`, and report.html
written by `microgrid run`): one self-contained page, plotly.js inline, no network.

Inside, imports go one way: `rundir` (read the folder) and `fmt` (numbers and labels) <-
`kpis`, `tables`, `figures` <- `page` (sections and the HTML, `write_report`). `cli` holds
the sub-command's parser and imports `page` only when the command runs, so building the
`microgrid` parser loads neither pandas nor plotly. Nothing is imported here for the same
reason. See docs/report.md.
"""
