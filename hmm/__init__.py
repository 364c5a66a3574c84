r"""HMM for the Landau-Lifshitz equation with a fast field.

A small package behind the book reproducing Arjmand, Engblom & Kreiss,
*Temporal upscaling in micro magnetism via heterogeneous multiscale methods*.

Public API (see the book's API page):

- :func:`kernel` -- averaging kernels :math:`K \in \mathbb{K}^{p,q}` (Section 2.2)
- :func:`solve_micro` -- the micro problem (3.4)/(3.6)
- :func:`upscaled_flux` -- the upscaled flux (3.5)/(3.7)
- :func:`solve_hmm` -- the HMM macro solver (3.3)
- :func:`solve_dns` -- direct simulation of (1.2)
- :func:`solve_averaged` -- the averaged equation (4.3) and its midpoint discretisation (4.10)
- :mod:`hmm.chain` -- a periodic chain of exchange-coupled spins (3.8): direct simulation and
  the HMM in time and space of Section 3.3 (``hmm.chain.solve_dns``, ``hmm.chain.solve_hmm``)
"""

from . import chain
from .integrators import NonConvergenceError, implicit_midpoint_step
from .kernels import Kernel, kernel
from .ll_equation import landau_lifshitz
from .micro import solve_micro
from .solvers import Solution, averaged_field, solve_averaged, solve_dns, solve_hmm
from .upscaling import flux_matrices, upscaled_flux

__all__ = [
    "chain",
    "Kernel",
    "NonConvergenceError",
    "Solution",
    "averaged_field",
    "flux_matrices",
    "implicit_midpoint_step",
    "kernel",
    "landau_lifshitz",
    "solve_averaged",
    "solve_dns",
    "solve_hmm",
    "solve_micro",
    "upscaled_flux",
]
