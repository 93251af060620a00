"""Every code block of the documentation runs, so the docs cannot drift from the code.

The pages are parsed with Sybil; the conventions a page follows (docs/*.md and docs/reference/*.md;
docs/dev/ holds developer notes and is not run):

- A ```` ```python ```` block runs. The blocks of a page run in page order, in one namespace
  (a block may use what an earlier one defined), with ``__name__`` set to ``"docs.<page>"``
  (so an ``if __name__ == "__main__": app.run()`` at the end of a program does not fire), in a
  fresh temporary working directory (``local://`` logs and state land there).
- A python block titled ``title="NAME.py"`` (how Material shows a file name) is also saved as
  ``NAME.py`` in that directory before it runs, for the commands that follow (``strom describe
  NAME.py``).
- A ```` ```text ```` block directly after a python block (nothing but blank lines between, or
  the opening line of an admonition such as ``??? success "Answer"``) is the exact standard
  output of that block. ``...`` in it matches anything (doctest's ELLIPSIS);
  trailing whitespace is ignored.
- A ```` ```console ```` block runs too: each ``$ `` line is a shell command (run in the page's
  directory, with this virtualenv's ``strom`` first on PATH and no ``STROM_BROKER``), and the
  lines up to the next ``$ `` line are what it prints (stdout and stderr together).
- ``<!-- invisible-code-block: python ... -->`` runs code the reader does not see, for the
  test's sake only (waiting for a running app, say).
- ``<!-- skip: next -->`` before a block (or ``<!-- skip: start -->`` ... ``<!-- skip: end -->``
  around several) does not run it: Sybil's skip directive. Only joins.md may skip (its API is
  being built); a skip anywhere else fails the suite.
- A ```` ```mermaid ```` block (a drawn topology) must be a copy of the output shown by the
  python or console block before it (``strom describe --format mermaid``).
- Blocks in any other language (bash, sh, java, ...) are shown, not run: use them for commands
  that do not end (``strom run``) or need what a test cannot have.

After a page, no App it started may still be running.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import subprocess
import sys
import threading
import unittest
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, RawFencedCodeBlockLexer

import strom
from strom.runtime import config as runtime_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).parts[0] not in ("dev",))
MAY_SKIP = {"joins.md"}
BIN = Path(sys.executable).parent

FENCES = RawFencedCodeBlockLexer(
    info_pattern=re.compile(r"(?P<language>[\w+-]*)(?P<attributes>[^\n]*)$\n", re.MULTILINE),
    mapping={"language": "language", "attributes": "attributes", "source": "source"},
)
TITLE = re.compile(r'title="([^"]+\.py)"')
#: Lines that may stand between a python block and its output: blank lines, and the opening
#: line of a Material admonition (``??? success "Answer"``), so an answer can hide the output.
ADMONITION = re.compile(r"^[ \t]*(?:\?\?\?\+?|!!!)[ \t].*$", re.MULTILINE)
HIDDEN = DirectiveInHTMLCommentLexer(directive="invisible-code-block", arguments="python")
CHECKER = doctest.OutputChecker()


@dataclass
class Block:
    language: str
    source: str
    line: int  # the page's line of the block's first source line
    expected: str | None = None  # python: the text block after it
    filename: str | None = None  # python: title="NAME.py" saves the block as NAME.py


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")) + "\n"


def _compare(want: str, got: str, what: str) -> str | None:
    want, got = _normalized(want), _normalized(got)
    if want == got or CHECKER.check_output(want, got, doctest.ELLIPSIS):
        return None
    return f"{what} differs.\n--- expected\n{want}--- got\n{got}"


def run_python(example: Example) -> str | None:
    block: Block = example.parsed
    if block.filename:
        Path(block.filename).write_text(block.source)
    code = compile("\n" * (block.line - 1) + block.source, example.path, "exec", dont_inherit=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, example.namespace)
    if block.expected is not None:
        return _compare(block.expected, out.getvalue(), f"output of the block at line {block.line}")
    return None


def run_console(example: Example) -> str | None:
    block: Block = example.parsed
    env = {k: v for k, v in os.environ.items() if k != "STROM_BROKER"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # keep stdout and stderr in the order they were written
    command: str | None = None
    want: list[str] = []
    steps: list[tuple[str, list[str]]] = []
    for line in block.source.splitlines():
        if line.startswith("$ "):
            if command is not None:
                steps.append((command, want))
            command, want = line[2:], []
        elif command is None:
            if line.strip():
                return f"console block at line {block.line}: text before the first '$ ' line"
        else:
            want.append(line)
    if command is not None:
        steps.append((command, want))
    for command, expected in steps:
        done = subprocess.run(
            command,
            shell=True,
            cwd=os.getcwd(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            return f"$ {command}\nexited with {done.returncode}:\n{done.stdout}"
        problem = _compare("\n".join(expected), done.stdout, f"output of `$ {command}`")
        if problem:
            return problem
    return None


def check_drawing(example: Example) -> str | None:
    drawing, shown, line = example.parsed
    if shown is not None and _normalized(drawing) in _normalized(shown):
        return None
    return (
        f"the mermaid block at line {line} is not what the command or python block before it "
        "prints: copy that output into it"
    )


def parse_page(document: Document) -> list[Region]:
    """Regions for python blocks (with the text block after each), console blocks, and
    mermaid blocks (each must be a copy of the output shown just before it)."""
    # start, end, language, source, line, title
    found: list[tuple[int, int, str, str, int, str | None]] = []
    for region in FENCES(document):
        lexemes = region.lexemes
        line = document.text.count("\n", 0, region.start) + 2
        title = TITLE.search(lexemes["attributes"])
        found.append(
            (
                region.start,
                region.end,
                lexemes["language"],
                lexemes["source"],
                line,
                title.group(1) if title else None,
            )
        )
    for region in HIDDEN(document):
        line = document.text.count("\n", 0, region.start) + 2
        found.append((region.start, region.end, "python", region.lexemes["source"], line, None))
    found.sort()
    regions: list[Region] = []
    shown: str | None = None  # the output of the last python or console block
    i = 0
    while i < len(found):
        start, end, language, source, line, title = found[i]
        if language == "python":
            block = Block("python", source, line, filename=title)
            after = found[i + 1] if i + 1 < len(found) else None
            between = ADMONITION.sub("", document.text[end : after[0]]) if after else ""
            if after and after[2] == "text" and not between.strip():
                block.expected, end = after[3], after[1]
                i += 1
            shown = block.expected
            regions.append(Region(start, end, block, run_python))
        elif language == "console":
            regions.append(Region(start, end, Block("console", source, line), run_console))
            shown = source
        elif language == "mermaid":
            regions.append(Region(start, end, (source, shown, line), check_drawing))
        i += 1
    return regions


SYBIL = Sybil(parsers=[parse_page, SkipParser()], path=str(DOCS), patterns=["*.md"])


def _apps(namespace: dict[str, Any]) -> list[strom.App]:
    return [v for v in namespace.values() if isinstance(v, strom.App)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STROM_BROKER", raising=False)
    # apps on memory:// keep their stores under the default state.dir: one per page
    monkeypatch.setitem(runtime_config.DEFAULTS, "state.dir", str(tmp_path / "default-state"))
    document = SYBIL.parse(page)
    document.namespace["__name__"] = f"docs.{page.stem}"
    threads_before = set(threading.enumerate())
    ran = skipped = 0
    try:
        for example in document.examples():
            if example.region.evaluator not in (run_python, run_console):
                example.evaluate()  # a skip directive
                continue
            try:
                example.evaluate()
            except unittest.SkipTest:
                skipped += 1
            else:
                ran += 1
    finally:
        running = [app.application_id for app in _apps(document.namespace) if app.is_running]
        for app in _apps(document.namespace):
            with contextlib.suppress(Exception):
                app.close()
    assert not running, f"{page.name} leaves apps running: {running} (call app.close())"
    left = [
        t.name
        for t in set(threading.enumerate()) - threads_before
        if t.is_alive() and t.name.startswith("strom-")
    ]
    assert not left, f"{page.name} leaves strom threads running: {left}"
    if skipped:
        assert page.name in MAY_SKIP, f"{page.name} skips {skipped} block(s); only joins.md may"
    fenced = len(re.findall(r"^[ \t]*```(?:python|console)\b", page.read_text(), re.MULTILINE))
    hidden = len(HIDDEN.start_pattern.findall(page.read_text()))
    assert ran + skipped == fenced + hidden, (
        f"{page.name}: {fenced} python/console blocks and {hidden} hidden ones, "
        f"but {ran} ran and {skipped} were skipped"
    )


def test_no_skips_outside_joins() -> None:
    """A skipped block is a promise for joins only: everything else that exists must run."""
    offenders = [
        str(p.relative_to(DOCS))
        for p in PAGES
        if p.name not in MAY_SKIP and re.search(r"<!--+\s*skip\b", p.read_text())
    ]
    assert not offenders, f"pages with skipped blocks: {offenders}"
