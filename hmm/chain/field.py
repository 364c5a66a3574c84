r"""The applied field of the chain (3.8): the same on every particle, or particle by particle.

(3.8) lets the applied field :math:`\tilde{\mathbf{H}}_i^\varepsilon(t)` differ from particle to
particle. The chain solvers take either

* ``H(t, s)``, the same on every particle (the paper's Figure 5.5, the default), or
* ``H(t, s, x)`` with ``spatial_field=True``, of the slow time ``t``, the fast variable ``s``
  (period 1) and the particle position :math:`x_i = i\,\delta x`. It is called with arrays
  ``t``, ``s``, ``x`` of one shape (the times broadcast against the positions) and must return
  that shape plus ``(3,)``; a field written with elementwise numpy operations works unchanged.

:class:`ChainField` holds either kind, checks what it returns and counts the points
:math:`(t, s, x)` at which it is evaluated (``stats["field_evaluations"]``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks, fields


class ChainField:
    """The applied field of a chain, uniform or particle dependent, counted.

    Parameters
    ----------
    H : callable
        ``H(t, s)`` (``spatial=False``) or ``H(t, s, x)`` (``spatial=True``).
    spatial : bool
        Whether ``H`` depends on the particle position.

    Attributes
    ----------
    points : int
        Points :math:`(t, s)` at which the field was evaluated, times the particles for a
        particle-dependent field.
    """

    def __init__(self, H: Callable, spatial: bool):
        self.H = _checks.field(H)
        self.spatial = _checks.flag("spatial_field", spatial)
        self.points = 0

    def uniform(self, t, s) -> np.ndarray:
        """A uniform field at ``t``, ``s`` (one shape ``S``): shape ``S + (3,)``."""
        values = fields.evaluate(self.H, t, s)
        self.points += np.size(t)
        return values

    def at(self, t, s, x) -> np.ndarray:
        """The field at ``t``, ``s`` (one shape ``S``) on the particles at ``x`` (shape ``(P,)``): ``S + (P, 3)``."""
        t = np.asarray(t, dtype=float)
        if not self.spatial:
            values = self.uniform(t, s)[..., None, :]
            return np.broadcast_to(values, t.shape + (len(x), 3))
        t, s, xx = np.broadcast_arrays(t[..., None], np.asarray(s, dtype=float)[..., None], x)
        return self._particles(t, s, xx)

    def rows(self, x_rows: np.ndarray) -> Callable:
        """``H(t, s)`` for the rows of a batch: row ``k`` of ``t`` (shape ``(R, ...)``) sits at ``x_rows[k]``.

        The micro propagators of :mod:`hmm.micro` take a field of ``(t, s)``; with the batch of
        (time, particle) pairs in the rows, they give one propagator per particle.
        """

        def H_rows(t, s):
            t = np.asarray(t, dtype=float)
            xx = np.broadcast_to(x_rows.reshape((-1,) + (1,) * (t.ndim - 1)), t.shape)
            return self._particles(t, np.broadcast_to(s, t.shape), xx)

        return H_rows

    def on_chain(self, t, eps: float, x: np.ndarray) -> np.ndarray:
        r""":math:`\mathbf{H}(t, t/\varepsilon)` components first: shape ``S + (3, n)``, or ``S + (3, 1)`` if uniform."""
        t = np.asarray(t, dtype=float)
        if not self.spatial:
            return self.uniform(t, t / eps)[..., None]
        return np.swapaxes(self.at(t, t / eps, x), -1, -2)

    def bound(self, T: float, x: np.ndarray, n: int = 32) -> float:
        r"""Estimate :math:`\max|\mathbf{H}|` on an ``n`` by ``n`` grid of :math:`[0, T]\times[0, 1)` (and every ``x``)."""
        values = self._grid(T, x, n)
        return float(np.max(np.linalg.norm(values, axis=-1)))

    def jump_bound(self, T: float, x: np.ndarray, n: int = 32) -> float:
        r"""Estimate :math:`\max_i|\mathbf{H}_{i+1} - \mathbf{H}_i|` over neighbours of the ring (0 if uniform)."""
        if not self.spatial:
            return 0.0
        values = self._grid(T, x, n)
        return float(np.max(np.linalg.norm(np.roll(values, -1, axis=-2) - values, axis=-1)))

    def _grid(self, T: float, x: np.ndarray, n: int) -> np.ndarray:
        t, s = np.meshgrid(np.linspace(0.0, T, n), np.arange(n) / n, indexing="ij")
        return self.at(t, s, x) if self.spatial else self.uniform(t, s)

    def _particles(self, t: np.ndarray, s: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``H(t, s, x)`` on arrays of one shape, checked (the messages name ``H(t, s, x)``)."""
        try:
            values = fields.evaluate(lambda tt, ss: self.H(tt, ss, x), t, s)
        except ValueError as error:
            raise ValueError(str(error).replace("H(t, s)", "H(t, s, x)")) from None
        except TypeError as error:
            raise ValueError(
                f"with spatial_field=True H must be callable as H(t, s, x); calling it raised {error}"
            ) from None
        self.points += np.size(t)
        return values
