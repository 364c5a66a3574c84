r"""The rotating frames of the micro boxes (3.11): the single-spin propagators :math:`\Phi(\pm s)` that remove the fast field.

:func:`fine_grid` sets the coarse (RK4) and fine (propagator) steps of each half window and
:func:`frame_propagators` computes :math:`\Phi` on the fine grid. A :class:`Frame` holds them at
one micro time, folded with the quadrature of (3.12) (:mod:`hmm.chain.quadrature`):
:class:`UniformFrame`, one :math:`\Phi` shared by every particle (uniform field), or
:class:`ParticleFrame`, one per particle, whose neighbours are coupled through
:math:`R^\pm_j = \Phi_j^T\Phi_{j\pm1}`. :class:`UniformFrames` computes the frames of all micro
times in one batch; :class:`ParticleFrames` forms each when first asked for and keeps a few.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..micro import MicroSettings, cumulative_product, step_rotations
from .field import ChainField
from .quadrature import folded_weights

_CACHED_FRAMES = 4  # particle frames kept: the stages of the macro step in hand, and spares


def fine_grid(
    micro: MicroSettings, J: float, h_bound: float, exchange_steps_per_eps: int, *,
    damping: float = 0.0, jump: float = 0.0,
):  # fmt: skip
    r"""Coarse (RK4) and fine (propagator) steps on each half window :math:`[0, \tau/2]`.

    The coarse step is at most :math:`\varepsilon/k` with :math:`k` = ``exchange_steps_per_eps``,
    and at most :math:`1/(k\rho)` with the rate
    :math:`\rho = \beta(4|J| + \max|\mathbf{H}| + \max|\Delta\mathbf{H}|) + 4|J|\alpha_{\max}`
    (``h_bound``, ``jump`` the largest field difference between neighbours, ``damping`` the
    largest layer damping). The fine step is at most :math:`\varepsilon/` ``micro.micro_steps_per_eps``
    and divides each coarse step into an even number ``R`` of fine ones. Returns ``(n_c, delta, R)``.
    """
    half, k = 0.5 * micro.tau, exchange_steps_per_eps
    rate = k * micro.beta * (4.0 * abs(J) + h_bound + jump) + k * 4.0 * abs(J) * damping
    n_c = max(1, int(np.ceil(half * max(k / micro.eps, rate) - 1e-9)))
    delta = half / n_c
    R = 2 * max(1, int(np.ceil(0.5 * delta * micro.micro_steps_per_eps / micro.eps - 1e-9)))
    return n_c, delta, R


def frame_propagators(H: Callable, t_mid: np.ndarray, micro: MicroSettings, n_f: int) -> np.ndarray:
    r"""Single-spin propagators :math:`\Phi(\pm s)` on the fine grid of each half window, shape ``(N, 2, n_f + 1, 3, 3)``.

    Direction 0 is forward (:math:`s = 0, h_f, \dots, \tau/2`), direction 1 backward; always
    with the fourth-order Magnus rotations of :mod:`hmm.micro`.
    """
    h_f = 0.5 * micro.tau / n_f
    s = np.arange(n_f) * h_f
    eye = np.broadcast_to(np.eye(3), (len(t_mid), 1, 3, 3))
    both = [
        np.concatenate(
            [eye, cumulative_product(step_rotations(H, t_mid, sign * s, sign * h_f, micro))], axis=1
        )
        for sign in (1.0, -1.0)
    ]
    return np.stack(both, axis=1)


@dataclass(frozen=True)
class Frame:
    r"""The rotating frames at one micro time, folded with the quadrature of (3.12).

    Attributes
    ----------
    A, B : ndarray
        :func:`folded_weights`: shape (2, n_c + 1, 3, 3) for a uniform field, or
        (2, n_c + 1, L, P, 3, 3) for each moving particle (times its weight in (3.12)).
    PhiT : ndarray
        :math:`\Phi^T` of the end spins at every half coarse step (the RK4 stage times): shape
        (2, 2 n_c + 1, 3, 3), or (2, 2 n_c + 1, L, 2, 3, 3) for each end of every box.
    """

    A: np.ndarray
    B: np.ndarray
    PhiT: np.ndarray
    SPECS: ClassVar[tuple[str, str]] = ("dhac,blec->hadble", "dkab,kbdxl->xla")

    def end_spins(self, ends: np.ndarray) -> np.ndarray:
        """Fixed end spins ``(B, L, 2, 3)`` seen from the frame at every half step: ``(2 n_c + 1, 3, 2, B, L, 2)``."""
        return np.einsum(self.SPECS[0], self.PhiT, ends)

    def upscale(self, U: np.ndarray, K1: np.ndarray) -> np.ndarray:
        """(3.12) from the coarse nodes: ``U``, ``K1`` of shape ``(n_c + 1, 3, 2, B, L, P)`` -> ``(B, L, 3)``."""
        spec = self.SPECS[1]
        return np.einsum(spec, self.A, self.averaged(U)) + np.einsum(
            spec, self.B, self.averaged(K1)
        )

    def averaged(self, U: np.ndarray) -> np.ndarray:
        """What the folded weights act on: the particles (here), or their weighted sum."""
        return U


@dataclass(frozen=True)
class UniformFrame(Frame):
    r"""The rotating frame of a uniform field at one micro time: one :math:`\Phi` for every particle.

    ``weights`` (P,) are the weights of the moving particles in (3.12).
    """

    weights: np.ndarray

    def neighbours(self, full: np.ndarray, h: int) -> np.ndarray:
        """Neighbour sums of the moving particles; ``full`` includes the end spins."""
        return full[..., :-2] + full[..., 2:]

    def averaged(self, U: np.ndarray) -> np.ndarray:
        """The weighted sum over the moving particles."""
        return U @ self.weights

    def static(self, moving: np.ndarray) -> np.ndarray:
        r"""(3.12) without exchange: :math:`\mathcal{A}(t_a)\sum_j\omega_j\hat{\mathbf{M}}_j`; ``moving`` (B, L, P, 3)."""
        ubar = np.einsum("j,bljc->blc", self.weights, moving)
        return np.einsum("xy,bly->blx", self.A.sum(axis=(0, 1)), ubar)


@dataclass(frozen=True)
class ParticleFrame(Frame):
    r"""The rotating frames of a particle-dependent field at one micro time: one :math:`\Phi_j` per particle.

    ``Rm``, ``Rp`` of shape (2, 2 n_c + 1, L, P, 3, 3) are :math:`R^\pm_j = \Phi_j^T\Phi_{j\pm1}` of
    the moving particles at every half coarse step.
    """

    Rm: np.ndarray
    Rp: np.ndarray
    SPECS: ClassVar[tuple[str, str]] = ("dhleac,blec->hadble", "dklpab,kbdxlp->xla")

    def neighbours(self, full: np.ndarray, h: int) -> np.ndarray:
        r""":math:`R^-_j\mathbf{u}_{j-1} + R^+_j\mathbf{u}_{j+1}` at half step ``h``."""
        spec = "dlpab,bdxlp->adxlp"
        return np.einsum(spec, self.Rm[:, h], full[..., :-2]) + np.einsum(
            spec, self.Rp[:, h], full[..., 2:]
        )

    def static(self, moving: np.ndarray) -> np.ndarray:
        r"""(3.12) without exchange: :math:`\sum_j\omega_j\mathcal{A}_j(t_a)\hat{\mathbf{M}}_j`."""
        return np.einsum("lpac,blpc->bla", self.A.sum(axis=(0, 1)), moving)


@dataclass(frozen=True)
class UniformFrames:
    """:class:`UniformFrame` at every micro time, computed in one batch; ``frames[k]`` is time ``k``."""

    A: np.ndarray
    B: np.ndarray
    PhiT: np.ndarray
    weights: np.ndarray

    @classmethod
    def build(cls, H: Callable, t_mid, micro: MicroSettings, grid: tuple, weights) -> UniformFrames:
        """The frames at the times ``t_mid`` on ``grid`` (:func:`fine_grid`); ``H(t, s)`` uniform."""
        n_c, _, R = grid
        Phi = frame_propagators(H, t_mid, micro, n_c * R)
        A, B = folded_weights(Phi, micro, grid)
        return cls(A, B, np.swapaxes(Phi[:, :, :: R // 2], -1, -2), weights)

    def __getitem__(self, k: int) -> UniformFrame:
        return UniformFrame(self.A[k], self.B[k], self.PhiT[k], self.weights)


class ParticleFrames:
    """:class:`ParticleFrame` at every micro time, each formed when first asked for (a few kept).

    Parameters
    ----------
    field : ChainField
        The particle-dependent field.
    t_mid : ndarray
        The micro times.
    micro, grid, weights
        As for :class:`UniformFrames`.
    x_box : ndarray, shape (L, 2q + 1)
        Positions of the box particles (:func:`box_positions`).
    """

    def __init__(self, field: ChainField, t_mid, micro, grid, weights, x_box):
        self.H_rows = field.rows(x_box.reshape(-1))
        self.t_mid, self.micro, self.grid = t_mid, micro, grid
        self.weights, self.shape = weights, x_box.shape
        self.cache: dict[int, ParticleFrame] = {}

    def __getitem__(self, k: int) -> ParticleFrame:
        if k not in self.cache:
            if len(self.cache) >= _CACHED_FRAMES:
                self.cache.pop(next(iter(self.cache)))
            self.cache[k] = self._frame(float(self.t_mid[k]))
        return self.cache[k]

    def _frame(self, t: float) -> ParticleFrame:
        L, width = self.shape
        n_c, _, R = self.grid
        Phi = frame_propagators(self.H_rows, np.full(L * width, t), self.micro, n_c * R)
        Phi = np.moveaxis(Phi.reshape((L, width) + Phi.shape[1:]), (2, 3), (0, 1))
        A, B = folded_weights(
            np.moveaxis(Phi[:, :, :, 1:-1], (0, 1), (2, 3)), self.micro, self.grid
        )
        w = self.weights[:, None, None, None, None]
        A, B = (np.moveaxis(X * w, (2, 3), (0, 1)) for X in (A, B))
        half = Phi[:, :: R // 2]  # (2, 2 n_c + 1, L, 2q + 1, 3, 3)
        halfT = np.swapaxes(half, -1, -2)
        return ParticleFrame(
            A=A,
            B=B,
            PhiT=halfT[:, :, :, [0, -1]],
            Rm=halfT[:, :, :, 1:-1] @ half[:, :, :, :-2],
            Rp=halfT[:, :, :, 1:-1] @ half[:, :, :, 2:],
        )
