r"""Direct simulation of the full single-spin problem (1.2) by fixed-step RK4.

The step resolves the fast field: :math:`h \le \varepsilon/n` with ``n =
steps_per_eps``, and also :math:`h \le 1/(n(\beta+\gamma)\max|\mathbf{H}|)` for
strong fields. The field is evaluated in vectorised chunks; the time loop
then works on plain floats, because for a 3-vector numpy's per-call overhead
is some fifty times the arithmetic itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks

_CHUNK = 65_536  # steps whose field values are held at once


def step_grid(t_out: np.ndarray, h_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform RK4 steps on each interval of ``t_out``, none longer than ``h_max``.

    Returns the start times and lengths of all steps, and for each output time
    the number of steps taken before it.
    """
    gaps = np.diff(t_out)
    counts = np.where(gaps > 0, np.ceil(gaps / h_max - 1e-9).astype(int), 0)
    h = np.repeat(np.divide(gaps, counts, out=np.zeros_like(gaps), where=counts > 0), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    starts = np.repeat(t_out[:-1], counts) + local * h
    return starts, h, np.concatenate([[0], np.cumsum(counts)])


def rk4_spin(
    H: Callable,
    m0: np.ndarray,
    t_out: np.ndarray,
    h_max: float,
    *,
    eps: float,
    beta: float,
    gamma: float,
) -> np.ndarray:
    r"""Classical RK4 for (1.2) from ``t_out[0]``, returning :math:`\mathbf{m}` at ``t_out``."""
    starts, h, marks = step_grid(t_out, h_max)
    out = np.empty((len(t_out), 3))
    out[0] = m0
    m = tuple(float(x) for x in m0)
    filled = 1
    for c in range(0, len(h), _CHUNK):
        s, hh = starts[c : c + _CHUNK], h[c : c + _CHUNK]
        t = np.stack([s, s + 0.5 * hh, s + hh], axis=1)
        fields = _checks.evaluate_field(H, t, t / eps).tolist()
        for k, (dt, (f0, f1, f2)) in enumerate(zip(hh.tolist(), fields, strict=True), start=c):
            m = _rk4_step(m, dt, f0, f1, f2, beta, gamma)
            while filled < len(t_out) and marks[filled] == k + 1:
                out[filled] = m
                filled += 1
    out[filled:] = m
    return out


def _rk4_step(m, h, f0, f1, f2, beta, gamma):
    x, y, z = m
    a = _ll(x, y, z, f0, beta, gamma)
    b = _ll(x + 0.5 * h * a[0], y + 0.5 * h * a[1], z + 0.5 * h * a[2], f1, beta, gamma)
    c = _ll(x + 0.5 * h * b[0], y + 0.5 * h * b[1], z + 0.5 * h * b[2], f1, beta, gamma)
    d = _ll(x + h * c[0], y + h * c[1], z + h * c[2], f2, beta, gamma)
    w = h / 6
    return (
        x + w * (a[0] + 2 * b[0] + 2 * c[0] + d[0]),
        y + w * (a[1] + 2 * b[1] + 2 * c[1] + d[1]),
        z + w * (a[2] + 2 * b[2] + 2 * c[2] + d[2]),
    )


def _ll(x, y, z, H, beta, gamma):
    """(1.2) on plain floats: -beta m x H - gamma m x (m x H), m = (x, y, z)."""
    hx, hy, hz = H
    cx, cy, cz = y * hz - z * hy, z * hx - x * hz, x * hy - y * hx
    dx, dy, dz = y * cz - z * cy, z * cx - x * cz, x * cy - y * cx
    return (-beta * cx - gamma * dx, -beta * cy - gamma * dy, -beta * cz - gamma * dz)


def field_bound(H: Callable, T: float, eps: float, n: int = 64) -> float:
    r"""Estimate :math:`\max|\mathbf{H}(t, s)|` on a grid of :math:`[0, T]\times[0, 1)`."""
    t, s = np.meshgrid(np.linspace(0.0, T, n), np.arange(n) / n, indexing="ij")
    return float(np.max(np.linalg.norm(_checks.evaluate_field(H, t, s), axis=-1)))
