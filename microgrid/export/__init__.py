"""Schedule exports: versioned JSON/CSV, Slurm batch scripts, Kubernetes Jobs.

See docs/exports.md. `microgrid export RESULT_DIR --to slurm|kubernetes|json|csv --out PATH`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microgrid.lazy import lazy_names

if TYPE_CHECKING:
    from microgrid.export.kubernetes import KubernetesOptions, export_kubernetes
    from microgrid.export.result_reader import build_schedule, load_result
    from microgrid.export.schedule import (
        SCHEMA_VERSION,
        Schedule,
        ScheduledJob,
        Segment,
        read_schedule,
        write_schedule,
        write_schedule_csv,
    )
    from microgrid.export.slurm import SlurmOptions, export_slurm, submit

# Public name -> the module that defines it, loaded on first use (PEP 562): the export
# command's parser (microgrid.export.parser) must not load pandas for `microgrid --help`.
_LAZY = {
    "KubernetesOptions": "microgrid.export.kubernetes",
    "export_kubernetes": "microgrid.export.kubernetes",
    "build_schedule": "microgrid.export.result_reader",
    "load_result": "microgrid.export.result_reader",
    "SCHEMA_VERSION": "microgrid.export.schedule",
    "Schedule": "microgrid.export.schedule",
    "ScheduledJob": "microgrid.export.schedule",
    "Segment": "microgrid.export.schedule",
    "read_schedule": "microgrid.export.schedule",
    "write_schedule": "microgrid.export.schedule",
    "write_schedule_csv": "microgrid.export.schedule",
    "SlurmOptions": "microgrid.export.slurm",
    "export_slurm": "microgrid.export.slurm",
    "submit": "microgrid.export.slurm",
}

__all__ = [
    "SCHEMA_VERSION",
    "KubernetesOptions",
    "Schedule",
    "ScheduledJob",
    "Segment",
    "SlurmOptions",
    "build_schedule",
    "export_kubernetes",
    "export_slurm",
    "load_result",
    "read_schedule",
    "submit",
    "write_schedule",
    "write_schedule_csv",
]


__getattr__ = lazy_names(__name__, globals(), _LAZY)
