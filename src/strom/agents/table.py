"""``app.Table(name, default=int)``: a dict-like table for agents, on a RocksDB store with a
changelog topic, restored from it when the app starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from strom.backends.api import ProducerRecord
from strom.core.errors import StromError
from strom.core.types import EMPTY_HEADERS, TaskId
from strom.serdes import Json, serde_for
from strom.state import KeyValueStore, RestoreCallback, StateStore, Stores


class TablesTaskId(TaskId):
    """The task id of the agents' tables (partition 0 of their changelogs)."""

    def __str__(self) -> str:
        return "agent-tables"


class TableContext:
    """The StateStoreContext hosting the agents' tables: changelog writes are buffered here
    until the runtime produces them at commit."""

    def __init__(
        self,
        application_id: str,
        config: Mapping[str, Any],
        state_dir: Path,
        changelogs: Mapping[str, str],
    ) -> None:
        self.application_id = application_id
        self.task_id: TaskId = TablesTaskId(0, 0)
        self.app_configs = config
        self._state_dir = state_dir
        self.changelogs = changelogs
        self.registered: dict[str, tuple[StateStore, RestoreCallback]] = {}
        self.pending: list[ProducerRecord] = []

    @property
    def state_dir(self) -> Path:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        return self._state_dir

    def register(self, store: StateStore, restore: RestoreCallback) -> None:
        self.registered[store.name] = (store, restore)

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int) -> None:
        topic = self.changelogs[store_name]
        self.pending.append(ProducerRecord(topic, key, value, timestamp, EMPTY_HEADERS, 0))

    def changelog_topic(self, store_name: str) -> str:
        return self.changelogs[store_name]

    @property
    def record_timestamp(self) -> int:
        return time.time_ns() // 1_000_000


class Table(MutableMapping[Any, Any]):
    """A table agents read and update like a dict; a missing key reads as ``default()``.

    Stored in a RocksDB key-value store (``<state.dir>/<application.id>/agent-tables``) with
    writes cached and flushed at each commit to the changelog topic
    ``<application.id>-<name>-changelog`` (compacted, one partition), which restores it when
    the app starts. Keys and values are JSON unless ``key_type``/``value_type`` say otherwise.
    Setting a key to ``None`` deletes it. Usable while the app runs, from agents or any thread.

    >>> import strom
    >>> app = strom.App("counter", broker="memory://")
    >>> counts = app.Table("counts", default=int)
    >>> counts.changelog
    'counter-counts-changelog'
    """

    def __init__(
        self,
        application_id: str,
        name: str,
        default: Callable[[], Any] | None = None,
        key_type: Any = None,
        value_type: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a table name must be a non-empty string, got {name!r}")
        if default is not None and not callable(default):
            raise TypeError(f"default must be callable (like int or list), got {default!r}")
        self.name = name
        self.default = default
        self.changelog = f"{application_id}-{name}-changelog"
        self.key_serde = serde_for(key_type, Json())
        self.value_serde = serde_for(value_type, Json())
        self.lock = threading.RLock()  # the runtime holds it while it flushes at commit
        self._store: KeyValueStore[Any, Any] | None = None

    # ---- lifecycle (the agent runtime) -----------------------------------------------------
    def open(self, context: TableContext) -> StateStore:
        builder = Stores.key_value_store_builder(
            Stores.persistent_key_value_store(self.name), self.key_serde, self.value_serde
        ).with_caching_enabled()
        store = builder.build()
        store.init(context, store)
        self._store = store  # type: ignore[assignment]
        return store

    def closed(self) -> None:
        self._store = None

    @property
    def store(self) -> KeyValueStore[Any, Any]:
        if self._store is None:
            raise StromError(f"table {self.name!r} is open only while its app runs: start() it")
        return self._store

    # ---- the mapping -----------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        with self.lock:
            value = self.store.get(key)
        if value is None:
            if self.default is None:
                raise KeyError(key)
            return self.default()
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        with self.lock:
            self.store.put(key, value)

    def __delitem__(self, key: Any) -> None:
        with self.lock:
            if self.store.delete(key) is None:
                raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        with self.lock:
            return self.store.get(key) is not None

    def __iter__(self) -> Iterator[Any]:
        with self.lock:
            keys = [k for k, _ in self.store.all()]
        return iter(keys)

    def __len__(self) -> int:
        with self.lock:
            return sum(1 for _ in self.store.all())

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` (not the table's default factory)."""
        with self.lock:
            value = self.store.get(key)
        return default if value is None else value

    def __repr__(self) -> str:
        return f"Table({self.name!r})"
