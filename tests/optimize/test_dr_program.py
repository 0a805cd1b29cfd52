"""Demand-response programs in the model (``optimize/dr_program.py``), cases by hand.

Shift case: 2 hourly steps at 50 then 30 USD/MWh, 2 MW of inference (PUE 1), one 10 MW
job of 1 h due by the end; an event in step 1 against a declared baseline of 12 MW (the
load with the job in its cheap hour). Committing C MW needs the job in step 0 (r = 10 MW;
a part of the job cannot move, the job runs whole hours) at 10 MWh × (50 − 30) = 200 USD
more energy; with no energy payment and a shortfall penalty of 1,000 USD/MWh:
- 30 USD/MW of capacity: commit 10 MW; objective 12 × 50 + 2 × 30 − 300 = 360;
- 10 USD/MW: commit 0; objective 2 × 50 + 12 × 30 = 460.

Shortfall case: 10 MW of inflexible load, C fixed at 5 MW, baseline 12 MW: reduction 2 MW,
delivered 2 MW (at 50 USD/MWh: 100 USD), shortfall 3 MWh (at 100 USD/MWh: 300 USD),
capacity 5 × 20 = 100 USD: the program costs 300 − 100 − 100 = 100 USD net.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import optimize as o
from optimize.dr_settlement import baseline_mw, settle, window_program, with_baseline_of
from optimize.problem import DemandResponseEvent, DemandResponseProgram
from optimize.rolling import solve_rolling


def _grid(price: list[float]) -> o.Grid:
    n = len(price)
    return o.Grid(
        import_max_mw=np.full(n, 40.0),
        export_max_mw=np.zeros(n),
        import_price_usd_per_mwh=np.array(price),
        export_price_usd_per_mwh=np.zeros(n),
        carbon_g_per_kwh=np.zeros(n),
    )


def _program(**kw) -> DemandResponseProgram:
    args = {
        "events": (DemandResponseEvent("dr@1", (1,)),),
        "capacity_usd_per_mw": 30.0,
        "energy_usd_per_mwh": 0.0,
        "shortfall_usd_per_mwh": 1000.0,
        "max_commit_mw": 10.0,
        "baseline_fixed_mw": np.array([0.0, 12.0]),
    }
    return DemandResponseProgram(**{**args, **kw})


def _shift_case(capacity_usd_per_mw: float) -> o.Problem:
    job = o.Job(id="j", full_power_it_mw=10.0, work_h=1.0, release_step=0, deadline_step=2)
    return o.Problem(
        step_h=1.0,
        n_steps=2,
        grid=_grid([50.0, 30.0]),
        facility=o.Facility(inference_it_mw=np.full(2, 2.0), pue=np.ones(2)),
        jobs=(job,),
        dr_program=_program(capacity_usd_per_mw=capacity_usd_per_mw),
    )


@pytest.mark.parametrize(
    ("capacity", "commit_mw", "objective", "import_mw"),
    [(30.0, 10.0, 360.0, [12.0, 2.0]), (10.0, 0.0, 460.0, [2.0, 12.0])],
)
def test_commits_when_capacity_pays_more_than_the_shift(capacity, commit_mw, objective, import_mw):
    d = o.solve(_shift_case(capacity), o.SolverOptions(mip_rel_gap=0.0))
    assert d.dr_commit_mw == pytest.approx(commit_mw, abs=1e-6)
    assert d.objective_usd == pytest.approx(objective, abs=1e-6)
    np.testing.assert_allclose(d.series["grid_import_mw"], import_mw, atol=1e-6)
    assert d.costs["dr_program_usd"] == pytest.approx(-capacity * commit_mw, abs=1e-6)


def _inflexible(program: DemandResponseProgram, load_mw: float = 10.0, n: int = 2) -> o.Problem:
    return o.Problem(
        step_h=1.0,
        n_steps=n,
        grid=_grid([40.0] * n),
        facility=o.Facility(inference_it_mw=np.full(n, load_mw), pue=np.ones(n)),
        dr_program=program,
    )


def _committed_5_mw():
    """5 MW committed at 20 USD/MW, paid 50 USD/MWh, 100 USD/MWh short."""
    return _program(
        capacity_usd_per_mw=20.0,
        energy_usd_per_mwh=50.0,
        shortfall_usd_per_mwh=100.0,
        commit_mw=5.0,
    )


def test_shortfall_is_priced_exactly():
    program = _committed_5_mw()
    d = o.solve(_inflexible(program), o.SolverOptions(mip_rel_gap=0.0))
    assert d.dr_commit_mw == pytest.approx(5.0)
    assert d.costs["dr_program_usd"] == pytest.approx(100.0, abs=1e-6)
    assert d.objective_usd == pytest.approx(800.0 + 100.0, abs=1e-6)
    s = settle(program, 1.0, d.series["grid_import_mw"], d.dr_commit_mw)
    (ev,) = s.events
    assert (ev.baseline_mw, ev.delivered_mw, ev.shortfall_mwh) == pytest.approx((12.0, 2.0, 3.0))
    assert (ev.energy_payment_usd, ev.shortfall_penalty_usd) == pytest.approx((100.0, 300.0))
    assert s.bill() == pytest.approx(
        {"dr_capacity_usd": -100.0, "dr_energy_usd": -100.0, "dr_shortfall_usd": 300.0}
    )
    assert sum(s.bill().values()) == pytest.approx(s.net_cost_usd)


def test_the_gap_basis_counts_the_shortfall_the_schedule_pays():
    """The gap's basis is what the schedule pays (``optimize.highs.gap_basis_usd``): the
    shortfall penalty it incurs, not the commitment's whole penalty. Before (an outside
    audit) the model wrote the penalty as ``shortfall · (|E| · C − Σ d)``, and the basis
    counted 1,000 USD/MWh × 10 MW for an event delivered in full."""
    full = o.solve(_shift_case(30.0), o.SolverOptions(mip_rel_gap=0.0))
    assert full.dr_commit_mw == pytest.approx(10.0)
    assert full.gap_basis_usd == pytest.approx(12 * 50 + 2 * 30)  # the energy bought
    program = _committed_5_mw()
    short = o.solve(_inflexible(program), o.SolverOptions(mip_rel_gap=0.0))
    assert short.gap_basis_usd == pytest.approx(800.0 + 300.0)  # energy, 3 MWh short


def test_commit_stops_where_the_penalty_outweighs_the_payment():
    """Inflexible 10 MW under a 12 MW baseline: each MW beyond 2 falls short. Capacity at
    30 USD/MW against a 20 USD/MWh penalty over one event hour: commit the max (10 MW),
    30 × 10 − 20 × 8 = 140 USD; at 50 USD/MWh: commit the 2 MW delivered, 60 USD."""
    for pen, commit, net in ((20.0, 10.0, -140.0), (50.0, 2.0, -60.0)):
        d = o.solve(_inflexible(_program(shortfall_usd_per_mwh=pen)), o.SolverOptions())
        assert d.dr_commit_mw == pytest.approx(commit, abs=1e-6)
        assert d.costs["dr_program_usd"] == pytest.approx(net, abs=1e-6)


def test_commit_above_the_max_is_refused_and_a_tolerance_above_it_is_solved_quietly(caplog):
    """A fixed commitment above max_commit_mw is an error of the caller; one above it by
    a solver's tolerance (the closed loop fixes the plan's) is solved without Pyomo's
    W1002 warning of a value fixed outside its bounds."""
    with pytest.raises(ValueError, match="commit_mw .* above max_commit_mw"):
        _program(commit_mw=10.5)
    d = o.solve(_inflexible(_program(commit_mw=10.0 + 1e-8)), o.SolverOptions())
    assert d.dr_commit_mw == pytest.approx(10.0, abs=1e-6)
    assert "W1002" not in caplog.text and "outside the bounds" not in caplog.text


def test_a_site_committing_nothing_owes_nothing():
    """Shift case at C = 0 against a declared baseline of 5 MW: the job in its cheap hour
    (step 1) puts the import 7 MW above the baseline. Nothing is committed, so nothing
    falls short and nothing is paid back: the job stays in step 1 (2 × 50 + 12 × 30 = 460
    USD). The old rule s = max(0, C − r) charged 7 MWh of shortfall and moved the job
    (12 × 50 + 2 × 30 = 660 USD)."""
    program = _program(
        commit_mw=0.0, energy_usd_per_mwh=200.0, baseline_fixed_mw=np.array([0.0, 5.0])
    )
    problem = dataclasses.replace(_shift_case(30.0), dr_program=program)
    d = o.solve(problem, o.SolverOptions(mip_rel_gap=0.0))
    np.testing.assert_allclose(d.series["grid_import_mw"], [2.0, 12.0], atol=1e-6)
    assert d.objective_usd == pytest.approx(460.0)
    assert d.costs["dr_program_usd"] == 0.0
    s = settle(program, 1.0, np.array([2.0, 12.0]), 0.0)
    assert (s.events[0].delivered_mw, s.events[0].shortfall_mwh) == (0.0, 0.0)


def test_shortfall_is_at_most_the_commitment_and_the_model_agrees():
    """C = 5 MW fixed, declared baseline 5 MW, 10 MW of inflexible load: the reduction is
    −5 MW, the shortfall the whole commitment (5 MWh, not C − r = 10 MWh), nothing
    delivered; the model's objective prices the same (binary per event step)."""
    program = _program(commit_mw=5.0, energy_usd_per_mwh=50.0, shortfall_usd_per_mwh=100.0)
    program = dataclasses.replace(program, baseline_fixed_mw=np.array([0.0, 5.0]))
    s = settle(program, 1.0, np.array([10.0, 10.0]), 5.0)
    assert (s.events[0].delivered_mw, s.events[0].shortfall_mwh) == (0.0, 5.0)
    assert s.net_cost_usd == pytest.approx(500.0 - 30.0 * 5.0)
    d = o.solve(_inflexible(program), o.SolverOptions(mip_rel_gap=0.0))
    assert d.costs["dr_program_usd"] == pytest.approx(s.net_cost_usd)
    assert d.objective_usd == pytest.approx(2 * 10 * 40.0 + s.net_cost_usd)


# event step 2, its baseline the mean of steps 0 and 1; 500 USD/MWh delivered, 10 MW
_INFLATABLE = _program(
    events=(DemandResponseEvent("dr@2", (2,)),),
    capacity_usd_per_mw=0.0,
    energy_usd_per_mwh=500.0,
    shortfall_usd_per_mwh=0.0,
    commit_mw=10.0,
    baseline_fixed_mw=None,
    baseline_terms=((2, 0, 0.5), (2, 1, 0.5)),
)


def test_baseline_from_earlier_steps_and_its_inflation():
    """Baseline at the event step 2 = the mean net import of steps 0 and 1. With an energy
    payment of 500 USD/MWh against 40 USD/MWh energy the model inflates the baseline: each
    extra MWh in step 0 or 1 raises it by 0.5 MW and earns 250 USD (up to C = 10 MW of
    delivery): the grid's 40 MW limit and the commitment bound it (see docs/dr_program.md)."""
    program = _INFLATABLE
    np.testing.assert_allclose(baseline_mw(program, [4.0, 8.0, 1.0]), [np.nan, np.nan, 6.0])
    # inflexible 10 MW: baseline 10, reduction 0, delivered 0
    flat = settle(program, 1.0, np.full(3, 10.0), 10.0)
    assert (flat.events[0].baseline_mw, flat.events[0].delivered_mw) == (10.0, 0.0)
    # a battery of 10 MW / 20 MWh (η = 1, empty) shifts import from step 2 into steps 0-1:
    # with S MWh imported there the baseline is S/2 and the step-2 import 30 − S, so the
    # reduction 1.5·S − 30 reaches C = 10 MW from S = 26.67 on; the energy bill stays 30 MWh
    # × 40 USD (1,200) and the program pays 10 MWh × 500 = 5,000 USD
    battery = o.Battery(
        power_mw=10.0,
        energy_mwh=20.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        soc_min_frac=0.0,
        soc_max_frac=1.0,
        soc_initial_frac=0.0,
    )
    p = dataclasses.replace(_inflexible(program, n=3), battery=battery)
    d = o.solve(p, o.SolverOptions(mip_rel_gap=0.0))
    imp = d.series["grid_import_mw"]
    assert imp.sum() == pytest.approx(30.0, abs=1e-6)
    assert imp[0] + imp[1] >= 80 / 3 - 1e-6
    assert settle(program, 1.0, imp, 10.0).events[0].delivered_mw == pytest.approx(10.0)
    assert d.costs["dr_program_usd"] == pytest.approx(-5000.0, abs=1e-6)
    assert d.objective_usd == pytest.approx(1200.0 - 5000.0, abs=1e-6)


def test_program_checks_its_steps():
    with pytest.raises(ValueError, match="outside"):
        _inflexible(_program(events=(DemandResponseEvent("x", (5,)),)))
    with pytest.raises(ValueError, match="overlap"):
        _inflexible(
            _program(events=(DemandResponseEvent("a", (1,)), DemandResponseEvent("b", (1,))))
        )
    with pytest.raises(ValueError, match="shortfall_usd_per_mwh"):
        _program(shortfall_usd_per_mwh=-1.0)


def test_a_window_sees_an_event_only_from_its_notice():
    """Events A (steps 2-3, announced at step 1) and B (step 5, announced at 4); baselines on
    earlier steps. A window from step 1 planned at step 0 sees no event; planned at step 1 it
    sees A, its term on step 0 (net import 8 MW, weight 0.5) turned into 4 MW fixed."""
    program = DemandResponseProgram(
        events=(DemandResponseEvent("A", (2, 3), 1), DemandResponseEvent("B", (5,), 4)),
        capacity_usd_per_mw=7.0,
        energy_usd_per_mwh=1.0,
        shortfall_usd_per_mwh=1.0,
        max_commit_mw=5.0,
        commit_mw=3.0,
        baseline_terms=((2, 0, 0.5), (2, 1, 0.5), (3, 1, 1.0), (5, 4, 1.0)),
    )
    assert window_program(program, 1, 6, np.array([8.0]), plan_step=0).events == ()
    w = window_program(program, 1, 6, np.array([8.0]), plan_step=1)
    assert [(e.key, e.steps) for e in w.events] == [("A", (1, 2))]
    assert w.baseline_terms == ((1, 0, 0.5), (2, 0, 1.0))
    np.testing.assert_allclose(w.baseline_fixed_mw, [0.0, 4.0, 0.0, 0.0, 0.0])
    assert (w.commit_mw, w.capacity_usd_per_mw) == (3.0, 0.0)
    late = window_program(program, 4, 6, np.array([8.0, 1.0, 1.0, 1.0]), plan_step=4)
    assert [(e.key, e.steps) for e in late.events] == [("B", (1,))]
    assert late.baseline_terms == ((1, 0, 1.0),)


def test_rolling_windows_keep_the_commitment_and_carry_the_baseline_days():
    """Inflexible load 4, 8, 10, 10 MW at 40 USD/MWh in windows of 2 steps; an event in step
    3 with the baseline (step 0 + step 1) / 2 = 6 MW, C = 5 MW fixed, 10 USD/MWh paid,
    100 USD/MWh short, 2 USD/MW of capacity. Reduction 6 − 10 = −4 MW: delivered 0 (an
    import above the baseline delivers nothing), shortfall the commitment, 5 MWh (500 USD;
    the old rule charged C − r = 9 MWh); net 500 − 10 = 490 USD. The second window knows
    the baseline only from the first window's committed import: its objective is 800 USD
    of energy + 500 USD."""
    program = DemandResponseProgram(
        events=(DemandResponseEvent("dr@3", (3,)),),
        capacity_usd_per_mw=2.0,
        energy_usd_per_mwh=10.0,
        shortfall_usd_per_mwh=100.0,
        max_commit_mw=5.0,
        commit_mw=5.0,
        baseline_terms=((3, 0, 0.5), (3, 1, 0.5)),
    )
    p = dataclasses.replace(
        _inflexible(program, n=4),
        facility=o.Facility(inference_it_mw=np.array([4.0, 8.0, 10.0, 10.0]), pue=np.ones(4)),
    )
    d = solve_rolling(p, window_steps=2)
    assert d.dr_commit_mw == 5.0
    assert d.costs["dr_program_usd"] == pytest.approx(490.0)
    assert d.objective_usd == pytest.approx(40.0 * 32 + 490.0)
    assert d.windows[1]["objective_usd"] == pytest.approx(800.0 + 500.0)
    assert d.bill["dr_shortfall_usd"] == pytest.approx(500.0)
    with pytest.raises(ValueError, match="commit_mw"):
        free = dataclasses.replace(program, commit_mw=None)
        solve_rolling(dataclasses.replace(p, dr_program=free), window_steps=2)


def test_a_baseline_fixed_on_a_reference_no_schedule_moves():
    """``with_baseline_of``: the baseline of the event step 2 (the mean of steps 0 and 1)
    taken on the reference [4, 8, ...] is 6 MW whatever the schedule imports after."""
    program = dataclasses.replace(_INFLATABLE, commit_mw=None)
    fixed = with_baseline_of(program, np.array([4.0, 8.0, 1.0]))
    assert fixed.baseline_terms == ()
    for net in ([4.0, 8.0, 1.0], [40.0, 40.0, 1.0]):
        np.testing.assert_allclose(baseline_mw(fixed, net), [np.nan, np.nan, 6.0])
