"""The shape of the chapters as a reader meets them: code and text lines, cell lengths, numbers.

Usage::

    python tools/nbshape.py book/*.ipynb            # a table: code and text lines, cells
    python tools/nbshape.py --numbers OLD.ipynb NEW.ipynb
                                                    # printed numbers of OLD missing in NEW

Code lines are the non-blank lines of code cells (the Colab set-up cell, which every chapter
starts with, not counted); text lines the non-blank lines of Markdown cells. The printed
numbers are every number in the text outputs (streams, text/plain, text/markdown, text/html)
of the code cells, as written, so that a restructured chapter can be checked to print the
numbers it printed before.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")
TEXT_MIMES = ("text/plain", "text/markdown", "text/html")


def _lines(cell) -> list[str]:
    src = "".join(cell["source"])
    return [line for line in src.splitlines() if line.strip()]


def _is_colab(cell) -> bool:
    return "".join(cell["source"]).startswith("# Colab")


def shape(path: Path) -> dict:
    """Code and text lines of one notebook and the lengths of its code cells."""
    cells = json.loads(path.read_text())["cells"]
    code = [len(_lines(c)) for c in cells if c["cell_type"] == "code" and not _is_colab(c)]
    text = sum(len(_lines(c)) for c in cells if c["cell_type"] == "markdown")
    return {
        "code": sum(code),
        "text": text,
        "cells": len(code),
        "longest": max(code, default=0),
        "median": statistics.median(code) if code else 0,
        "lengths": code,
    }


def printed_numbers(path: Path) -> Counter:
    """The multiset of numbers in the text outputs of a notebook's code cells."""
    found: Counter = Counter()
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")]
            texts += [out.get("data", {}).get(m, "") for m in TEXT_MIMES]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                if "<Figure size" in text:
                    continue
                found.update(NUMBER.findall(text))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--numbers", action="store_true", help="compare OLD and NEW")
    args = parser.parse_args(argv)
    if args.numbers:
        old, new = (printed_numbers(p) for p in args.notebooks)
        missing = old - new
        print(f"{sum(old.values())} numbers before, {sum(new.values())} after")
        print(f"missing after: {sorted(missing.elements()) or 'none'}")
        print(f"new after: {sorted((new - old).elements()) or 'none'}")
        return 1 if missing else 0
    total = Counter()
    print(f"{'chapter':<22}{'code':>6}{'text':>6}{'cells':>7}{'median':>8}{'longest':>9}")
    for path in args.notebooks:
        s = shape(path)
        total.update({k: s[k] for k in ("code", "text", "cells")})
        print(
            f"{path.stem:<22}{s['code']:>6}{s['text']:>6}{s['cells']:>7}"
            f"{s['median']:>8}{s['longest']:>9}"
        )
    print(f"{'all':<22}{total['code']:>6}{total['text']:>6}{total['cells']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
