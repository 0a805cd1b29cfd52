"""Kubernetes export: suspended batch/v1 Jobs that the kubernetes client accepts."""

from __future__ import annotations

import inspect
import json
import re

import pytest
import yaml
from export_helpers import JobIn, SegIn, reference_result, write_result_dir
from kubernetes.client import ApiClient, V1Job

from microgrid.errors import InputError
from microgrid.export.kubernetes import (
    KubernetesOptions,
    dns_label,
    export_kubernetes,
    label_value,
)
from microgrid.export.result_reader import build_schedule

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class _Response:
    """What ApiClient.deserialize reads: an object with `.data` (JSON text)."""

    def __init__(self, doc: dict) -> None:
        self.data = json.dumps(doc)


def _deserialize(doc: dict, klass: str):
    """ApiClient.deserialize as a real API response goes through it: kubernetes >= 33 takes
    (text, type, content_type), older clients a response object with `.data`."""
    client = ApiClient()
    params = inspect.signature(client.deserialize).parameters
    if "content_type" in params:
        return client.deserialize(json.dumps(doc), klass, "application/json")
    return client.deserialize(_Response(doc), klass)


def _as_v1job(doc: dict) -> V1Job:
    job = _deserialize(doc, "V1Job")
    assert isinstance(job, V1Job)
    # the model keeps every field we wrote: serialising it back gives the same document
    assert ApiClient().sanitize_for_serialization(job) == doc
    return job


def test_manifests_are_valid_suspended_jobs(tmp_path):
    rd = reference_result(tmp_path / "r")
    res = export_kubernetes(build_schedule(rd), tmp_path / "k8s", KubernetesOptions(image="t:1"))
    assert len(res.names) == 4 and len(set(res.names)) == 4
    docs = {}
    for name in res.names:
        doc = yaml.safe_load((tmp_path / "k8s" / f"{name}.yaml").read_text())
        docs[name] = _as_v1job(doc)
    j = docs[dns_label("pretrain-70b", 1)]
    assert j.api_version == "batch/v1" and j.kind == "Job"
    assert j.spec.suspend is True
    assert j.spec.active_deadline_seconds == 42 * 3600  # 08-23 03:00Z .. 08-24 21:00Z
    ann = j.metadata.annotations
    assert ann["microgrid.io/planned-start"] == "2023-08-23T03:00:00Z"
    assert ann["microgrid.io/deadline"] == "2023-08-28T05:00:00Z"
    assert ann["microgrid.io/job-id"] == "pretrain-70b"
    assert j.metadata.labels["microgrid.io/job"] == "pretrain-70b"
    assert j.metadata.labels["microgrid.io/segment"] == "1"
    c = j.spec.template.spec.containers[0]
    assert c.resources.limits == {"nvidia.com/gpu": "32768"}
    env = {e.name: e.value for e in c.env}
    assert env["MICROGRID_POWER_FRACTION"] == "1.000000"
    assert env["MICROGRID_POWER_PROFILE"] == ",".join(["1.000000"] * 42)
    assert env["MICROGRID_POWER_STEP_S"] == "3600"
    assert env["MICROGRID_SEGMENT"] == "1" and env["MICROGRID_RESUME"] == "1"
    assert env["MICROGRID_TZ"] == "America/Chicago"
    assert c.command == ["/bin/sh", "-c"]
    assert c.args == ["srun python train.py --model 70b --resume-from-latest"]
    assert j.spec.template.spec.restart_policy == "Never"


def test_one_file_and_no_gpus(tmp_path):
    rd = reference_result(tmp_path / "r")
    opts = KubernetesOptions(image="t:1", one_file=True, request_gpus=False, namespace="training")
    export_kubernetes(build_schedule(rd), tmp_path / "k", opts)
    docs = list(yaml.safe_load_all((tmp_path / "k" / "jobs.yaml").read_text()))
    assert len(docs) == 4
    for d in docs:
        job = _as_v1job(d)
        assert job.metadata.namespace == "training"
        assert job.spec.template.spec.containers[0].resources is None


def test_names_are_dns_labels_and_unique(tmp_path):
    # "._-": nothing of it is left in a DNS label (ids starting with "-" are refused)
    ids = ["A_b", "a-b", "a.b", "x" * 200, "Ünïcode ✓", '"; rm -rf ~; echo "', "._-"]
    jobs = [JobIn(i, 1, "2030-01-02T00:00:00+00:00") for i in ids]
    segs = [
        SegIn(i, 0, "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", 1, 1.0, 1.0, 0.1) for i in ids
    ]
    rd = write_result_dir(tmp_path / "r", jobs, segs)
    res = export_kubernetes(build_schedule(rd), tmp_path / "k", KubernetesOptions(image="t:1"))
    assert len(set(res.names)) == len(ids)
    for name, raw in zip(res.names, ids, strict=True):
        assert DNS_1123.match(name) and len(name) <= 63, name
        doc = yaml.safe_load((tmp_path / "k" / f"{name}.yaml").read_text())
        job = _as_v1job(doc)
        assert job.metadata.annotations["microgrid.io/job-id"] == raw  # raw id, verbatim
        value = job.metadata.labels["microgrid.io/job"]
        assert len(value) <= 63 and re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", value)
        # the command gets the id shell-quoted: sh sees one word
        assert job.spec.template.spec.containers[0].args[0].startswith("echo training ")


def test_label_value_keeps_simple_ids():
    assert label_value("pretrain-70b") == "pretrain-70b"
    assert label_value("a b") != label_value("a_b")


def test_control_characters_are_refused(tmp_path):
    rd = write_result_dir(
        tmp_path / "r",
        [JobIn("ok", 1, "2030-01-02T00:00:00+00:00")],
        [SegIn("ok", 0, "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", 1, 1.0, 1.0, 0.1)],
    )
    spec = json.loads((rd / "jobs_spec.json").read_text())
    spec[0]["id"] = "bad\nid"
    (rd / "jobs_spec.json").write_text(json.dumps(spec))
    (rd / "jobs.csv").write_text((rd / "jobs.csv").read_text().replace("\nok,", '\n"bad\nid",'))
    with pytest.raises(InputError, match="control characters"):
        export_kubernetes(build_schedule(rd), tmp_path / "k", KubernetesOptions(image="t:1"))
    assert not (tmp_path / "k").exists()


@pytest.mark.parametrize(
    ("opts", "needle"),
    [
        ({"image": "t:1", "gpu_resource": "a b\nc"}, "not an extended resource name"),
        ({"image": "t:1", "gpu_resource": "gpu"}, "not an extended resource name"),
        ({"image": None}, "not an image reference"),
    ],
)
def test_options_made_in_python_are_checked(tmp_path, opts, needle):
    """A GPU resource with a space and a newline was written as the limits' key; an image
    of None failed with a bare TypeError."""
    rd = reference_result(tmp_path / "r")
    with pytest.raises(InputError, match=needle):
        export_kubernetes(build_schedule(rd), tmp_path / "k", KubernetesOptions(**opts))
    assert not (tmp_path / "k").exists()
