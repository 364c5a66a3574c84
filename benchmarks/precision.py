r"""Work-precision targets of the book's work-precision chapter, timed (beyond the paper).

Each case fixes a tolerance and :math:`\varepsilon`, tunes both methods to it and compares
them: the work ratio (direct / HMM, field evaluations or spin steps) decides the target, the
ratios of median wall and CPU times are printed beside it.

* ``spin``: Figure 5.3's spin against the averaged solution; the HMM from
  :func:`hmm.choose_parameters`, the direct simulation the cheapest resolving RK4
  (:func:`hmm.solve_dns`, 2, 3 or 4 steps per period) within the tolerance.
* ``pointwise``: the same spin against :math:`\mathbf{m}^\varepsilon` itself at
  :math:`\varepsilon = 10^{-4}`; the HMM with the averaged start, the restriction lift, the
  second-order drift and :func:`hmm.reconstruct`; RK4 with the fewest steps per period that is
  at least as accurate (reference: 8 steps per period).
* ``chain``: Figure 5.5's chain (``wp.CHAIN_J``) against the (3.9) averages (boxes that average
  in space) at the chapter's tolerances; the HMM with the chapter's settings
  (``wp.CHAIN_SETTINGS``, tuned at eps = 1e-2), RK4 with the fewest steps per period that meets
  the tolerance, chosen by the chapter's ``wp.chain_direct`` run at the eps timed; work all-in
  (spin steps plus field evaluations, ``wp.chain_work``).
"""

from __future__ import annotations

import statistics

import numpy as np
from harness import Timing, log, timed

import hmm
from hmm import fields
from hmm.book import work_precision as wp
from hmm.measure import max_error

H, M0, T = fields.fig51_left, fields.FIG54_M0, 2 * np.pi
T_OUT = np.linspace(0.0, T, 21)
# the chapter's targets, written once in hmm.book.work_precision: (tol, eps, required ratio)
SPIN_CASES = tuple((tol, eps, target) for (tol, eps), target in wp.SPIN_TARGETS.items())
POINTWISE = (1e-4, wp.POINTWISE_TARGET)  # eps, required ratio
POINTWISE_HMM = dict(N=36, kernel=hmm.kernel(1, 7), rho=7, micro_steps_per_eps=4)
CHAIN_CASES = tuple(  # the chapter's targets; its settings are wp.CHAIN_SETTINGS
    (tol, eps, target) for (tol, eps), target in wp.CHAIN_TARGETS.items()
)


def _ratio(slow: Timing, fast: Timing, key: str) -> float:
    return statistics.median(getattr(slow, key)) / statistics.median(getattr(fast, key))


def _case(name, target, work, timing_slow, timing_fast, error_slow, error_fast) -> dict:
    ratio = work[0] / work[1]
    return {
        "target": name,
        "required": target,
        "work": work,
        "work_ratio": ratio,
        "wall_ratio": _ratio(timing_slow, timing_fast, "wall"),
        "cpu_ratio": _ratio(timing_slow, timing_fast, "cpu"),
        "errors": (error_slow, error_fast),
        "verdict": "PASS" if ratio >= target else "FAIL",
    }


def spin_cases(repeats: int, budget: float) -> list[dict]:
    """The spin against mbar at a fixed tolerance."""
    out = []
    for tol, eps, target in SPIN_CASES:
        log(f"precision: spin, tol {tol:.0e}, eps {eps:.0e}")
        choice = hmm.choose_parameters(H, M0, tol=tol, T=T, eps=eps)
        options = choice.solve_kwargs()
        mbar_hmm = hmm.solve_averaged(H, M0, T=T, N=choice.N).m
        mbar_out = hmm.solve_averaged(H, M0, T=T, N=20).m
        direct = None
        for k in (2, 3, 4):
            sol = hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=T_OUT, dns_steps_per_eps=k)
            if max_error(sol.m, mbar_out) <= tol:
                direct = k
                break
        t = timed(
            {
                "direct": lambda eps=eps, k=direct: hmm.solve_dns(
                    H, M0, T=T, eps=eps, t_eval=T_OUT, dns_steps_per_eps=k
                ),
                "hmm": lambda kw=options: hmm.solve_hmm(H, M0, T=T, **kw),
            },
            repeats,
            budget,
        )
        d, h = t["direct"].result, t["hmm"].result
        work = (d.stats["field_evaluations"], h.stats["field_evaluations"])
        out.append(
            _case(
                f"spin, tol {tol:.0e}, eps {eps:.0e}: RK4 (k={direct}) / chosen HMM",
                target, work, t["direct"], t["hmm"],
                max_error(d.m, mbar_out), max_error(h.m, mbar_hmm),
            )
        )  # fmt: skip
    return out


def pointwise_case(repeats: int, budget: float) -> dict:
    """The spin against m^eps: the reconstructed HMM against RK4."""
    eps, target = POINTWISE
    log(f"precision: pointwise, eps {eps:.0e}")
    ref = hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=T_OUT, dns_steps_per_eps=8).m
    s = POINTWISE_HMM

    def run_hmm():  # the chapter's pipeline: averaged start, HMM, reconstruction
        return wp.reconstructed_hmm(
            H, M0, T_OUT, T=T, eps=eps, N=s["N"], tau=s["rho"] * eps, kernel=s["kernel"],
            micro_steps_per_eps=s["micro_steps_per_eps"],
        )  # fmt: skip

    m, sol = run_hmm()
    err_hmm = max_error(m, ref)
    k = next(
        k
        for k in (2, 3, 4, 5, 6)
        if max_error(hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=T_OUT, dns_steps_per_eps=k).m, ref)
        <= err_hmm
    )
    t = timed(
        {
            "direct": lambda: hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=T_OUT, dns_steps_per_eps=k),
            "hmm": run_hmm,
        },
        repeats,
        budget,
    )
    work = (t["direct"].result.stats["field_evaluations"], sol.stats["field_evaluations"])
    return _case(
        f"pointwise, eps {eps:.0e}: RK4 (k={k}) / reconstructed HMM",
        target, work, t["direct"], t["hmm"], max_error(t["direct"].result.m, ref), err_hmm,
    )  # fmt: skip


def chain_cases(repeats: int, budget: float) -> list[dict]:
    """The chain against the (3.9) averages at the chapter's tolerances, work all-in."""
    out, J = [], wp.CHAIN_J
    for tol, eps, target in CHAIN_CASES:
        log(f"precision: chain, tol {tol:.0e}, eps {eps:.0e}")
        s = wp.CHAIN_SETTINGS[tol]
        direct, _ = wp.chain_direct(J, eps, s, tol)  # RK4 run at eps, four phases
        if direct is None:
            raise RuntimeError(f"no RK4 meets tol {tol:.0e} at eps {eps:.0e}")
        t = timed(
            {
                "direct": lambda eps=eps, k=direct.k: wp.chain_dns(J, eps, k),
                "hmm": lambda eps=eps, s=s: wp.chain_hmm(J, eps, s),
            },
            repeats,
            budget,
        )
        d, (h, err_hmm) = t["direct"].result, t["hmm"].result
        out.append(
            _case(
                f"chain J={J:g}, tol {tol:.0e}, eps {eps:.0e}: RK4 (k={direct.k}) / tuned chain HMM",
                target, (wp.chain_work(d.stats), wp.chain_work(h.stats)), t["direct"], t["hmm"],
                max_error(wp.space_mean(d.m, s), wp.chain_target(J, 20, s)), err_hmm,
            )
        )  # fmt: skip
    return out


def print_precision(cases: list[dict]) -> None:
    print("\n# Work-precision targets (work ratio decides; wall and CPU ratios beside)")
    print("| target | required | work (direct, HMM) | work ratio | wall ratio | CPU ratio "
          "| errors (direct, HMM) | verdict |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for c in cases:
        print(
            f"| {c['target']} | >= {c['required']:g} | {c['work'][0]:,}, {c['work'][1]:,} "
            f"| {c['work_ratio']:.0f} | {c['wall_ratio']:.0f} | {c['cpu_ratio']:.0f} "
            f"| {c['errors'][0]:.1e}, {c['errors'][1]:.1e} | {c['verdict']} |"
        )
