"""Store interfaces and the protocol between stores and the runtime that hosts them.

The state layer imports no backend: a store reaches its changelog and its restore data only
through :class:`StateStoreContext`, which the runtime (or the test driver) implements.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from strom.core.types import TaskId

K = TypeVar("K")
V = TypeVar("V")

#: One changelog record to restore: ``(key bytes, value bytes or None, record timestamp)``.
#: Hosts must pass the timestamp: a timestamped store's changelog carries the plain value with
#: the value's timestamp as the record's (as in Kafka), and restoring puts it back in front.
#: Plain stores also accept ``(key, value)`` pairs.
RestoreRecord = tuple[bytes, bytes | None, int]

#: Restores a batch of changelog records into a store.
RestoreCallback = Callable[[list[RestoreRecord]], None]


class StateStoreContext(Protocol):
    """What a store needs from whoever hosts it (a stream task, the test driver)."""

    @property
    def application_id(self) -> str: ...

    @property
    def task_id(self) -> TaskId: ...

    @property
    def app_configs(self) -> Mapping[str, Any]: ...

    @property
    def state_dir(self) -> Path | None:
        """This task's directory (``<state.dir>/<application.id>/<task>``), made on demand."""

    def register(self, store: StateStore, restore: RestoreCallback) -> None:
        """Register a top-level store; the host restores its changelog through ``restore``."""

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int) -> None:
        """Append a change of ``store_name`` to its changelog topic."""

    def changelog_topic(self, store_name: str) -> str:
        """``<application.id>-<store>-changelog``."""

    @property
    def record_timestamp(self) -> int:
        """Timestamp of the record being processed (changelog records carry it)."""


class StateStore(ABC):
    """A store hosted by a task: opened by :meth:`init`, flushed at commit, closed at the end."""

    name: str

    @abstractmethod
    def init(self, context: StateStoreContext, root: StateStore) -> None: ...

    @abstractmethod
    def flush(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def persistent(self) -> bool: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...


class ReadOnlyKeyValueStore(ABC, Generic[K, V]):
    """Reads of a key-value store; iterators yield ``(key, value)`` in key (byte) order."""

    @abstractmethod
    def get(self, key: K) -> V | None: ...

    @abstractmethod
    def range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]:
        """Entries with ``from_key <= key <= to_key`` (None means unbounded), ascending."""

    @abstractmethod
    def reverse_range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]: ...

    @abstractmethod
    def all(self) -> Iterator[tuple[K, V]]: ...

    @abstractmethod
    def reverse_all(self) -> Iterator[tuple[K, V]]: ...

    @abstractmethod
    def prefix_scan(self, prefix: Any, prefix_serde: Any = None) -> Iterator[tuple[K, V]]: ...

    @abstractmethod
    def approximate_num_entries(self) -> int: ...


class KeyValueStore(StateStore, ReadOnlyKeyValueStore[K, V]):
    """A read-write key-value store. A None value deletes, as in Kafka."""

    @abstractmethod
    def put(self, key: K, value: V | None) -> None: ...

    @abstractmethod
    def put_if_absent(self, key: K, value: V) -> V | None:
        """Put unless a value exists; return the existing value (None if it put)."""

    @abstractmethod
    def put_all(self, entries: list[tuple[K, V | None]]) -> None: ...

    @abstractmethod
    def delete(self, key: K) -> V | None:
        """Delete ``key`` and return its old value."""


class ValueAndTimestamp(NamedTuple, Generic[V]):
    """A value with the timestamp of the record that wrote it (timestamped stores)."""

    value: V
    timestamp: int


#: Called by a caching store as dirty entries reach the store below:
#: ``listener(key, new_value, old_value, timestamp)``; values are ValueAndTimestamp or None.
FlushListener = Callable[[Any, Any, Any, int], None]


class CachedStateStore(Protocol):
    """A store that may hold writes in a cache; the DSL forwards what the cache lets out."""

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Install ``listener``; True if the store caches (then the listener forwards)."""


class StoreSupplier(ABC):
    """Makes the innermost (bytes) store of a kind: persistent (RocksDB) or in-memory."""

    name: str

    @abstractmethod
    def get(self) -> StateStore: ...

    @abstractmethod
    def metrics_scope(self) -> str: ...


class StoreBuilder(ABC, Generic[K, V]):
    """Wraps a supplier's bytes store in the Kafka Streams stack when built:
    metered(caching(changelogging(inner)))."""

    name: str

    @abstractmethod
    def with_caching_enabled(self) -> StoreBuilder[K, V]: ...

    @abstractmethod
    def with_caching_disabled(self) -> StoreBuilder[K, V]: ...

    @abstractmethod
    def with_logging_enabled(
        self, config: Mapping[str, str] | None = None
    ) -> StoreBuilder[K, V]: ...

    @abstractmethod
    def with_logging_disabled(self) -> StoreBuilder[K, V]: ...

    @property
    @abstractmethod
    def logging_enabled(self) -> bool: ...

    @property
    @abstractmethod
    def log_config(self) -> Mapping[str, str]: ...

    @abstractmethod
    def build(self) -> StateStore: ...
