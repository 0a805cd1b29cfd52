"""Kubernetes export: one suspended batch/v1 Job per run segment.

Each Job is created with `spec.suspend: true`; a controller or CronJob un-suspends it at
the planned start (annotation `microgrid.io/planned-start`, UTC). `activeDeadlineSeconds`
is the segment's duration, the container asks for `nvidia.com/gpu` (limits) and gets the
same MICROGRID_* environment variables as the Slurm scripts, the segment's power caps step
by step among them (`MICROGRID_POWER_PROFILE`; its step, and the lowest cap, are also in
annotations). See docs/exports.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microgrid.errors import InputError
from microgrid.export.safe_io import (
    OutputDir,
    check_job_text,
    refuse_control_chars,
    short_hash,
)
from microgrid.export.schedule import (
    POWER_FRACTION_OF,
    SCHEMA_VERSION,
    Schedule,
    ScheduledJob,
    Segment,
    format_utc,
    schedule_json,
)
from microgrid.export.slurm import render_command, segment_env
from microgrid.yamlio import dump_yaml

ANNOTATION = "microgrid.io"
MULTI_DOC = "jobs.yaml"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# an extended resource: a DNS subdomain prefix, "/", a qualified name (Kubernetes API docs)
_RESOURCE = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
    r"/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
# registry/name:tag@digest: visible ASCII without quotes or shell characters, not an option
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class KubernetesOptions:
    # the container that runs each job's command: no default, a made-up image would run
    # the cluster's training commands (`srun ...`) where they cannot work
    image: str
    namespace: str | None = None
    request_gpus: bool = True
    gpu_resource: str = "nvidia.com/gpu"
    one_file: bool = False  # True: all Jobs in jobs.yaml; False: one file per Job


@dataclass
class KubernetesExportResult:
    out: Path
    files: list[str]
    names: list[str] = field(default_factory=list)


def dns_label(job_id: str, segment: int) -> str:
    """A DNS-1123 label (<= 63 chars): sanitised id, a hash of the raw id, the segment."""
    base = re.sub(r"[^a-z0-9-]+", "-", job_id.lower())
    base = re.sub(r"-{2,}", "-", base).strip("-")
    suffix = f"{short_hash(job_id)}-s{segment}"
    base = base[: 63 - len(suffix) - 1].strip("-")
    name = f"{base}-{suffix}" if base else f"job-{suffix}"
    assert _DNS_LABEL.match(name) and len(name) <= 63, name
    return name


def label_value(job_id: str) -> str:
    """A valid label value (<= 63 chars) for a job id; the raw id is in an annotation."""
    v = re.sub(r"[^A-Za-z0-9_.-]+", "-", job_id)
    if _LABEL_VALUE.match(v) and len(v) <= 63 and v == job_id:
        return v
    suffix = short_hash(job_id)
    v = v[: 63 - len(suffix) - 1].strip("-_.")
    v = f"{v}-{suffix}" if v else suffix
    assert _LABEL_VALUE.match(v) and len(v) <= 63, v
    return v


def _metadata(
    schedule: Schedule,
    job: ScheduledJob,
    seg: Segment,
    opts: KubernetesOptions,
    env: dict[str, str],
) -> dict[str, Any]:
    """Name, namespace, labels (job, segment) and the plan as annotations (the lowest power
    cap and the profile's step as in the environment `env`, ``segment_env``). The profile
    itself is in `env` only: `kubectl apply` copies the whole manifest into an annotation,
    and the API refuses 256 KiB of annotations, which a long profile held twice there
    (in its own annotation and in the copy of it and of `env`) reached at 9,500 steps."""
    labels = {
        f"{ANNOTATION}/job": label_value(job.id),
        f"{ANNOTATION}/segment": str(seg.segment),
        "app.kubernetes.io/managed-by": "microgrid",
    }
    annotations = {
        f"{ANNOTATION}/job-id": job.id,
        f"{ANNOTATION}/planned-start": format_utc(seg.start_utc),
        f"{ANNOTATION}/planned-end": format_utc(seg.end_utc),
        f"{ANNOTATION}/power-fraction": env["MICROGRID_POWER_FRACTION"],
        f"{ANNOTATION}/power-fraction-of": POWER_FRACTION_OF,
        f"{ANNOTATION}/power-step-s": env["MICROGRID_POWER_STEP_S"],
        f"{ANNOTATION}/scenario": schedule.scenario.name,
        f"{ANNOTATION}/scenario-sha256": schedule.scenario.sha256 or "",
        f"{ANNOTATION}/result-id": schedule.result_id,
        f"{ANNOTATION}/schema-version": SCHEMA_VERSION,
    }
    if job.deadline_utc is not None:
        annotations[f"{ANNOTATION}/deadline"] = format_utc(job.deadline_utc)
    if seg.segment > 0:
        annotations[f"{ANNOTATION}/after"] = dns_label(job.id, seg.segment - 1)
    metadata: dict[str, Any] = {
        "name": dns_label(job.id, seg.segment),
        "labels": labels,
        "annotations": annotations,
    }
    if opts.namespace:
        metadata["namespace"] = opts.namespace
    return metadata


def _container(
    job: ScheduledJob, seg: Segment, opts: KubernetesOptions, env: dict[str, str]
) -> dict[str, Any]:
    """The job's command in `opts.image` with the MICROGRID_* environment `env` and its
    GPUs."""
    cap = min(seg.power_fraction_steps)  # MICROGRID_POWER_FRACTION's: the lowest
    container: dict[str, Any] = {
        "name": "train",
        "image": opts.image,
        "command": ["/bin/sh", "-c"],
        "args": [render_command(job.command, job.id, seg.segment, cap)],
        "env": [{"name": k, "value": v} for k, v in env.items()],
    }
    if opts.request_gpus:
        container["resources"] = {"limits": {opts.gpu_resource: str(seg.gpus)}}  # a Quantity
    return container


def job_manifest(
    schedule: Schedule, job: ScheduledJob, seg: Segment, opts: KubernetesOptions
) -> dict[str, Any]:
    """A suspended Job for one segment, its run time capped at the segment's duration."""
    env = segment_env(schedule, job, seg, schedule.site_timezone)
    metadata = _metadata(schedule, job, seg, opts, env)
    container = _container(job, seg, opts, env)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "suspend": True,
            "activeDeadlineSeconds": math.ceil(seg.duration.total_seconds()),
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": dict(metadata["labels"])},
                "spec": {"restartPolicy": "Never", "containers": [container]},
            },
        },
    }


def _dump(doc: dict[str, Any]) -> str:
    return dump_yaml(doc, sort_keys=False, allow_unicode=False, width=100)


def export_kubernetes(
    schedule: Schedule, out: str | Path, opts: KubernetesOptions
) -> KubernetesExportResult:
    """Write suspended Job manifests (one file per segment, or jobs.yaml) and schedule.json."""
    if opts.namespace and not (len(opts.namespace) <= 63 and _DNS_LABEL.fullmatch(opts.namespace)):
        raise InputError(
            f"namespace {opts.namespace!r} is not a DNS-1123 label (a-z, 0-9, '-', at most 63)"
        )
    if not (isinstance(opts.image, str) and _IMAGE.fullmatch(opts.image)):
        raise InputError(
            f"container image {opts.image!r} is not an image reference (no spaces or control "
            "characters, at most 512 characters)"
        )
    if not (isinstance(opts.gpu_resource, str) and _RESOURCE.fullmatch(opts.gpu_resource)):
        raise InputError(
            f"GPU resource {opts.gpu_resource!r} is not an extended resource name "
            "(a DNS prefix, '/', a name: nvidia.com/gpu)"
        )
    refuse_control_chars(schedule.scenario.name, what="scenario name", field="scenario.name")
    for j in schedule.jobs:
        check_job_text(j.id, j.command)
    docs = [job_manifest(schedule, j, s, opts) for j in schedule.jobs for s in j.segments]
    names = [d["metadata"]["name"] for d in docs]
    if len(set(names)) != len(names):  # pragma: no cover - a sha256 prefix collision
        raise InputError("two segments map to the same Kubernetes name")
    files: dict[str, str] = {}
    if opts.one_file:
        files[MULTI_DOC] = "".join("---\n" + _dump(d) for d in docs)
    else:
        for d in docs:
            files[f"{d['metadata']['name']}.yaml"] = _dump(d)
    files["schedule.json"] = schedule_json(schedule)
    od = OutputDir(out)
    od.write_all(files)
    return KubernetesExportResult(out=od.root, files=list(files), names=names)
