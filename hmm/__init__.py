r"""HMM for the Landau-Lifshitz equation with a fast field.

A small package behind the book reproducing Arjmand, Engblom & Kreiss, *Temporal upscaling in
micro magnetism via heterogeneous multiscale methods*. Every solver takes the field first, the
initial state second, then keyword-only options, and returns a :class:`Solution` with ``t``,
``m`` and the work counters of :data:`STAT_KEYS`.

- :func:`kernel` -- averaging kernels :math:`K \in \mathbb{K}^{p,q}` (Section 2.2)
- :func:`solve_micro` -- the micro problem (3.4)/(3.6)
- :func:`upscaled_flux`, :func:`flux_matrices` -- the upscaled flux (3.5)/(3.7)
- :func:`solve_hmm` -- the HMM: macro model (3.2), macro solver (3.3)
- :func:`choose_parameters` -- the HMM's parameters for a tolerance, from an error model (beyond
  the paper; :mod:`hmm.choose`)
- :func:`solve_dns` -- direct simulation of (1.2)
- :func:`solve_sam` -- the stroboscopic averaging method of Calvo et al. 2011, a rival to the HMM
  (beyond the paper; :mod:`hmm.sam`)
- :func:`solve_averaged` -- the averaged equation (4.3) and its midpoint discretisation (4.10)
- :func:`reconstruct`, :func:`corrector`, :func:`averaged_start` -- the oscillating solution
  :math:`\mathbf{m}^\varepsilon` back from an HMM solution (:mod:`hmm.reconstruction`, beyond the paper)
- :func:`fast_antiderivative`, :func:`drift_vector`, :func:`second_order_drift`,
  :func:`missing_drift` -- second-order averaging of (1.2) (:mod:`hmm.averaging`, beyond the paper)
- :mod:`hmm.chain` -- a periodic chain of exchange-coupled spins (3.8): direct simulation and
  the HMM in time and space of Section 3.3
- :mod:`hmm.fields` -- the paper's fields and the field helpers
- :mod:`hmm.measure`, :mod:`hmm.claims` -- how the book measures, and its verdicts
"""

from . import averaging, chain, claims, fields, measure, reconstruction
from ._checks import MAX_WORK
from .averaged import solve_averaged
from .averaging import drift_vector, fast_antiderivative, missing_drift, second_order_drift
from .choose import Choice, choose_parameters
from .dns import solve_dns
from .fields import averaged_field
from .integrators import NonConvergenceError
from .kernels import Kernel, kernel
from .ll_equation import landau_lifshitz
from .macro import solve_hmm
from .micro import solve_micro
from .reconstruction import averaged_start, corrector, dense_output, reconstruct
from .sam import solve_sam
from .solution import STAT_KEYS, Solution
from .upscaling import flux_matrices, upscaled_flux

__all__ = [
    "MAX_WORK",
    "STAT_KEYS",
    "Choice",
    "Kernel",
    "NonConvergenceError",
    "Solution",
    "averaged_field",
    "averaged_start",
    "averaging",
    "chain",
    "choose_parameters",
    "claims",
    "corrector",
    "dense_output",
    "drift_vector",
    "fast_antiderivative",
    "fields",
    "flux_matrices",
    "kernel",
    "landau_lifshitz",
    "measure",
    "missing_drift",
    "reconstruct",
    "reconstruction",
    "second_order_drift",
    "solve_averaged",
    "solve_dns",
    "solve_hmm",
    "solve_micro",
    "solve_sam",
    "upscaled_flux",
]
