"""The course in docs/ shows real output: every Python snippet runs and prints what is pasted.

A ```python block followed (within three lines) by a ```text block must print exactly that
text; a block without one must at least run without error.
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


def snippets():
    for lesson in sorted(DOCS.glob("*.md")):
        lines = lesson.read_text(encoding="utf-8").splitlines()
        blocks, i = [], 0
        while i < len(lines):
            fence = re.match(r"^```(\w*)", lines[i])
            if not fence:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append((fence.group(1), i, end, "\n".join(lines[i + 1:end])))
            i = end + 1
        for k, (language, start, end, code) in enumerate(blocks):
            if language != "python":
                continue
            following = blocks[k + 1] if k + 1 < len(blocks) else None
            expected = (following[3] if following and following[0] == "text"
                        and following[1] - end <= 3 else None)
            yield pytest.param(code, expected, id=f"{lesson.stem}:{start + 1}")


@pytest.mark.parametrize(("code", "expected"), list(snippets()))
def test_snippet_prints_what_the_lesson_shows(code, expected, tmp_path):
    # Lessons run from the repository root; a scratch folder that looks like it keeps the
    # figures they save out of the working tree.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    if expected is not None:
        assert result.stdout.strip() == expected.strip()
