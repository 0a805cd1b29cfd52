"""Progress lines of MIP solves: shown only when asked, never changing the answer."""

from __future__ import annotations

import io
import re

import highspy
import numpy as np
import pytest
from scipy.sparse import csc_matrix

import optimize.progress as progress
from optimize import Infeasible, solve, solve_progress
from optimize.diagnosis import PROGRESS_LABEL
from optimize.highs import new_highs, run_highs
from optimize.problem import Job
from optimize.progress import progress_line
from optimize.rolling import solve_rolling
from optimize.solver_options import SolverOptions
from tests.optimize.small_problems import callback_function_set, small_problem

LINE = re.compile(
    r"^solve: bound (none|-?[\d,]+ USD) · incumbent (none|-?[\d,]+ USD) · "
    r"gap (n/a|-?\d+\.\d\d %) · \d+\.\d s$"
)
DIAGNOSIS_LINE = re.compile(
    r"^diagnosis \(no schedule exists\): solve: bound (none|[\d,]+ of slack) · "
    r"incumbent (none|[\d,]+ of slack) · gap (n/a|\d+\.\d\d %) · \d+\.\d s$"
)
OPTIONS = SolverOptions(price_fix_start=False)


@pytest.fixture
def at_once(monkeypatch):
    """Lines from the first callback on, without the 2 s wait (no timing in unit tests)."""
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)


def _milp():
    """A day with a non-preemptible job and a demand charge: a MILP of about 0.2 s."""
    job = Job("b", 6.0, 8.0, 2, 22, preemptible=False)
    return small_problem(n=24, jobs=(job,), demand=500.0)


def _knapsack(offset_usd: float) -> highspy.Highs:
    """A small multi-row knapsack (minimise minus value) with an objective offset."""
    rng = np.random.default_rng(0)
    n, m = 30, 5
    weights = rng.integers(5, 60, (m, n)).astype(float)
    a = csc_matrix(weights)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_, lp.offset_ = n, m, offset_usd
    lp.col_cost_ = -rng.integers(10, 100, n).astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.full(m, -highspy.kHighsInf)
    lp.row_upper_ = weights.sum(axis=1) / 3
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = new_highs()
    h.passModel(lp)
    return h


def test_line_format():
    line = progress_line("solve", 436_165.2, 440_216.4, 0.0092, 12.34)
    assert line == "solve: bound 436,165 USD · incumbent 440,216 USD · gap 0.92 % · 12.3 s"
    line = progress_line("solve", 436_165.2, float("inf"), float("inf"), 3.0)
    assert line == "solve: bound 436,165 USD · incumbent none · gap n/a · 3.0 s"
    line = progress_line("solve", float("-inf"), float("inf"), float("inf"), 0.5)
    assert line == "solve: bound none · incumbent none · gap n/a · 0.5 s"


def test_lines_on_request_and_the_same_answer(at_once, capsys):
    plain = solve(_milp(), OPTIONS)
    assert capsys.readouterr().err == ""  # off by default: library use prints nothing
    stream = io.StringIO()
    with solve_progress(True, stream):
        shown = solve(_milp(), OPTIONS)
    lines = stream.getvalue().splitlines()
    assert lines and all(LINE.match(s) for s in lines), lines
    assert capsys.readouterr() == ("", "")  # to the stream asked for, not stdout/stderr
    # the last line is the finished search: its incumbent is the reported objective
    assert f"incumbent {plain.objective_usd:,.0f} USD" in lines[-1]
    assert shown.objective_usd == plain.objective_usd
    assert shown.status == plain.status
    for key, series in plain.series.items():
        np.testing.assert_array_equal(shown.series[key], series, err_msg=key)


def test_default_stream_is_stderr(at_once, capsys):
    with solve_progress(True):
        solve(_milp(), OPTIONS)
    out, err = capsys.readouterr()
    assert out == ""
    assert err and all(LINE.match(s) for s in err.splitlines())


def test_figures_include_the_objective_offset(at_once):
    h = _knapsack(offset_usd=1000.0)
    stream = io.StringIO()
    with solve_progress(True, stream):
        res = run_highs(h, True)
    assert res.status == "optimal"
    values = np.asarray(h.getSolution().col_value)
    assert res.objective == pytest.approx(1000.0 + h.getLp().col_cost_ @ values)
    last = stream.getvalue().splitlines()[-1]
    assert f"incumbent {res.objective:,.0f} USD" in last


def test_nothing_before_the_threshold(monkeypatch):
    monkeypatch.setattr(progress, "FIRST_AFTER_S", 1e9)
    stream = io.StringIO()
    with solve_progress(True, stream):
        solve(_milp(), OPTIONS)
    assert stream.getvalue() == ""


def test_lp_runs_print_nothing(at_once):
    stream = io.StringIO()
    with solve_progress(True, stream):
        d = solve(small_problem(n=24, battery=False), OPTIONS)
    assert d.mip_gap == 0.0  # an LP: no MIP callback, no line
    assert stream.getvalue() == ""


def test_the_reporter_is_subscribed_for_the_run_only(at_once, monkeypatch):
    h = _knapsack(offset_usd=0.0)
    run_highs(h, True)
    assert h.cbMipInterrupt.callbacks == []  # off: zero overhead
    during = []
    run = h.run

    def spied_run():
        during.append(list(h.cbMipInterrupt.callbacks))
        return run()

    monkeypatch.setattr(h, "run", spied_run)
    stream = io.StringIO()
    with solve_progress(True, stream):
        run_highs(h, True)
        run_highs(h, True)
    assert [len(c) for c in during] == [1, 1]
    assert stream.getvalue()
    # afterwards nothing is subscribed, and highspy's callback function is unset again
    assert h.cbMipInterrupt.callbacks == []
    assert not callback_function_set(h)


def test_a_mip_run_outside_run_with_progress_prints_nothing(at_once):
    # price-fix's final MILP runs with h.run() on the Highs the edge search ran on: its
    # lines would carry the search's label and gap basis, for a MILP with the jobs fixed
    h = _knapsack(offset_usd=0.0)
    stream = io.StringIO()
    with solve_progress(True, stream):
        progress.run_with_progress(h, "edge search (its neighbourhood)")
        first = stream.getvalue()
        h.clearSolver()
        h.run()
        progress.run_with_progress(h)
    lines = stream.getvalue()[len(first) :].splitlines()
    assert first.startswith("edge search (its neighbourhood): ")
    assert lines and all(LINE.match(line) for line in lines)  # only the tracked run's


def test_a_failing_stream_does_not_stop_the_solve(at_once):
    class Broken(io.StringIO):
        def write(self, s):
            raise OSError("pipe closed")

    plain = solve(_milp(), OPTIONS)
    with solve_progress(True, Broken()):
        shown = solve(_milp(), OPTIONS)
    assert shown.status == plain.status
    assert shown.objective_usd == plain.objective_usd


def test_ctrl_c_during_the_search_is_raised_after_highs_stops(at_once, monkeypatch):
    def interrupted(self, data_out):
        raise KeyboardInterrupt

    monkeypatch.setattr(progress._Reporter, "_report", interrupted)
    h = _knapsack(offset_usd=0.0)
    with solve_progress(True, io.StringIO()), pytest.raises(KeyboardInterrupt):
        run_highs(h, True)
    assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt


def test_rolling_windows_print_one_line_each_only_when_progress_is_on():
    p = small_problem(n=48)
    stream = io.StringIO()
    with solve_progress(True, stream=stream):
        on = solve_rolling(p, window_steps=24, overlap_steps=6)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["window 1/2", "window 2/2"]
    assert all(
        re.search(r"optimal, objective [\d,]+ USD, gap 0\.00 %, [\d.]+ s$", x) for x in lines
    )
    quiet = io.StringIO()
    with solve_progress(False, stream=quiet):
        off = solve_rolling(p, window_steps=24, overlap_steps=6)
    assert quiet.getvalue() == ""
    assert off.objective_usd == on.objective_usd


def test_a_model_of_another_objective_names_its_unit(at_once):
    """Under ``objective_unit`` (headroom's size and curtailment solves) the lines give
    the objective in that unit, not USD; outside it, USD again."""
    stream = io.StringIO()
    with solve_progress(True, stream), progress.objective_unit("MW"):
        run_highs(_knapsack(offset_usd=0.0), True)
    lines = stream.getvalue().splitlines()
    assert lines and not any("USD" in s for s in lines), lines
    assert any(re.search(r"incumbent -?[\d,]+ MW · ", s) for s in lines), lines
    stream = io.StringIO()
    with solve_progress(True, stream):
        run_highs(_knapsack(offset_usd=0.0), True)
    assert all(LINE.match(s) for s in stream.getvalue().splitlines())


NUMBERS = re.compile(r"bound (-?[\d,]+) USD · incumbent (-?[\d,]+) USD · gap (-?\d+\.\d\d) %")


def test_the_gap_is_that_of_the_figures_shown(at_once):
    """Each line's gap is its own figures' (both with the objective offset)."""
    h = _knapsack(offset_usd=5000.0)
    stream = io.StringIO()
    with solve_progress(True, stream):
        run_highs(h, True)
    shown = [NUMBERS.search(s) for s in stream.getvalue().splitlines()]
    shown = [m for m in shown if m is not None]
    assert shown
    for m in shown:
        bound, incumbent = (float(m.group(i).replace(",", "")) for i in (1, 2))
        assert float(m.group(3)) == pytest.approx(
            100 * (incumbent - bound) / abs(incumbent), abs=0.02
        )


def test_a_run_with_a_cutoff_and_nothing_below_it_says_so(at_once):
    """With `objective_bound` set HiGHS gives the cutoff as its primal bound before any
    schedule below it: the line once showed it as an incumbent."""
    h = _knapsack(offset_usd=0.0)
    h.setOptionValue("objective_bound", -870.0)  # just below the optimum (-857): none found
    stream = io.StringIO()
    with solve_progress(True, stream):
        run_highs(h, True, label="cutoff restart")
    lines = stream.getvalue().splitlines()
    assert lines and all(
        s.startswith("cutoff restart: bound ")
        and "· incumbent none below the cutoff -870 USD ·" in s
        for s in lines
    ), lines


PRICE_FIX_LINE = re.compile(
    r"^price-fix: bound [\d,]+ USD · "
    r"(LP relaxation|fixing job \d of 3|(improving|at the schedule's prices), job \d of 3"
    r"|the rest \(jobs fixed\)) · "
    r"(LP with the jobs fixed [\d,]+ USD \(gap -?\d+\.\d\d %\) · )?\d+\.\d s$"
)


def _three_jobs():
    jobs = (
        Job("a", 6.0, 8.0, 2, 40, preemptible=False),
        Job("b", 4.0, 10.0, 0, 48),
        Job("c", 3.0, 12.0, 10, 46, max_interruptions=1),
    )
    return small_problem(n=48, jobs=jobs, demand=500.0)


def test_price_fix_prints_its_steps_and_the_same_answer(at_once):
    options = SolverOptions(method="price-fix")
    plain = solve(_three_jobs(), options)
    stream = io.StringIO()
    with solve_progress(True, stream):
        shown = solve(_three_jobs(), options)
    lines = stream.getvalue().splitlines()
    own = [x for x in lines if x.startswith("price-fix:")]
    assert own and all(PRICE_FIX_LINE.match(x) for x in own), own
    assert any("fixing job 1 of 3" in x for x in own)
    assert any("LP with the jobs fixed" in x for x in own)  # its passes, every job fixed
    # the final MILP (battery binaries) under its own label, HiGHS's figures
    rest = [x for x in lines if not x.startswith("price-fix:")]
    assert all(x.startswith("price-fix (the rest, jobs fixed): bound ") for x in rest), rest
    assert shown.objective_usd == plain.objective_usd and shown.status == plain.status
    for key, series in plain.series.items():
        np.testing.assert_array_equal(shown.series[key], series, err_msg=key)


def test_the_chain_labels_its_price_fix_start(at_once):
    stream = io.StringIO()
    with solve_progress(True, stream):
        solve(_three_jobs(), SolverOptions())
    firsts = [x for x in stream.getvalue().splitlines() if "price-fix" in x]
    assert firsts and all(x.startswith("start (price-fix)") for x in firsts), firsts


def test_lines_inside_a_rolling_window_name_it_and_its_series(at_once):
    stream = io.StringIO()
    with solve_progress(True, stream), progress.progress_series("plan"):
        solve_rolling(_three_jobs(), 24, 6, SolverOptions(method="price-fix"))
    lines = stream.getvalue().splitlines()
    inside = [x for x in lines if "price-fix" in x]
    # window 1's handover guide (optimize.window_guide) runs price-fix of the rest first
    assert {x.split(": price-fix")[0] for x in inside} == {
        "plan: window 1/2 handover guide",
        "plan: window 1/2",
        "plan: window 2/2",
    }
    ends = [x.split(" (")[0] for x in lines if x not in inside]
    assert ends == ["plan: window 1/2", "plan: window 2/2"]  # each window's own line


def test_a_mip_run_in_a_series_is_labelled_with_it(at_once):
    stream = io.StringIO()
    with solve_progress(True, stream), progress.progress_series("baseline asap"):
        solve(_milp(), OPTIONS)
    lines = stream.getvalue().splitlines()
    assert lines and all(LINE.match(x.removeprefix("baseline asap: ")) for x in lines)
    assert all(x.startswith("baseline asap: solve: ") for x in lines)


def test_the_diagnosis_lines_are_labelled_and_not_in_usd(at_once):
    """The audit's 30 MW campus printed `solve: bound 186 USD · incumbent 188 USD` before
    its infeasibility line: the elastic diagnosis's sum of slacks, read as a plan's cost.
    A 60 MW job that may not pause, on a 40 MW import limit: no schedule; the diagnosis is a
    MIP (the job's binaries) whose lines carry its label and its unit."""
    job = Job("big", 60.0, 8.0, 2, 22, preemptible=False)
    stream = io.StringIO()
    with solve_progress(True, stream), pytest.raises(Infeasible):
        solve(small_problem(n=24, jobs=(job,)), OPTIONS)
    lines = [s for s in stream.getvalue().splitlines() if s.startswith(PROGRESS_LABEL)]
    assert lines, stream.getvalue()
    assert all(DIAGNOSIS_LINE.match(s) for s in lines), lines
