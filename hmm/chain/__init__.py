r"""A periodic chain of exchange-coupled spins: direct simulation (3.8) and the HMM of Section 3.3.

The chain has ``n`` particles :math:`\mathbf{m}_i`, :math:`i = 0, \dots, n-1`, with periodic
neighbours. Each feels the applied field :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`
(the same on every particle, or one per particle) and the nearest-neighbour exchange field of
(3.8),

.. math::  \mathbf{H}_i^\varepsilon = J(\mathbf{m}_{i-1} + \mathbf{m}_{i+1}) + \mathbf{H}^\varepsilon(t),
           \qquad \frac{d\mathbf{m}_i}{dt} = -\beta\,\mathbf{m}_i\times\mathbf{H}_i^\varepsilon
           - \gamma\,\mathbf{m}_i\times(\mathbf{m}_i\times\mathbf{H}_i^\varepsilon).          \tag{3.8}

``J`` is the coupling per bond (:math:`J_{ij} = J` for :math:`|i-j| = 1`). Writing the exchange as the
discrete Laplacian :math:`J(\mathbf{m}_{i-1} - 2\mathbf{m}_i + \mathbf{m}_{i+1})` gives the same
dynamics, because :math:`\mathbf{m}_i` only enters through :math:`\mathbf{m}_i\times\cdot`; a
continuum exchange constant :math:`A` corresponds to :math:`J = A/\delta x^2`.

HMM (Section 3.3). With ``r`` and ``ell`` the macro point :math:`X_I` sits on particle
:math:`I(r+\ell)`, ``L = n/(r+ell)`` macro points. The macro values are the space-time
averages (3.9) :math:`\mathbf{M}_I = \sum_{|j|\le r}\omega_j (K_\tau * \mathbf{m}_{I(r+\ell)+j})`,
:math:`\omega_j \propto K^{\mathrm{space}}(j/2r)` (the kernel :math:`K_\eta`, :math:`\eta = 2r\delta x`, sampled on
the particles and normalised to sum 1). The macro model (3.10)
:math:`\dot{\mathbf{M}}_I = \mathbf{F}_I + \frac{\gamma}{\beta}\mathbf{M}_I\times\mathbf{F}_I` is stepped by
the implicit midpoint rule, as for one spin. The flux :math:`\mathbf{F}_I(t_a, \mathbf{M}_{I-1},
\mathbf{M}_I, \mathbf{M}_{I+1})` comes from the micro problem (3.11): a box of ``2r+1``
particles started from the normalised quadratic interpolant :math:`\hat{\mathbf{M}}` of the
three macro values, end spins held fixed, no damping, solved forward and backward from
:math:`t_a`; then the upscaling (3.12) :math:`\mathbf{F}_I = \sum_j\omega_j (K_\tau * \dot{\mathbf{m}}_j)(t_a)`.

How the micro problems are solved (all boxes, and all Newton tangents, in one batch,
Remark 3). With a uniform applied field and the single-spin propagator :math:`\Phi(s)` of
:mod:`hmm.micro` (:math:`\Phi' = \beta[\mathbf{H}^\varepsilon]_\times\Phi`, exact rotations,
fourth-order Magnus) the substitution :math:`\mathbf{m}_j = \Phi\mathbf{u}_j` turns (3.11) into the
exchange-only problem :math:`\dot{\mathbf{u}}_j = -\beta J\,\mathbf{u}_j\times(\mathbf{u}_{j-1} + \mathbf{u}_{j+1})`
(rotations preserve cross products), with the fixed end spins appearing as the known
boundary data :math:`\mathbf{u}_{\pm r} = \Phi^T\hat{\mathbf{M}}_{\pm r}`. This equation has no
:math:`\varepsilon`-scale stiffness and is integrated by RK4 with a step of a few per
:math:`\varepsilon`. The upscaling is done by parts,
:math:`\mathbf{F}_I = -\int K_\tau'(s)\,\Phi(s)\bar{\mathbf{u}}(s)\,ds` (plus end terms if
:math:`K_\tau` jumps there) with :math:`\bar{\mathbf{u}} = \sum_{|j|<r}\omega_j\mathbf{u}_j`, Hermite-interpolated
to the fine Magnus grid and Simpson's rule; the end spins, held fixed, contribute nothing to (3.12).

Beyond the paper's set-up, :func:`solve_hmm` offers

* a field that varies from particle to particle, ``H(t, s, x)`` with ``spatial_field=True``
  (allowed by (3.8); :mod:`hmm.chain.field`): one rotating frame per particle, the neighbours
  coupled through :math:`\Phi_j^T\Phi_{j\pm1}`; ``solve_dns`` and ``dns_average`` take it too;
* the remedies of Remark 4 against the waves that the box ends send into a box: end spins that
  precess with their field (``ends="precessing"``) and a damping layer at the box edges
  (``layer``, ``layer_damping``);
* the fourth-order macro step ``macro="gauss4"``;

and its Newton method uses exact flux Jacobians (a tangent-linear run of the boxes) whose
exchange part is reused over macro steps (:mod:`hmm.chain.solver`).

Modules: :mod:`hmm.chain.dns` (the direct simulation (3.8)), :mod:`hmm.chain.averages`
(the space-time averages (3.9)), :mod:`hmm.chain.field` (the applied field),
:mod:`hmm.chain.boxes` (the layout and initial data of the micro boxes (3.11)),
:mod:`hmm.chain.frames` (their rotating frames), :mod:`hmm.chain.quadrature` (the quadrature
of (3.12) by parts), :mod:`hmm.chain.micro` (the batched micro problems (3.11), the upscaling
(3.12) and its derivative; :func:`upscaled_fluxes` for given macro values),
:mod:`hmm.chain.solver` (the macro stepping of (3.10)) and :mod:`hmm.chain.sam` (a rival beyond
the paper: the stroboscopic averaging method on the whole chain, :func:`solve_sam`). Results are :class:`hmm.Solution`
objects with ``x`` set.
"""

from .averages import dns_average, macro_particles, space_average, space_weights
from .dns import solve_dns
from .micro import upscaled_fluxes
from .sam import solve_sam
from .solver import solve_hmm

__all__ = [
    "dns_average",
    "macro_particles",
    "solve_dns",
    "solve_hmm",
    "solve_sam",
    "space_average",
    "space_weights",
    "upscaled_fluxes",
]
