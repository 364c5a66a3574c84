r"""The micro boxes of (3.11): their layout on the chain and their initial data, the normalised quadratic interpolant.

:class:`BoxSettings` holds the layout (``r``, ``ell``, the damping layer of Remark 4, the ends);
:func:`box_initial_states` the interpolant :math:`\hat{\mathbf{M}} = \pi_2\mathbf{M}/|\pi_2\mathbf{M}|`
of the three macro values of a box, :func:`box_tangents` its derivatives in them (the start of the
tangent-linear run of :meth:`hmm.chain.micro.MicroBoxes.flux_jacobian`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..integrators import NonConvergenceError

ENDS = ("fixed", "precessing")


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


def neighbour_slots(L: int) -> np.ndarray:
    """Indices of the macro values (I-1, I, I+1) of every box, periodic, shape (L, 3)."""
    return (np.arange(L)[:, None] + np.arange(-1, 2)[None, :]) % L


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
