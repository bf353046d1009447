"""Turn each lesson of the course into a Jupyter notebook (jupytext-paired ``.py`` files).

The lessons in ``docs/`` are the single source: prose becomes Markdown cells, every
```` ```python ```` block becomes a code cell, and the ```` ```text ```` block that shows its
output is left out (running the cell shows it). The ``.py`` files (jupytext's *percent*
format) are committed, so a diff shows what changed; the ``.ipynb`` files are generated
from them and not committed.

Run from the repository root::

    .venv/bin/python notebooks/make_notebooks.py            # writes notebooks/*.py
    .venv/bin/python notebooks/make_notebooks.py --ipynb    # and notebooks/*.ipynb

Then ``jupyter lab notebooks/`` (or VS Code) opens them; a notebook runs from the
repository root, like the lessons' snippets (its first cell moves there).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"

FIRST_CELL = '''\
# Los fragmentos del curso se ejecutan desde la raíz del repositorio (y algunos importan
# `comparisons/`, que está en ella).
import os
import sys

if os.path.basename(os.getcwd()) == "notebooks":
    os.chdir("..")
    sys.path.insert(0, os.getcwd())'''


def lessons() -> list[Path]:
    """The lessons that hold Python code, in the course's order."""
    return [path for path in sorted(DOCS.glob("*.md")) if "```python" in path.read_text("utf-8")]


def blocks(markdown: str) -> list[tuple[str, str]]:
    """Split a lesson into ``("markdown", text)`` and ``("python", code)`` pieces, dropping
    the ```` ```text ```` block that follows a Python block (its printed output)."""
    pieces: list[tuple[str, str]] = []
    prose: list[str] = []
    lines = markdown.splitlines()
    i = 0
    after_code = False
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if fence is None:
            prose.append(lines[i])
            if lines[i].strip():
                after_code = False
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        language, body = fence.group(1), "\n".join(lines[i + 1:end])
        if language == "python":
            pieces.append(("markdown", "\n".join(prose).strip()))
            pieces.append(("python", body))
            prose, after_code = [], True
        elif language == "text" and after_code:
            after_code = False                       # the output: the cell will print it
        else:
            prose.extend(lines[i:end + 1])
        i = end + 1
    pieces.append(("markdown", "\n".join(prose).strip()))
    return [(kind, text) for kind, text in pieces if text]


def notebook(lesson: Path) -> nbformat.NotebookNode:
    """The notebook of one lesson: a first cell that moves to the repository root, then the
    lesson's prose and code in order."""
    cells = [nbformat.v4.new_code_cell(FIRST_CELL)]
    for kind, text in blocks(lesson.read_text("utf-8")):
        if kind == "python":
            cells.append(nbformat.v4.new_code_cell(text))
        else:   # links relative to docs/ (figures, other lessons), seen from notebooks/
            text = re.sub(r"\]\((?!https?:|#)([^)]+)\)", r"](../docs/\1)", text)
            cells.append(nbformat.v4.new_markdown_cell(text))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    return nb


def paired_source(lesson: Path) -> str:
    """The committed ``.py`` text of a lesson's notebook (jupytext percent format)."""
    return jupytext.writes(notebook(lesson), fmt="py:percent")


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ipynb", action="store_true", help="also write the .ipynb files")
    parser.add_argument("--folder", type=Path, default=NOTEBOOKS, help="where to write")
    args = parser.parse_args(argv)
    written = []
    for lesson in lessons():
        target = args.folder / f"{lesson.stem}.py"
        target.write_text(paired_source(lesson), encoding="utf-8")
        written.append(target)
        if args.ipynb:
            jupytext.write(notebook(lesson), target.with_suffix(".ipynb"))
            written.append(target.with_suffix(".ipynb"))
    for path in written:
        print(path.relative_to(args.folder.parent) if path.is_relative_to(ROOT) else path)
    return written


if __name__ == "__main__":
    main()
