"""The course as notebooks: each lesson with code is a Jupyter notebook, kept in step with
the lesson and executed here from top to bottom.

``notebooks/*.py`` (jupytext's percent format) are generated from ``docs/*.md`` by
``notebooks/make_notebooks.py`` and committed; the ``.ipynb`` is made from them on the fly
and run by ``nbclient`` in a fresh kernel, from a scratch folder laid out like the
repository root (as ``test_docs.py`` runs the snippets one by one).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def load_maker():
    spec = importlib.util.spec_from_file_location("make_notebooks",
                                                  NOTEBOOKS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = load_maker()
LESSONS = MAKER.lessons()


def test_every_lesson_with_code_has_its_notebook_and_no_other():
    committed = sorted(p.stem for p in NOTEBOOKS.glob("*.py") if p.name != "make_notebooks.py")
    assert committed == [lesson.stem for lesson in LESSONS], (
        "run: .venv/bin/python notebooks/make_notebooks.py")


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_notebook_is_in_step_with_its_lesson(lesson):
    committed = (NOTEBOOKS / f"{lesson.stem}.py").read_text(encoding="utf-8")
    assert committed == MAKER.paired_source(lesson), (
        f"{lesson.name} changed: run .venv/bin/python notebooks/make_notebooks.py")


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_notebook_runs_from_top_to_bottom(lesson, tmp_path, monkeypatch):
    notebook = jupytext.read(NOTEBOOKS / f"{lesson.stem}.py")
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code_cells) >= 2                     # the first cell, then the lesson's code
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))     # the kernel inherits it: `comparisons`
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                                # raises CellExecutionError on any error
    printed = [output for cell in code_cells for output in cell.get("outputs", [])
               if output.get("output_type") == "stream"]
    assert printed, "the notebook ran but printed nothing"
