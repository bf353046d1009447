"""The course as a website: ``mkdocs build --strict`` passes and the pages say what they should.

The site is built once per test run, into a temporary folder, by the ``site`` fixture; the
tests then read the HTML. ``--strict`` turns every warning into a failure: a broken link
between lessons, a page missing from ``nav`` in mkdocs.yml, a docstring the API pages cannot
read. Under ``pytest -n 2`` the first worker to need the site builds it while the other waits
on a lock, then both read the same folder.
"""

from __future__ import annotations

import fcntl
import html
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason='the site needs the docs extra: pip install -e ".[docs]"')
import yaml  # noqa: E402  (installed with mkdocs)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: a folder of HTML, CSS, JavaScript and the search index."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent              # this run's folder, common to all the workers
    site_dir, failure = shared / "site", shared / "site-build-failed.txt"
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # one worker builds; the other waits, then reuses
        if not site_dir.exists() and not failure.exists():
            failure.write_text(build(site_dir), encoding="utf-8")
            if not failure.read_text(encoding="utf-8"):
                failure.unlink()
    if failure.exists():
        pytest.fail(failure.read_text(encoding="utf-8"), pytrace=False)
    return site_dir


def build(site_dir: Path) -> str:
    """Run ``mkdocs build --strict`` into ``site_dir``; "" on success, else what went wrong."""
    # Material prints a notice about its own end of life on every build; it is not ours.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "mkdocs build --strict took more than 10 minutes"
    if result.returncode == 0:
        return ""
    log = "\n".join(line for line in result.stderr.splitlines()
                    if line.startswith(("WARNING", "ERROR", "Aborted")) or "Error" in line)
    return f"mkdocs build --strict failed:\n{log or result.stderr}"


def page(site: Path, source: str) -> str:
    """The HTML built from ``docs/<source>`` (``README.md`` is the home page)."""
    stem = source.removesuffix(".md")
    if stem in ("README", "index"):
        built = site / "index.html"
    elif stem.endswith("/index"):
        built = site / stem.removesuffix("index") / "index.html"
    else:
        built = site / stem / "index.html"
    assert built.exists(), f"docs/{source} was not built into {built.relative_to(site)}"
    return built.read_text(encoding="utf-8")


def text(html_source: str, tags: str = " ") -> str:
    """The visible text of a page's article, each tag replaced by ``tags`` (a space: words
    stay apart; "": highlighted code reads as typed), whitespace collapsed."""
    article = html_source[html_source.find("<article"):html_source.rfind("</article>")]
    without_tags = re.sub(r"<[^>]+>", tags, article)
    return " ".join(html.unescape(without_tags).split())


def title(markdown: Path) -> str:
    """The text of the first ``# `` heading of a Markdown file, without Markdown marks."""
    first = next(line for line in markdown.read_text(encoding="utf-8").splitlines()
                 if line.startswith("# "))
    return " ".join(first[2:].replace("`", "").replace("*", "").split())


def nav_files(entries: list) -> list[str]:
    """The Markdown files of mkdocs.yml's ``nav``, in order."""
    files = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        files.extend(nav_files(value) if isinstance(value, list) else [value])
    return files


def config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_mkdocs_build_strict_passes(site):
    assert (site / "index.html").exists()
    assert (site / "404.html").exists()


def test_nav_follows_the_course_outline():
    files = nav_files(config()["nav"])
    lessons = sorted(path.name for path in DOCS.glob("[0-9][0-9]-*.md"))
    appendices = sorted(path.name for path in DOCS.glob("apendice-*.md"))
    course = ["README.md", "como-leer-este-curso.md", "requisitos-previos.md", *lessons,
              *appendices, "glosario.md"]
    assert files[:len(course)] == course
    assert all(name.startswith("api/") for name in files[len(course):])
    assert lessons[0].startswith("00-") and lessons[-1].startswith("16-")


def test_every_page_is_built_with_its_title(site):
    sources = [*DOCS.glob("*.md"), *(DOCS / "api").glob("*.md")]
    assert len(sources) > 15
    for source in sources:
        name = source.relative_to(DOCS).as_posix()
        built = page(site, name)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", built, flags=re.DOTALL)
        assert heading, f"docs/{name}: no <h1> in the built page"
        shown = " ".join(html.unescape(re.sub(r"<[^>]+>", "", heading.group(1))).split())
        assert shown.removesuffix("¶").strip() == title(source), f"docs/{name}"


def test_the_site_is_in_spanish_and_has_a_spanish_search_index(site):
    assert '<html lang="es"' in page(site, "README.md")
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["lang"] == ["es"]
    locations = {document["location"] for document in index["docs"]}
    assert "05-backpropagation-y-descenso-del-gradiente/" in locations
    assert "api/layers/" in locations
    # The Spanish stemmer that Material's search loads comes with the theme, not a server.
    assert (site / "assets" / "javascripts" / "lunr" / "min" / "lunr.es.min.js").exists()


def test_formulas_become_arithmatex_markup(site):
    # requisitos-previos.md always has formulas: the derivative and the chain rule.
    prerequisites = page(site, "requisitos-previos.md")
    assert prerequisites.count('class="arithmatex"') >= 10
    assert r"\frac{dy}{dx} = \frac{dy}{du} \cdot \frac{du}{dx}" in html.unescape(prerequisites)
    for source in sorted(DOCS.glob("*.md")):
        formula = _first_formula(source.read_text(encoding="utf-8"))
        if formula:
            assert 'class="arithmatex"' in page(site, source.name), (
                f"docs/{source.name} has {formula!r}, but its page has no formula")


def test_formulas_are_valid_katex(site):
    """Each formula of the site goes through KaTeX's parser, the one that draws it.

    A formula KaTeX cannot parse shows up red in the browser; this finds it at test time.
    Needs Node.js (the same KaTeX file the browser runs); without it the test is skipped.
    """
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the formulas are not parsed")
    formulas = []
    for built in sorted(site.rglob("index.html")):
        where = built.parent.relative_to(site).as_posix() or "index"
        for tag, body in re.findall(r'<(span|div) class="arithmatex">(.*?)</\1>',
                                    built.read_text(encoding="utf-8"), flags=re.DOTALL):
            tex = html.unescape(body).strip()
            formulas.append([where, tex[2:-2], tag == "div"])
    assert formulas
    script = """
    const katex = require(process.argv[1]);
    const errors = [];
    for (const [where, tex, display] of JSON.parse(require("fs").readFileSync(0, "utf8"))) {
      try {
        katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: "ignore"});
      } catch (error) {
        errors.push(`${where}: ${error.message}`);
      }
    }
    console.log(JSON.stringify(errors));
    """
    katex = site / "javascripts" / "katex" / "katex.min.js"
    result = subprocess.run([node, "-e", script, str(katex)], input=json.dumps(formulas),
                            capture_output=True, text=True, timeout=120, check=True)
    errors = json.loads(result.stdout)
    assert not errors, "KaTeX cannot parse:\n" + "\n".join(errors)


def test_math_and_fonts_are_served_from_the_site_itself(site):
    home = page(site, "README.md")
    for asset in ("javascripts/katex/katex.min.js", "javascripts/katex/katex.min.css",
                  "javascripts/katex/contrib/auto-render.min.js", "javascripts/katex-init.js"):
        assert asset in home
        assert (site / asset).exists()
    css = (site / "javascripts" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\((fonts/[^)]+)\)", css)
    assert fonts
    for font in fonts:
        assert (site / "javascripts" / "katex" / font).exists(), font
    # No page loads a script, a style sheet or a font from another server.
    for built in site.rglob("*.html"):
        source = built.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', source)
        external = [tag for tag in external if 'rel="canonical"' not in tag]
        assert not external, f"{built.relative_to(site)} loads {external}"


def test_api_pages_show_the_docstrings(site):
    layers = page(site, "api/layers.md")
    assert "Fully connected layer: every output unit sees every input feature." in text(layers)
    assert '>>> layer = Dense(3, activation="relu")' in text(layers, tags="")  # its Example
    modules = {path.stem for path in (DOCS / "api").glob("*.md")} - {"index"}
    for module_name in sorted(modules):
        module = importlib.import_module(f"minired.{module_name}")
        shown = _squash(text(page(site, f"api/{module_name}.md"), tags=""))
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or obj.__name__ != name:
                continue                    # submodules, constants, aliases such as `mse`
            summary = inspect.getdoc(obj).splitlines()[0]
            assert _squash(_as_shown(summary)) in shown, (
                f"minired.{module_name}.{name}: its summary {summary!r} is not on its page")


def test_no_optimizer_template_is_left_unfilled(site):
    assert "{{base_optimizer_keyword_args}}" not in page(site, "api/optimizers.md")
    assert "clipnorm" in text(page(site, "api/optimizers.md"))


def _as_shown(docstring: str) -> str:
    """The words of a docstring line as the page shows them: reST roles by their title
    (``:class:`~a.b.C``` is C), no backticks."""
    def role(match: re.Match) -> str:
        target = match.group(2)
        return target.rsplit(".", 1)[-1] if match.group(1) else target

    return re.sub(r":\w+:`(~?)([^`]+)`", role, docstring).replace("`", "")


def _squash(words: str) -> str:
    """``words`` without whitespace: the HTML puts spaces around code that the text has not."""
    return re.sub(r"\s+", "", words)


def _first_formula(markdown: str) -> str | None:
    """The first $...$ or $$...$$ formula of Markdown text, outside code; None if none."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    found = re.search(r"\$\$.*?\$\$|(?<![\\$])\$(?=\S)[^$\n]+(?<=\S)\$", prose, flags=re.DOTALL)
    return found.group(0) if found else None
