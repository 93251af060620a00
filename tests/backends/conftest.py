"""Fixtures of the backend contract suite: one parameter per backend.

A backend joins the suite by adding a parameter to ``log_url`` (the Kafka backend will add
``kafka`` when a broker is available). Topic names are unique per test so that a shared broker
works too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from strom.backends import Backend, MemoryBackend, open_backend

BACKENDS = ["memory", "local"]


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL naming a fresh, empty log of each backend kind."""
    if request.param == "memory":
        name = f"contract-{uuid.uuid4().hex}"
        yield f"memory://{name}"
        MemoryBackend.reset(name)
    else:
        yield f"local://{tmp_path / 'log'}"


@pytest.fixture
def open_log(log_url: str) -> Iterator[Callable[[], Backend]]:
    """Opens another handle on the same log (closed at the end of the test)."""
    opened: list[Backend] = []

    def open_() -> Backend:
        backend = open_backend(log_url)
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(open_log: Callable[[], Backend]) -> Backend:
    return open_log()


@pytest.fixture
def topic() -> Callable[[str], str]:
    """Makes a topic name unique to this test: ``topic("orders")`` -> ``orders-1a2b3c4d``."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base="t": f"{base}-{suffix}"
