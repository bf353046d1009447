"""The course in docs/ shows real output: every Python snippet runs and prints what is pasted.

The ```text block that comes next after a ```python block (before any other fenced block) is
that snippet's output and must be printed exactly; prose or a label such as "Salida:" may sit
between them. A snippet with no ```text block before the next code block must at least run
without error. A diagram placed right after a snippet would be compared too: give it no
language tag (or ```console) instead of ```text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def fenced_blocks(lines: list[str]):
    """``(language, first_line, closing_line, body)`` of every fenced block, in order."""
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        yield fence.group(1), i, end, "\n".join(lines[i + 1:end])
        i = end + 1


def snippets():
    for lesson in sorted(DOCS.glob("*.md")):
        blocks = list(fenced_blocks(lesson.read_text(encoding="utf-8").splitlines()))
        for k, (language, start, _, code) in enumerate(blocks):
            if language != "python":
                continue
            following = blocks[k + 1] if k + 1 < len(blocks) else None
            expected = following[3] if following and following[0] == "text" else None
            yield pytest.param(code, expected, id=f"{lesson.stem}:{start + 1}")


@pytest.mark.parametrize(("code", "expected"), list(snippets()))
def test_snippet_prints_what_the_lesson_shows(code, expected, tmp_path):
    # Lessons run from the repository root; a scratch folder that looks like it keeps the
    # figures they save out of the working tree.
    run_and_compare(code, expected, tmp_path)


def run_and_compare(code: str, expected: str | None, folder) -> None:
    """Run ``code`` in a fresh process from ``folder`` (laid out like the repository root),
    and compare what it prints with ``expected`` when the lesson shows an output."""
    if not (folder / "examples").exists():
        (folder / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=folder, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    if expected is not None:
        assert result.stdout.strip() == expected.strip()


def test_the_output_rule_sees_a_label_between_snippet_and_output():
    lesson = ["```python", "print(1)", "```", "", "Salida:", "", "![figura](img/x.png)", "",
              "```text", "1", "```", "", "```text", "a diagram", "```"]
    blocks = list(fenced_blocks(lesson))
    assert [b[0] for b in blocks] == ["python", "text", "text"]
    assert blocks[1][3] == "1"
