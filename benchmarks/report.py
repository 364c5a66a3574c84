"""Speed targets of the cost chapter, their verdicts, and the printed report."""

from __future__ import annotations

import os


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
    print("# work = spin: field (right-hand side) evaluations, chain: spin steps;")
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
