"""Throughput curves of power-capped training jobs.

A curve maps the power fraction ``f`` (share of the job's full IT power) to the throughput
fraction ``g(f)`` (share of full-speed progress). It is given as points ``(f, g)``, must be
concave and must include ``(1, 1)``. Between the points it is linear; below the first point
the first segment is extended (down to ``f_min``). A curve of the single point ``(1, 1)``
means throughput proportional to power, ``g(f) = f``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_TOL = 1e-9


def curve_segments(
    curve: Sequence[tuple[float, float]], f_min: float = 0.0
) -> list[tuple[float, float]]:
    """Lines ``g = a*f + b`` of the segments of a concave curve that matter on [f_min, 1].

    For a concave piecewise-linear ``g`` every segment's line lies on or above ``g``, so
    ``g(f) = min_k (a_k f + b_k)``. Segments lying entirely below ``f_min`` are dropped (their
    lines are redundant there). Raises ``ValueError`` if the curve is not concave or not
    increasing-compatible (negative slope).
    """
    pts = sorted((float(f), float(g)) for f, g in curve)
    if len(pts) < 2:
        return [(1.0, 0.0)]
    segs: list[tuple[float, float, float, float]] = []  # (a, b, f_lo, f_hi)
    for (f0, g0), (f1, g1) in zip(pts[:-1], pts[1:], strict=True):
        if f1 - f0 <= _TOL:
            raise ValueError(f"throughput curve has repeated power fraction {f0}")
        a = (g1 - g0) / (f1 - f0)
        segs.append((a, g0 - a * f0, f0, f1))
    slopes = [s[0] for s in segs]
    if any(s < -_TOL for s in slopes):
        raise ValueError("throughput curve must be non-decreasing in the power fraction")
    if any(s2 > s1 + 1e-7 for s1, s2 in zip(slopes[:-1], slopes[1:], strict=True)):
        raise ValueError(f"throughput curve must be concave (slopes {slopes})")
    keep = [(a, b) for a, b, lo, hi in segs if hi > f_min + _TOL]
    return keep or [(segs[-1][0], segs[-1][1])]


def curve_pieces(
    curve: Sequence[tuple[float, float]], f_min: float
) -> tuple[float, list[tuple[float, float]]]:
    """The curve on ``[f_min, 1]`` as ``g(f_min)`` and its linear pieces in order.

    Returns ``(g_min, pieces)`` with ``pieces`` a list of ``(width, slope)``: the pieces
    run from ``f_min`` to 1 between the curve's points inside that range (``width`` in
    power fraction, ``slope`` in throughput per power fraction, non-increasing as the curve
    is concave), so that ``g(f_min + sum of the first pieces' widths) = g_min + sum of
    width * slope`` over them. Empty for ``f_min = 1``. Below the first point the first
    segment is extended, as in ``curve_segments``.
    """
    lines = curve_segments(curve, 0.0)

    def g(f: float) -> float:
        return float(_lower_envelope(lines, f))

    inner = sorted(float(f) for f, _ in curve if f_min + _TOL < f < 1.0 - _TOL)
    xs = [float(f_min), *inner] + ([1.0] if f_min < 1.0 - _TOL else [])
    pieces = [
        (x1 - x0, (g(x1) - g(x0)) / (x1 - x0)) for x0, x1 in zip(xs[:-1], xs[1:], strict=True)
    ]
    return g(float(f_min)), pieces


def throughput(curve: Sequence[tuple[float, float]], f: np.ndarray | float) -> np.ndarray:
    """Throughput fraction ``g(f)`` (0 where ``f`` is 0)."""
    f_arr = np.asarray(f, dtype=float)
    g = _lower_envelope(curve_segments(curve, 0.0), f_arr)
    return np.where(f_arr > _TOL, g, 0.0)


def _lower_envelope(lines: list[tuple[float, float]], f: np.ndarray | float) -> np.ndarray:
    """``min_k (a_k f + b_k)`` over the ``lines`` (``curve_segments``): the curve at ``f``
    (no special case at 0)."""
    return np.min([a * f + b for a, b in lines], axis=0)
