r"""Wall-clock cost of HMM against direct simulation, measured in one run (``make bench``).

Times, on this machine and in one process:

* single spin, the Figure 5.3 set-up of the paper (field
  :math:`\mathbf{H}(t, s) = [\sin 2\pi s, \cos 2\pi s, 1]`, :math:`\beta=\gamma=1`,
  :math:`T = 2\pi`, :math:`N = 20`, :math:`K \in \mathbb{K}^{5,4}`, :math:`\tau = 5\varepsilon`,
  :math:`\mathbf{M}_0 = [1,1,1]/\sqrt3`): ``hmm.solve_hmm``, ``hmm.solve_dns`` and scipy's
  ``solve_ivp`` (DOP853, plain numpy right-hand side of (1.2)) for
  :math:`\varepsilon = 10^{-2}, 10^{-3}, 10^{-4}`;
* the chain of Figure 5.5 (100 particles, :math:`T = 1.5`): ``hmm.chain.solve_hmm`` and
  ``hmm.chain.solve_dns`` for :math:`\varepsilon = 10^{-2}, 10^{-3}`.

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
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy
from scipy.integrate import solve_ivp

import hmm

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- set-ups (paper, Sec. 5.3, 5.5)
SPIN = {
    "T": 2 * np.pi,
    "N": 20,
    "p": 5,
    "q": 4,
    "tau_over_eps": 5.0,
    "beta": 1.0,
    "gamma": 1.0,
    "M0": (np.ones(3) / np.sqrt(3)).tolist(),
}
SPIN_EPS = (1e-2, 1e-3, 1e-4)
IVP_RTOL, IVP_ATOL = 1e-6, 1e-9

CHAIN = {
    "n": 100,
    "dx": 0.01,
    "T": 1.5,
    "N": 20,
    "r": 5,
    "ell": 5,
    "p": 5,
    "q": 4,
    "tau_over_eps": 5.0,
    "beta": 1.0,
    "gamma": 1.0,
    "J": 1.0,
}
CHAIN_EPS = (1e-2, 1e-3)
SPIN_KERNEL = hmm.kernel(SPIN["p"], SPIN["q"])
CHAIN_KERNEL = hmm.kernel(CHAIN["p"], CHAIN["q"])


def spin_field(t, s):
    """Field of Figure 5.3 (left): H(t, s) = [sin 2 pi s, cos 2 pi s, 1]."""
    s = np.asarray(s, dtype=float)
    return np.stack([np.sin(2 * np.pi * s), np.cos(2 * np.pi * s), np.ones_like(s)], axis=-1)


def chain_field(t, s):
    """Field of Figure 5.5: (1 + cos(0.43 t) + cos^2(2 pi s)) [0, 0, 1]."""
    t = np.asarray(t, dtype=float)
    amp = 1.0 + np.cos(0.43 * t) + np.cos(2 * np.pi * np.asarray(s, dtype=float)) ** 2
    out = np.zeros(amp.shape + (3,))
    out[..., 2] = amp
    return out


def ivp_rhs(eps: float, beta: float, gamma: float) -> Callable:
    """Plain numpy right-hand side of (1.2) for solve_ivp: no vectorisation tricks."""

    def rhs(t, m):
        phase = 2 * np.pi * t / eps
        h = np.array([np.sin(phase), np.cos(phase), 1.0])
        mxh = np.cross(m, h)
        return -beta * mxh - gamma * np.cross(m, mxh)

    return rhs


# ---------------------------------------------------------------- timing helpers
def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Timing:
    """Wall and CPU times of the repeated runs of one solver, and its last result."""

    def __init__(self) -> None:
        self.result = None
        self.wall: list[float] = []
        self.cpu: list[float] = []


def run_once(fn: Callable, timing: Timing) -> None:
    """One timed call of ``fn``, with the garbage collector off (as :mod:`timeit` does).

    Records wall time (``time.perf_counter``) and the process's CPU time
    (``time.process_time``); the latter is far less sensitive to other load on the machine.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        w0, c0 = time.perf_counter(), time.process_time()
        timing.result = fn()
        timing.cpu.append(time.process_time() - c0)
        timing.wall.append(time.perf_counter() - w0)
    finally:
        if enabled:
            gc.enable()


def timed(fns: dict, repeats: int, budget: float = float("inf")) -> dict:
    """Time each of ``fns`` (a dict of callables) up to ``repeats`` times, round robin.

    Interleaving the solvers that a target compares means that a burst of load from
    elsewhere on the machine hits all of them alike. Stops early (after at least one
    round) once the next round would overrun ``budget`` seconds. Returns a
    :class:`Timing` per key.
    """
    out = {key: Timing() for key in fns}
    used = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for key, fn in fns.items():
            run_once(fn, out[key])
        lap = time.perf_counter() - start
        used += lap
        if used + lap > budget:  # the next round would overrun the budget
            break
    return out


def profile(fn: Callable, top: int = 12) -> list[dict]:
    """cProfile one call of ``fn``; the ``top`` functions by own time, also printed to stderr."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({name})",
                "ncalls": ncalls,
                "tottime": tottime,
                "cumtime": cumtime,
            }
        )
    rows.sort(key=lambda r: r["tottime"], reverse=True)
    log("cProfile, top functions by own time:")
    for r in rows[:top]:
        log(
            f"  {r['tottime']:8.3f} s own  {r['cumtime']:8.3f} s cum  {r['ncalls']:>8}  {r['function']}"
        )
    return rows[:top]


def record(rows: list[dict], timing: Timing, scale: float = 1.0, **row) -> dict:
    """Add one table row: median and minimum wall time, median CPU time (times ``scale``)."""
    row["wall_median_s"] = statistics.median(timing.wall) * scale
    row["wall_min_s"] = min(timing.wall) * scale
    row["cpu_median_s"] = statistics.median(timing.cpu) * scale
    row["runs"] = len(timing.wall)
    rows.append(row)
    log(
        f"{row['case']:<6} {row['method']:<20} eps={row['eps']:.0e}  "
        f"median {row['wall_median_s']:.4g} s wall, {row['cpu_median_s']:.4g} s cpu "
        f"over {row['runs']} run(s)  err {row['error']:.2e}"
    )
    return row


# ---------------------------------------------------------------- single spin
def spin_max_error(m: np.ndarray, ref: np.ndarray) -> float:
    """max over the output times of |m - ref|."""
    return float(np.max(np.linalg.norm(m - ref, axis=-1)))


def spin_hmm(eps: float):
    """``hmm.solve_hmm`` on the single-spin set-up ``SPIN`` (Figure 5.3, first field)."""
    return hmm.solve_hmm(
        spin_field,
        np.array(SPIN["M0"]),
        T=SPIN["T"],
        N=SPIN["N"],
        eps=eps,
        tau=SPIN["tau_over_eps"] * eps,
        kernel=SPIN_KERNEL,
        beta=SPIN["beta"],
        gamma=SPIN["gamma"],
    )


def bench_spin(args, rows: list[dict]) -> None:
    T, N = SPIN["T"], SPIN["N"]
    beta, gamma = SPIN["beta"], SPIN["gamma"]
    M0 = np.array(SPIN["M0"])
    t_macro = np.linspace(0.0, T, N + 1)
    ref = hmm.solve_averaged(spin_field, M0, T=T, N=N, beta=beta, gamma=gamma).m

    run_hmm = spin_hmm

    def run_dns(eps, T_run=T, t_out=t_macro):
        return hmm.solve_dns(spin_field, M0, T=T_run, eps=eps, beta=beta, gamma=gamma, t_eval=t_out)

    def run_ivp(eps, T_run=T, t_out=t_macro):
        sol = solve_ivp(
            ivp_rhs(eps, beta, gamma),
            (0.0, T_run),
            M0,
            method="DOP853",
            rtol=IVP_RTOL,
            atol=IVP_ATOL,
            t_eval=t_out,
        )
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed at eps = {eps}: {sol.message}")
        return sol

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
            ref_out = (
                ref
                if T_run == T
                else hmm.solve_averaged(spin_field, M0, T=T_run, N=1, beta=beta, gamma=gamma).m
            )
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
                error=spin_max_error(m, ref_out),
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
            error=spin_max_error(timing.result.m, ref),
            note="",
        )
        rows += [r for r in direct_rows if r["eps"] == eps]


# ---------------------------------------------------------------- chain
def chain_status() -> str:
    """'' if hmm.chain offers solve_hmm and solve_dns, else the reason it does not."""
    try:
        import hmm.chain as chain
    except Exception as exc:  # noqa: BLE001 -- any failure to import means: skip the chain
        return f"import hmm.chain failed: {type(exc).__name__}: {exc}"
    missing = [name for name in ("solve_hmm", "solve_dns") if not hasattr(chain, name)]
    return f"hmm.chain lacks {', '.join(missing)}" if missing else ""


def chain_initial() -> np.ndarray:
    x = np.arange(CHAIN["n"]) * CHAIN["dx"]
    return np.stack([np.sin(2 * np.pi * x), np.cos(2 * np.pi * x), np.zeros_like(x)], axis=-1)


def chain_hmm(eps: float):
    """``hmm.chain.solve_hmm`` on the chain set-up ``CHAIN`` (Figure 5.5)."""
    c = CHAIN
    return hmm.chain.solve_hmm(
        chain_initial(),
        chain_field,
        T=c["T"],
        N=c["N"],
        eps=eps,
        tau=c["tau_over_eps"] * eps,
        kernel=CHAIN_KERNEL,
        r=c["r"],
        ell=c["ell"],
        J=c["J"],
        beta=c["beta"],
        gamma=c["gamma"],
    )


def bench_chain(args, rows: list[dict]) -> None:
    """Chain of Figure 5.5: DNS and HMM timed in turn; accuracy against the averaged DNS.

    The HMM's macro values are the space-time averages (3.9) of the particles around each
    macro point, so its reference is ``hmm.chain.dns_average`` (the DNS at the same eps,
    averaged by (3.9) at the macro times; computed once, not timed). For the DNS row the
    error column is the distance of its point values at the macro particles to that average.
    """
    import hmm.chain as chain

    c = CHAIN
    m0 = chain_initial()
    kernel = hmm.kernel(c["p"], c["q"])
    phys = {"J": c["J"], "beta": c["beta"], "gamma": c["gamma"]}
    box = {"kernel": kernel, "r": c["r"], "ell": c["ell"]}
    t_macro = np.linspace(0.0, c["T"], c["N"] + 1)
    macro = np.arange(0, c["n"], c["r"] + c["ell"])  # particle under each macro point

    def run_dns(eps):
        return chain.solve_dns(m0, chain_field, T=c["T"], eps=eps, t_eval=t_macro, **phys)

    run_hmm = chain_hmm

    def err(m, ref):
        return float(np.max(np.linalg.norm(m - ref, axis=-1)))

    run_hmm(CHAIN_EPS[0])  # warm-up
    for eps in CHAIN_EPS:
        log(f"chain, eps = {eps:.0e}: reference (averaged DNS, not timed)")
        tau = c["tau_over_eps"] * eps
        ref = chain.dns_average(m0, chain_field, t=t_macro, eps=eps, tau=tau, **box, **phys).m
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
            work=_chain_work(sol),
            error=err(sol.m, ref),
            note="",
        )
        record(
            rows,
            t["dns"],
            case="chain",
            method="hmm.chain.solve_dns",
            eps=eps,
            work=_chain_work(dns),
            error=err(dns.m[:, macro], ref),
            note="error: point values at the macro particles",
        )


def _chain_work(sol) -> int | None:
    """Particle steps (one RK4 step of one particle), the chain's machine-independent work."""
    value = sol.stats.get("particle_steps")
    return None if value is None else int(value)


# ---------------------------------------------------------------- targets and report
def ratio(rows, case, slow, fast, eps_slow, eps_fast=None, key="wall_median_s"):
    """Ratio of the ``key`` times of two rows (``None`` if either row is missing)."""

    def value(method, eps):
        for r in rows:
            if r["case"] == case and r["method"] == method and r["eps"] == eps:
                return r[key]
        return None

    a, b = value(slow, eps_slow), value(fast, eps_slow if eps_fast is None else eps_fast)
    return None if a is None or b is None else a / b


TARGETS = (  # name, (case, slow, fast, eps_slow, eps_fast), rule, bound
    (
        "spin: solve_ivp / solve_hmm at eps=1e-3",
        ("spin", "scipy DOP853", "hmm.solve_hmm", 1e-3, None),
        ">=",
        300.0,
    ),
    (
        "spin: solve_hmm(eps=1e-4) / solve_hmm(eps=1e-2)",
        ("spin", "hmm.solve_hmm", "hmm.solve_hmm", 1e-4, 1e-2),
        "<=",
        1.3,
    ),
    (
        "chain: solve_dns / solve_hmm at eps=1e-2",
        ("chain", "hmm.chain.solve_dns", "hmm.chain.solve_hmm", 1e-2, None),
        ">",
        1.0,
    ),
    (
        "chain: solve_dns / solve_hmm at eps=1e-3",
        ("chain", "hmm.chain.solve_dns", "hmm.chain.solve_hmm", 1e-3, None),
        ">=",
        10.0,
    ),
)


def check_targets(rows: list[dict]) -> list[dict]:
    """Each target's ratio of median wall times, its verdict, and the same ratio in CPU time."""
    out = []
    for name, (case, slow, fast, eps_slow, eps_fast), op, bound in TARGETS:
        value = ratio(rows, case, slow, fast, eps_slow, eps_fast)
        cpu = ratio(rows, case, slow, fast, eps_slow, eps_fast, key="cpu_median_s")
        if value is None:
            verdict = "SKIP"
        else:
            ok = {"<=": value <= bound, ">=": value >= bound, ">": value > bound}[op]
            verdict = "PASS" if ok else "FAIL"
        out.append(
            {
                "target": name,
                "value": value,
                "cpu_ratio": cpu,
                "rule": f"{op} {bound:g}",
                "verdict": verdict,
                "case": case,
                "eps": eps_slow,
            }
        )
    return out


def print_report(rows: list[dict], targets: list[dict], meta: dict) -> None:
    print(f"# HMM vs direct simulation, {meta['date']} on {meta['machine']}")
    print(
        f"# python {meta['python']}, numpy {meta['numpy']}, scipy {meta['scipy']}; "
        f"load average (1, 5, 15 min) at start {meta['loadavg_start']}, "
        f"at end {meta['loadavg_end']}"
    )
    if max(meta["loadavg_start"][0], meta["loadavg_end"][0]) > 0.5 * (os.cpu_count() or 1):
        print("# WARNING: the machine was loaded by other processes; wall times are noisy")
    print("# wall = median wall time over runs (time.perf_counter), cpu = median process time;")
    print("# work = spin: field (right-hand side) evaluations, chain: particle steps;")
    print("# error = max over macro times (and macro points) of |m - mbar|, mbar = single spin:")
    print("# averaged solution of (4.3); chain: DNS at the same eps averaged by (3.9)")
    head = (
        f"{'case':<6} {'method':<20} {'eps':>6} {'wall [s]':>10} {'cpu [s]':>10} {'runs':>4} "
        f"{'work':>11} {'error':>9}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        work = "-" if r["work"] is None else f"{r['work']:d}"
        note = r["note"]
        print(
            f"{r['case']:<6} {r['method']:<20} {r['eps']:>6.0e} {r['wall_median_s']:>10.4g} "
            f"{r['cpu_median_s']:>10.4g} {r['runs']:>4d} {work:>11} {r['error']:>9.2e}  {note}"
        )
    if meta["chain"] != "run":
        print(f"# chain part not run: {meta['chain']}")
    print()
    print("# targets: ratios of median wall times (the same ratio in CPU time for comparison)")
    for t in targets:
        value = "n/a" if t["value"] is None else f"{t['value']:.4g}"
        cpu = "n/a" if t["cpu_ratio"] is None else f"{t['cpu_ratio']:.4g}"
        print(f"{t['verdict']:<4}  {t['target']:<50} {value:>10}  (target {t['rule']}; cpu {cpu})")


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
    chain_note = "skipped (--skip-chain)" if args.skip_chain else chain_status()
    if chain_note:
        log(f"CHAIN PART SKIPPED: {chain_note}")
    else:
        bench_chain(args, rows)
    meta["chain"] = chain_note or "run"
    targets = check_targets(rows)

    profiles = {}
    failed = [t for t in targets if t["verdict"] == "FAIL"]
    if failed or args.profile:
        profiles = run_profiles(failed if not args.profile else targets)
    meta["total_wall_s"] = time.perf_counter() - start
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(rows, targets, meta)
    print(f"# total wall time of this script: {meta['total_wall_s']:.0f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"meta": meta, "rows": rows, "targets": targets, "profiles": profiles}, indent=1)
    )
    log(f"wrote {args.json}")
    if failed:
        return 1
    if meta["chain"] != "run" and not args.skip_chain:
        log("exit status 1: the chain targets could not be checked (see above)")
        return 1
    return 0


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
