"""Schedule exports: versioned JSON/CSV, Slurm batch scripts, Kubernetes Jobs.

See docs/exports.md. `microgrid export RESULT_DIR --to slurm|kubernetes|json|csv --out PATH`.
"""

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
