r"""Direct simulation of the periodic chain (3.8): classical RK4, vectorised over the particles.

The state is held components first, shape ``(3, n)``, so that the right-hand side is a few
whole-array operations; the applied field (uniform, or particle by particle, see
:mod:`hmm.chain.field`) is evaluated in blocks of steps at once. A chain of a hundred spins is
still a small array for numpy, so several runs (the same chain at several periods) can be run
as one batch, shape ``(B, 3, n)``: :func:`solve_dns_batch`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np

from .. import _checks
from ..dns import _CHUNK, rk4_step_limit, step_chunks, step_counts
from ..integrators import rk4_step
from ..solution import Solution, make_stats
from .field import ChainField

DEFAULT_CHAIN_DNS_STEPS_PER_EPS = 32
_BLOCK_VALUES = 2**16  # field values (steps x particles) held at once


def exchange_rhs(m: np.ndarray, h_applied: np.ndarray, J: float, beta: float, gamma: float):
    r"""(3.8) for ``m`` of shape (..., 3, n) (components first): :math:`\mathbf{H}_i = J(\mathbf{m}_{i-1} + \mathbf{m}_{i+1}) + \tilde{\mathbf{H}}`.

    ``h_applied`` of shape (..., 3, 1) (the same on every particle) or (..., 3, n); the leading
    axes are a batch of chains. The cross products are
    taken on whole (3, n) arrays with their components permuted (a few calls where component by
    component takes some thirty: for a chain of a hundred spins numpy's per-call cost dominates);
    each component is the same arithmetic as written out, to the last bit.
    """
    n = m.shape[-1]
    h = h_applied + J * _neighbour_sum(m, n) if J else h_applied
    m6 = m[..., _ROLL, :]
    c = _cross(m6, h)
    if gamma:
        return -beta * c - gamma * _cross(m6, c)
    return -beta * c


# m6 = m[_ROLL], a6 = a[_SWAP]: m x a = m6[:3] a6[:3] - m6[3:] a6[3:], row 0 y a_z - z a_y, ...
_ROLL = np.array([1, 2, 0, 2, 0, 1])
_SWAP = np.array([2, 0, 1, 1, 2, 0])


def _cross(m6: np.ndarray, a: np.ndarray) -> np.ndarray:
    r""":math:`\mathbf{m}\times\mathbf{a}` components first, ``m6 = m[_ROLL]``."""
    a6 = a[..., _SWAP, :]
    return m6[..., :3, :] * a6[..., :3, :] - m6[..., 3:, :] * a6[..., 3:, :]


def _neighbour_sum(m: np.ndarray, n: int) -> np.ndarray:
    r""":math:`\mathbf{m}_{i-1} + \mathbf{m}_{i+1}` on the ring, components first."""
    both = m.take(_ring(n), axis=-1)
    return both[..., :n] + both[..., n:]


@functools.lru_cache
def _ring(n: int) -> np.ndarray:
    """The left then the right neighbour of each of ``n`` particles on the ring."""
    i = np.arange(n)
    return np.concatenate([(i - 1) % n, (i + 1) % n])


def rk4_chain(
    field: ChainField, m0: np.ndarray, t_out: np.ndarray, h_max: float, *, eps, J, beta, gamma,
    x: np.ndarray,
):  # fmt: skip
    """Classical RK4 for (3.8) from ``t_out[0]`` through ``t_out`` (monotone, either direction).

    ``x`` holds the particle positions (for a particle-dependent field). Returns ``m`` at
    ``t_out``, shape ``(len(t_out), n, 3)``.
    """
    out = np.empty((len(t_out),) + m0.shape)
    out[0] = m0
    m = np.ascontiguousarray(m0.T)

    def rhs(y, h_applied):
        return exchange_rhs(y, h_applied, J, beta, gamma)

    last = 0
    for starts, h, pieces in step_blocks(t_out, h_max):
        values, done = field_values(field, starts, h, eps, x), 0
        for stop, h_i, i in pieces:
            out[last + 1 : i + 1] = m.T
            for f in itertools.islice(values, stop - done):
                m = rk4_step(rhs, m, h_i, f)
            out[i + 1] = m.T
            last, done = i + 1, stop
    out[last + 1 :] = m.T
    if not np.all(np.isfinite(out)):
        raise ValueError("the chain DNS produced NaN or inf; check H and J")
    return out


def step_blocks(t_out: np.ndarray, h_max: float):
    """The steps of :func:`hmm.dns.step_chunks` gathered over intervals, in blocks.

    Yields ``(starts, h, pieces)``: the start time and the size of each step of a block of at
    least ``_CHUNK`` steps (the last one fewer), and its pieces ``(stop, h, i)``: the block's
    steps before ``stop`` (from the piece before) are of size ``h`` on interval ``i``. On a fine
    output grid (the windows of :func:`hmm.chain.dns_average`) the field is then evaluated for
    many intervals at once instead of a few steps at a time.
    """
    pieces, size = [], 0
    for piece in step_chunks(t_out, h_max):
        pieces.append(piece)
        size += len(piece[0])
        if size >= _CHUNK:
            yield _joined(pieces)
            pieces, size = [], 0
    if pieces:
        yield _joined(pieces)


def _joined(pieces: list) -> tuple:
    """One block of :func:`step_blocks` from its pieces ``(starts, h, i)``."""
    starts = np.concatenate([p[0] for p in pieces])
    h = np.concatenate([np.full(len(p[0]), p[1]) for p in pieces])
    stops = np.cumsum([len(p[0]) for p in pieces]).tolist()
    return starts, h, [(stop, p[1], p[2]) for stop, p in zip(stops, pieces, strict=True)]


def field_values(field: ChainField, starts: np.ndarray, h, eps: float, x: np.ndarray):
    """The field at the start, middle and end of each RK4 step, components first, in blocks.

    ``h``: the step size, one for all or one per step. Yields ``(3 stages, 3, n)`` (``(3, 3, 1)``
    for a uniform field) per step; the field is evaluated for a block of steps at once, at most
    ``_BLOCK_VALUES`` values per block.
    """
    size = max(1, _BLOCK_VALUES // len(x)) if field.spatial else len(starts)
    h = np.broadcast_to(h, starts.shape)
    for b in range(0, len(starts), size):
        s, hb = starts[b : b + size], h[b : b + size]
        yield from field.on_chain(np.stack([s, s + 0.5 * hb, s + hb], axis=1), eps, x)


def rk4_chain_batch(
    fields: list, m0: np.ndarray, t_out: np.ndarray, h_max, *, eps, J, beta, gamma, x: np.ndarray
) -> np.ndarray:
    """:func:`rk4_chain` for a batch of runs at once, state shape ``(B, 3, n)``.

    Run ``b`` has its own field ``fields[b]`` (a :class:`ChainField`, which counts its own
    evaluations), step limit ``h_max[b]`` and period ``eps[b]``, and on each interval of
    ``t_out`` takes the steps that :func:`rk4_chain` takes; a run that has finished the interval
    steps with h = 0 (no change, no field evaluation) while the others go on. Every run is
    computed as alone, to the last bit. Returns ``m`` of shape ``(B, len(t_out), n, 3)``.
    """
    counts = np.array([step_counts(t_out, h) for h in h_max])
    out = np.empty((len(fields), len(t_out)) + m0.shape)
    out[:, 0] = m0
    m = np.repeat(m0.T[None], len(fields), axis=0)

    def rhs(y, h_applied):
        return exchange_rhs(y, h_applied, J, beta, gamma)

    for i in range(len(t_out) - 1):
        for j in range(0, counts[:, i].max(), _CHUNK):
            h, values = _batch_chunk(fields, t_out, i, j, counts[:, i], eps, x)
            for h_j, f in zip(h, values, strict=True):
                m = rk4_step(rhs, m, h_j, tuple(f))
        out[:, i + 1] = m.transpose(0, 2, 1)
    if not np.all(np.isfinite(out)):
        raise ValueError("the chain DNS produced NaN or inf; check H and J")
    return out


def _batch_chunk(fields: list, t_out, i: int, j: int, counts, eps, x) -> tuple:
    """Steps ``j`` to ``j + _CHUNK`` of interval ``i`` for each run of :func:`rk4_chain_batch`.

    Returns the step sizes, shape ``(steps, B, 1, 1)``, and the field values, ``(steps, 3
    stages, B, 3, n or 1)``; zero past the end of a run's steps.
    """
    size = min(_CHUNK, counts.max() - j)
    width = len(x) if fields[0].spatial else 1
    h = np.zeros((size, len(fields), 1, 1))
    values = np.zeros((size, 3, len(fields), 3, width))
    for b, (field, n) in enumerate(zip(fields, counts, strict=True)):
        active = max(0, min(size, n - j))
        if active:
            h_b = (t_out[i + 1] - t_out[i]) / n
            starts = t_out[i] + (j + np.arange(active)) * h_b
            h[:active, b] = h_b
            values[:active, :, b] = list(field_values(field, starts, h_b, eps[b], x))
    return h, values


def check_dns_work(steps: int, n: int, max_work: int, what: str) -> None:
    """Refuse ``steps`` RK4 steps of ``n`` particles above ``max_work`` spin steps."""
    _checks.work(
        steps * n,
        max_work,
        asked=f"{what} ({steps:.3g} RK4 steps of {n} particles)",
        change="raise eps, lower T or dns_steps_per_eps, or take fewer particles",
    )


def solve_dns(
    H: Callable, m0, *, T: float, eps: float, J: float, beta: float = 1.0, gamma: float = 1.0,
    t_eval=None, dns_steps_per_eps: int = DEFAULT_CHAIN_DNS_STEPS_PER_EPS, dx: float | None = None,
    spatial_field: bool = False, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""Direct simulation of the periodic chain (3.8), every particle and every oscillation resolved.

    Classical fourth-order Runge-Kutta, vectorised over the particles, with steps of at most
    :math:`\min(\varepsilon, 1/\rho)/` ``dns_steps_per_eps``, :math:`\rho = (\beta+\gamma)(\max|\mathbf{H}| + 2|J|)`,
    fitted to hit each output time. The cost grows like :math:`T/\varepsilon`. With the default
    32 steps per period the error on the Figure 5.5 problem is about 1e-9 (checked against
    scipy's DOP853 at rtol 1e-12 in the tests).

    Parameters
    ----------
    H : callable
        Applied field ``H(t, s)``, the same on every particle (the field is ``H(t, t/eps)``);
        or ``H(t, s, x)`` with ``spatial_field=True`` (see :mod:`hmm.chain.field`).
    m0 : array_like, shape (n, 3)
        Initial unit spins :math:`\mathbf{m}_i(0)`.
    T, eps : float
        Final time and fast period, > 0.
    J : float
        Nearest-neighbour exchange coupling (finite; 0 decouples the particles).
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    t_eval : array_like, optional
        Sorted output times in ``[0, T]``; default ``linspace(0, T, 1001)``.
    dns_steps_per_eps : int, default 32
        RK4 steps per period :math:`\varepsilon`.
    dx : float, optional
        Particle spacing: the positions :math:`x_i = i\,\delta x` (of ``x``, and of a
        particle-dependent field); default ``1/n`` (the chain fills :math:`[0, 1)`).
    spatial_field : bool, default False
        ``H`` depends on the particle: it is called as ``H(t, s, x)`` (the field
        :math:`\tilde{\mathbf{H}}_i^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon, x_i)` of (3.8)).
    max_work : int, default 1e8
        Refuse a run of more spin steps (RK4 steps times particles) than this.

    Returns
    -------
    Solution
        ``t``, ``m`` of shape ``(len(t), n, 3)``, ``x = i dx``, ``stats``.
    """
    field = ChainField(H, spatial_field)
    m0, J, beta, gamma, x, t, grid = _checked(m0, T, J, beta, gamma, t_eval, dx)
    eps = _checks.positive("eps", eps)
    steps, h_max = _steps(field, grid, T, eps, J, beta, gamma, dns_steps_per_eps, max_work, x)
    m = rk4_chain(field, m0, grid, h_max, eps=eps, J=J, beta=beta, gamma=gamma, x=x)
    return _solution(field, steps, t, grid, m, x)


def solve_dns_batch(
    H: Callable, m0, *, T: float, eps, J: float, beta: float = 1.0, gamma: float = 1.0,
    t_eval=None, dns_steps_per_eps: int = DEFAULT_CHAIN_DNS_STEPS_PER_EPS, dx: float | None = None,
    spatial_field: bool = False, max_work: int = _checks.MAX_WORK,
) -> list[Solution]:  # fmt: skip
    """:func:`solve_dns` at several periods ``eps`` (a sequence), run as one batch.

    The same solutions and stats, to the last bit, as :func:`solve_dns` at each ``eps`` alone
    (:func:`rk4_chain_batch`), at a fraction of the time: a chain of a hundred spins is too
    small an array for numpy, and a batch of runs fills it. The other arguments as in
    :func:`solve_dns`; ``max_work`` applies to each run.
    """
    m0, J, beta, gamma, x, t, grid = _checked(m0, T, J, beta, gamma, t_eval, dx)
    eps = [_checks.positive("eps", e) for e in eps]
    fields = [ChainField(H, spatial_field) for _ in eps]
    runs = [
        _steps(f, grid, T, e, J, beta, gamma, dns_steps_per_eps, max_work, x)
        for f, e in zip(fields, eps, strict=True)
    ]
    h_max = [h for _, h in runs]
    m = rk4_chain_batch(fields, m0, grid, h_max, eps=eps, J=J, beta=beta, gamma=gamma, x=x)
    return [
        _solution(f, steps, t, grid, m_b, x)
        for f, (steps, _), m_b in zip(fields, runs, m, strict=True)
    ]


def _checked(m0, T, J, beta, gamma, t_eval, dx) -> tuple:
    """The checked inputs of :func:`solve_dns`, the particles, output times and step grid."""
    m0 = _checks.chain_state("m0", m0)
    T = _checks.positive("T", T)
    J, beta, gamma = _checks.chain_constants(J, beta, gamma)
    n = m0.shape[0]
    x = np.arange(n) * _checks.spacing(dx, n)
    t_eval = _checks.output_times(t_eval, T)
    t = np.linspace(0.0, T, 1001) if t_eval is None else t_eval
    grid = np.unique(np.concatenate([[0.0], t]))
    return m0, J, beta, gamma, x, t, grid


def _steps(field, grid, T, eps, J, beta, gamma, k, max_work, x) -> tuple:
    """RK4 steps through ``grid`` and the step limit of one run of :func:`solve_dns`, checked."""
    k = _checks.integer("dns_steps_per_eps", k, 1)
    max_work = _checks.integer("max_work", max_work, 1)
    h_max = rk4_step_limit(field.bound(T, x) + 2.0 * abs(J), eps, beta, gamma, k)
    steps = int(step_counts(grid, h_max).sum())
    what = f"chain solve_dns with eps = {eps:.3g}, T = {T:.3g}"
    check_dns_work(steps, len(x), max_work, what)
    return steps, h_max


def _solution(field, steps: int, t, grid, m, x) -> Solution:
    """The :class:`Solution` of a run of :func:`solve_dns`: ``m`` at ``t`` and the counts."""
    n = len(x)
    stats = make_stats(field_evaluations=field.points, steps=steps, spin_steps=steps * n)
    return Solution(t, m[np.searchsorted(grid, t)], stats, x)
