"""The report's money figures: the total cost's parts, the carbon cost beside it, and
what the proven gap is measured on."""

from __future__ import annotations

from microgrid.report_html.kpis import _money, _solver


def _summary(**extra) -> dict:
    s = {
        "total_cost_usd": 554_440.0,
        "energy_cost_usd": 417_334.0,
        "demand_cost_usd": 133_075.0,
        "fuel_cost_usd": 0.0,
        "wear_cost_usd": 4_031.0,
        "fixed_cost_usd": 0.0,
        "dr_program_usd": 0.0,
        "unfinished_penalty_usd": 0.0,
        "carbon_cost_usd": 650_493.0,
    }
    return s | extra


def test_the_parts_shown_under_the_total_add_up_to_it():
    for s in (_summary(), _summary(fixed_cost_usd=96.8, total_cost_usd=554_536.8)):
        kpis = _money(s)
        parts = [k.value for k in kpis if k.part]
        assert sum(parts) == s["total_cost_usd"]
    shown = [k.key for k in _money(_summary())]
    assert "fixed_cost_usd" not in shown and "dr_program_usd" not in shown


def test_the_carbon_cost_is_not_a_part_and_not_said_to_be_in_the_total():
    kpis = {k.key: k for k in _money(_summary())}
    assert not kpis["carbon_cost_usd"].part
    assert "not in the total" in kpis["carbon_cost_usd"].meaning
    assert "carbon" in kpis["total_cost_usd"].meaning
    assert "not" in kpis["total_cost_usd"].meaning.split("carbon")[1]


def test_the_gap_sentence_names_the_objective_and_what_the_basis_is():
    solver = {
        "status": "optimal",
        "mip_gap": 0.003,
        "objective_usd": 1_204_933.0,
        "bound_usd": 1_201_277.0,
        "gap_basis_usd": 1_218_000.0,
    }
    gap = [k for k in _solver({"solver": solver}) if k.key == "solver.mip_gap"][0]
    assert "objective" in gap.meaning and "1,204,933 USD" in gap.meaning
    assert "1,201,277 USD" in gap.meaning and "1,218,000 USD" in gap.meaning
    assert "(the gross cost)" not in gap.meaning
