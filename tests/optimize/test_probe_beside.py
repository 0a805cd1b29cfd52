"""The last probe beside HiGHS's MILP gives the answer of the probe first and the MILP after
it, whenever the probe ends (``optimize.probe_beside``).

Case: the covering MIP of ``test_gap_stop`` (optimum 172 USD), started from a dear schedule,
and a stand-in for the probe that returns a bound without a proof. Run one after the other,
HiGHS starts with that bound; beside it, HiGHS starts with none and gets the bound when the
probe ends: before HiGHS's first callback ("early"), after HiGHS has ended ("late", so the
history must give the stop), or on a thread of its own ("thread").
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from optimize import milp_from_start, probe_beside, probing, solving
from optimize.highs import compile_model, new_highs
from optimize.price_fix import PriceFixResult
from optimize.probe_beside import HistoryStop, ProbeBeside
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import InterruptEvent, random_day
from tests.optimize.test_gap_stop import _cover_model, _start


class _Early(ProbeBeside):
    """The probe ended before HiGHS started."""

    def __init__(self, search) -> None:
        self._result = search()

    def done(self) -> bool:
        return True

    def outcome(self):
        return self._result


class _Late(ProbeBeside):
    """The probe ends only when waited for, after HiGHS's run."""

    def __init__(self, search) -> None:
        self._search = search

    def done(self) -> bool:
        return False

    def outcome(self):
        return self._search()


def _probe_giving(pf: PriceFixResult, bound_usd: float, proven=False, values=None):
    def search():
        time.sleep(0.01)  # on a thread: ends at some point of HiGHS's run
        probe = SimpleNamespace(proven=proven, values=values)
        return PriceFixResult(pf.values, pf.objective_usd, bound_usd), probe

    return search


def _answer(h, res, values):
    """What the caller loads: the columns returned, else ``h``'s solution."""
    cols = values if values is not None else np.asarray(h.getSolution().col_value)
    figures = (res.status, res.objective, res.bound, res.mip_gap, res.gap_basis)
    return figures, np.asarray(cols, dtype=float)


def _one_after_the_other(rel_gap: float, bound_usd: float, below_usd=None):
    h, cm, pf, basis = _start(rel_gap)
    pf = PriceFixResult(pf.values, pf.objective_usd, bound_usd)
    res = milp_from_start.run_to_gap(h, cm, rel_gap, pf, basis, 1e-6, None, below_usd)
    return _answer(h, *res)


def _beside(rel_gap: float, bound_usd: float, kind, below_usd=None):
    h, cm, pf, basis = _start(rel_gap)
    beside = kind(_probe_giving(pf, bound_usd))
    res, values = milp_from_start.run_to_gap(h, cm, rel_gap, pf, basis, 1e-6, beside, below_usd)
    return _answer(h, res, values), values is not None


@pytest.mark.parametrize("rel_gap", [0.01, 0.02, 0.05])
@pytest.mark.parametrize("bound_usd", [172.0, 170.0, 166.0, 100.0])
def test_the_answer_beside_the_probe_is_the_answer_after_it(rel_gap, bound_usd):
    figures, cols = _one_after_the_other(rel_gap, bound_usd)
    for kind in (_Early, _Late, ProbeBeside):
        (got_figures, got_cols), _ = _beside(rel_gap, bound_usd, kind)
        assert got_figures == figures, kind.__name__
        assert np.array_equal(got_cols, cols), kind.__name__


@pytest.mark.parametrize(
    ("rel_gap", "bound_usd", "status"),
    [
        (0.01, 172.0, milp_from_start.STOPPED_CHEAPER),
        (0.02, 172.0, milp_from_start.STOPPED_CHEAPER),
        (0.02, 166.0, milp_from_start.STOPPED_CHEAPER),
        (0.01, 166.0, "optimal"),  # 176 USD found too far from the bound: run on
        (0.02, 100.0, "optimal"),
    ],
)
def test_the_stop_at_a_cheaper_incumbent_beside_the_probe_is_the_one_after_it(
    rel_gap, bound_usd, status
):
    """At a tight gap the MILP also stops at its first incumbent cheaper than the start
    and near the bound (``optimize.cutoff_restart``): beside the probe, the history gives
    that stop, or none, as the run after the probe does."""
    below_usd = 5000.0
    figures, cols = _one_after_the_other(rel_gap, bound_usd, below_usd)
    for kind in (_Early, _Late, ProbeBeside):
        (got_figures, got_cols), _ = _beside(rel_gap, bound_usd, kind, below_usd)
        assert got_figures == figures, kind.__name__
        assert np.array_equal(got_cols, cols), kind.__name__
    assert figures[0] == status


def test_a_bound_that_arrives_late_stops_the_run_where_it_would_have():
    """Where the probe's bound proves an incumbent HiGHS has passed, the answer comes from
    the history (its columns returned), and it is the one-after-the-other answer: fewer
    nodes' worth of incumbents than HiGHS's own end."""
    figures, cols = _one_after_the_other(0.02, 172.0)
    (late, late_cols), from_history = _beside(0.02, 172.0, _Late)
    assert from_history
    assert (late, list(late_cols)) == (figures, list(cols))
    own, _ = _one_after_the_other(0.02, None)  # HiGHS alone goes on past that incumbent
    assert own[1] <= late[1]


@pytest.mark.parametrize("kind", [_Early, _Late, ProbeBeside])
@pytest.mark.parametrize("found", [False, True])
def test_a_probe_that_proves_or_finds_a_schedule_drops_the_run(kind, found):
    h, cm, pf, basis = _start(0.01)
    values = np.full(cm.num_col, 1.0) if found else None
    search = _probe_giving(pf, 171.0, proven=not found, values=values)
    res = milp_from_start.run_to_gap(h, cm, 0.01, pf, basis, 1e-6, kind(search))
    assert res == (None, None)


# a run's callbacks: ("inc", cost) an incumbent (gap basis = its cost), ("call", dual bound)
RUN = [
    ("call", 150.0),
    ("inc", 200.0),
    ("call", 151.0),
    ("inc", 180.0),
    ("call", 155.0),
    ("call", 157.0),
    ("inc", 174.0),
    ("call", 160.0),
    ("inc", 173.0),
    ("call", 165.0),
]


def _replay(bound_usd: float, settle_after: int | None, bound_before_usd: float | None = None):
    """Replay ``RUN`` on a ``HistoryStop`` whose probe (bound ``bound_usd``) ends after
    callback ``settle_after`` (None: after the run); ``bound_before_usd``: the stop's bound
    until then. Returns the callback that interrupted (or None) and the stop."""
    pf = PriceFixResult(None, None, bound_usd)
    calls = [0]

    class _Timed(ProbeBeside):
        def __init__(self) -> None:
            pass

        def done(self) -> bool:
            return settle_after is not None and calls[0] > settle_after

        def outcome(self):
            return pf, SimpleNamespace(proven=False, values=None)

    stop = HistoryStop(compile_model(_cover_model()), bound_before_usd, 0.02, _Timed())
    for kind, figure in RUN:
        if kind == "inc":
            stop.mark(figure, figure, np.zeros(1))
            continue
        e = InterruptEvent(0.1 * calls[0] + 0.1, figure)
        calls[0] += 1
        stop.interrupt(e)
        if e.flag:
            stop.settle()  # as ``run_to_gap`` does after the run
            return calls[0] - 1, stop
    stop.settle()
    return None, stop


@pytest.mark.parametrize("bound_usd", [178.0, 171.0, 170.0, 160.0])
def test_the_history_gives_the_stop_of_the_bound_whenever_it_arrives(bound_usd):
    """A stop with ``bound_usd`` from the start interrupts at the first callback whose
    latest incumbent is within 2 % of it (180 USD at 178.0: callback 2; 174 at 171.0:
    callback 4; 173 at 170.0: callback 5; none at 160.0). Settled before, during or after
    the run, ``HistoryStop`` names that callback with its incumbent and dual bound, and
    interrupts HiGHS at the first callback from it where the probe has ended."""
    first = {178.0: 2, 171.0: 4, 170.0: 5, 160.0: None}[bound_usd]
    duals = [figure for kind, figure in RUN if kind == "call"]
    for settle_after in (None, -1, 0, 1, 2, 3, 4, 5, 6):
        interrupted, stop = _replay(bound_usd, settle_after)
        assert stop.stop_at == first, settle_after
        settled_at = None if settle_after is None else max(settle_after, 0)
        if first is None or settled_at is None or settled_at >= len(duals):
            assert interrupted is None, settle_after
        else:
            assert interrupted == max(first, settled_at), settle_after
        if first is None:
            assert stop.stopped() is None
            continue
        incumbent, dual = stop.stopped()
        assert incumbent.objective_usd == {2: 180.0, 4: 174.0, 5: 173.0}[first]
        assert dual == duals[first]


def test_a_run_that_reaches_the_stop_it_started_with_waits_there_for_the_probe():
    """The bound before the probe (170.0) stops the run at callback 5 (173 USD); the
    probe's (178.0), known only after, names callback 2, already passed: the run is
    interrupted at 5 and the answer is callback 2's."""
    interrupted, stop = _replay(178.0, None, bound_before_usd=170.0)
    assert interrupted == 5 and stop.stop_at == 2
    assert stop.stopped()[0].objective_usd == 180.0
    # a probe's bound below the one before keeps the one before
    interrupted, stop = _replay(160.0, None, bound_before_usd=170.0)
    assert interrupted == 5 and stop.stop_at == 5 and stop.bound_usd == 170.0


@pytest.fixture
def _pool_of_one_after():
    """Leave HiGHS's process-wide pool at one thread, as the other tests expect it."""
    yield
    new_highs(threads=1)


# two threads, the peak split (step 5b) off: on these days it proves the start before
# the last probe, and these tests are of the probe beside the MILP
BESIDE_OPTIONS = SolverOptions(threads=2, peak_split=False)


@pytest.mark.usefixtures("_pool_of_one_after")
@pytest.mark.parametrize(
    ("seed", "ending"), [(8, "dropped"), (10, "dropped"), (0, "own"), (4, "own")]
)
def test_a_two_thread_solve_is_the_same_whenever_the_probe_ends(monkeypatch, seed, ending):
    """``optimize.solve`` with two threads on random days (demand charge 1,000 USD/MW, 1 %
    gap) reaches the last probe beside the MILP, where the probe proves the start after
    HiGHS's first callbacks ("dropped": seeds 8 and 10) or HiGHS ends on its own first
    ("own"); the probe ending first, last or on its thread gives the dispatch of the probe
    run first and the MILP after it."""
    endings = []
    settle = HistoryStop.settle

    def noted(self):
        if not self.settled:
            out = settle(self)
            endings.append("dropped" if self.dropped else "own" if self.stop_at is None else "at")
            return out
        return settle(self)

    monkeypatch.setattr(probe_beside.HistoryStop, "settle", noted)
    answers = []
    for kind in (None, ProbeBeside, _Early, _Late):  # None: the probe, then the MILP
        beside = kind is not None
        monkeypatch.setattr(solving, "_probe_beside_wanted", lambda options, b=beside: b)
        monkeypatch.setattr(solving, "ProbeBeside", kind)
        d = solving.solve(random_day(seed, demand=1000.0), BESIDE_OPTIONS)
        figures = (d.status, d.objective_usd, d.bound_usd, d.mip_gap)
        answers.append((figures, {k: v.tolist() for k, v in d.series.items()}))
    assert all(answer == answers[0] for answer in answers[1:])
    assert endings == [ending] * 3, endings  # the late probe's: settled after HiGHS's run


@pytest.mark.usefixtures("_pool_of_one_after")
def test_a_ctrl_c_in_the_milp_stops_the_probe_beside_it(monkeypatch):
    """A KeyboardInterrupt out of the MILP cancels the probe: its thread ends at its next
    disjunction instead of running out its budget behind the user's back."""
    started = []

    class _Recorded(ProbeBeside):
        def __init__(self, search) -> None:
            super().__init__(search)
            started.append(self)

    def interrupted(*args, **kwargs):
        time.sleep(0.05)  # the probe is under way
        raise KeyboardInterrupt

    side = probing._Relaxation.side

    def slow_side(self, col, value):  # about 8 s for the probe's 200 disjunctions
        if threading.current_thread().name == "probe-beside":
            time.sleep(0.02)
        return side(self, col, value)

    first = []  # the first probe's disjunctions: the probe beside goes on from its count
    probe = solving.probe_start

    def recorded_probe(*args, **kwargs):
        out = probe(*args, **kwargs)
        first.append(out[1].probes)
        return out

    monkeypatch.setattr(probing._Relaxation, "side", slow_side)
    monkeypatch.setattr(solving, "probe_start", recorded_probe)
    monkeypatch.setattr(solving, "ProbeBeside", _Recorded)
    monkeypatch.setattr(solving, "milp_after_start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        solving.solve(random_day(0, demand=1000.0), BESIDE_OPTIONS)
    assert len(started) == 1
    started[0]._thread.join(timeout=2)
    assert not started[0]._thread.is_alive()
    _, probe = started[0].outcome()
    assert len(first) == 1 and not probe.proven and probe.probes - first[0] < 20
