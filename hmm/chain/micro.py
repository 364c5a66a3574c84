r"""The micro problems (3.11) of all boxes, solved as one batch, the upscaling (3.12), and its derivative.

See :mod:`hmm.chain` for the method: the rotating frame of the single-spin propagator of
:mod:`hmm.micro` removes the fast field, the exchange-only problem left is integrated by RK4
on a coarse grid, and the flux is the kernel average computed by parts on the fine
(propagator) grid. Each piece is one function or class:

* :class:`BoxSettings`: the box layout (``r``, ``ell``, the damping layer of Remark 4, the ends);
* :func:`box_initial_states` and :func:`box_tangents`: the normalised quadratic interpolant of
  (3.11), and its derivatives in the macro values;
* :func:`fine_grid` and :func:`frame_propagators`: :math:`\Phi(s)` both ways from :math:`t_a`;
* :func:`by_parts_weights` and :func:`hermite_matrices`: the quadrature of (3.12) by parts,
  from the coarse RK4 nodes;
* :class:`UniformFrame` and :class:`ParticleFrame` (:class:`Frame`): the rotating frames of one micro time,
  shared by every particle (uniform field) or one per particle;
* :func:`exchange_rhs`: the rotating-frame exchange, with its tangent-linear part;
* :class:`MicroBoxes`: the above assembled once per HMM solve; :meth:`MicroBoxes.flux` and
  :meth:`MicroBoxes.flux_jacobian`.

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
from typing import ClassVar

import numpy as np

from .. import _checks
from ..integrators import NonConvergenceError, rk4_step
from ..micro import MicroSettings, cumulative_product, step_rotations
from ..upscaling import simpson_weights
from .field import ChainField

DEFAULT_EXCHANGE_STEPS_PER_EPS = 4
ENDS = ("fixed", "precessing")
_CACHED_FRAMES = 4  # particle frames kept: the stages of the macro step in hand, and spares


@dataclass(frozen=True)
class BoxSettings:
    r"""The layout of the micro boxes of (3.11), checked once.

    Attributes
    ----------
    r : int
        Half-width of the averaging window: :math:`\omega_j` on :math:`|j| \le r`.
    ell : int
        Particles skipped between boxes; macro spacing :math:`(r + \ell)\,\delta x`.
    layer : int
        Extra (unaveraged) particles on each side, between the averaged ones and the end spins.
    layer_damping : float
        Largest damping :math:`\alpha` of the exchange torque in the layer.
    ends : str
        ``"fixed"`` or ``"precessing"``.
    """

    r: int
    ell: int
    layer: int
    layer_damping: float
    ends: str

    @classmethod
    def checked(cls, r, ell, layer, layer_damping, ends) -> BoxSettings:
        """Check every setting (``ValueError`` naming the bad one) and return the record."""
        layer = _checks.integer("layer", layer, 0)
        layer_damping = _checks.nonnegative("layer_damping", layer_damping)
        if layer_damping > 0 and layer == 0:
            raise ValueError(
                f"layer_damping = {layer_damping:g} > 0 needs layer >= 1 (the particles it damps)"
            )
        return cls(
            r=_checks.integer("r", r, 1),
            ell=_checks.integer("ell", ell, 0),
            layer=layer,
            layer_damping=layer_damping,
            ends=_checks.choice("ends", ends, ENDS),
        )

    @property
    def half_width(self) -> int:
        """The end spins sit at :math:`j = \\pm(r + \\text{layer})`."""
        return self.r + self.layer

    @property
    def interior(self) -> int:
        """Particles that move in a box: all but the two end spins."""
        return 2 * self.half_width - 1

    def interior_weights(self, omega: np.ndarray) -> np.ndarray:
        r"""Weights of the moving particles in (3.12): :math:`\omega_j` for :math:`|j| < r`, 0 in the layer."""
        w = np.zeros(self.interior)
        w[self.layer : self.layer + 2 * self.r - 1] = omega[1:-1]
        return w

    def damping_profile(self) -> np.ndarray:
        r""":math:`\alpha_j` of the moving particles: ``layer_damping`` :math:`(d/\text{layer})^2` at depth :math:`d` into the layer."""
        depth = np.abs(np.arange(1 - self.half_width, self.half_width)) - self.r + 1
        return self.layer_damping * (np.maximum(depth, 0) / max(self.layer, 1)) ** 2


def lagrange_weights(half_width: int, spacing: int) -> np.ndarray:
    r"""Quadratic interpolation weights on the box, shape ``(2 half_width + 1, 3)`` for the slots (I-1, I, I+1).

    Particle :math:`j` of box :math:`I` sits at :math:`\xi = j/(r+\ell)` macro spacings from
    :math:`X_I` (``spacing`` is :math:`r + \ell`): :math:`\pi_2\mathbf{M}(\xi) = \tfrac12\xi(\xi-1)\mathbf{M}_{I-1}
    + (1-\xi^2)\mathbf{M}_I + \tfrac12\xi(\xi+1)\mathbf{M}_{I+1}`.
    """
    xi = np.arange(-half_width, half_width + 1) / spacing
    return np.stack([0.5 * xi * (xi - 1), 1 - xi**2, 0.5 * xi * (xi + 1)], axis=1)


def _interpolant(lagrange: np.ndarray, triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\pi_2\\mathbf{M}` on every box and its length, refused if it vanishes."""
    P2 = np.einsum("js,blsc->bljc", lagrange, triples)
    norm = np.linalg.norm(P2, axis=-1, keepdims=True)
    if not np.all(norm > 1e-12):
        raise NonConvergenceError("the quadratic interpolant of the macro values vanished")
    return P2, norm


def box_initial_states(lagrange: np.ndarray, triples: np.ndarray) -> np.ndarray:
    r"""Initial data of the micro problem (3.11): :math:`\hat{\mathbf{M}} = \pi_2\mathbf{M}/|\pi_2\mathbf{M}|` on every box.

    ``triples`` of shape ``(B, L, 3, 3)`` (batch, box, slot I-1/I/I+1, component); returns
    ``(B, L, 2q + 1, 3)``, ``q`` the box half-width.
    """
    P2, norm = _interpolant(lagrange, triples)
    return P2 / norm


def box_tangents(lagrange: np.ndarray, triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\hat{\mathbf{M}}` of one state and its derivatives in the 9 inputs of every box.

    :math:`d(\mathbf{P}/|\mathbf{P}|) = (d\mathbf{P} - \hat{\mathbf{M}}(\hat{\mathbf{M}}\cdot d\mathbf{P}))/|\mathbf{P}|`
    with :math:`d\mathbf{P}_j = \lambda_{js}\mathbf{e}_c` for slot ``s``, component ``c``.
    ``triples`` of shape ``(L, 3, 3)``; returns ``(L, 2q + 1, 3)`` and ``(9, L, 2q + 1, 3)``,
    direction ``3 s + c``.
    """
    P2, norm = _interpolant(lagrange, triples[None])
    Mhat = P2[0] / norm[0]
    dP2 = np.einsum("js,ce->scje", lagrange, np.eye(3)).reshape(9, 1, -1, 3)
    return Mhat, (dP2 - Mhat * np.sum(Mhat * dP2, axis=-1, keepdims=True)) / norm[0]


def box_positions(box: BoxSettings, n: int, dx: float) -> np.ndarray:
    """Positions of the particles of every box on the ring, shape ``(L, 2q + 1)``."""
    centres = np.arange(0, n, box.r + box.ell)
    offsets = np.arange(-box.half_width, box.half_width + 1)
    return ((centres[:, None] + offsets[None, :]) % n) * dx


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


def folded_weights(
    Phi: np.ndarray, micro: MicroSettings, grid: tuple
) -> tuple[np.ndarray, np.ndarray]:
    r"""The by-parts weights of (3.12) folded with :math:`\Phi` and the Hermite matrices.

    :math:`\mathbf{F} = \sum_k A_k\mathbf{u}_k + B_k\dot{\mathbf{u}}_k` over the coarse nodes of
    both directions. ``Phi`` of shape ``(..., 2, n_f + 1, 3, 3)``; returns ``A, B`` of shape
    ``(..., 2, n_c + 1, 3, 3)``.
    """
    n_c, delta, R = grid
    G = by_parts_weights(micro, n_c * R)[:, :, None, None] * Phi
    P, Q = hermite_matrices(n_c, R, delta)
    A = np.einsum("...dfab,fk->...dkab", G, P)
    B = np.einsum("...dfab,fk,d->...dkab", G, Q, np.array([1.0, -1.0]))
    return A, B


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
