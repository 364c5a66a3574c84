"""Strip volatile metadata from the committed notebooks, or check that there is none.

A committed chapter keeps its outputs (strict nbval compares them) and its execution counts
(nbval refuses outputs of a cell that was never run), but nothing that changes from one run
to the next without a change of content: the execution timestamps that Jupyter writes into
each cell's metadata, the Python version in the notebook's ``language_info``, and the way
printed text happened to arrive in pieces (consecutive stream outputs are merged).

    python tools/nbclean.py book/*.ipynb          # clean in place
    python tools/nbclean.py --check book/*.ipynb  # exit 1 if a notebook needs cleaning

Cells must also have been executed top to bottom in one run (counts 1, 2, 3, ...), which
``--check`` verifies.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VOLATILE_CELL_KEYS = ("execution",)
VOLATILE_LANGUAGE_KEYS = ("version",)


def coalesced(outputs: list[dict]) -> list[dict]:
    """Merge consecutive stream outputs of the same stream (how they arrived is not content)."""
    merged: list[dict] = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (
            last is not None
            and out.get("output_type") == "stream"
            and last.get("output_type") == "stream"
            and last.get("name") == out.get("name")
        ):
            text = "".join(last["text"]) + "".join(out["text"])
            last["text"] = text.splitlines(keepends=True)
        else:
            merged.append(out)
    return merged


def cleaned(nb: dict) -> dict:
    """Return ``nb`` without volatile metadata (a new dict; ``nb`` is not changed)."""
    nb = json.loads(json.dumps(nb))
    for cell in nb.get("cells", []):
        for key in VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if "outputs" in cell:
            cell["outputs"] = coalesced(cell["outputs"])
    info = nb.get("metadata", {}).get("language_info", {})
    for key in VOLATILE_LANGUAGE_KEYS:
        info.pop(key, None)
    return nb


def run_order_problems(nb: dict) -> list[str]:
    """Code cells whose execution counts are not 1, 2, 3, ... in order."""
    counts = [c.get("execution_count") for c in nb.get("cells", []) if c["cell_type"] == "code"]
    expected = list(range(1, len(counts) + 1))
    return [] if counts == expected else [f"execution counts {counts}, expected 1..{len(counts)}"]


def dumps(nb: dict) -> str:
    """The notebook as Jupyter writes it: one-space indent, UTF-8, final newline."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        new = dumps(cleaned(nb))
        problems = run_order_problems(nb)
        if args.check:
            if new != text:
                problems.insert(0, "volatile metadata (run tools/nbclean.py on it)")
            for problem in problems:
                print(f"{path}: {problem}")
            bad += bool(problems)
        elif new != text:
            path.write_text(new, encoding="utf-8")
            print(f"cleaned {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
