"""Fixtures for every test directory."""

from __future__ import annotations

import math

import pytest

import optimize.progress


@pytest.fixture(autouse=True)
def _no_timed_progress(monkeypatch):
    """Whether a solve prints progress lines depends on how fast the machine is (one over
    2 s does): off in tests, so stderr is the same on any machine. The progress tests set
    the threshold themselves."""
    monkeypatch.setattr(optimize.progress, "FIRST_AFTER_S", math.inf)
