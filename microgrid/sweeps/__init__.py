"""Parameter sweeps: many scenario variants on a local process pool or a Dask cluster."""

from microgrid.sweeps.runner import sweep
from microgrid.sweeps.spec import Case, SweepSpec, load_spec

__all__ = ["Case", "SweepSpec", "load_spec", "sweep", "sweep_report"]


def sweep_report(out_dir, **kwargs):
    """Sensitivity tables, plots and report.html from a sweep's output folder."""
    from microgrid.sweeps.report import sweep_report as _report

    return _report(out_dir, **kwargs)
