r"""The micro-step error of the flux, probed at a few macro times on the model field (no field evaluations)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..kernels import Kernel
from ..ll_equation import cross_matrix
from ..micro import MicroSettings, propagators
from ..upscaling import harmonic_rows, quadrature_weights, restricted_flux, window_flux
from .model import Grid, SlowHarmonics

REFERENCE_FACTOR = 4
"""The reference flux of the micro-error probe has this many times the candidate's steps per period."""


class MicroProbe:
    r"""Micro-step error of the flux at a few macro times, per kernel, grid and quadrature (cached).

    The error is :math:`\max_t\|\mathcal{A} - \mathcal{A}_{\rm ref} - (\mathcal{L} - \mathcal{L}_{\rm ref})\|_2`:
    the computed flux matrix against the one with :data:`REFERENCE_FACTOR` times the steps per
    period (Simpson), less the difference that the averaging factors :math:`D` of the two grids explain,
    :math:`\mathcal{L} = \beta[D(0)\mathbf{h}_0 + \sum_k 2\mathrm{Re}(D(k)\mathbf{h}_k e^{2\pi ikt/\varepsilon})]_\times`
    (that part is in the averaging error already). The propagators of a grid serve every kernel.
    The error is nearly the same for every kernel and :math:`\rho` at one number of steps per
    period (it is the micro error of the :math:`O(\varepsilon)` terms), so the search does not
    probe a candidate that fails with the smallest error probed so far at its steps per period
    (:meth:`least`): that can make the choice dearer, never less accurate.

    With ``lift="restriction"`` the flux matrices are those of the lifted micro start,
    :func:`hmm.upscaling.restricted_flux` (the propagators are shared). The micro problems are solved on the model field :meth:`SlowHarmonics.field
    <hmm.choose.model.SlowHarmonics.field>`, the field's harmonics resolved to well below what the
    tolerance allows: the probe costs no field evaluations. The micro error is that of the
    Magnus steps on a field with these harmonics; what the model field leaves out is below the
    level the harmonics were resolved to.
    """

    def __init__(self, harmonics: SlowHarmonics, T: float, eps: float, beta: float):
        self.H: Callable = harmonics.field
        self.eps, self.beta = eps, beta
        self.times = np.linspace(0.05 * T, 0.95 * T, 4) + eps * np.linspace(0.0, 0.9, 4)
        self.h = harmonics(self.times)
        self._propagators: dict = {}
        self._errors: dict = {}

    def __call__(self, K: Kernel, grid: Grid, quadrature: str, lift: str = "none") -> float:
        key = (K.p, K.q, grid, quadrature, lift)
        if key not in self._errors:
            fine = REFERENCE_FACTOR * grid.micro_steps_per_eps
            ref = Grid(REFERENCE_FACTOR * grid.n, grid.rho, fine)
            gap = self._unexplained(K, grid, quadrature, lift)
            gap = gap - self._unexplained(K, ref, "simpson", lift)
            self._errors[key] = float(np.linalg.norm(gap, ord=2, axis=(1, 2)).max())
        return self._errors[key]

    def least(self, micro_steps_per_eps: int, quadrature: str, lift: str = "none") -> float:
        """The smallest error probed so far with ``micro_steps_per_eps``, ``quadrature`` and ``lift`` (0 if none)."""
        probed = [
            e for (_, _, grid, quad, lf), e in self._errors.items()
            if (grid.micro_steps_per_eps, quad, lf) == (micro_steps_per_eps, quadrature, lift)
        ]  # fmt: skip
        return min(probed, default=0.0)

    def _unexplained(self, K: Kernel, grid: Grid, quadrature: str, lift: str) -> np.ndarray:
        """The flux matrices at the probe times less their leading-order model."""
        micro = dataclasses.replace(self._micro(grid), kernel=K)
        s, Phi = self._solve(grid)
        A = window_flux(self.H, self.times, s, Phi, micro, quadrature)
        if lift == "restriction":
            A = restricted_flux(A, s, Phi, micro)
        k = np.arange(self.h.shape[1])
        unit = MicroSettings(1.0, grid.rho, K, 1.0, grid.micro_steps_per_eps, "magnus4", "centred")
        x, rows = harmonic_rows(k.astype(float), unit, quadrature)
        D = rows @ quadrature_weights(x, K, grid.rho, quadrature)
        waves = np.exp(2j * np.pi * np.outer(self.times / self.eps, k)) * D
        waves[:, 0] = 0.5 * D[0]
        return A - self.beta * cross_matrix(2 * np.real(np.einsum("tk,tkc->tc", waves, self.h)))

    def _micro(self, grid: Grid) -> MicroSettings:
        return MicroSettings(
            self.eps,
            grid.rho * self.eps,
            None,
            self.beta,
            grid.micro_steps_per_eps,
            "magnus4",
            "centred",
        )

    def _solve(self, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
        if grid not in self._propagators:
            self._propagators[grid] = propagators(self.H, self.times, self._micro(grid))
        return self._propagators[grid]
