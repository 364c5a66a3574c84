"""``make test-portable``: the tests again on a second numerical path, with a rounding audit.

1. Ask numpy which SIMD extensions it dispatches to on this machine (the ``found`` list of
   ``numpy.show_runtime()``: the dispatch targets that the CPU supports) and turn them all off
   with ``NPY_DISABLE_CPU_FEATURES``, so that numpy runs its baseline kernels (other
   transcendental functions, other summation orders). ``OPENBLAS_NUM_THREADS=1`` changes
   the BLAS threading. ``OPENBLAS_CORETYPE`` is left as the machine has it.
2. Check in a fresh interpreter that the features really are off, and log them.
3. Run pytest (unit tests and strict nbval on every notebook) with that environment, with the
   kernels loading ``tools/nbaudit.py``, which fails a cell that prints a number round-off
   could change.

The committed notebook outputs must pass unchanged: the same text on both paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from numpy._core import _multiarray_umath as umath

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json; from numpy._core import _multiarray_umath as u; "
    "print(json.dumps([f for f in u.__cpu_dispatch__ if u.__cpu_features__.get(f)]))"
)
KERNEL_CONFIG = """\
c.InteractiveShellApp.extensions = ["nbaudit"]
"""  # keep the history on: IPython reads a trailing ';' from it


def dispatched_features() -> list[str]:
    """SIMD dispatch targets that numpy found on this CPU (what ``show_runtime`` lists as found)."""
    return [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)]


def main(argv: list[str]) -> int:
    features = dispatched_features()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NPY_DISABLE_CPU_FEATURES=" ".join(features))
    left = json.loads(subprocess.check_output([sys.executable, "-c", PROBE], env=env, text=True))
    print(f"numpy {np.__version__}, baseline {' '.join(umath.__cpu_baseline__) or '-'}")
    print(f"SIMD dispatch turned off: {' '.join(features) or 'none found'}")
    print(f"still dispatched with NPY_DISABLE_CPU_FEATURES set: {' '.join(left) or 'none'}")
    print("OPENBLAS_NUM_THREADS=1; kernels audit every printed number (tools/nbaudit.py)")
    if left:
        print("error: numpy still dispatches to", left, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as ipython_dir:
        config = Path(ipython_dir, "profile_default", "ipython_kernel_config.py")
        config.parent.mkdir(parents=True)
        config.write_text(KERNEL_CONFIG)
        env["IPYTHONDIR"] = ipython_dir
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "tools"), env.get("PYTHONPATH", "")) if p
        )
        return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
