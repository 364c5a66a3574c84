"""Timing harness: repeated, interleaved wall and CPU timings, profiles, and the rows of the table."""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def log(msg: str) -> None:
    """Progress to stderr, with the time of day."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    """Wall and CPU times of the repeated runs of one solver, and its last result."""

    result: object = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


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
