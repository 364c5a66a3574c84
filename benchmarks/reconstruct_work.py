r"""Work for a pointwise error: the reconstructed HMM against RK4 direct simulation (beyond the paper).

Figure 5.3's single spin (field :func:`hmm.fields.fig51_left`, :math:`\mathbf{M}_0 = [1,1,1]/\sqrt3`,
:math:`\beta = \gamma = 1`, :math:`T = 2\pi`) at :math:`\varepsilon = 10^{-3}, 10^{-4}`. The error
is :math:`\max_k|\mathbf{m}(t_k) - \mathbf{m}^\varepsilon(t_k)|` over 20 generic times
:math:`t_k = T(k - 0.382)/20` (:math:`t_k/\varepsilon` not integers), the reference
:func:`hmm.solve_dns` with 64 steps per period (its error is below 1e-11 here).

* HMM: :func:`hmm.book.work_precision.reconstructed_hmm`, the chapter's pipeline
  (:func:`hmm.averaged_start`, :func:`hmm.solve_hmm` with ``macro="gauss4"``,
  ``lift="restriction"``, ``drift="second_order"``, then :func:`hmm.reconstruct`); the cheapest
  settings found by a sweep over kernel, :math:`\tau/\varepsilon`, ``micro_steps_per_eps`` and ``N``
  for errors of about 1e-5, 1e-6 and 1e-7. Work: ``stats["field_evaluations"]`` (with the
  default ``n_quad=64`` for :math:`\mathbf{c}(t)`, and with ``n_quad=8``, exact for this field).
* Direct simulation: :func:`hmm.solve_dns` (RK4) with ``dns_steps_per_eps`` = 4, 5, ... up to the
  first that reaches each HMM error (the error falls monotonically in ``dns_steps_per_eps`` here).
* For comparison: the paper's HMM (Fig. 5.3 settings, start from :math:`\mathbf{m}^\varepsilon(0)`,
  no lift) plus the corrector, and the lifted HMM without the second-order drift.

Wall times: median of three runs (one for the reference). Run: ``python benchmarks/reconstruct_work.py``.
"""

from __future__ import annotations

import time

import numpy as np

import hmm
from hmm import fields
from hmm.book.work_precision import reconstructed_hmm

H, M0, T, GAMMA = fields.fig51_left, fields.FIG54_M0, 2 * np.pi, 1.0
T_OUT = T * (np.arange(1, 21) - 0.381966) / 20
EPS = (1e-3, 1e-4)
# (target, eps) -> (N, (p, q), tau / eps, micro_steps_per_eps): the cheapest found by the sweep
SETTINGS = {
    ("1e-5", 1e-3): (36, (1, 7), 7, 4),
    ("1e-6", 1e-3): (60, (1, 7), 7, 6),
    ("1e-7", 1e-3): (100, (1, 7), 10, 5),
    ("1e-5", 1e-4): (36, (1, 7), 7, 4),
    ("1e-6", 1e-4): (60, (1, 7), 8, 4),
    ("1e-7", 1e-4): (100, (1, 7), 10, 4),
}


def timed(fn, *args, repeats=3, **kwargs):
    """The result of ``fn(*args, **kwargs)`` and the median wall time of ``repeats`` calls."""
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        walls.append(time.perf_counter() - start)
    return result, float(np.median(walls))


def error(m, ref):
    return float(np.linalg.norm(m - ref, axis=1).max())


def reconstructed(eps, N, pq, r, spe, n_quad=64, drift="second_order", lift="restriction"):
    """Averaged start, the HMM, the reconstruction at T_OUT; and the HMM's field evaluations.

    The pipeline is the chapter's, :func:`hmm.book.work_precision.reconstructed_hmm`.
    """
    m, sol = reconstructed_hmm(
        H, M0, T_OUT, T=T, eps=eps, gamma=GAMMA, N=N, tau=r * eps, kernel=hmm.kernel(*pq),
        micro_steps_per_eps=spe, n_quad=n_quad, lift=lift, drift=drift,
    )  # fmt: skip
    return m, sol.stats["field_evaluations"]


def paper_hmm(eps):
    """Fig. 5.3's HMM (midpoint, N = 20, K^{5,4}, tau = 5 eps, start m(0), no lift) + corrector."""
    sol = hmm.solve_hmm(
        H, M0, T=T, N=20, eps=eps, tau=5 * eps, kernel=hmm.kernel(5, 4), gamma=GAMMA
    )
    return hmm.reconstruct(sol, H, T_OUT, eps=eps, gamma=GAMMA), sol.stats["field_evaluations"]


def dns(eps, k):
    sol = hmm.solve_dns(H, M0, T=T, eps=eps, gamma=GAMMA, t_eval=T_OUT, dns_steps_per_eps=k)
    return sol.m, sol.stats["field_evaluations"]


def main():
    for eps in EPS:
        (ref, _), wall_ref = timed(dns, eps, 64, repeats=1)
        print(f"\neps = {eps:g}: reference solve_dns(micro_steps_per_eps=64) {wall_ref:.1f} s")
        rows = []
        for (target, e), (N, pq, r, spe) in SETTINGS.items():
            if e != eps:
                continue
            (m, fe), wall = timed(reconstructed, eps, N, pq, r, spe)
            fe8 = reconstructed(eps, N, pq, r, spe, n_quad=8)[1]
            rows.append((f"~{target}", N, pq, r, spe, error(m, ref), fe, fe8, wall))
        N, pq, r, spe = SETTINGS[("1e-7", eps)]
        (m, fe), wall = timed(reconstructed, eps, N, pq, r, spe, drift="paper")
        rows.append(("no drift", N, pq, r, spe, error(m, ref), fe, fe, wall))
        (m, fe), wall = timed(paper_hmm, eps)
        rows.append(("paper", 20, (5, 4), 5, 32, error(m, ref), fe, fe, wall))
        # RK4 direct simulation: dns_steps_per_eps = 4, 5, ... until it reaches the smallest error
        scan, k = {}, 4
        while k <= 64:
            (m, fe), wall = timed(dns, eps, k)
            scan[k] = (error(m, ref), fe, wall)
            if scan[k][0] <= min(row[5] for row in rows):
                break
            k += 1
        print(
            f"{'HMM':9s} {'N':>4s} {'kernel':>7s} {'tau/eps':>7s} {'spe':>4s} {'error':>9s}"
            f" {'evals':>8s} {'(n_quad8)':>9s} {'wall s':>7s} | {'RK4 k':>5s} {'error':>9s}"
            f" {'evals':>9s} {'wall s':>7s} | {'ratio':>6s}"
        )
        for name, N, pq, r, spe, err, fe, fe8, wall in rows:
            k = min((k for k in scan if scan[k][0] <= err), default=None)
            dns_part = (
                f"{k:5d} {scan[k][0]:9.2e} {scan[k][1]:9d} {scan[k][2]:7.2f} | {scan[k][1] / fe:6.1f}"
                if k is not None
                else f"{'-':>5s} {'':9s} {'':9s} {'':7s} | {'':6s}"
            )
            print(
                f"{name:9s} {N:4d} {f'K{pq[0]},{pq[1]}':>7s} {r:7g} {spe:4d} {err:9.2e} {fe:8d}"
                f" {fe8:9d} {wall:7.2f} | {dns_part}"
            )


if __name__ == "__main__":
    main()
