"""How the API pages read minired's docstrings: a Griffe extension that mkdocs.yml loads.

minired's docstrings are written for ``help()``, doctest and Sphinx's napoleon: Google
sections plus a few reStructuredText habits. mkdocstrings reads them as Google style and
renders the text as Markdown, which would garble four of those habits. They are translated
here, on the text Griffe parses, without changing a line of ``minired/``:

1. ``Example:`` (singular) heads the doctests. Griffe only knows ``Examples:`` and would
   make a note of the section, its ``>>>`` lines turned into nested quotes.
2. Roles such as ``:class:`~minired.layers.Layer``` become links to the object's entry
   (plain code when the object has no page: such a link never fails the build).
3. ``paragraph::`` before an indented literal block keeps one colon (Markdown shows the
   indented block as code already); a ``::`` alone on its line goes; ``\\ `` goes.
4. reST "simple tables" (columns under rules of ``=====``) become Markdown tables, or a
   list when the table has no header row.

It also writes the optimizers' shared arguments where a docstring says
``{{base_optimizer_keyword_args}}``, as ``Optimizer.__init_subclass__`` does at import time
(Griffe reads the source, so it sees the placeholder).
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):`(?P<target>[^`]+)`")
_RULE = re.compile(r"^(?P<indent>[ \t]*)=+(?: +=+)+[ \t]*$")
_PLACEHOLDER = re.compile(r"^([ \t]*)\{\{base_optimizer_keyword_args\}\}[ \t]*$", re.MULTILINE)


class MiniredDocstrings(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "minired":
            return
        shared = _shared_optimizer_arguments(pkg)
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = translate(obj.docstring.value, obj, shared)


def translate(text: str, obj: griffe.Object | None = None, shared: str | None = None) -> str:
    """The docstring ``text`` as mkdocstrings should read it."""
    if shared is not None:
        text = _PLACEHOLDER.sub(lambda m: _indent(shared, m.group(1)), text)
    text = re.sub(r"^([ \t]*)Example:[ \t]*$", r"\1Examples:", text, flags=re.MULTILINE)
    text = _ROLE.sub(lambda m: _link(m.group("target"), obj), text)
    text = re.sub(r"^[ \t]*::[ \t]*\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\S) ?::[ \t]*$", r"\1:", text, flags=re.MULTILINE)
    text = re.sub(r"(?<=`)\\ ", "", text)
    return _tables(text)


def _walk(obj: griffe.Object):
    """The object and everything defined inside it (not what it imports)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def _shared_optimizer_arguments(pkg: griffe.Module) -> str | None:
    """The text of ``BASE_OPTIMIZER_KEYWORD_ARGS`` in minired/optimizers/optimizer.py."""
    try:
        value = pkg["optimizers.optimizer.BASE_OPTIMIZER_KEYWORD_ARGS"].value
    except (KeyError, AttributeError):
        return None
    try:
        return ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        return None


def _indent(text: str, indent: str) -> str:
    return "\n".join(indent + line if line else line for line in text.splitlines())


def _link(target: str, obj: griffe.Object | None) -> str:
    """``:class:`~a.b.C``` as an optional cross-reference titled ``C`` (``a.b.C`` without ~)."""
    target = target.strip()
    short = target.startswith("~")
    path = target.lstrip("~.")
    title = path.rsplit(".", 1)[-1] if short else path
    identifier = _resolve(path, obj)
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def _resolve(path: str, obj: griffe.Object | None) -> str:
    """The full path of ``path`` as seen from ``obj``: its members, then its enclosing scopes."""
    if path.startswith("minired") or obj is None:
        return path
    first, _, rest = path.partition(".")
    try:
        found = obj.resolve(first)
    except (griffe.NameResolutionError, griffe.AliasResolutionError):
        return path
    return f"{found}.{rest}" if rest else found


def _tables(text: str) -> str:
    """Each reST simple table of ``text`` as a Markdown table (or list, if it has no header)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        rule = _RULE.match(lines[i])
        if not rule:
            out.append(lines[i])
            i += 1
            continue
        spans = [m.span() for m in re.finditer(r"=+", lines[i])]
        groups: list[list[str]] = [[]]
        j = i + 1
        closed = False
        while j < len(lines):
            if _RULE.match(lines[j]):
                j += 1
                if j == len(lines) or not lines[j].strip():
                    closed = True
                    break
                groups.append([])
                continue
            groups[-1].append(lines[j])
            j += 1
        if not closed:               # not a table after all: leave the text alone
            out.append(lines[i])
            i += 1
            continue
        rows = [[_cell(line, spans, k) for k in range(len(spans))]
                for group in groups for line in group if line.strip()]
        header = None
        if len(groups) > 1:
            header, rows = rows[0], rows[1:]
        out.extend(_markdown_table(rule.group("indent"), header, rows))
        i = j
    return "\n".join(out)


def _cell(line: str, spans: list[tuple[int, int]], k: int) -> str:
    start = spans[k][0]
    end = spans[k + 1][0] if k + 1 < len(spans) else len(line)
    return line[start:end].strip()


def _markdown_table(indent: str, header: list[str] | None, rows: list[list[str]]) -> list[str]:
    if header is None and len(rows[0]) == 2:
        return [f"{indent}- {left}: {right}" for left, right in rows]
    header = header or [""] * len(rows[0])
    lines = [header, ["---"] * len(header), *rows]
    return [indent + "| " + " | ".join(cells) + " |" for cells in lines]
