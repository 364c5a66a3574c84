r"""A claim of the paper, the checks that decide it, and its verdict: the scoreboard's vocabulary.

A :class:`Claim` holds one claim as the paper states it, the numbers the book measured, and
named parts, each decided by :class:`Check` objects that can fail. Its verdict follows from
the parts by one rule, in the fixed vocabulary of :data:`VERDICTS`:

``reproduced``
    every part holds (a claimed bound *and* its claimed sharpness or rate);
``bound holds, not sharp``
    the bound holds, but a part that says it is sharp (or attained) fails; the verdict names it;
``partly reproduced``
    some parts hold and others do not; the verdict names both;
``not reproduced``
    no part holds;
``not checkable``
    the claim cannot be measured here (the reason is given instead of checks).

Each threshold is written once, in its :class:`Check`, with the reason it has that value. A
chapter's module builds its claims from its results (``claims(results)``); the notebook shows
them with :class:`ClaimTable` (typeset in the book, plain text for strict nbval) and glues them
for the scoreboard with :func:`glue_claims` (as HTML with MathJax math). A claim's texts are Markdown with MyST math
(inline math between dollar signs), so that the scoreboard typesets every formula. A check whose value sits within a relative 1e-6 of its threshold is
refused: its outcome could differ on another machine.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

REPRODUCED = "reproduced"
NOT_SHARP = "bound holds, not sharp"
PARTLY = "partly reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_CHECKABLE = "not checkable"
VERDICTS = (REPRODUCED, NOT_SHARP, PARTLY, NOT_REPRODUCED, NOT_CHECKABLE)

_FRAGILE = 1e-6


@dataclass(frozen=True)
class Check:
    """``value`` compared with a threshold: ``"<"``, ``">"``, or ``"in"`` a closed interval.

    Attributes
    ----------
    what : str
        What is measured, e.g. ``"fitted slope in eps"``.
    value : float
        The measured number.
    rule : str
        ``"<"``, ``">"`` or ``"in"``.
    limit : float or (float, float)
        The threshold, or the interval for ``"in"``.
    why : str
        Where the threshold comes from (the theory, a measured error split, ...).
    """

    what: str
    value: float
    rule: str
    limit: float | tuple[float, float]
    why: str

    def __post_init__(self):
        if self.rule not in ("<", ">", "in"):
            raise ValueError(f"rule must be '<', '>' or 'in', got {self.rule!r}")
        edges = self.limit if self.rule == "in" else (self.limit,)
        for edge in edges:
            gap = abs(float(self.value) - edge)
            if math.isfinite(gap) and gap <= _FRAGILE * max(abs(edge), abs(float(self.value))):
                raise ValueError(
                    f"{self.what}: {self.value!r} sits on the threshold {edge!r}; "
                    "the outcome could differ on another machine"
                )

    @property
    def holds(self) -> bool:
        """Whether the value satisfies the rule."""
        v = float(self.value)
        if self.rule == "<":
            return v < self.limit
        if self.rule == ">":
            return v > self.limit
        lo, hi = self.limit
        return lo <= v <= hi

    def describe(self, fmt: str = ".3g") -> str:
        """``"slope 0.99 in [0.8, 1.2]"``-style text of the check."""
        if self.rule == "in":
            lo, hi = self.limit
            target = f"in [{lo:{fmt}}, {hi:{fmt}}]"
        else:
            target = f"{self.rule} {self.limit:{fmt}}"
        return f"{self.what} {float(self.value):{fmt}} {target}"


@dataclass(frozen=True)
class Part:
    """A named part of a claim, decided by its checks; ``sharp`` marks a claimed sharpness or rate."""

    name: str
    checks: Sequence[Check]
    sharp: bool = False

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.checks)


@dataclass(frozen=True)
class Claim:
    """One claim of the paper with its measured numbers, parts and verdict.

    Attributes
    ----------
    source : str
        Where the paper makes it, e.g. ``"Lemma 2, Fig. 5.1 (left)"``.
    statement : str
        The claim as the paper states it (restated, not copied).
    measured : str
        The numbers behind the verdict, as printed on the scoreboard.
    parts : sequence of Part
        What decides the verdict; empty only for a claim that is not checkable.
    setup : str
        Where the book's set-up differs from the paper's or fills a gap in it ("" if nowhere).
    not_checkable : str
        Why the claim cannot be measured ("" if it can).
    """

    source: str
    statement: str
    measured: str
    parts: Sequence[Part] = field(default_factory=tuple)
    setup: str = ""
    not_checkable: str = ""

    def __post_init__(self):
        if bool(self.parts) == bool(self.not_checkable):
            raise ValueError("a claim has parts, or a reason why it is not checkable, not both")

    @property
    def verdict(self) -> str:
        """The verdict, by the rule of the module docstring, naming the parts behind it."""
        if self.not_checkable:
            return f"{NOT_CHECKABLE}: {self.not_checkable}"
        core = [p for p in self.parts if not p.sharp]
        sharp = [p for p in self.parts if p.sharp]
        if all(p.holds for p in self.parts):
            return REPRODUCED
        failed = ", ".join(p.name for p in self.parts if not p.holds)
        if core and all(p.holds for p in core) and sharp:
            return f"{NOT_SHARP} (not attained: {failed})"
        held = [p.name for p in self.parts if p.holds]
        if held:
            return f"{PARTLY} ({', '.join(held)}; not: {failed})"
        return NOT_REPRODUCED

    @property
    def failed(self) -> list[str]:
        """The checks that fail, described."""
        return [c.describe() for p in self.parts for c in p.checks if not c.holds]

    def report(self, width: int = 76) -> str:
        """The claim as a short block of text, wrapped to ``width`` columns: what nbval compares."""
        wrap = textwrap.TextWrapper(width=width, subsequent_indent="    ")
        lines = wrap.wrap(f"{self.source}: {self.verdict}")
        for label, text in self._fields():
            lines += wrap.wrap(f"  {label}: {text}")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The claim as Markdown with MyST math: what the book shows."""
        items = "".join(f"\n- *{label}:* {text}" for label, text in self._fields())
        return f"**{self.source}**: *{self.verdict}*\n{items}\n"

    def _fields(self) -> list[tuple[str, str]]:
        """(label, text) of the statement, the measurements, each check and the set-up."""
        fields = [("claim", self.statement), ("measured", self.measured)]
        for part in self.parts:
            for check in part.checks:
                mark = "holds" if check.holds else "fails"
                fields.append((f"check ({part.name})", f"{check.describe()}, {mark}: {check.why}"))
        fields.append(("set-up", self.setup))
        return [(label, text) for label, text in fields if text]


def report(claims: Mapping[str, Claim], width: int = 76) -> str:
    """All claims of a chapter, one block each."""
    return "\n\n".join(c.report(width) for c in claims.values())


class ClaimTable:
    """A chapter's claims for display: Markdown in the book, the plain :func:`report` for nbval.

    The last line of a cell, ``ClaimTable(claims)``, shows every claim with its verdict,
    measurements, checks (value, threshold, why) and set-up, its formulas typeset; the
    notebook's ``text/plain`` output, which strict nbval compares, is :func:`report`.
    """

    def __init__(self, claims: Mapping[str, Claim], width: int = 76):
        self.claims, self.width = dict(claims), width

    def __repr__(self) -> str:
        return report(self.claims, self.width)

    def _repr_markdown_(self) -> str:
        return "\n".join(claim.markdown() for claim in self.claims.values())


_INLINE = re.compile(r"\$([^$]+)\$|`([^`]+)`")


def markdown_html(text: str) -> str:
    """A claim's text as HTML: ``$...$`` as inline math for MathJax, ```...``` as code.

    Cross-page glue (the scoreboard's ``{glue}`page.ipynb::key```) pastes a notebook's
    ``text/html`` but not its ``text/markdown``; the math spans are Sphinx's own, which
    MathJax typesets on the page. Everything else is escaped text.
    """
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        if m.group(1) is not None:
            out.append(" ".join(_math_span(piece) for piece in math_pieces(m.group(1))))
        else:
            out.append(f"<code>{html.escape(m.group(2))}</code>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


_BREAK = re.compile(r"\\,|\\le\b|\\ge\b|\\leq\b|\\geq\b|(?<![<>\\])=")


def math_pieces(tex: str) -> list[str]:
    """``tex`` cut before each relation and at each thin space ``\\,`` outside brackets.

    Every piece is typeset on its own, so that a narrow table cell (the scoreboard's) can break
    a long formula between them; the relation starts the next piece.
    """
    pieces, start, depth = [], 0, 0
    for i, c in enumerate(tex):
        depth += c in "({[" and (i == 0 or tex[i - 1] != "\\")
        depth -= c in ")}]" and (i == 0 or tex[i - 1] != "\\")
        m = _BREAK.match(tex, i) if depth == 0 else None
        if m and tex[start:i].strip():
            pieces.append(tex[start:i].strip())
            start = i + (len(m.group(0)) if m.group(0) == "\\," else 0)
    pieces.append(tex[start:].strip())
    return [p for p in pieces if p]


def _math_span(tex: str) -> str:
    return f'<span class="math notranslate nohighlight">\\({html.escape(tex)}\\)</span>'


class _Glued:
    """A claim's text for ``glue``: typeset HTML for the scoreboard, the text itself as plain."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return markdown_html(self.text)


def glue_claims(glue: Callable, claims: Mapping[str, Claim]) -> None:
    """Glue ``<key>-verdict``, ``-measured``, ``-setup`` and ``-statement`` of every claim for the scoreboard.

    Each is glued as HTML (:func:`markdown_html`) for ``{glue}`` on the scoreboard, where MathJax
    typesets the formulas; its plain-text form is the text itself.
    """
    for key, claim in claims.items():
        for field_name in ("verdict", "measured", "setup", "statement"):
            text = getattr(claim, field_name) or "-"
            glue(f"{key}-{field_name}", _Glued(text), display=False)
