"""IPython extension: refuse a printed number that round-off on another machine could change.

Loaded into the notebook kernels by ``make test-portable`` (see ``tools/test_portable.py``).
Every f-string replacement field of a cell, ``f"{x:.2e}"``, is rewritten so that the value
passes through :func:`checked` before it is formatted. A float passes when its text stays the
same under the perturbations :math:`x(1 \\pm \\delta) \\pm a` with ``delta = REL`` and
``a = ABS``: a relative change of 1e-9 anywhere in the computation, or absolute round-off of
size 1e-13 in a difference of quantities of size one, cannot flip a printed digit. A float
printed with ``f`` or ``g`` that is exactly +0.0 passes (a parameter such as ``gamma = 0``, or a
value rounded on purpose); one that is only near zero still fails, as it could print ``-0.00``
or ``1e-16`` elsewhere. A float
printed without a format code (``f"{x}"``) passes when its text has at most
``MAX_PLAIN_DIGITS`` significant digits (an input such as ``0.1``, not a computed value).
Anything else raises :class:`FragileOutput`, and the cell fails with the value and the two
texts it could have printed.

The chapters' own code that moved into the package (``AUDITED``: the modules of ``hmm.book``)
is audited the same way: an import hook compiles its source with the same rewrite (never from,
nor into, the bytecode cache). The formatting helpers it calls (``hmm.measure.bound``,
``fixed``, ``LogFit.range``, and the claims' check texts) are not: they print thresholds, bounds
and rounded ranges on purpose, which the perturbation test would read as fragile.

With the environment variable ``NBAUDIT_LOG`` set to a file name, a fragile value is appended
to that file instead of raising, so that one run lists them all.

Integers, strings and other objects pass untouched; the value itself is never changed, so the
outputs are the ones ``make test`` compares.
"""

from __future__ import annotations

import ast
import builtins
import copy
import importlib.abc
import importlib.machinery
import os
import re
import sys

import numpy as np

REL = 1e-9
ABS = 1e-13
MAX_PLAIN_DIGITS = 8
NAME = "__nbaudit_checked__"
AUDITED = ("hmm.book",)
"""Modules (and packages, with their submodules) whose f-strings are audited too."""


class FragileOutput(ValueError):
    """A printed number whose digits depend on round-off."""


def _fragile(message: str) -> None:
    log = os.environ.get("NBAUDIT_LOG")
    if not log:
        raise FragileOutput(message)
    with open(log, "a") as f:
        f.write(message + "\n")


def checked(value, spec: str = ""):
    """Return ``value`` unchanged; raise :class:`FragileOutput` if its text is not stable."""
    if isinstance(value, bool | int | np.integer) or not isinstance(value, float | np.floating):
        return value
    x = float(value)
    if not np.isfinite(x):
        return value
    text = format(value, spec)
    if not spec or spec[-1] not in "eEfFgG%":
        digits = re.sub(r"[^0-9]", "", text.split("e")[0]).lstrip("0")
        if len(digits) > MAX_PLAIN_DIGITS:
            _fragile(f"{text!r}: a computed float printed in full; give it a format")
        return value
    if x == 0.0 and spec[-1] in "fFgG" and not np.signbit(x):
        return value  # an exact zero (a parameter, or rounded on purpose); -0.0 is still caught
    step = REL * abs(x) + ABS
    for y in (x - step, x + step):
        other = format(type(value)(y), spec)
        if other != text:
            _fragile(
                f"{x!r} printed with '{spec}' reads {text!r}, but {other!r} after a change of "
                f"{step:.1e}: print fewer digits, a bound or a word"
            )
            break
    return value


class _WrapFormatted(ast.NodeTransformer):
    """Pass the value of every f-string field through ``checked`` (spec evaluated at run time)."""

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        self.generic_visit(node)
        if node.conversion != -1:  # !r, !s, !a: formatted as text
            return node
        spec = copy.deepcopy(node.format_spec) if node.format_spec else ast.Constant("")
        node.value = ast.Call(ast.Name(NAME, ast.Load()), [node.value, spec], [])
        return ast.fix_missing_locations(node)


class _AuditedLoader(importlib.machinery.SourceFileLoader):
    """Compile a module's source with the f-string rewrite, bypassing the bytecode cache."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        tree = _WrapFormatted().visit(ast.parse(self.get_data(path), path))
        return compile(tree, path, "exec", dont_inherit=True)


class _AuditedFinder(importlib.abc.MetaPathFinder):
    """Find the modules of ``AUDITED`` as usual, and load them with :class:`_AuditedLoader`."""

    def find_spec(self, name, path, target=None):
        if not any(name == m or name.startswith(m + ".") for m in AUDITED):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = _AuditedLoader(spec.loader.name, spec.loader.path)
        return spec


def install_module_audit() -> None:
    """Audit the f-strings of the ``AUDITED`` modules imported from now on."""
    setattr(builtins, NAME, checked)
    if not any(isinstance(f, _AuditedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AuditedFinder())


def load_ipython_extension(ipython) -> None:
    """Install the check into the kernel's namespace, its AST transformers and the imports."""
    ipython.user_ns[NAME] = checked
    ipython.ast_transformers.append(_WrapFormatted())
    install_module_audit()
