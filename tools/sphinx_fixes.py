"""Local Sphinx extension: work around an upstream bug that breaks every page's JavaScript.

Sphinx 7.x (``jupyter-book`` 1.0 needs ``sphinx~=7.0``) registers an inline script that an
extension adds after the builder started (``app.add_js_file(None, body=...)``, as
``sphinx-togglebutton`` and ``sphinx-thebe`` do) twice: once with file name ``None`` and once
with ``''``, which do not compare equal. The page then declares ``const THEBE_JS_URL`` twice and
the browser reports ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` on every
page (``make check-html`` fails on it). This extension drops the second copy of every script.

It also gives the bibliography's entries the ARIA role ``listitem``. docutils writes each citation
as ``<div role="doc-biblioentry">`` inside a ``<div role="list">``; ``doc-biblioentry`` is
deprecated (DPUB-ARIA 1.1), and a list whose children are not list items is a WCAG 2 A violation:
axe-core reports ``aria-deprecated-role`` on every entry and ``aria-required-children`` on the
list (``make check-html`` fails on both). A list item is what the entries are.

And it lets the ``singlehtml`` builder (``make pdf``) render every node that extensions register
for ``html``. Sphinx takes a builder's node handlers from those registered under its name, and only
when there are none from those under its format: sphinx-exercise registers its nodes for
``singlehtml`` by name, so the theorem and lemma boxes of sphinx-proof (registered for ``html``)
became unknown node types there and the build failed.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes


def _dedupe_scripts(app, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", {})
        key = (filename, getattr(script, "priority", 500), *sorted(attributes.items()))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _citation_roles(app, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def _singlehtml_handlers(app) -> None:
    handlers = app.registry.translation_handlers
    if app.builder.name == "singlehtml" and "singlehtml" in handlers:
        for node, visitors in handlers.get("html", {}).items():
            handlers["singlehtml"].setdefault(node, visitors)


_STATUS_WORDS = {"\u2705": "succeeded", "\u274c": "failed"}


def _status_words(app, doctree, docname: str) -> None:
    for table in doctree.findall(nodes.table):
        for text in list(table.findall(nodes.Text)):
            word = _STATUS_WORDS.get(text.astext().strip())
            if word:
                text.parent.replace(text, nodes.Text(word))


def setup(app) -> dict[str, Any]:
    app.connect("doctree-resolved", _status_words)
    app.connect("builder-inited", _singlehtml_handlers)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _citation_roles, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
