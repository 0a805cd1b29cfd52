"""The goal lines of ``benchmarks/all_weeks.py``: the weeks the solve was tuned on and the
others reported apart."""

from __future__ import annotations

from benchmarks.all_weeks import TUNED_EVERY, print_goals


def _row(week: int, solve_s: float, reached: bool = True) -> dict:
    return {
        "region": "ercot",
        "week": week,
        "method": "ours-1%",
        "status": "optimal" if reached else "node_limit",
        "reached": reached,
        "solve_s": solve_s,
    }


def test_the_tuned_weeks_and_the_others_are_counted_apart(capsys):
    rows = [
        _row(0, 1.0),
        _row(TUNED_EVERY, 12.0),
        _row(1, 2.0),
        _row(2, 30.0),
        _row(3, 40.0, reached=False),
    ]
    print_goals(rows, "full_month")
    out = capsys.readouterr().out
    assert "2 of 5 weeks met it" in out
    assert f"tuned on (weeks 0, {TUNED_EVERY}, ...): 1 of 2 within 1 % in <= 10 s, 0 short" in out
    assert "the others: 1 of 3 within 1 % in <= 10 s, 1 short of 1 %, 72.0 s of solve" in out


def test_a_run_of_one_set_only_has_no_split(capsys):
    print_goals([_row(0, 1.0), _row(TUNED_EVERY, 2.0)], "full_month")
    assert "tuned on" not in capsys.readouterr().out


def test_a_pro_rated_run_has_no_split(capsys):
    # pro-rated, the 1 % runs have covered all 156 weeks: no sample was tuned on
    print_goals([_row(0, 1.0), _row(1, 2.0)], "prorated")
    assert "tuned on" not in capsys.readouterr().out
