"""A fake StateStoreContext that records what stores ask of their host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strom.core.types import TaskId
from strom.state.api import RestoreCallback, StateStore
from strom.state.memory import InMemoryKeyValueStore
from strom.state.rocksdb import RocksDBKeyValueStore


class FakeContext:
    """Implements StateStoreContext; ``logged`` and ``registered`` record the calls."""

    def __init__(self, state_dir: Path | None, app_configs: dict[str, Any] | None = None) -> None:
        self.application_id = "app"
        self.task_id = TaskId(0, 0)
        self.app_configs: dict[str, Any] = dict(app_configs or {})
        self.state_dir = state_dir
        self.record_timestamp = 0
        self.logged: list[tuple[str, bytes, bytes | None, int]] = []
        self.registered: list[tuple[StateStore, RestoreCallback]] = []

    def register(self, store: StateStore, restore: RestoreCallback) -> None:
        self.registered.append((store, restore))

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int) -> None:
        self.logged.append((store_name, key, value, timestamp))

    def changelog_topic(self, store_name: str) -> str:
        return f"{self.application_id}-{store_name}-changelog"


@pytest.fixture
def context(tmp_path: Path) -> FakeContext:
    return FakeContext(tmp_path)


_TMP = object()


@pytest.fixture
def make_context(tmp_path: Path):
    """``make_context(configs=None, state_dir=tmp_path)`` -> a new FakeContext."""

    def make(configs: dict[str, Any] | None = None, state_dir: Any = _TMP) -> FakeContext:
        return FakeContext(tmp_path if state_dir is _TMP else state_dir, configs)

    return make


INNER_KINDS = ["memory", "rocksdb"]


def _make_inner(kind: str, name: str = "store") -> InMemoryKeyValueStore | RocksDBKeyValueStore:
    return InMemoryKeyValueStore(name) if kind == "memory" else RocksDBKeyValueStore(name)


@pytest.fixture
def make_inner():
    """``make_inner(kind, name)`` -> a new, uninitialised inner store ("memory" or "rocksdb")."""
    return _make_inner


@pytest.fixture(params=INNER_KINDS)
def inner_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def bytes_store(inner_kind: str, context: FakeContext) -> Iterator[Any]:
    """An initialised inner bytes store of each kind."""
    store = _make_inner(inner_kind)
    store.init(context, store)
    yield store
    store.close()


@pytest.fixture(params=INNER_KINDS)
def segmented_kind(request: pytest.FixtureRequest) -> str:
    """The kind of a window or session store: "memory" or "rocksdb"."""
    return request.param


@pytest.fixture
def open_store(make_context):
    """``open_store(builder, configs=None, context=None)`` -> ``(store, context)``: builds and
    initialises a store stack (closed at teardown)."""
    opened: list[Any] = []

    def make(builder: Any, configs: dict[str, Any] | None = None, context: Any = None):
        ctx = context if context is not None else make_context(configs)
        store = builder.build()
        store.init(ctx, store)
        opened.append(store)
        return store, ctx

    yield make
    for store in opened:
        if store.is_open:
            store.close()
