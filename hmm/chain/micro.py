r"""The micro problems (3.11) of all boxes, solved as one batch, and the upscaling (3.12).

See :mod:`hmm.chain` for the method: the rotating frame of the single-spin propagator of
:mod:`hmm.micro` removes the fast field, the exchange-only problem left is integrated by RK4,
and the flux is the kernel average computed by parts on the fine propagator grid.
"""

from __future__ import annotations

import numpy as np

from ..integrators import NonConvergenceError
from ..micro import cumulative_product, step_rotations
from ..upscaling import simpson_weights

DEFAULT_EXCHANGE_STEPS_PER_EPS = 4


class MicroBoxes:
    r"""The micro problems (3.11) of all boxes at the macro midpoints ``t_mid``, and their upscaling (3.12).

    Built once per HMM solve: the propagators :math:`\Phi` on the fine (Magnus) grid in both
    directions, the by-parts quadrature weights of (3.12) folded with :math:`\Phi` and with the
    cubic Hermite interpolation from the coarse (RK4) nodes, and the quadratic interpolation
    weights of the box. :meth:`flux` then solves any batch of boxes at one macro step.

    Parameters
    ----------
    H, eps, tau, kernel, r, ell, J, beta
        As in :func:`hmm.chain.solve_hmm`.
    t_mid : ndarray, shape (N,)
        Macro midpoint times :math:`t_{n+1/2}`.
    omega : ndarray, shape (2r + 1,)
        Space weights :math:`\omega_j` of (3.12), from :func:`hmm.chain.space_weights`.
    spe, spe_x : int
        Fine (Magnus) and coarse (RK4 exchange) steps per :math:`\varepsilon`.
    h_bound : float
        Bound on :math:`|\mathbf{H}|`, for the exchange step.
    """

    def __init__(self, H, t_mid, *, eps, tau, kernel, r, ell, J, beta, omega, spe, spe_x, h_bound):
        self.r, self.rp, self.J, self.beta = r, r + ell, J, beta
        self.omega_int = omega[1:-1]  # the fixed end spins contribute nothing to (3.12)
        half = 0.5 * tau
        # coarse (exchange) step: a few per eps and resolving the exchange and precession rates
        rate = max(spe_x / eps, spe_x * beta * (4.0 * abs(J) + h_bound))
        n_c = max(1, int(np.ceil(half * rate - 1e-9)))
        delta = half / n_c
        R = 2 * max(1, int(np.ceil(0.5 * delta * spe / eps - 1e-9)))  # fine nodes per coarse step
        n_f = n_c * R
        h_f = half / n_f
        self.n_c, self.delta = n_c, delta
        # propagators Phi on the fine grid, both directions: (N, 2, n_f + 1, 3, 3)
        s_fwd = np.arange(n_f) * h_f
        Rf = step_rotations(H, t_mid, s_fwd, h_f, eps=eps, beta=beta, method="magnus4")
        Rb = step_rotations(H, t_mid, -s_fwd, -h_f, eps=eps, beta=beta, method="magnus4")
        eye = np.broadcast_to(np.eye(3), (len(t_mid), 1, 3, 3))
        Phi = np.stack(
            [
                np.concatenate([eye, cumulative_product(Rf)], axis=1),
                np.concatenate([eye, cumulative_product(Rb)], axis=1),
            ],
            axis=1,
        )
        self.field_evaluations = 4 * n_f * len(t_mid)
        # quadrature by parts: F = -int K_tau'(s) Phi(s) ubar(s) ds + [K_tau Phi ubar]
        s_full = np.linspace(-half, half, 2 * n_f + 1)
        w = simpson_weights(s_full) * (-kernel.derivative(s_full / tau) / tau**2)
        wd = np.stack([w[n_f:], w[n_f::-1]])  # (2, n_f + 1), node s = 0 in both ...
        wd[1, 0] = 0.0  # ... counted once
        k_end = float(kernel(np.array(0.5))) / tau
        wd[0, -1] += k_end
        wd[1, -1] -= k_end
        G = wd[None, :, :, None, None] * Phi  # (N, 2, n_f + 1, 3, 3)
        # cubic Hermite interpolation of ubar from the coarse nodes to the fine ones
        theta = (np.arange(n_f + 1) % R) / R
        k0 = np.minimum(np.arange(n_f + 1) // R, n_c - 1)
        theta[-1] = 1.0
        h00 = (1 + 2 * theta) * (1 - theta) ** 2
        h10 = theta * (1 - theta) ** 2
        h01 = theta**2 * (3 - 2 * theta)
        h11 = theta**2 * (theta - 1)
        P = np.zeros((n_f + 1, n_c + 1))
        Q = np.zeros((n_f + 1, n_c + 1))
        rows = np.arange(n_f + 1)
        P[rows, k0] += h00
        P[rows, k0 + 1] += h01
        Q[rows, k0] += h10 * delta
        Q[rows, k0 + 1] += h11 * delta
        sign = np.array([1.0, -1.0])
        self.A = np.einsum("ndfab,fk->ndkab", G, P)  # (N, 2, n_c + 1, 3, 3)
        self.B = np.einsum("ndfab,fk,d->ndkab", G, Q, sign)
        # Phi^T at the RK4 stage times (every half coarse step): (N, 2, 2 n_c + 1, 3, 3)
        self.PhiT_half = np.swapaxes(Phi[:, :, :: R // 2], -1, -2)
        # quadratic interpolation weights on the box, slots (I-1, I, I+1)
        xi = np.arange(-r, r + 1) / self.rp
        self.lagrange = np.stack([0.5 * xi * (xi - 1), 1 - xi**2, 0.5 * xi * (xi + 1)], axis=1)
        self.hsign = (delta * sign)[None, :, None, None, None]  # (1, 2, 1, 1, 1)

    def flux(self, n: int, triples: np.ndarray) -> tuple[np.ndarray, int]:
        """Upscaled fluxes (3.12) for macro step ``n``; ``triples`` (B, L, 3 slots, 3) -> (B, L, 3)."""
        P2 = np.einsum("js,blsc->bljc", self.lagrange, triples)
        norm = np.linalg.norm(P2, axis=-1, keepdims=True)
        if not np.all(norm > 1e-12):
            raise NonConvergenceError("the quadratic interpolant of the macro values vanished")
        Mhat = P2 / norm  # (B, L, 2r+1, 3)
        if self.J == 0:
            ubar = np.einsum("j,bljc->blc", self.omega_int, Mhat[:, :, 1:-1])
            F = np.einsum("xy,bly->blx", self.A[n].sum(axis=(0, 1)), ubar)
            return F, 0
        # boundary data in the rotating frame at every stage time: (2r+1 ... ) -> (3, 2, B, L, 2)
        ends = Mhat[:, :, [0, -1]]  # (B, L, 2, 3)
        ub = np.einsum("dhac,blec->hadble", self.PhiT_half[n], ends)  # (2n_c+1, 3, 2, B, L, 2)
        u = np.broadcast_to(
            np.moveaxis(Mhat[:, :, 1:-1], -1, 0)[:, None], (3, 2) + Mhat[:, :, 1:-1].shape[:-1]
        ).copy()  # (3, 2, B, L, 2r-1)
        hs = self.hsign
        w = self.omega_int
        ubar = np.empty((self.n_c + 1, 3, 2) + u.shape[2:4])
        dubar = np.empty_like(ubar)
        for k in range(self.n_c):
            k1 = self._rhs(u, ub[2 * k])
            ubar[k] = u @ w
            dubar[k] = k1 @ w
            k2 = self._rhs(u + 0.5 * hs * k1, ub[2 * k + 1])
            k3 = self._rhs(u + 0.5 * hs * k2, ub[2 * k + 1])
            k4 = self._rhs(u + hs * k3, ub[2 * k + 2])
            u = u + (hs / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
        ubar[-1] = u @ w
        dubar[-1] = self._rhs(u, ub[2 * self.n_c]) @ w
        F = np.einsum("dkab,kbdxl->xla", self.A[n], ubar) + np.einsum(
            "dkab,kbdxl->xla", self.B[n], dubar
        )
        return F, u.shape[2] * u.shape[3] * u.shape[4] * 2 * self.n_c

    def _rhs(self, u, ub):
        r"""Rotating-frame exchange :math:`-\beta J\,\mathbf{u}_j\times(\mathbf{u}_{j-1}+\mathbf{u}_{j+1})` of the interior."""
        full = np.concatenate([ub[..., :1], u, ub[..., 1:]], axis=-1)
        s = full[..., :-2] + full[..., 2:]
        x, y, z = u
        sx, sy, sz = s
        c = -self.beta * self.J
        return np.stack([c * (y * sz - z * sy), c * (z * sx - x * sz), c * (x * sy - y * sx)])
