"""The headroom curve of a scenario: for each curtailment limit X, with and without the
on-site assets, the largest campus the scenario's connection carries and the connection
the scenario's campus needs (``optimize.headroom``'s two solves)."""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from microgrid.connection_headroom.case import BACKUP_MODES, ScenarioCases, scenario_cases
from microgrid.errors import InputError
from microgrid.scenario import Scenario, scenario_and_path
from optimize.headroom import (
    MEASURES,
    HeadroomPoint,
    default_options,
    max_campus,
    min_connection,
)
from optimize.solver_options import SolverOptions

DEFAULT_CURTAIL_PCT = (0.0, 0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class HeadroomRow:
    """One limit X (``curtail_pct``, % of training energy or of steps), one supply case."""

    curtail_pct: float
    onsite: bool
    max_campus: HeadroomPoint  # the largest campus on the scenario's connection
    connection_needed: HeadroomPoint  # the least connection for the scenario's campus


@dataclass(frozen=True)
class HeadroomResult:
    """The curve: rows ordered by ``onsite`` (False first), then by ``curtail_pct``.
    ``microgrid.connection_headroom.files.write_headroom`` writes it to a folder."""

    scenario_name: str
    period: dict[str, object]  # Scenario.period_record: UTC start and end, step, zone
    measure: str
    backup: str
    connection_mw: float  # the scenario's grid.import_max_mw
    campus_it_mw: float  # the scenario's datacenter.it_capacity_mw
    has_onsite: bool  # False: the scenario has no on-site assets (both cases equal)
    step_h: float
    n_steps: int
    outage_steps: int
    rows: tuple[HeadroomRow, ...]
    run_s: float


def check_curtail_pct(values: Iterable[float]) -> tuple[float, ...]:
    """The limits in % (each in [0, 100), at least one, no repeats), sorted. Errors name
    the Python parameter and the CLI option both."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InputError(f"{_CURTAIL}: a list of percentages, not {type(values).__name__}")
    if not all(_is_number(v) for v in values):
        raise InputError(f"{_CURTAIL}: each value a number (percent), not {list(values)!r}")
    vals = tuple(float(v) for v in values)
    if not vals:
        raise InputError(f"{_CURTAIL}: give at least one value (percent)")
    for v in vals:
        if not (math.isfinite(v) and 0 <= v < 100):
            raise InputError(f"{_CURTAIL}: {v:g} is not a percentage in [0, 100)")
    if len(set(vals)) != len(vals):
        raise InputError(f"{_CURTAIL}: a value is repeated")
    return tuple(sorted(vals))


_CURTAIL = "curtail_pct (--curtail-pct)"


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def headroom(
    scenario: Scenario | str | Path,
    curtail_pct: Iterable[float] = DEFAULT_CURTAIL_PCT,
    measure: str = "energy",
    backup: str = "none",
    time_limit_s: float | None = None,
) -> HeadroomResult:
    """The headroom curve of ``scenario`` (a Scenario or a YAML path): for each
    curtailment limit, with and without the on-site assets, the largest campus (IT MW) the
    scenario's connection carries and the connection (MW) the scenario's campus needs
    (docs/headroom.md); nothing is written (``connection_headroom.write_headroom``).

    ``curtail_pct``: the limits in percent, each in [0, 100). ``measure``: ``"energy"``
    (curtailed MWh as a share of the training energy) or ``"hours"`` (curtailed steps as
    a share of the steps). ``backup``: the generators ``"none"``, in ``"outages"`` only,
    or ``"always"``. ``time_limit_s``: a limit on each hours MILP in seconds (default
    none: 0.1 % or 1,000 nodes); one that binds gives status ``time_limit``, with the
    answer found and its proven bound.

    Returns a ``HeadroomResult``: its ``rows`` give each point's sizes in MW, curtailed
    MWh and hours, and ``solve_s`` (wall-clock seconds). Raises
    ``microgrid.errors.InputError`` (several at once: ``InputErrors``) for bad input: an
    argument above, the scenario's schema or cross-field rules, a data file; a solve
    HiGHS stops without an answer raises ``optimize.SolveError``."""
    scenario, _ = scenario_and_path(scenario)
    pcts = check_curtail_pct(curtail_pct)
    if measure not in MEASURES:
        raise InputError(f"measure (--measure): one of {', '.join(MEASURES)}, not {measure!r}")
    if backup not in BACKUP_MODES:
        raise InputError(f"backup (--backup): one of {', '.join(BACKUP_MODES)}, not {backup!r}")
    if time_limit_s is not None and not (
        _is_number(time_limit_s) and math.isfinite(time_limit_s) and time_limit_s > 0
    ):
        raise InputError(
            f"time_limit_s (--time-limit-s): {time_limit_s!r} is not a positive number of seconds"
        )
    options = dataclasses.replace(default_options(measure), time_limit_s=time_limit_s)
    t0 = time.perf_counter()
    cases = scenario_cases(scenario, backup)
    rows = _rows(cases, pcts, measure, options)
    return HeadroomResult(
        scenario_name=scenario.name,
        period=scenario.period_record(),
        measure=measure,
        backup=backup,
        connection_mw=cases.connection_mw,
        campus_it_mw=cases.campus_it_mw,
        has_onsite=cases.has_onsite,
        step_h=cases.step_h,
        n_steps=cases.n_steps,
        outage_steps=cases.outage_steps,
        rows=tuple(rows),
        run_s=time.perf_counter() - t0,
    )


def _rows(
    cases: ScenarioCases, pcts: tuple[float, ...], measure: str, options: SolverOptions
) -> list[HeadroomRow]:
    """Each limit without, then with, the on-site assets: both solves."""
    rows: list[HeadroomRow] = []
    for onsite in (False, True):
        case = cases.onsite if onsite else cases.grid_only
        for pct in pcts:
            if onsite and not cases.has_onsite:  # the same case: the same answer
                rows.append(HeadroomRow(pct, True, *_answers(rows, pct)))
                continue
            frac = pct / 100.0
            rows.append(
                HeadroomRow(
                    curtail_pct=pct,
                    onsite=onsite,
                    max_campus=max_campus(case, cases.connection_mw, frac, measure, options),
                    connection_needed=min_connection(
                        case, cases.campus_it_mw, frac, measure, options
                    ),
                )
            )
    return rows


def _answers(rows: list[HeadroomRow], pct: float) -> tuple[HeadroomPoint, HeadroomPoint]:
    row = next(r for r in rows if not r.onsite and r.curtail_pct == pct)
    return row.max_campus, row.connection_needed
