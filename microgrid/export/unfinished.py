"""Notes on the jobs a plan leaves unfinished.

With an unfinished-work penalty (or a carbon budget beside one) a plan may run a job for
less than the work it needs. Its segments are exported as any job's, so a scheduler that
runs them does only that work and the job is not done by its deadline: the audit's Slurm
export wrote a job planned for 21 of its 110 h as a normal segment, with `notes: []`.
`unfinished_notes` names each such job, the work its plan does against the work it needs
(`work_h` of jobs_spec.json, written by runs since it was added; older folders say it is
unknown) and its deadline; the CLI prints them as `note:` lines for every format, and the
Slurm manifest lists them under `notes`.
"""

from __future__ import annotations

from collections.abc import Mapping

from microgrid.export.schedule import Schedule, ScheduledJob, format_utc
from microgrid.results import UNFINISHED_TOL_H


def unfinished(job: ScheduledJob, work_h: float | None) -> bool:
    """Whether the plan leaves `job` unfinished: jobs.csv says its deadline is missed, or
    it has no segment at all (every job of a run needs work), or its progress falls short
    of `work_h` where jobs.csv does not say."""
    if job.deadline_met is not None:
        return not job.deadline_met
    if not job.segments:
        return True
    return work_h is not None and job.progress_h < work_h - UNFINISHED_TOL_H


def unfinished_note(job: ScheduledJob, work_h: float | None) -> str:
    """The note of an unfinished job, e.g. "job 'pretrain-frontier': the plan does not
    finish its work (21.06 of 110.00 h done by its deadline 2023-08-07T04:00:00Z); its
    segments are exported as planned and hold only that work"."""
    deadline = "the end of the period" if job.deadline_utc is None else format_utc(job.deadline_utc)
    done = f"{job.progress_h:,.2f}" + ("" if work_h is None else f" of {work_h:,.2f}")
    done += f" h done by its deadline {deadline}"
    if work_h is None:
        done += "; the work it needs is not in jobs_spec.json, written before microgrid kept it"
    if not job.segments:
        return f"job {job.id!r}: the plan does none of its work ({done}); it has no segment"
    return (
        f"job {job.id!r}: the plan does not finish its work ({done}); its segments are "
        "exported as planned and hold only that work"
    )


def unfinished_notes(schedule: Schedule, work_h: Mapping[str, float | None]) -> list[str]:
    """A note per job of `schedule` its plan leaves unfinished (`work_h`: the work each job
    needs, by id; None or missing where the result folder does not say)."""
    return [
        unfinished_note(j, work_h.get(j.id))
        for j in schedule.jobs
        if unfinished(j, work_h.get(j.id))
    ]
