r"""Work-precision targets of the book's work-precision chapter, timed (beyond the paper).

Each case fixes a tolerance and :math:`\varepsilon`, tunes both methods to it and compares
them: the work ratio (direct / HMM, field evaluations or spin steps) decides the target, the
ratios of median wall and CPU times are printed beside it. Spin and pointwise count all in and
take the worst over four phases (``all_in.py``): every method is run at :math:`\varepsilon'`
near :math:`\varepsilon` with :math:`\{\Delta t/\varepsilon'\} = 0, 1/4, 1/2, 3/4`; the
times are those of the resonant phase only.

* ``spin``: Figure 5.3's spin against the averaged solution; the HMM from
  :func:`hmm.choose_parameters`, its work the worst run plus the chooser's own evaluations
  (both printed); the direct simulation the cheapest resolving RK4 (:func:`hmm.solve_dns`, 2 to
  6 steps per period) within the tolerance, run at the eps scored.
* ``pointwise``: the same spin against :math:`\mathbf{m}^\varepsilon` itself at
  :math:`\varepsilon = 10^{-4}`, the chapter's two settings, every field evaluation counted
  (:func:`hmm.book.work_precision.hmm_all_in`): the averaged start, the restriction lift, the
  second-order drift and :func:`hmm.reconstruct`; RK4 with the fewest steps per period that is
  at least as accurate (reference: 8 steps per period).
* ``rivals``: the best rival, the stroboscopic averaging method (SAM), against the HMM, all in
  and at the worst phase, with the chapter's functions: on the spin at the four targets, SAM
  tuned at the eps scored against the robust and the exact (``robust=False``) chosen HMM; on
  the chain, SAM (``hmm.chain.solve_sam``) against the tuned chain HMM
  (:func:`hmm.book.work_precision.chain_race`). The HMM pays against a rival when the rival's
  work over the HMM's is above 1 (``wp-spin``, ``wp-exact``, ``wp-chain``).
* ``chain``: Figure 5.5's chain (``wp.CHAIN_J``) against the (3.9) averages (boxes that average
  in space) at the chapter's tolerances; the HMM with the chapter's settings
  (``wp.CHAIN_SETTINGS``, tuned at eps = 1e-2), RK4 with the fewest steps per period that meets
  the tolerance, chosen by the chapter's ``wp.chain_direct`` run at the eps timed; work all-in
  (spin steps plus field evaluations, ``wp.chain_work``).
"""

from __future__ import annotations

import statistics

import numpy as np
from all_in import DIRECT_KS, Problem, direct_rival, hmm_all_in, verdict
from harness import Timing, log, timed

import hmm
from hmm import fields
from hmm.book import work_precision as wp
from hmm.measure import max_error

H, M0, T = fields.fig51_left, fields.FIG54_M0, 2 * np.pi
T_OUT = np.linspace(0.0, T, 21)
# the chapter's targets, written once in hmm.book.work_precision: (tol, eps, required ratio)
SPIN_CASES = tuple((tol, eps, target) for (tol, eps), target in wp.SPIN_TARGETS.items())
SPIN = Problem(H, 1.0, M0, T)
POINTWISE = (1e-4, wp.POINTWISE_TARGET)  # eps, required ratio
POINTWISE_SETTINGS = {  # the chapter's: aim -> (N, kernel (p, q), tau/eps, micro steps per eps)
    1e-5: (36, (1, 7), 7, 4),
    1e-6: (60, (1, 7), 8, 4),
}
CHAIN_CASES = tuple(  # the chapter's targets; its settings are wp.CHAIN_SETTINGS
    (tol, eps, target) for (tol, eps), target in wp.CHAIN_TARGETS.items()
)


def _ratio(slow: Timing, fast: Timing, key: str) -> float:
    return statistics.median(getattr(slow, key)) / statistics.median(getattr(fast, key))


def _case(name, target, work, timing_slow, timing_fast, error_slow, error_fast, split=None) -> dict:
    """One target: work ratio direct / HMM decides; ``split`` = (HMM run, chooser cost)."""
    ratio = work[0] / work[1]
    return {
        "target": name,
        "required": target,
        "work": work,
        "split": split,
        "work_ratio": ratio,
        "wall_ratio": _ratio(timing_slow, timing_fast, "wall"),
        "cpu_ratio": _ratio(timing_slow, timing_fast, "cpu"),
        "errors": (error_slow, error_fast),
        "verdict": "PASS" if ratio >= target else "FAIL",
    }


def _spin_timing(eps: float, k: int, choice, repeats: int, budget: float) -> dict:
    """Wall and CPU time at the resonant phase only: RK4, and choosing + running the HMM."""
    x_dns, x_hmm = wp.direct_eps(eps)[0], wp.phased(eps, T / choice.N)[0]
    kw = choice.solve_kwargs() | dict(eps=x_hmm, tau=choice.rho * x_hmm)

    def all_in():
        hmm.choose_parameters(H, M0, tol=choice.tol, T=T, eps=eps)
        return hmm.solve_hmm(H, M0, T=T, **kw)

    fns = {
        "direct": lambda: hmm.solve_dns(
            H, M0, T=T, eps=x_dns, t_eval=T_OUT, dns_steps_per_eps=k
        ),
        "hmm": all_in,
    }  # fmt: skip
    return timed(fns, repeats, budget)


def spin_cases(repeats: int, budget: float) -> list[dict]:
    """The spin against mbar at a fixed tolerance, all in, worst over phases."""
    out = []
    for tol, eps, target in SPIN_CASES:
        log(f"precision: spin, tol {tol:.0e}, eps {eps:.0e} (HMM and RK4 at 4 phases each)")
        h = hmm_all_in(SPIN, tol, eps)
        d = direct_rival(SPIN, tol, wp.direct_eps(eps))
        if d is None:  # the direct floor above tol: no rival to time or count
            raise RuntimeError(f"no RK4 with k in {DIRECT_KS} reaches tol {tol:g} at eps {eps:g}")
        ratio, result = verdict(d, h, tol, target)
        t = _spin_timing(eps, d.k, h.choice, repeats, budget)
        c = _case(
            f"spin, tol {tol:.0e}, eps {eps:.0e}: RK4 (k={d.k}) / chosen HMM, all in",
            target, (d.work, h.work), t["direct"], t["hmm"], d.error, h.error,
            split=(h.run, h.cost),
        )  # fmt: skip
        out.append(c | {"verdict": result})
    return out


def _pointwise_setting(eps: float, setting: tuple, refs: np.ndarray) -> tuple[int, float]:
    """The reconstructed HMM all in (:func:`wp.hmm_all_in`) at the phases: worst work, error."""
    runs = [wp.hmm_all_in(x, setting) for x in wp.direct_eps(eps)]
    work = max(points for _, points, _ in runs)
    return work, max(max_error(m, ref) for (m, _, _), ref in zip(runs, refs, strict=True))


def _pointwise_rival(eps: float, refs: np.ndarray, err: float) -> tuple[int, int, float]:
    """The cheapest RK4 (:data:`DIRECT_KS`) run at the phases within ``err`` of m^eps: (k, work, error)."""
    for k in DIRECT_KS:
        sols = [
            hmm.solve_dns(H, M0, T=T, eps=x, t_eval=T_OUT, dns_steps_per_eps=k)
            for x in wp.direct_eps(eps)
        ]
        worst = max(max_error(s.m, ref) for s, ref in zip(sols, refs, strict=True))
        if worst <= err:
            return k, max(s.stats["field_evaluations"] for s in sols), worst
    raise RuntimeError(f"no RK4 with k in {DIRECT_KS} reaches {err:.1e} at eps {eps:g}")


def pointwise_case(repeats: int, budget: float) -> list[dict]:
    """The spin against m^eps: the reconstructed HMM all in against RK4, worst over phases."""
    eps, target = POINTWISE
    log(f"precision: pointwise, eps {eps:.0e} (reference RK4, 8 steps per period, 4 phases)")
    refs = [
        hmm.solve_dns(H, M0, T=T, eps=x, t_eval=T_OUT, dns_steps_per_eps=8).m
        for x in wp.direct_eps(eps)
    ]
    out = []
    for aim, setting in POINTWISE_SETTINGS.items():
        log(f"precision: pointwise, eps {eps:.0e}, setting {aim:.0e}")
        work, err = _pointwise_setting(eps, setting, refs)
        k, d_work, d_err = _pointwise_rival(eps, refs, err)
        x = wp.direct_eps(eps)[0]  # timing at the resonant phase only
        fns = {
            "direct": lambda x=x, k=k: hmm.solve_dns(
                H, M0, T=T, eps=x, t_eval=T_OUT, dns_steps_per_eps=k
            ),
            "hmm": lambda x=x, s=setting: wp.hmm_all_in(x, s),
        }  # fmt: skip
        t = timed(fns, repeats, budget)
        out.append(
            _case(
                f"pointwise, eps {eps:.0e}, setting {aim:.0e}: RK4 (k={k}) / "
                "reconstructed HMM, all in",
                target, (d_work, work), t["direct"], t["hmm"], d_err, err,
            )
        )  # fmt: skip
    return out


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
    """The targets' table: work ratio decides; HMM run and choice side by side."""
    print("\n# Work-precision targets, all in: the work ratio decides (wall and CPU ratios beside)")
    print("# spin, pointwise: work and errors the worst over 4 phases (resonant steps included);")
    print("# spin HMM work = its run + the chooser's field evaluations; pointwise HMM work counts")
    print("# the averaged start, drift quadrature and corrector; wall/CPU: resonant phase only,")
    print("# the spin HMM timed choosing and running")
    print("| target | required | work (direct, HMM all in) | HMM run + choice | cost <= run "
          "| work ratio | wall ratio | CPU ratio | errors (direct, HMM) | verdict |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        split, cheap = "-", "-"
        if c.get("split"):
            split = f"{c['split'][0]:,} + {c['split'][1]:,}"
            cheap = "yes" if c["split"][1] <= c["split"][0] else "no"
        print(
            f"| {c['target']} | >= {c['required']:g} | {c['work'][0]:,}, {c['work'][1]:,} "
            f"| {split} | {cheap} | {c['work_ratio']:.0f} | {c['wall_ratio']:.2g} "
            f"| {c['cpu_ratio']:.2g} | {c['errors'][0]:.1e}, {c['errors'][1]:.1e} "
            f"| {c['verdict']} |"
        )


def rival_cases(chain: bool = True) -> list[dict]:
    """SAM against the HMM, all in, worst phase: spin (robust, exact) and chain."""
    out = []
    for tol, eps, _ in SPIN_CASES:
        log(f"precision: rivals, spin, tol {tol:.0e}, eps {eps:.0e} (SAM tuned at eps)")
        sam = wp.sam_at(eps, tol)
        for mode, options in (("robust", {}), ("exact", wp.EXACT)):
            h = wp.chosen_at(eps, tol, **options)
            ok = h is not None and h[2] <= tol
            out.append(_rival(f"spin, tol {tol:.0e}, eps {eps:.0e}, {mode} HMM", sam, h, ok))
    if not chain:
        return out
    log("precision: rivals, chain (RK4, SAM and the HMM at 4 phases each)")
    race = wp.chain_race()
    for tol, eps in wp.CHAIN_TARGETS:
        run, h = race.rival(tol, eps, "sam"), race.runs[tol, eps, "hmm"]
        sam = (run.work, (run.N, run.k), run.error) if run else None
        hmm_run = (h.work, 0, h.error)
        name = f"chain J={race.J:g}, tol {tol:.0e}, eps {eps:.0e}"
        out.append(_rival(name, sam, hmm_run, h.error <= tol))
    return out


def _rival(name: str, sam, h, ok: bool) -> dict:
    """One row: SAM's work and setting, the HMM's all-in work, and which is cheaper within tol."""
    hmm_work = h[0] + h[1] if ok else None
    if hmm_work is None:
        cheaper = "SAM" if sam else "neither"
    elif sam is None:
        cheaper = "HMM"
    else:
        cheaper = "HMM" if sam[0] > hmm_work else "SAM"
    return {
        "case": name,
        "sam": sam[0] if sam else None,
        "sam_setting": sam[1] if sam else None,
        "hmm": hmm_work,
        "ratio": sam[0] / hmm_work if sam and hmm_work else None,
        "cheaper": cheaper,
    }


def print_rivals(rows: list[dict]) -> None:
    """The best rival's table: SAM's work over the HMM's, all in, worst phase."""
    print("\n# The best rival: SAM against the HMM, all in, worst over 4 phases; SAM tuned at the")
    print("# eps scored (spin) or N from its step bound and k tuned at eps = 1e-2 (chain)")
    print("| case | SAM work (N, k) | HMM work, all in | SAM / HMM | cheaper |")
    print("|---|---|---|---|---|")
    for r in rows:
        sam = f"{r['sam']:,} {r['sam_setting']}" if r["sam"] else "misses tol"
        h = f"{r['hmm']:,}" if r["hmm"] else "misses tol"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        print(f"| {r['case']} | {sam} | {h} | {ratio} | {r['cheaper']} |")
