"""Rolling windows built ahead of their solve, each with its LP started from a guess.

With two threads (``optimize.rolling._pipeline``) a window's model is built and compiled
on a worker thread (``optimize.window_prebuild.Prebuilder``) up to two windows before it
is solved, where its problem can be predicted: no job of the windows before it carries
work across their commits (``window_state.predicted_carried``). Its carried state (battery
SOC, net import, demand peaks) is not known then. The builder gives it the state window
``w - 2`` started from (window 1: window 0's) and solves its LP relaxation at that state
(``window_prebuild.build_guessed``). When the window comes, its own state is set in a few
column bounds (``optimize.carried_state.apply_state``), and its first LP starts from that
basis: on B2's windows 2-133 ms against 55-165 ms cold, the same optimum
(docs/model_jobs_history.md).

The rule is the window's, not the prediction's: a window that was not predicted (or not
as it came) is built on the solving thread the same way, from the same guessed state, so
its answer is the same whether or not, and whenever, it was built ahead. Window 0 and a
window whose guessed state would change the model's structure start cold.
"""

from __future__ import annotations

from optimize.carried_state import apply_state
from optimize.highs import configured_highs
from optimize.problem import Problem
from optimize.solver_options import SolverOptions
from optimize.window_prebuild import Prebuilder, build_guessed
from optimize.window_state import Carried, guessed_problem, predicted_carried, window_problem

# windows built ahead of the one solving: two give the builder the time of two windows for
# one window's build and LP (0.26 s on B2; with one, the solving thread waited 1.8 s for it
# on B2's short windows)
AHEAD = 2


class WindowPipeline:
    """The windows ``windows`` ((start, commit end, model end) each) of ``problem``, built
    with ``options`` on ``pre``'s thread ahead of their solve; ``fractions`` (each window's
    horizon credit) and ``before`` (the carried state each solved window started from) are
    the rolling solve's lists, read as they change."""

    def __init__(
        self,
        problem: Problem,
        windows: list[tuple[int, int, int]],
        fractions: list[float],
        before: list[Carried],
        options: SolverOptions,
        pre: Prebuilder,
    ) -> None:
        self.problem, self.windows, self.options, self.pre = problem, windows, options, pre
        self.fractions, self.before = fractions, before

    def model(self, w: int, sub: Problem) -> tuple[tuple | None, bool]:
        """Window ``w``'s model (``sub``: its problem) as ``solve_model``'s ``prebuilt``
        (model, compiled arrays, ``Highs`` holding them with the LP basis of its guessed
        state; None where it starts cold: ``solve_model`` builds it), and whether it was
        built ahead."""
        fraction = self.fractions[w]
        taken = self.pre.take(w, sub, fraction)
        if taken is not None:
            return taken, True
        guess = self._guess(w, sub)
        if guess is None:
            return None, False
        h = configured_highs(self.options)
        m, cm = build_guessed(guess, fraction, h)
        apply_state(m, cm, sub, h)
        return (m, cm, h), False

    def look_ahead(self, w: int, carried: Carried, jobs: list) -> None:
        """Submit the windows after ``w`` (which starts from ``carried`` with ``jobs``) up
        to ``AHEAD`` of it that are predicted and not submitted yet."""
        a, state = self.windows[w][0], carried
        for v in range(w + 1, min(w + 1 + AHEAD, len(self.windows))):
            c = self.windows[v][0]
            state = predicted_carried(state, jobs, a, c)  # at window v's start
            if state is None:
                return
            share = self.options.charge_share_of_rest
            _, commit, e = self.windows[v]
            guide = commit if self.options.guide_restarts else None
            sub, next_jobs = window_problem(self.problem, state, c, e, share, guide)
            if not self.pre.pending(v):
                guess = self._guess(v, sub)
                if guess is not None:
                    self.pre.submit(v, guess, self.fractions[v], self.options)
            a, jobs = c, next_jobs

    def backtrack(self) -> None:
        """A window is solved again: the builds ahead no longer hold."""
        self.pre.clear()

    def _guess(self, v: int, sub: Problem) -> Problem | None:
        """Window ``v``'s problem ``sub`` at the state window ``v - AHEAD`` started from
        (window 0's for the first ones); None for window 0, or where that state would
        change the model's structure."""
        if v == 0:
            return None
        a, _, e = self.windows[v]
        source = self.before[max(v - AHEAD, 0)]
        return guessed_problem(self.problem, sub, source, a, e, self.options.charge_share_of_rest)
