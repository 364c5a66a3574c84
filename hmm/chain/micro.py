r"""The micro problems (3.11) of all boxes, solved as one batch, and the upscaling (3.12).

See :mod:`hmm.chain` for the method: the rotating frame of the single-spin propagator of
:mod:`hmm.micro` removes the fast field, the exchange-only problem left is integrated by RK4
on a coarse grid, and the flux is the kernel average computed by parts on the fine
(propagator) grid. Each piece is one function:

* :func:`box_initial_states`: the normalised quadratic interpolant of (3.11);
* :func:`fine_grid` and :func:`frame_propagators`: :math:`\Phi(s)` both ways from :math:`t_a`;
* :func:`by_parts_weights`: the quadrature of (3.12) by parts;
* :func:`hermite_matrices`: cubic Hermite interpolation from the coarse to the fine grid;
* :func:`exchange_rhs`: the rotating-frame exchange;
* :class:`MicroBoxes`: the above assembled once per HMM solve, and :meth:`MicroBoxes.flux`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..integrators import NonConvergenceError, rk4_step
from ..micro import MicroSettings, cumulative_product, step_rotations
from ..upscaling import simpson_weights

DEFAULT_EXCHANGE_STEPS_PER_EPS = 4


def lagrange_weights(r: int, ell: int) -> np.ndarray:
    r"""Quadratic interpolation weights on the box, shape ``(2r + 1, 3)`` for the slots (I-1, I, I+1).

    Particle :math:`j = -r, \dots, r` of box :math:`I` sits at :math:`\xi = j/(r+\ell)` macro
    spacings from :math:`X_I`: :math:`\pi_2\mathbf{M}(\xi) = \tfrac12\xi(\xi-1)\mathbf{M}_{I-1}
    + (1-\xi^2)\mathbf{M}_I + \tfrac12\xi(\xi+1)\mathbf{M}_{I+1}`.
    """
    xi = np.arange(-r, r + 1) / (r + ell)
    return np.stack([0.5 * xi * (xi - 1), 1 - xi**2, 0.5 * xi * (xi + 1)], axis=1)


def box_initial_states(lagrange: np.ndarray, triples: np.ndarray) -> np.ndarray:
    r"""Initial data of the micro problem (3.11): :math:`\hat{\mathbf{M}} = \pi_2\mathbf{M}/|\pi_2\mathbf{M}|` on every box.

    ``triples`` of shape ``(B, L, 3, 3)`` (batch, box, slot I-1/I/I+1, component); returns
    ``(B, L, 2r + 1, 3)``.
    """
    P2 = np.einsum("js,blsc->bljc", lagrange, triples)
    norm = np.linalg.norm(P2, axis=-1, keepdims=True)
    if not np.all(norm > 1e-12):
        raise NonConvergenceError("the quadratic interpolant of the macro values vanished")
    return P2 / norm


def fine_grid(micro: MicroSettings, J: float, h_bound: float, exchange_steps_per_eps: int):
    r"""Coarse (RK4) and fine (propagator) steps on each half window :math:`[0, \tau/2]`.

    The coarse step is at most :math:`\varepsilon/` ``exchange_steps_per_eps`` and at most
    :math:`1/(k\beta(4|J| + \max|\mathbf{H}|))` with :math:`k` = ``exchange_steps_per_eps``
    (``h_bound`` bounds :math:`|\mathbf{H}|`); the fine step is at most :math:`\varepsilon/` ``micro.steps_per_eps`` and divides
    each coarse step into an even number ``R`` of fine ones. Returns ``(n_c, delta, R)``.
    """
    half = 0.5 * micro.tau
    rate = exchange_steps_per_eps * micro.beta * (4.0 * abs(J) + h_bound)
    n_c = max(1, int(np.ceil(half * max(exchange_steps_per_eps / micro.eps, rate) - 1e-9)))
    delta = half / n_c
    R = 2 * max(1, int(np.ceil(0.5 * delta * micro.steps_per_eps / micro.eps - 1e-9)))
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


def by_parts_weights(micro: MicroSettings, n_f: int) -> np.ndarray:
    r"""Quadrature of (3.12) by parts on the fine grid, shape ``(2, n_f + 1)`` (forward, backward).

    :math:`\mathbf{F} = \int K_\tau\,\dot{\mathbf{m}}\,ds = -\int K_\tau'(s)\,\mathbf{m}(s)\,ds + [K_\tau\mathbf{m}]_{-\tau/2}^{\tau/2}`,
    Simpson's rule for the integral; the node :math:`s = 0` is counted once (in the forward row).
    """
    half, tau = 0.5 * micro.tau, micro.tau
    s = np.linspace(-half, half, 2 * n_f + 1)
    w = simpson_weights(s) * (-micro.kernel.derivative(s / tau) / tau**2)
    wd = np.stack([w[n_f:], w[n_f::-1]])
    wd[1, 0] = 0.0
    k_end = float(micro.kernel(np.array(0.5))) / tau
    wd[0, -1] += k_end
    wd[1, -1] -= k_end
    return wd


def hermite_matrices(n_c: int, R: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Cubic Hermite interpolation from the ``n_c + 1`` coarse nodes to the ``n_c R + 1`` fine ones.

    :math:`u(\text{fine}) = P\,u(\text{coarse}) + Q\,u'(\text{coarse})`; returns ``P, Q`` of
    shape ``(n_c R + 1, n_c + 1)`` (``Q`` includes the coarse step ``delta``).
    """
    n_f = n_c * R
    rows = np.arange(n_f + 1)
    theta = (rows % R) / R
    k0 = np.minimum(rows // R, n_c - 1)
    theta[-1] = 1.0
    P = np.zeros((n_f + 1, n_c + 1))
    Q = np.zeros((n_f + 1, n_c + 1))
    P[rows, k0] += (1 + 2 * theta) * (1 - theta) ** 2
    P[rows, k0 + 1] += theta**2 * (3 - 2 * theta)
    Q[rows, k0] += theta * (1 - theta) ** 2 * delta
    Q[rows, k0 + 1] += theta**2 * (theta - 1) * delta
    return P, Q


def exchange_rhs(u: np.ndarray, ends: np.ndarray, c: float) -> np.ndarray:
    r"""Rotating-frame exchange :math:`c\,\mathbf{u}_j\times(\mathbf{u}_{j-1}+\mathbf{u}_{j+1})`, :math:`c = -\beta J`, of the interior.

    ``u`` of shape ``(3, ..., 2r - 1)`` (components first), ``ends`` the two fixed end spins in the
    rotating frame, shape ``(3, ..., 2)``.
    """
    full = np.concatenate([ends[..., :1], u, ends[..., 1:]], axis=-1)
    s = full[..., :-2] + full[..., 2:]
    x, y, z = u
    sx, sy, sz = s
    return np.stack([c * (y * sz - z * sy), c * (z * sx - x * sz), c * (x * sy - y * sx)])


@dataclass(frozen=True)
class MicroBoxes:
    r"""The micro problems (3.11) of all boxes at the macro midpoints, assembled once per HMM solve.

    Attributes
    ----------
    A, B : ndarray, shape (N, 2, n_c + 1, 3, 3)
        The by-parts weights of (3.12) folded with :math:`\Phi` and with the Hermite matrices:
        :math:`\mathbf{F} = \sum A\,\bar{\mathbf{u}} + B\,\dot{\bar{\mathbf{u}}}` over the coarse nodes.
    PhiT_stages : ndarray, shape (N, 2, 2 n_c + 1, 3, 3)
        :math:`\Phi^T` at the RK4 stage times (every half coarse step), for the end spins.
    lagrange : ndarray, shape (2r + 1, 3)
        :func:`lagrange_weights`.
    omega_interior : ndarray, shape (2r - 1,)
        Space weights of the interior particles (the fixed end spins contribute nothing to (3.12)).
    n_c : int
        Coarse (RK4) steps per half window.
    delta : float
        Coarse step.
    coupling : float
        :math:`-\beta J`.
    """

    A: np.ndarray
    B: np.ndarray
    PhiT_stages: np.ndarray
    lagrange: np.ndarray
    omega_interior: np.ndarray
    n_c: int
    delta: float
    coupling: float

    @classmethod
    def build(cls, H, t_mid, micro: MicroSettings, grid: tuple, *, r, ell, J, omega):
        """Assemble the boxes of (3.11) at the macro midpoints ``t_mid`` on ``grid`` (:func:`fine_grid`)."""
        n_c, delta, R = grid
        Phi = frame_propagators(H, t_mid, micro, n_c * R)
        G = by_parts_weights(micro, n_c * R)[None, :, :, None, None] * Phi
        P, Q = hermite_matrices(n_c, R, delta)
        return cls(
            A=np.einsum("ndfab,fk->ndkab", G, P),
            B=np.einsum("ndfab,fk,d->ndkab", G, Q, np.array([1.0, -1.0])),
            PhiT_stages=np.swapaxes(Phi[:, :, :: R // 2], -1, -2),
            lagrange=lagrange_weights(r, ell),
            omega_interior=omega[1:-1],
            n_c=n_c,
            delta=delta,
            coupling=-micro.beta * J,
        )

    @property
    def steps(self) -> int:
        """RK4 steps of one micro box (forward plus backward); 0 without exchange."""
        return 2 * self.n_c if self.coupling else 0

    def spin_steps(self, boxes: int) -> int:
        """Spin steps of ``boxes`` micro boxes: each RK4 step moves the ``2r - 1`` interior spins."""
        return boxes * len(self.omega_interior) * self.steps

    def flux(self, n: int, triples: np.ndarray) -> np.ndarray:
        """Upscaled fluxes (3.12) at macro step ``n``; ``triples`` (B, L, 3 slots, 3) -> (B, L, 3)."""
        Mhat = box_initial_states(self.lagrange, triples)
        if not self.coupling:
            ubar = np.einsum("j,bljc->blc", self.omega_interior, Mhat[:, :, 1:-1])
            return np.einsum("xy,bly->blx", self.A[n].sum(axis=(0, 1)), ubar)
        # end spins in the rotating frame at every stage time: (2 n_c + 1, 3, 2, B, L, 2)
        ends = np.einsum("dhac,blec->hadble", self.PhiT_stages[n], Mhat[:, :, [0, -1]])
        interior = np.moveaxis(Mhat[:, :, 1:-1], -1, 0)[:, None]  # (3, 1, B, L, 2r - 1)
        u = np.broadcast_to(interior, (3, 2) + interior.shape[2:]).copy()
        h = (self.delta * np.array([1.0, -1.0]))[None, :, None, None, None]
        w = self.omega_interior
        ubar = np.empty((self.n_c + 1, 3, 2) + u.shape[2:4])
        dubar = np.empty_like(ubar)

        def rhs(y, e):
            return exchange_rhs(y, e, self.coupling)

        for k in range(self.n_c):
            k1 = rhs(u, ends[2 * k])
            ubar[k], dubar[k] = u @ w, k1 @ w
            u = rk4_step(rhs, u, h, (ends[2 * k], ends[2 * k + 1], ends[2 * k + 2]), k1)
        ubar[-1] = u @ w
        dubar[-1] = rhs(u, ends[2 * self.n_c]) @ w
        return np.einsum("dkab,kbdxl->xla", self.A[n], ubar) + np.einsum(
            "dkab,kbdxl->xla", self.B[n], dubar
        )
