"""A Ctrl-C that library code wraps into another exception writes no record (docs/sweeps.md
rule 7). The SIGINT handler raises KeyboardInterrupt at whatever Python instruction runs;
in a pydantic serializer, pydantic-core wraps it into `PydanticSerializationError`, which
the worker once recorded as a failed case. Deterministic: the case itself raises SIGINT
inside a serializer, with the worker's own handler in place."""

from __future__ import annotations

import signal
from pathlib import Path

import pydantic
import pytest
from pydantic_core import PydanticSerializationError

from microgrid.sweeps import backends, stop_flag
from microgrid.sweeps.records import record_path
from microgrid.sweeps.worker import CaseTask, execute_case


class _SerializedOnCtrlC(pydantic.BaseModel):
    x: int = 0

    @pydantic.field_serializer("x")
    def _ser(self, v: int) -> int:
        signal.raise_signal(signal.SIGINT)  # the terminal's Ctrl-C, mid-serializer
        return v


def ctrl_c_in_a_serializer(scenario: object) -> object:
    """A case function interrupted inside a pydantic serializer."""
    _SerializedOnCtrlC().model_dump_json()
    raise AssertionError("the serializer should have raised")


def _task(tmp_path: Path, timeout_s: float | None) -> CaseTask:
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    (out / "cases").mkdir()
    return CaseTask(
        "000-deadbeef", 0, {}, None, "sha", str(out), "run-1", timeout_s,
        ctrl_c_in_a_serializer,
    )  # fmt: skip


@pytest.fixture
def pool_worker_sigint(monkeypatch):
    """This process as a pool worker: its SIGINT handler and its flag (restored after)."""
    monkeypatch.setattr(stop_flag, "_noted", False)
    previous = signal.signal(signal.SIGINT, backends._on_sigint)
    yield
    signal.signal(signal.SIGINT, previous)


def test_the_wrapping_is_real():
    """The premise: pydantic wraps the KeyboardInterrupt (else this test file is moot)."""
    with pytest.raises(PydanticSerializationError, match="KeyboardInterrupt"):
        try:
            previous = signal.signal(signal.SIGINT, signal.default_int_handler)
            _SerializedOnCtrlC().model_dump_json()
        finally:
            signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("pool_worker_sigint")
def test_a_wrapped_ctrl_c_in_a_pool_worker_writes_no_record(tmp_path):
    task = _task(tmp_path, timeout_s=None)
    with pytest.raises(KeyboardInterrupt):
        backends.run_pool_case(task)
    assert not record_path(Path(task.out), task.case_id).exists()
    assert list((Path(task.out) / "cases").iterdir()) == []


@pytest.mark.usefixtures("pool_worker_sigint")
def test_a_wrapped_ctrl_c_in_a_time_limited_case_writes_no_record(tmp_path):
    """The case runs in a forked child with its own SIGINT handler (`case_process`)."""
    task = _task(tmp_path, timeout_s=60.0)
    with pytest.raises(KeyboardInterrupt):
        execute_case(task)
    assert not record_path(Path(task.out), task.case_id).exists()
    assert list((Path(task.out) / "records").iterdir()) == []
