r"""The micro problems (3.11) of all boxes, solved as one batch, the upscaling (3.12), and its derivative.

See :mod:`hmm.chain` for the method: the rotating frame of the single-spin propagator of
:mod:`hmm.micro` removes the fast field, the exchange-only problem left is integrated by RK4
on a coarse grid, and the flux is the kernel average computed by parts on the fine
(propagator) grid. The pieces:

* :mod:`hmm.chain.boxes`: the box layout (``r``, ``ell``, the damping layer of Remark 4, the
  ends), the normalised quadratic interpolant of (3.11) and its derivatives in the macro values;
* :mod:`hmm.chain.frames`: the grids and :math:`\Phi(s)` both ways from :math:`t_a`, the rotating
  frames of one micro time, shared by every particle (uniform field) or one per particle;
* :mod:`hmm.chain.quadrature`: the quadrature of (3.12) by parts, from the coarse RK4 nodes;
* here: :func:`exchange_rhs`, the rotating-frame exchange with its tangent-linear part;
  :class:`MicroBoxes`, the above assembled once per HMM solve (:meth:`MicroBoxes.flux`,
  :meth:`MicroBoxes.flux_jacobian`); and :func:`upscaled_fluxes`, the fluxes (3.12) for given
  macro values, the public face of the boxes.

**Particle-dependent field.** Every particle :math:`j` of a box gets its own propagator
:math:`\Phi_j`; with :math:`\mathbf{m}_j = \Phi_j\mathbf{u}_j` the exchange of (3.11) becomes
:math:`\dot{\mathbf{u}}_j = -\beta J\,\mathbf{u}_j\times(R^-_j\mathbf{u}_{j-1} + R^+_j\mathbf{u}_{j+1})`,
:math:`R^\pm_j = \Phi_j^T\Phi_{j\pm1}` (rotations preserve cross products). The couplings turn at
the rate of the field *difference* between neighbours, which the coarse step resolves.

**Damping layer** (Remark 4). ``layer`` extra particles on each side of the box, between the
averaged particles and the end spins, with a damping of the exchange torque
:math:`-\alpha_j J\,\mathbf{m}_j\times(\mathbf{m}_j\times\mathbf{S}_j)` (:math:`\mathbf{S}_j` the neighbour
sum) that grows quadratically towards the ends, up to ``layer_damping``. Only the exchange is
damped: the precession about the applied field is untouched, so the layer does not relax towards
the field. The backward half of the window is integrated towards negative times; there the
damping term has the opposite sign, so that the layer damps in the direction of integration.

**Ends.** ``"fixed"``: the end spins are held at their initial values (3.11); seen from the
rotating frame of the interior they turn at the rate of the field. ``"precessing"``: they
precess about their own applied field like a free spin without exchange, i.e. they stand still
in their rotating frame.

**Tangent-linear run.** :meth:`MicroBoxes.flux_jacobian` propagates the 9 tangent directions
of each box's inputs (3 macro values x 3 components) through the interpolation, the
normalisation, the RK4 steps and the quadrature, as 9 more members of the batch: the exact
derivative of the discrete flux (RK4 applied to the variational equation is the derivative of
RK4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..integrators import rk4_step
from ..kernels import Kernel, as_kernel
from ..micro import DEFAULT_STEPS_PER_EPS, MicroSettings
from .averages import space_weights
from .boxes import (
    BoxSettings,
    box_initial_states,
    box_positions,
    box_tangents,
    lagrange_weights,
    neighbour_slots,
)
from .field import ChainField
from .frames import ParticleFrames, UniformFrames, fine_grid

DEFAULT_EXCHANGE_STEPS_PER_EPS = 4


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of arrays that hold the components first (axis 0)."""
    ax, ay, az = a
    bx, by, bz = b
    return np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx])


def exchange_rhs(y, S, coupling: float, damping, tangents: bool) -> np.ndarray:
    r"""Rotating-frame exchange :math:`c\,\mathbf{u}_j\times\mathbf{S}_j - a_j\,\mathbf{u}_j\times(\mathbf{u}_j\times\mathbf{S}_j)`, :math:`c = -\beta J`.

    ``y`` and the neighbour sums ``S`` of shape ``(3, 2, B, L, P)`` (components, directions,
    batch, boxes, moving particles); ``damping`` the layer's :math:`a_j = \alpha_j J`, signed by
    direction, shape ``(2, 1, 1, P)``, or None. With ``tangents`` batch member 0 is the state
    and the others tangent vectors, which get the linearisation at the state.
    """
    u, S0 = (y[:, :, :1], S[:, :, :1]) if tangents else (y, S)
    c1 = cross(u, S0)
    f = coupling * c1 if damping is None else coupling * c1 - damping * cross(u, c1)
    if not tangents:
        return f
    du, dS = y[:, :, 1:], S[:, :, 1:]
    dc1 = cross(du, S0) + cross(u, dS)
    df = coupling * dc1
    if damping is not None:
        df = df - damping * (cross(du, c1) + cross(u, dc1))
    return np.concatenate([f, df], axis=2)


@dataclass(frozen=True)
class MicroBoxes:
    r"""The micro problems (3.11) of all boxes at the macro stage times, assembled once per HMM solve.

    Attributes
    ----------
    frames : UniformFrames or ParticleFrames
        The rotating frames; ``frames[k]`` at the ``k``-th micro time.
    lagrange : ndarray, shape (2q + 1, 3)
        :func:`lagrange_weights`.
    n_c : int
        Coarse (RK4) steps per half window.
    delta : float
        Coarse step.
    coupling : float
        :math:`-\beta J`.
    damping : ndarray, shape (2, 1, 1, P), or None
        :math:`\alpha_j J` of the damping layer, signed by the direction of integration.
    precessing : bool
        End spins precessing with their field (True) or fixed (3.11).
    """

    frames: UniformFrames | ParticleFrames
    lagrange: np.ndarray
    n_c: int
    delta: float
    coupling: float
    damping: np.ndarray | None
    precessing: bool

    @classmethod
    def build(
        cls, field: ChainField, t_mid, micro: MicroSettings, grid: tuple, box: BoxSettings, *,
        J: float, omega: np.ndarray, x_box: np.ndarray,
    ) -> MicroBoxes:  # fmt: skip
        """Assemble the boxes of (3.11) at the micro times ``t_mid`` on ``grid`` (:func:`fine_grid`)."""
        weights = box.interior_weights(omega)
        if field.spatial:
            frames = ParticleFrames(field, t_mid, micro, grid, weights, x_box)
        else:
            frames = UniformFrames.build(field.uniform, t_mid, micro, grid, weights)
        alpha = box.damping_profile()
        damping = J * alpha * np.array([1.0, -1.0])[:, None] if np.any(alpha) else None
        return cls(
            frames=frames,
            lagrange=lagrange_weights(box.half_width, box.r + box.ell),
            n_c=grid[0],
            delta=grid[1],
            coupling=-micro.beta * J,
            damping=None if damping is None else damping[:, None, None, :],
            precessing=box.ends == "precessing",
        )

    @property
    def steps(self) -> int:
        """RK4 steps of one micro box (forward plus backward); 0 without exchange."""
        return 2 * self.n_c if self.coupling else 0

    def spin_steps(self, boxes: int) -> int:
        """Spin steps of ``boxes`` micro boxes: each RK4 step moves the moving particles."""
        return boxes * (self.lagrange.shape[0] - 2) * self.steps

    def flux(self, k: int, triples: np.ndarray) -> np.ndarray:
        """Upscaled fluxes (3.12) at micro time ``k``; ``triples`` (B, L, 3 slots, 3) -> (B, L, 3)."""
        return self.upscaled(k, box_initial_states(self.lagrange, triples), tangents=False)

    def flux_jacobian(self, k: int, triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Fluxes at one state and their exact derivatives by a tangent-linear run.

        ``triples`` of shape ``(L, 3, 3)``; returns ``F`` (L, 3) and ``dF`` (3 slots,
        3 components, L, 3) with ``dF[s, c, I, a]`` :math:`= \partial F_I[a]/\partial M_{I-1+s}[c]`.
        The run is a batch of 10 boxes per macro point: the state and 9 tangents.
        """
        Mhat, dMhat = box_tangents(self.lagrange, triples)
        out = self.upscaled(k, np.concatenate([Mhat[None], dMhat]), tangents=True)
        return out[0], out[1:].reshape((3, 3) + out.shape[1:])

    def static_jacobian(self, k: int, triples: np.ndarray) -> np.ndarray:
        """The part of :meth:`flux_jacobian` without exchange, shape (3, 3, L, 3): no micro steps.

        Without exchange the box spins stand still in their rotating frames, so only the
        interpolation and the normalisation are differentiated.
        """
        _, dMhat = box_tangents(self.lagrange, triples)
        dF = self.frames[k].static(dMhat[:, :, 1:-1])
        return dF.reshape((3, 3) + dF.shape[1:])

    def upscaled(self, k: int, Mhat: np.ndarray, *, tangents: bool) -> np.ndarray:
        """(3.12) of the boxes started from ``Mhat`` (B, L, 2q + 1, 3) at micro time ``k``: (B, L, 3)."""
        frame = self.frames[k]
        if not self.coupling:  # no exchange: the spins stand still in their rotating frames
            return frame.static(Mhat[:, :, 1:-1])
        ends = Mhat[:, :, [0, -1]]
        if self.precessing:
            frozen = np.moveaxis(ends, -1, 0)[None, :, None]
            ends = np.broadcast_to(frozen, (2 * self.n_c + 1, 3, 2) + frozen.shape[3:])
        else:
            ends = frame.end_spins(ends)
        return frame.upscale(*self._integrate(frame, Mhat[:, :, 1:-1], ends, tangents))

    def _integrate(self, frame, moving: np.ndarray, ends: np.ndarray, tangents: bool):
        """RK4 of the rotating-frame exchange, both directions; the values and slopes at the coarse nodes."""
        u = np.moveaxis(moving, -1, 0)[:, None]  # (3, 1, B, L, P)
        u = np.broadcast_to(u, (3, 2) + u.shape[2:]).copy()
        h = (self.delta * np.array([1.0, -1.0]))[None, :, None, None, None]
        U = np.empty((self.n_c + 1,) + u.shape)
        K1 = np.empty_like(U)

        def rhs(y, at):  # ``at``: the half coarse step of the stage
            full = np.concatenate([ends[at][..., :1], y, ends[at][..., 1:]], axis=-1)
            S = frame.neighbours(full, at)
            return exchange_rhs(y, S, self.coupling, self.damping, tangents)

        for k in range(self.n_c):
            U[k], K1[k] = u, rhs(u, 2 * k)
            u = rk4_step(rhs, u, h, (2 * k, 2 * k + 1, 2 * k + 2), K1[k])
        U[-1], K1[-1] = u, rhs(u, 2 * self.n_c)
        return U, K1


def box_grid(
    field: ChainField, micro: MicroSettings, box: BoxSettings, J: float, T: float, x: np.ndarray,
    exchange_steps_per_eps: int,
) -> tuple:  # fmt: skip
    """The coarse and fine steps of the boxes (:func:`hmm.chain.frames.fine_grid`) for the field on :math:`[0, T]` at the particles ``x``."""
    return fine_grid(
        micro, J, field.bound(T, x), exchange_steps_per_eps,
        damping=box.layer_damping, jump=field.jump_bound(T, x),
    )  # fmt: skip


def upscaled_fluxes(
    H: Callable, M, *, t, eps: float, tau: float, kernel: Kernel, r: int, ell: int, J: float,
    beta: float = 1.0, ends: str = "fixed", layer: int = 0, layer_damping: float = 0.0,
    spatial_field: bool = False, space_kernel: Kernel | None = None,
    micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    exchange_steps_per_eps: int = DEFAULT_EXCHANGE_STEPS_PER_EPS, T: float | None = None,
    dx: float | None = None, max_work: int = _checks.MAX_WORK,
) -> np.ndarray:  # fmt: skip
    r"""The upscaled fluxes (3.12) :math:`\mathbf{F}_I` of the chain's HMM for given macro values at given times.

    What :func:`hmm.chain.solve_hmm` computes at each stage of a macro step: the micro box around
    every macro point :math:`X_I`, started at :math:`t` from the normalised quadratic interpolant
    of :math:`\mathbf{M}_{I-1}, \mathbf{M}_I, \mathbf{M}_{I+1}` (3.11), solved forward and backward
    over :math:`\tau/2`, averaged in time and space (3.12). All boxes and times are one batch.

    Parameters
    ----------
    H : callable
        Applied field ``H(t, s)``; or ``H(t, s, x)`` with ``spatial_field=True``.
    M : array_like, shape (L, 3) or (len(t), L, 3)
        Macro values, unit vectors: the same at every time, or one set per time. The chain has
        ``n = L (r + ell)`` particles.
    t : array_like, shape (n_t,)
        Times of the micro problems.
    eps, tau, kernel, r, ell, J, beta, ends, layer, layer_damping, spatial_field, space_kernel
        As in :func:`hmm.chain.solve_hmm`.
    micro_steps_per_eps, exchange_steps_per_eps, dx, max_work
        As in :func:`hmm.chain.solve_hmm`.
    T : float, optional
        The field's bound on :math:`[0, T]` sets the steps of the boxes, as in
        :func:`hmm.chain.solve_hmm` with final time ``T`` (default: the largest ``|t|``).

    Returns
    -------
    ndarray, shape (n_t, L, 3)
    """
    field = ChainField(H, spatial_field)
    t = _checks.array("t", t, (-1,))
    T = float(np.max(np.abs(t))) if T is None else _checks.positive("T", T)
    M = _checks.array("M", M, (-1, 3) if np.ndim(M) == 2 else (len(t), -1, 3))
    M = np.broadcast_to(
        _checks.unit_rows("M", M.reshape(-1, 3)).reshape(M.shape), (len(t),) + M.shape[-2:]
    )
    box = BoxSettings.checked(r, ell, layer, layer_damping, ends)
    J = _checks.finite("J", J)
    micro = MicroSettings.checked(eps, tau, kernel, beta, micro_steps_per_eps, "magnus4", "centred")
    space_kernel = micro.kernel if space_kernel is None else as_kernel("space_kernel", space_kernel)
    exchange_steps_per_eps = _checks.integer("exchange_steps_per_eps", exchange_steps_per_eps, 1)
    L = M.shape[1]
    n = L * (box.r + box.ell)
    dx = _checks.spacing(dx, n)
    grid = box_grid(field, micro, box, J, T, np.arange(n) * dx, exchange_steps_per_eps)
    _checks.work(
        len(t) * L * box.interior * 2 * grid[0],
        _checks.integer("max_work", max_work, 1),
        asked=f"upscaled_fluxes at {len(t)} times for L = {L} boxes of {box.interior + 2} particles",
        change="take fewer times or boxes, shorten tau or raise eps",
    )
    boxes = MicroBoxes.build(
        field, t, micro, grid, box, J=J, omega=space_weights(space_kernel, box.r),
        x_box=box_positions(box, n, dx),
    )  # fmt: skip
    triples = M[:, neighbour_slots(L)]
    return np.stack([boxes.flux(k, triples[k][None])[0] for k in range(len(t))])
