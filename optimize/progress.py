"""Progress lines of long MIP solves on stderr: bound, incumbent, gap and elapsed seconds.

Off by default, so library use (``import microgrid``) prints nothing; the CLI turns it on
with ``solve_progress(True)`` unless ``--quiet``. ``run_with_progress(h)`` (what
``optimize.highs.run_highs`` calls instead of ``h.run()``) subscribes a HiGHS MIP-interrupt
callback on ``h`` for that run while progress is on, and nothing at all while it is off.
The callback only reads HiGHS's figures and writes a line, at most one per ``EVERY_S`` and
none in the first ``FIRST_AFTER_S`` of a run, e.g.::

    solve: bound 436,165 USD · incumbent 440,216 USD · gap 0.92 % · 12.3 s

LP runs have no MIP callback and print nothing; every MIP run through
``run_with_progress`` (or inside ``reporting``) of at least ``FIRST_AFTER_S`` does. A MIP
run started with ``h.run()`` outside them (the pair moves' completion: a MILP with the
jobs fixed, whose bound is not the model's) prints nothing. Loops of many LPs print their
own lines through ``report``, paced by ``LinePacer`` (``optimize.fixer.FixLines``,
the pair moves, operate's re-plans, the power flow's steps). Every line carries the label
of the series being solved (``progress_series``), e.g. ``plan: window 3/53: ...``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

import highspy

from optimize.callbacks import subscribed

FIRST_AFTER_S = 2.0  # runs shorter than this print nothing (tests set it to 0)
EVERY_S = 2.0  # at most one line per this many seconds of a run


@dataclass(frozen=True)
class _Sink:
    stream: TextIO | None  # None: sys.stderr at the time of writing (pytest swaps it)


# None: progress off (the default, and what library callers get)
_PROGRESS: contextvars.ContextVar[_Sink | None] = contextvars.ContextVar(
    "solve_progress", default=None
)
# what the series of solves in a block solves (``progress_series``), e.g. "plan"
_SERIES: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "progress_series", default=None
)
# what the objective of the solves in a block counts (``objective_unit``): USD, except
# where a model minimises something else (optimize.headroom: MW of a size, curtailment)
_UNIT: contextvars.ContextVar[str] = contextvars.ContextVar("objective_unit", default="USD")


@contextlib.contextmanager
def solve_progress(enabled: bool, stream: TextIO | None = None) -> Iterator[None]:
    """Within the block, MIP solves of more than ``FIRST_AFTER_S`` print progress lines on
    ``stream`` (default: stderr) if ``enabled``."""
    token = _PROGRESS.set(_Sink(stream) if enabled else None)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


@contextlib.contextmanager
def progress_series(label: str | None) -> Iterator[None]:
    """Within the block, the lines of a series of solves (``optimize.rolling``'s one line
    per window) start with ``label`` and a colon (e.g. ``baseline storage-optimal: window
    1/53 ...``): a run that solves several series (the plan, then a baseline's) says which
    one each line belongs to. ``None``: no label."""
    token = _SERIES.set(label)
    try:
        yield
    finally:
        _SERIES.reset(token)


def series_line(line: str) -> str:
    """``line`` with the label of the series being solved (``progress_series``), if any."""
    return _labelled(_SERIES.get(), line)


def _labelled(label: str | None, line: str) -> str:
    return f"{label}: {line}" if label else line


def is_on() -> bool:
    """Whether progress lines are on here (``solve_progress``): a loop that would only
    pace lines nobody reads can skip its bookkeeping."""
    return _PROGRESS.get() is not None


@contextlib.contextmanager
def objective_unit(unit: str) -> Iterator[None]:
    """Within the block, progress lines give the objective's bound and incumbent in
    ``unit`` (e.g. ``"MW"``) instead of USD."""
    token = _UNIT.set(unit)
    try:
        yield
    finally:
        _UNIT.reset(token)


def _write(sink: _Sink, line: str) -> None:
    print(line, file=sink.stream or sys.stderr, flush=True)


def report(line: str) -> None:
    """Write ``line``, with the label of the series being solved (``series_line``), to
    the progress stream if progress is on (e.g. one line per rolling window); a stream
    that fails only silences the line."""
    sink = _PROGRESS.get()
    if sink is None:
        return
    with contextlib.suppress(OSError, ValueError):
        _write(sink, series_line(line))


@dataclass
class LinePacer:
    """When a long loop (operate's re-plans, a pass of pair moves) prints its next
    progress line: none in its first ``FIRST_AFTER_S``, then at most one per ``EVERY_S``
    (read at each call, so tests can set them)."""

    started_s: float = field(default_factory=time.monotonic)
    last_s: float = -math.inf

    def due_s(self) -> float | None:
        """The seconds since the loop started where a line is due now (and the next one
        then waits), else None."""
        now_s = time.monotonic()
        elapsed_s = now_s - self.started_s
        if elapsed_s < FIRST_AFTER_S or now_s - self.last_s < EVERY_S:
            return None
        self.last_s = now_s
        return elapsed_s


def progress_line(
    label: str, bound: float, incumbent: float, gap: float, elapsed_s: float, unit: str = "USD"
) -> str:
    """One progress line; objective figures in ``unit`` (HiGHS's, with the objective
    offset), ``gap`` as a fraction (of the gap basis when the run has one, see
    ``run_with_progress``); ``none``/``n/a`` where HiGHS has no figure."""
    has_incumbent = math.isfinite(incumbent)
    gap_text = f"{100 * gap:.2f} %" if has_incumbent and math.isfinite(gap) else "n/a"
    return (
        f"{label}: bound {_amount(bound, unit)} · incumbent {_amount(incumbent, unit)} · "
        f"gap {gap_text} · {elapsed_s:.1f} s"
    )


def _amount(x: float, unit: str) -> str:
    return f"{x:,.0f} {unit}" if math.isfinite(x) else "none"


def cutoff_line(label: str, bound: float, cutoff: float, elapsed_s: float, unit: str) -> str:
    """The line of a run with a cutoff (``objective_bound``) and no schedule below it yet:
    HiGHS then gives the cutoff as its primal bound, which is no schedule's cost."""
    return (
        f"{label}: bound {_amount(bound, unit)} · incumbent none below the cutoff "
        f"{_amount(cutoff, unit)} · {elapsed_s:.1f} s"
    )


class _Reporter:
    """The MIP-interrupt callback of one ``Highs`` object (holds no reference to it)."""

    def __init__(self, label: str, sink: _Sink) -> None:
        # the series' label is read here, on the thread that starts the run
        self.label, self.sink, self.unit = series_line(label), sink, _UNIT.get()
        self.gap_basis_usd: float | None = None  # see optimize.highs.gap_basis_usd
        self.cutoff = math.inf  # the run's objective_bound (HiGHS's cutoff), if any
        self.next_s = FIRST_AFTER_S
        self.broken = False  # the stream failed once: stay silent, never stop the solve
        self.pending: BaseException | None = None  # Ctrl-C caught here, raised after run

    def __call__(self, e) -> None:
        # An exception escaping a callback makes HiGHS end with "Solve error" and is lost:
        # a failed write only silences the reporter, and a Ctrl-C (raised here, as this is
        # the Python code that runs while HiGHS works) stops HiGHS and is re-raised after.
        try:
            if self.pending is not None:
                e.interrupt()
                return
            self._report(e.data_out)
        except Exception:
            self.broken = True
        except BaseException as exc:
            self.pending = exc
            e.interrupt()

    def _report(self, d) -> None:
        t_s = float(d.running_time)  # HiGHS's clock of this run (restarts at each run)
        if self.broken or t_s < self.next_s:
            return
        self.next_s = t_s + EVERY_S
        # HiGHS's bounds include the objective offset: they match the reported objective
        bound, incumbent = d.mip_dual_bound, d.mip_primal_bound
        if math.isfinite(self.cutoff) and incumbent >= self.cutoff - 1e-9 * abs(self.cutoff):
            _write(self.sink, cutoff_line(self.label, bound, self.cutoff, t_s, self.unit))
            return
        gap = d.mip_gap
        if self.gap_basis_usd is not None:  # the gap the result will report, not HiGHS's
            gap = (incumbent - bound) / max(abs(incumbent), self.gap_basis_usd)
        _write(self.sink, progress_line(self.label, bound, incumbent, gap, t_s, self.unit))


# the reporter subscribed on each Highs object during its run (weak: the object's
# lifetime is the caller's)
_ATTACHED: weakref.WeakKeyDictionary[highspy.Highs, _Reporter] = weakref.WeakKeyDictionary()


def follow_gap_basis(h: highspy.Highs, gap_basis_usd: float) -> None:
    """The progress lines of ``h``'s run measure the gap against ``gap_basis_usd`` from now
    on (a new incumbent's basis, the one the stop and the result use); no-op when
    progress is off."""
    reporter = _ATTACHED.get(h)
    if reporter is not None:
        reporter.gap_basis_usd = gap_basis_usd


def run_with_progress(
    h: highspy.Highs, label: str = "solve", gap_basis_usd: float | None = None
) -> highspy.HighsStatus:
    """``h.run()`` with progress lines if progress is on (``reporting``)."""
    with reporting(h, label, gap_basis_usd):
        return h.run()


@contextlib.contextmanager
def reporting(
    h: highspy.Highs, label: str | None = "solve", gap_basis_usd: float | None = None
) -> Iterator[None]:
    """Within the block, the MIP runs on ``h`` print progress lines if progress is on: the
    reporter is subscribed for the block only, so the LPs run on ``h`` afterwards have no
    callback at all (``optimize.callbacks``). A Ctrl-C that arrived during a run is raised
    on leaving the block, after HiGHS has stopped. ``label`` None: no lines (a step of a
    longer solve that prints its own). ``gap_basis_usd``: the lines' gap is measured
    against the larger of it and the incumbent's magnitude."""
    sink = _PROGRESS.get()
    if sink is None or label is None:
        yield
        return
    reporter = _ATTACHED[h] = _Reporter(label, sink)
    reporter.gap_basis_usd = gap_basis_usd
    reporter.cutoff = float(h.getOptionValue("objective_bound")[1])
    try:
        with subscribed(h, (h.cbMipInterrupt, reporter)):
            yield
    finally:
        _ATTACHED.pop(h, None)
    if reporter.pending is not None:
        raise reporter.pending
