"""Progress lines of a sweep: counts, running and waiting cases, elapsed time and ETA."""

from __future__ import annotations

import time
from collections import Counter
from typing import TextIO


def format_hms(seconds: float) -> str:
    """`H:MM:SS` of a duration in seconds."""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Writes `[sweep NAME] ...` lines to `stream` (None: silent)."""

    def __init__(self, name: str, total: int, skipped: int, stream: TextIO | None) -> None:
        self.name, self.total, self.skipped, self.stream = name, total, skipped, stream
        self.t0 = time.perf_counter()
        self.counts: Counter = Counter()

    def log(self, msg: str) -> None:
        if self.stream is not None:
            print(f"[sweep {self.name}] {msg}", file=self.stream, flush=True)

    def update(self, rec: dict, running: int, waiting: int) -> None:
        """One line for a case that just got its record."""
        self.counts[rec["status"]] += 1
        done = sum(self.counts.values())
        elapsed_s = time.perf_counter() - self.t0
        left = running + waiting
        eta_s = elapsed_s / done * left if done else float("nan")
        bad = f", {self.counts['failed']} failed, {self.counts['timeout']} timed out"
        msg = (
            f"{done + self.skipped}/{self.total} done{bad}"
            + (f" ({self.skipped} from earlier runs)" if self.skipped else "")
            + f"; {running} running, {waiting} waiting; elapsed {format_hms(elapsed_s)}"
            + (f", ETA {format_hms(eta_s)}" if left else "")
            + f" | {rec['case_id']} {rec['status']} in {rec.get('wall_s') or 0:.1f} s"
        )
        if rec["status"] != "ok":
            msg += f": {rec.get('error')}"
        self.log(msg)
