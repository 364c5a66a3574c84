r"""Choosing the HMM's parameters for a tolerance (beyond the paper): :func:`choose_parameters`.

Three modules: :mod:`hmm.choose.model` (the error model below: the field's harmonics, the
responses of the macro scheme, the averaging factors), :mod:`hmm.choose.probe` (the micro-step
error, probed) and :mod:`hmm.choose.search` (the search over the candidates).


Given a field, a tolerance ``tol`` on :math:`\max_n|\mathbf{M}_n - \bar{\mathbf{m}}(t_n)|` against
the averaged solution (4.3), and the problem (``T``, ``eps``, ``m0``, ``beta``, ``gamma``), pick the
macro steps :math:`N`, the kernel :math:`K^{p,q}`, :math:`\rho = \tau/\varepsilon`, the micro steps
per period, the flux quadrature and the micro start (``lift``) with the fewest field evaluations
whose *predicted* error is below ``safety * tol``. No HMM is run: the choice rests on a model of the computed flux matrix
(:math:`\mathbf{F} = \mathcal{A}\mathbf{M}`, (3.7)), to first order in :math:`\varepsilon`,

.. math::  \mathcal{A}(t) = {}& \beta\Big[D(0)\bar{\mathbf{H}}
           + \sum_{k\ge1} 2\,\mathrm{Re}\big(D(k)\,\mathbf{h}_k(t)\,e^{2\pi ikt/\varepsilon}\big)
           + \delta\mathbf{H}\Big]_\times \\
           & - \varepsilon\beta^2[\bar{\mathbf{H}}]_\times[\mathbf{Q}(t/\varepsilon)]_\times
           + (\text{micro error}),

the phase term (the one with :math:`\mathbf{Q}`) only with the paper's micro start at
:math:`\mathbf{M}` (``lift="none"``); the start lifted by restriction (``lift="restriction"``,
:func:`hmm.upscaling.restricted_flux_matrix_batch`) removes it at no extra field evaluation,

with :math:`\mathbf{h}_k` the harmonics of :math:`\mathbf{H}(t, \cdot)` (FFTs in :math:`s` at
Chebyshev points in :math:`t`, :func:`hmm.choose.model.slow_harmonics`: the chooser's only field
evaluations, ``Choice.cost``),
:math:`D` the averaging factor of the quadrature on the micro grid
(:func:`hmm.upscaling.grid_fourier`), :math:`\delta\mathbf{H}` the second-order drift
(:math:`-\beta\varepsilon\mathbf{c}`, :func:`hmm.averaging.drift`) and :math:`\mathbf{Q}` the zero-mean primitive of the fast part
(:func:`hmm.averaging.antiderivative`). What each term does to the solution is measured by the macro scheme run
on model fluxes (no micro problem; one batch, :func:`hmm.macro_scheme.batched_march`):

``macro``
    the scheme on (4.3) against :math:`\bar{\mathbf{m}}`;
``floor``
    the :math:`O(\varepsilon)` terms :math:`\delta\mathbf{H}` and (``lift="none"``) :math:`\mathbf{Q}`:
    the floor of the HMM, which no kernel or micro grid removes
    (:func:`hmm.choose.model.floor_terms`);
``averaging``
    :math:`|1 - D(0)|R_0 + \sum_k (|D(k)| + \varepsilon r_k|D'(k)|/2\pi)R_k
    + \tfrac12\tau^2|\mu_2|R_2`, with :math:`R_k` the response of the solution to the harmonic
    :math:`k` (keeping the cancellation over the phases :math:`t_n/\varepsilon`), :math:`r_k` its
    relative rate of change in :math:`t`, :math:`\mu_2 = \int K t^2` and :math:`R_2` the response to
    :math:`\mathcal{C} = d^3\mathbf{m}/ds^3` of the averaged micro problem (:func:`hmm.choose.model.window_curvature`:
    the :math:`\tau` term of Theorem 1, second order for the centred window, 0 for ``p >= 2``);
``micro``
    the micro-step error of the flux that :math:`D` does not explain, probed at a few times against
    four times the steps per period on the model field built from the harmonics (no field
    evaluations; :class:`hmm.choose.probe.MicroProbe`), times :math:`T\sqrt{1 + (\gamma/\beta)^2}`.

The sources are bounded separately and added. With ``robust=True`` the prediction does not rely on
the period being exactly :math:`\varepsilon`: :math:`|D|` and :math:`|D'|` are maximised over
:math:`\nu \pm 1/(2\rho)` (no zero of :math:`D` is used; this covers a period off by
:math:`1/(2k\rho)`, relative, for harmonic :math:`k`), and the responses over the phase
sequences :math:`t_n/\varepsilon` of :func:`hmm.choose.model.phase_sets`: nine with shifted
origins and drifts of up to four periods over :math:`[0, T]`, and the resonant ones, a period
:math:`\Delta t/j` for integers :math:`j` near :math:`\Delta t/\varepsilon`, one per phase
pattern within a step (:func:`hmm.choose.model.resonances`), at eight origins, where every macro step sees the fast field at one phase and the phase-dependent
:math:`O(\varepsilon)` flux error adds up instead of averaging out (the worst case for the floor
and the responses). Other periods give phase sequences between these, which the sequences sample
but do not bound.

The model is that of :func:`hmm.solve_hmm` with the paper's macro model (``drift="paper"``)
and either micro start, measured against the solution of (4.3); both starts are candidates
unless ``lift`` is given, and the cheaper wins (the lifted one on a tie). The option
``drift="second_order"`` changes the drift, aiming at the second-order average that
:func:`hmm.reconstruct` needs; its error against (4.3) is not what this predicts.
"""

from .model import FieldModel, Grid, Responses
from .probe import MicroProbe
from .search import Choice, ErrorSplit, choose_parameters

__all__ = [
    "Choice",
    "ErrorSplit",
    "FieldModel",
    "Grid",
    "MicroProbe",
    "Responses",
    "choose_parameters",
]
