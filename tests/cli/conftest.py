"""Run ``strom`` in-process (``main([...])``) against a fresh memory:// or local:// log."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from strom.backends.memory import MemoryBackend
from strom.cli import main

_names = itertools.count()
SRC = Path(__file__).resolve().parents[2] / "src"


class Result(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def broker() -> Iterator[str]:
    """A fresh shared in-process log, forgotten after the test."""
    name = f"cli-{os.getpid()}-{next(_names)}"
    yield f"memory://{name}"
    MemoryBackend.reset(name)


@pytest.fixture
def local_broker(tmp_path: Path) -> str:
    return f"local://{tmp_path / 'log'}"


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``cli("topics", "list", stdin="...")`` -> Result(exit code, stdout, stderr)."""
    monkeypatch.delenv("STROM_BROKER", raising=False)

    def run(*argv: str, stdin: str | bytes | None = None) -> Result:
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def clean_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget modules and sys.path entries that loading a TARGET added."""
    before = set(sys.modules)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in set(sys.modules) - before:
        if not name.startswith("strom"):
            del sys.modules[name]


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """``spawn(*argv)``: ``python -m strom.cli ARGV`` in a child process (for signals and a
    real stdin); children still running at the end of the test are killed."""
    children: list[subprocess.Popen[str]] = []

    def start(*argv: str, **kwargs) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        env.pop("STROM_BROKER", None)
        child = subprocess.Popen(
            [sys.executable, "-m", "strom.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            **kwargs,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()
