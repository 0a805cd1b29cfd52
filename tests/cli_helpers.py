"""Running the real CLI in-process for the bad-input tests."""

from __future__ import annotations

from pathlib import Path

from microgrid.cli import main


def one_error_line(capsys, argv: list[str]) -> str:
    """Run `microgrid ARGV`; assert exit code 2 and exactly one stderr line, no traceback;
    return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


# a jobs CSV for the small scenario (tests/scenario_factory.py): its header and one row
JOBS_HEADER = "id,gpus,work_h,release_h,deadline_h"
# the small scenario runs Tue 2023-08-22 to Thu 2023-08-24; job hours count from Monday
JOB_ROW = "train,8,4,24,48"
# every column a jobs CSV may have, as an unknown column's error lists them
JOBS_CSV_COLUMNS = (
    "id, gpus, kw_per_gpu, work_h, release_h, deadline_h, release_at, deadline_at, "
    "preemptible, max_interruptions, "
    "restart_overhead_h, f_min, command"
)


def write_jobs(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "jobs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path
