"""The solutions of the exercises show real output too.

``tests/test_docs.py`` runs the top-level code blocks of every lesson. The solutions of the
exercises sit inside collapsible ``??? note "Solución"`` blocks, so their
code blocks are indented and that test does not see them. Here each indented ```python block
of every page of the course runs in a fresh process (from a scratch folder, with the repository on
``PYTHONPATH``), and when an indented ```text block follows it, separated only by blank
lines, its output must match.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from test_docs import run_and_compare

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "docs").glob("*.md"))


def indented_blocks(lines: list[str]):
    """``(language, start, end, code)`` of every fenced block indented by at least one space."""
    i = 0
    while i < len(lines):
        fence = re.match(r"^( +)```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent = fence.group(1)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith(indent + "```"))
        code = textwrap.dedent("\n".join(lines[i + 1:end]))
        yield fence.group(2), i, end, code
        i = end + 1


def solutions():
    for lesson in LESSONS:
        lines = lesson.read_text(encoding="utf-8").splitlines()
        blocks = list(indented_blocks(lines))
        for k, (language, start, end, code) in enumerate(blocks):
            if language != "python":
                continue
            following = blocks[k + 1] if k + 1 < len(blocks) else None
            expected = None
            if (following and following[0] == "text"
                    and not any(line.strip() for line in lines[end + 1:following[1]])):
                expected = following[3]
            yield pytest.param(code, expected, id=f"{lesson.stem}:{start + 1}")


def test_the_lessons_have_solutions_with_code():
    assert len(list(solutions())) >= 5


@pytest.mark.parametrize(("code", "expected"), list(solutions()))
def test_solution_prints_what_the_lesson_shows(code, expected, tmp_path):
    run_and_compare(code, expected, tmp_path)
