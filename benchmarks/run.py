r"""Wall-clock cost of HMM against direct simulation, measured in one run (``make bench``).

Times, on this machine and in one process:

* single spin, the Figure 5.3 set-up of the paper (field
  :math:`\mathbf{H}(t, s) = [\sin 2\pi s, \cos 2\pi s, 1]`, :math:`\beta=\gamma=1`,
  :math:`T = 2\pi`, :math:`N = 20`, :math:`K \in \mathbb{K}^{5,4}`, :math:`\tau = 5\varepsilon`,
  :math:`\mathbf{M}_0 = [1,1,1]/\sqrt3`): ``hmm.solve_hmm``, ``hmm.solve_dns`` and scipy's
  ``solve_ivp`` (DOP853, plain numpy right-hand side of (1.2)) for
  :math:`\varepsilon = 10^{-2}, 10^{-3}, 10^{-4}`;
* the chain of Figure 5.5 (100 particles, :math:`T = 1.5`): ``hmm.chain.solve_hmm`` and
  ``hmm.chain.solve_dns`` for :math:`\varepsilon = 10^{-2}, 10^{-3}`;
* the work-precision targets of the book's work-precision chapter (``precision.py``): both
  methods tuned to a fixed tolerance, work ratio against its target, wall and CPU ratios beside;
  on the single spin all in (the chooser's own field evaluations added to the HMM's run, the
  reconstruction's averaged start, drift quadrature and corrector counted) and the worst over
  four phases of the macro step, every rival run at the eps it is scored at.

Each timing is the median of a few repeats (wall time, ``time.perf_counter``, with the
garbage collector off; the process's CPU time is recorded too, as it is far less sensitive to
other load on the machine). Solvers that a target compares are timed round robin, so that a
burst of outside load hits them alike. Next to each time is the run's error against the
averaged solution (single spin: the averaged equation (4.3); chain: the direct simulation at
the same eps, averaged in space and time by (3.9), ``hmm.chain.dns_average``), so that speed is compared at known accuracy. Only at the smallest
:math:`\varepsilon`, and only if one direct run is predicted to take longer than
``--max-direct`` seconds, is a direct solver timed on a shorter horizon and its time scaled up;
the table says so. The script checks the speed targets of the book's cost chapter, prints
PASS/FAIL for each, writes everything to ``_build/bench.json`` and exits with status 1 if a
target fails (after profiling the failing HMM solver with cProfile) or if the chain part could
not be run (unless ``--skip-chain``). Progress goes to stderr.

Run from the repository root: ``python benchmarks/run.py [--help]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from harness import log, profile, record, timed
from precision import (
    chain_cases,
    pointwise_case,
    print_precision,
    print_rivals,
    rival_cases,
    spin_cases,
)
from report import check_targets, print_report
from setups import (
    CHAIN,
    CHAIN_EPS,
    CHAIN_MACRO,
    IVP_ATOL,
    IVP_RTOL,
    SPIN,
    SPIN_EPS,
    SPIN_T_MACRO,
    chain_dns,
    chain_hmm,
    chain_reference,
    spin_dns,
    spin_hmm,
    spin_ivp,
    spin_reference,
)

from hmm.measure import max_error

ROOT = Path(__file__).resolve().parent.parent


def bench_spin(args, rows: list[dict]) -> None:
    """Single spin (Figure 5.3 set-up): the HMM, hmm.solve_dns and scipy's DOP853 at each eps."""
    T = SPIN["T"]
    t_macro = SPIN_T_MACRO
    ref = spin_reference()
    run_hmm, run_dns, run_ivp = spin_hmm, spin_dns, spin_ivp

    # warm-up: first calls pay for imports and caches
    run_hmm(1e-2)
    run_dns(1e-1, 1.0, np.array([0.0, 1.0]))
    run_ivp(1e-1, 1.0, np.array([0.0, 1.0]))

    # The HMM runs take milliseconds. Time them in rounds over all eps back to back, so that a
    # burst of load from elsewhere on the machine hits every eps alike (a target compares these
    # times): --hmm-repeats rounds now, and --paired more rounds inside every round of a direct
    # solver below, so that the HMM's sample spans the whole benchmark and the load it saw.
    log(f"single spin, hmm.solve_hmm at every eps ({args.hmm_repeats} rounds, interleaved)")
    hmm_timings = timed({eps: lambda eps=eps: run_hmm(eps) for eps in SPIN_EPS}, args.hmm_repeats)
    hmm_rounds = {(k, e): lambda e=e: run_hmm(e) for k in range(args.paired) for e in SPIN_EPS}

    direct_rows: list[dict] = []
    for eps in SPIN_EPS:
        log(f"single spin, eps = {eps:.0e}")
        # The direct solvers: predict the cost of one run from the previous eps (cost ~ 1/eps)
        # and, only at the smallest eps and only if it would exceed --max-direct seconds, time
        # a shorter horizon T_run instead and scale the time (and work) by T / T_run (the cost
        # is linear in T). The note in the table says so.
        for method, run in (("hmm.solve_dns", run_dns), ("scipy DOP853", run_ivp)):
            previous = [r for r in direct_rows if r["method"] == method]
            predicted = previous[-1]["wall_median_s"] * previous[-1]["eps"] / eps if previous else 0
            T_run, note = T, ""
            if predicted > args.max_direct and eps == min(SPIN_EPS):  # only ever the smallest
                T_run = T * args.max_direct / 4 / predicted
                note = (
                    f"predicted {predicted:.0f} s > {args.max_direct:.0f} s: timed on [0, {T_run:.3g}]"
                    f" and scaled by {T / T_run:.3g}; error on that interval only"
                )
                log(f"  {method}: {note}")
            t_out = t_macro if T_run == T else np.array([0.0, T_run])
            ref_out = ref if T_run == T else spin_reference(T_run, 1)
            fns = {"direct": lambda r=run, e=eps, T_run=T_run, t_out=t_out: r(e, T_run, t_out)}
            t = timed(fns | hmm_rounds, args.repeats, args.budget)
            for (_, e), extra in ((key, t[key]) for key in hmm_rounds):
                hmm_timings[e].wall += extra.wall
                hmm_timings[e].cpu += extra.cpu
            timing = t["direct"]
            sol = timing.result
            if method == "hmm.solve_dns":
                work, m = sol.stats["field_evaluations"], sol.m
            else:
                work, m = sol.nfev, sol.y.T
            scale = T / T_run
            record(
                direct_rows,
                timing,
                scale,
                case="spin",
                method=method,
                eps=eps,
                work=int(round(work * scale)),
                error=max_error(m, ref_out),
                note=note,
            )

    for eps in SPIN_EPS:  # table order: per eps the HMM, then the direct solvers
        timing = hmm_timings[eps]
        record(
            rows,
            timing,
            case="spin",
            method="hmm.solve_hmm",
            eps=eps,
            work=timing.result.stats["field_evaluations"],
            error=max_error(timing.result.m, ref),
            note="",
        )
        rows += [r for r in direct_rows if r["eps"] == eps]


def bench_chain(args, rows: list[dict]) -> None:
    """Chain of Figure 5.5: DNS and HMM timed in turn; accuracy against the averaged DNS.

    The HMM's macro values are the space-time averages (3.9) of the particles around each
    macro point, so its reference is ``hmm.chain.dns_average`` (the DNS at the same eps,
    averaged by (3.9) at the macro times; computed once, not timed). For the DNS row the
    error column is the distance of its point values at the macro particles to that average.
    """
    run_dns, run_hmm = chain_dns, chain_hmm
    run_hmm(CHAIN_EPS[0])  # warm-up
    for eps in CHAIN_EPS:
        log(f"chain, eps = {eps:.0e}: reference (averaged DNS, not timed)")
        ref = chain_reference(eps)
        log(f"chain, eps = {eps:.0e}: DNS and HMM, timed in turn")
        t = timed(
            {"dns": lambda eps=eps: run_dns(eps), "hmm": lambda eps=eps: run_hmm(eps)},
            args.repeats,
            args.budget,
        )
        dns, sol = t["dns"].result, t["hmm"].result
        record(
            rows,
            t["hmm"],
            case="chain",
            method="hmm.chain.solve_hmm",
            eps=eps,
            work=sol.stats["spin_steps"],
            error=max_error(sol.m, ref),
            note="",
        )
        record(
            rows,
            t["dns"],
            case="chain",
            method="hmm.chain.solve_dns",
            eps=eps,
            work=dns.stats["spin_steps"],
            error=max_error(dns.m[:, CHAIN_MACRO], ref),
            note="error: point values at the macro particles",
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each direct solver")
    parser.add_argument(
        "--hmm-repeats", type=int, default=31, help="first rounds of HMM runs (all eps)"
    )
    parser.add_argument(
        "--paired",
        type=int,
        default=5,
        help="rounds of HMM runs (all eps) timed in each round of a direct solver (single spin)",
    )
    parser.add_argument("--budget", type=float, default=80.0, help="seconds per case for repeats")
    parser.add_argument(
        "--max-direct",
        type=float,
        default=300.0,
        help="if one direct run is predicted to exceed this (s), time a shorter T and scale up",
    )
    parser.add_argument("--skip-chain", action="store_true", help="single spin only")
    parser.add_argument(
        "--skip-precision", action="store_true", help="skip the work-precision targets"
    )
    parser.add_argument("--profile", action="store_true", help="always profile the HMM solvers")
    parser.add_argument("--json", type=Path, default=ROOT / "_build" / "bench.json")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "spin_setup": SPIN,
        "chain_setup": CHAIN,
        "ivp": {"method": "DOP853", "rtol": IVP_RTOL, "atol": IVP_ATOL},
    }
    rows: list[dict] = []
    bench_spin(args, rows)
    if args.skip_chain:
        log("chain part skipped (--skip-chain)")
    else:
        bench_chain(args, rows)
    meta["chain"] = "skipped (--skip-chain)" if args.skip_chain else "run"
    targets = check_targets(rows)
    precision, rivals = [], []
    if not args.skip_precision:
        precision = spin_cases(args.repeats, args.budget)
        precision += pointwise_case(args.repeats, args.budget)
        if not args.skip_chain:
            precision += chain_cases(args.repeats, args.budget)
        rivals = rival_cases(chain=not args.skip_chain)

    profiles = {}
    failed = [t for t in targets if t["verdict"] == "FAIL"]
    if failed or args.profile:
        profiles = run_profiles(failed if not args.profile else targets)
    meta["total_wall_s"] = time.perf_counter() - start
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(rows, targets, meta)
    print_precision(precision)
    print_rivals(rivals)
    print(f"# total wall time of this script: {meta['total_wall_s']:.0f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "meta": meta,
                "rows": rows,
                "targets": targets,
                "precision": precision,
                "rivals": rivals,
                "profiles": profiles,
            },
            indent=1,
        )
    )
    log(f"wrote {args.json}")
    return 1 if failed or any(c["verdict"] == "FAIL" for c in precision) else 0


def run_profiles(targets: list[dict]) -> dict:
    """Profile the HMM solver of each listed target (the one that must be fast)."""
    out = {}
    for t in targets:
        if t["value"] is None:
            continue
        run_hmm = spin_hmm if t["case"] == "spin" else chain_hmm

        def fn(eps=t["eps"], run_hmm=run_hmm):
            run_hmm(eps)

        log(f"profiling the HMM of target: {t['target']}")
        out[t["target"]] = profile(fn)
    return out


if __name__ == "__main__":
    sys.exit(main())
