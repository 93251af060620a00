"""A griffe extension for the API reference (mkdocs.yml loads it; not part of the site).

strom's docstrings are written for ``pydoc`` and doctest: ``>>>`` examples without an
"Examples:" header, ``code`` in double backticks and Sphinx roles such as
``:class:`Topology```. This extension turns each run of doctest lines into a fenced
``pycon`` block and each Sphinx role into inline code, so mkdocstrings renders them as code
(and no ``[...]`` in an example's output is taken for a Markdown link).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|meth|func|attr|mod|obj|data|exc|const|ref|any):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    if match.group(1):  # ~pkg.mod.Name shows as Name
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def fence_doctests(text: str) -> str:
    """Wrap each doctest run (a ``>>>`` line up to the next blank line) in a pycon fence."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out.extend([f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"])
            continue
        out.append(ROLE.sub(_role, line))
        i += 1
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence doctest examples and flatten Sphinx roles in every docstring of a package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = fence_doctests(obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
