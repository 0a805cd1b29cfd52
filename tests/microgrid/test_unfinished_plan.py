"""A plan that leaves a job unfinished names it: the CLI's deadlines line and the report's
deadlines card (microgrid/cli_summary.py, report_html/kpis.py), and the Slurm export of
its folder (microgrid/export/unfinished.py).

The audit's plan (a carbon budget beside an unfinished-work penalty) ran one job for 21 of
its 110 h: the CLI and the report said "5 / 6" without naming it, and the Slurm export
wrote the job as a normal segment with `notes: []`. Here TINY with the same pair: a
budget of 175 t (its cheapest plan emits about 193 t, and the battery alone cannot save
the difference) and a penalty of 10,000 USD/h: the plan runs its one job for part of its
4 h."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re

import pandas as pd
import pytest
import yaml
from scenario_factory import TINY

from microgrid.cli import main
from microgrid.report_html.kpis import headline_kpis

pytestmark = pytest.mark.slow  # the module fixture solves and writes a run
WORK_H = TINY["jobs"]["items"][0]["work_h"]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """`microgrid run` of the scenario: (its stdout, the result folder)."""
    folder = tmp_path_factory.mktemp("short")
    sc = copy.deepcopy(TINY)
    sc["objective"] = {"unfinished_work_penalty_usd_per_h": 10_000, "carbon_budget_t": 175.0}
    path = folder / "tiny-short.yaml"
    path.write_text(yaml.safe_dump(sc))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["run", str(path), "--no-powerflow", "--out", str(folder / "run")]) == 0
    return stdout.getvalue(), folder / "run"


def _work_done_h(run) -> float:
    """The job's progress by jobs.csv (its segments' work; TINY's job restarts for free)."""
    return float(pd.read_csv(run / "jobs.csv")["work_done_h"].sum())


def test_the_cli_deadlines_line_names_the_missed_job(short_run):
    stdout, run = short_run
    done_h = _work_done_h(run)
    assert 0 < done_h < WORK_H  # the plan runs the job, but not for all its work
    [line] = [s for s in stdout.splitlines() if s.startswith("  job deadlines")]
    assert re.fullmatch(
        rf"  job deadlines +0 / 1 met; missed: train \({done_h:.2f} of {WORK_H:.2f} h of work "
        r"done by 2023-01-03T00:00:00\+00:00\)",
        line,
    ), line


def test_the_reports_deadlines_card_names_the_missed_job(short_run):
    _, run = short_run
    summary = json.loads((run / "summary.json").read_text())
    [missed] = summary["jobs"]["missed_deadlines"]
    assert missed["job"] == "train" and missed["work_h"] == pytest.approx(WORK_H)
    assert missed["work_done_h"] == pytest.approx(_work_done_h(run))
    card = {k.key: k for k in headline_kpis(summary)}["jobs.deadlines_met"]
    text = (
        f"Missed: train ({missed['work_done_h']:.2f} of {WORK_H:.2f} h of work done by "
        "2023-01-03T00:00:00+00:00)."
    )
    assert card.meaning.endswith(text)
    assert text in (run / "report.html").read_text()


def test_the_slurm_export_of_the_run_names_the_unfinished_job(short_run, tmp_path, capsys):
    _, run = short_run
    out = tmp_path / "slurm"
    assert main(["export", str(run), "--to", "slurm", "--out", str(out)]) == 0
    note = (
        f"job 'train': the plan does not finish its work ({_work_done_h(run):.2f} of "
        f"{WORK_H:.2f} h done by its deadline 2023-01-03T00:00:00Z); its segments are "
        "exported as planned and hold only that work"
    )
    assert json.loads((out / "slurm-manifest.json").read_text())["notes"] == [note]
    assert f"note: {note}" in capsys.readouterr().err.splitlines()
