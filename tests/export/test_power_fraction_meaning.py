"""What the exported power fractions are a fraction of, said where they are written.

The audit: docs/exports.md told users to cap GPUs at `nvidia-smi -pl TDP x fraction`, but
the plan scales the whole kw_per_gpu (the GPU and its server's share) by the fraction. At
0.6 with R1's 0.98 kW (700 W GPU + 40 %) a GPU cap of 420 W and a server still drawing
280 W give ~700 W where the plan counts 588 W. The exports now say what the fraction is of
and how the GPU cap follows from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from export_helpers import reference_result

from microgrid.export.kubernetes import KubernetesOptions, dns_label, export_kubernetes
from microgrid.export.result_reader import build_schedule
from microgrid.export.schedule import SCHEMA_PATH
from microgrid.export.slurm import SlurmOptions, export_slurm, script_name

ROOT = Path(__file__).resolve().parents[2]


def _says_the_relation(text: str) -> None:
    """`text` names the basis (kw_per_gpu with the server's share, not the GPU's limit)
    and the GPU cap's relation to it."""
    flat = " ".join(text.split())
    assert "gpus x kw_per_gpu" in flat and "server's share" in flat, flat
    assert "not of the GPU's power limit" in flat, flat
    assert "planned IT W per GPU = fraction x kw_per_gpu x 1000" in flat, flat
    assert "less the server's non-GPU W per GPU" in flat, flat


def test_slurm_scripts_and_manifest_say_what_the_fraction_is_of(tmp_path):
    sched = build_schedule(reference_result(tmp_path / "r"))
    export_slurm(sched, tmp_path / "s", SlurmOptions(timezone="UTC"))
    script = (tmp_path / "s" / script_name("pretrain-70b", 0)).read_text()
    header = script.split("\nset -euo pipefail", 1)[0]
    comment = " ".join(
        line.removeprefix("# ") for line in header.splitlines() if line.startswith("# ")
    )
    _says_the_relation(comment.split("Power fractions are of ", 1)[1])
    manifest = json.loads((tmp_path / "s" / "slurm-manifest.json").read_text())
    _says_the_relation(manifest["power_fraction_of"])


def test_kubernetes_jobs_say_what_the_fraction_is_of(tmp_path):
    sched = build_schedule(reference_result(tmp_path / "r"))
    export_kubernetes(sched, tmp_path / "k", KubernetesOptions(image="t:1"))
    doc = yaml.safe_load((tmp_path / "k" / f"{dns_label('pretrain-70b', 0)}.yaml").read_text())
    _says_the_relation(doc["metadata"]["annotations"]["microgrid.io/power-fraction-of"])


def test_the_schema_and_the_docs_no_longer_call_it_a_gpu_fraction():
    schema = json.loads(SCHEMA_PATH.read_text())
    seg = schema["$defs"]["segment"]["properties"]
    assert "GPU power fraction" not in json.dumps(schema)
    for name in ("power_fraction_mean", "power_fraction_steps"):
        assert "kw_per_gpu" in seg[name]["description"], name
    docs = (ROOT / "docs" / "exports.md").read_text()
    # the cap the docs give is the plan's W per GPU less the server's share, not TDP x f
    assert not re.search(r"nvidia-smi -pl \$\(\( TDP \* fraction \)\)", docs)
    assert "GPU power cap (W) = f × kw_per_gpu × 1000 − non-GPU W per GPU" in docs
