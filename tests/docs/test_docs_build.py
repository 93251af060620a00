"""The documentation site builds with ``mkdocs build --strict``: every warning (a broken link or
anchor, a page missing from the nav, a docstring mkdocstrings cannot render) fails the suite."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDED = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing() -> list[str]:
    missing = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


@pytest.mark.skipif(
    bool(_missing()),
    reason=f"the docs extra is not installed ({', '.join(_missing())} missing): "
    "pip install -e '.[docs]' (make setup does it)",
)
def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner, not a warning
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    # the guide, the drawn topology, and an API reference rendered from the docstrings
    assert (site / "getting-started" / "index.html").is_file()
    assert '<pre class="mermaid">' in (site / "architecture" / "index.html").read_text()
    reference = (site / "reference" / "strom" / "index.html").read_text()
    assert (
        "StreamsBuilder" in reference
        and "of_size_with_no_grace" in (site / "reference" / "windows" / "index.html").read_text()
    )
    assert not (site / "dev").exists(), "docs/dev/ holds developer notes, not site pages"
