"""Store suppliers (the innermost bytes stores) and the builders that stack the Kafka Streams
layers on them: metered(caching?(changelogging?(inner)))."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from strom.serdes.base import Serde
from strom.state.api import KeyValueStore, StoreBuilder, StoreSupplier, ValueAndTimestamp
from strom.state.caching import CachingKeyValueStore
from strom.state.changelogging import (
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
)
from strom.state.memory import InMemoryKeyValueStore, InMemoryLRUKeyValueStore
from strom.state.metered import MeteredKeyValueStore, MeteredTimestampedKeyValueStore
from strom.state.rocksdb import RocksDBKeyValueStore

K = TypeVar("K")
V = TypeVar("V")

_LEGAL_NAME = re.compile(r"[a-zA-Z0-9._-]+")
MAX_NAME_LENGTH = 249


def validate_store_name(name: object) -> str:
    """Check that ``name`` can name a store and its changelog topic; return it.

    >>> validate_store_name("word-counts")
    'word-counts'
    """
    if not isinstance(name, str):
        raise TypeError(f"a store name must be a str, got {type(name).__name__}: {name!r}")
    if not name:
        raise ValueError("a store name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"store name {name!r} is longer than {MAX_NAME_LENGTH} characters")
    if _LEGAL_NAME.fullmatch(name) is None:
        bad = sorted({c for c in name if _LEGAL_NAME.fullmatch(c) is None})
        raise ValueError(
            f"store name {name!r} contains illegal characters {''.join(bad)!r}: "
            "use ASCII letters, digits, '.', '_' and '-' (it names the changelog topic)"
        )
    return name


class RocksDBKeyValueBytesStoreSupplier(StoreSupplier):
    """Makes :class:`RocksDBKeyValueStore` s (``Stores.persistent_key_value_store``).

    >>> RocksDBKeyValueBytesStoreSupplier("counts").metrics_scope()
    'rocksdb'
    """

    def __init__(self, name: str, timestamped: bool = False) -> None:
        self.name = validate_store_name(name)
        self.timestamped = timestamped

    def get(self) -> RocksDBKeyValueStore:
        return RocksDBKeyValueStore(self.name)

    def metrics_scope(self) -> str:
        return "rocksdb"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, timestamped={self.timestamped})"


class InMemoryKeyValueBytesStoreSupplier(StoreSupplier):
    """Makes :class:`InMemoryKeyValueStore` s (``Stores.in_memory_key_value_store``).

    >>> InMemoryKeyValueBytesStoreSupplier("counts").get()
    InMemoryKeyValueStore('counts')
    """

    def __init__(self, name: str) -> None:
        self.name = validate_store_name(name)

    def get(self) -> InMemoryKeyValueStore:
        return InMemoryKeyValueStore(self.name)

    def metrics_scope(self) -> str:
        return "in-memory"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class LruMapSupplier(StoreSupplier):
    """Makes :class:`InMemoryLRUKeyValueStore` s of at most ``max_entries`` (``Stores.lru_map``).

    >>> LruMapSupplier("recent", 100).get()
    InMemoryLRUKeyValueStore('recent', 100)
    """

    def __init__(self, name: str, max_entries: int) -> None:
        self.name = validate_store_name(name)
        if isinstance(max_entries, bool) or not isinstance(max_entries, int):
            raise TypeError(f"max_entries must be an int, got {max_entries!r}")
        if max_entries < 0:
            raise ValueError(f"max_entries cannot be negative, got {max_entries}")
        self.max_entries = max_entries

    def get(self) -> InMemoryLRUKeyValueStore:
        return InMemoryLRUKeyValueStore(self.name, self.max_entries)

    def metrics_scope(self) -> str:
        return "in-memory-lru"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.max_entries})"


class KeyValueStoreBuilder(StoreBuilder[K, V], Generic[K, V]):
    """Builds a typed key-value store from a supplier: caching off and logging on by default,
    as in Kafka Streams.

    >>> from strom import serdes
    >>> builder = KeyValueStoreBuilder(InMemoryKeyValueBytesStoreSupplier("counts"),
    ...                                serdes.String(), serdes.Long())
    >>> builder.with_caching_enabled().build()  # doctest: +ELLIPSIS
    MeteredKeyValueStore(CachingKeyValueStore(ChangeLoggingKeyValueBytesStore(...)), ...)
    """

    _changelogging: type[ChangeLoggingKeyValueBytesStore] = ChangeLoggingKeyValueBytesStore
    _metered: type[MeteredKeyValueStore[Any, Any]] = MeteredKeyValueStore

    def __init__(
        self,
        supplier: StoreSupplier,
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> None:
        if not isinstance(supplier, StoreSupplier):
            raise TypeError(f"expected a StoreSupplier, got {type(supplier).__name__}")
        self.supplier = supplier
        self.name = supplier.name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._caching = False
        self._logging = True
        self._log_config: dict[str, str] = {}

    def with_caching_enabled(self) -> KeyValueStoreBuilder[K, V]:
        self._caching = True
        return self

    def with_caching_disabled(self) -> KeyValueStoreBuilder[K, V]:
        self._caching = False
        return self

    def with_logging_enabled(
        self, config: Mapping[str, str] | None = None
    ) -> KeyValueStoreBuilder[K, V]:
        """Log changes to the changelog topic, created with the topic ``config`` given."""
        self._logging = True
        self._log_config = dict(config or {})
        return self

    def with_logging_disabled(self) -> KeyValueStoreBuilder[K, V]:
        self._logging = False
        self._log_config = {}
        return self

    @property
    def caching_enabled(self) -> bool:
        return self._caching

    @property
    def logging_enabled(self) -> bool:
        return self._logging

    @property
    def log_config(self) -> Mapping[str, str]:
        return dict(self._log_config)

    def build(self) -> MeteredKeyValueStore[K, Any]:
        """A new, uninitialised store stack (one per task)."""
        store = self.supplier.get()
        if not isinstance(store, KeyValueStore):
            raise TypeError(
                f"supplier {self.supplier!r} made a {type(store).__name__}, not a key-value store"
            )
        if store.name != self.name:
            raise ValueError(
                f"supplier {self.supplier!r} made store {store.name!r}, expected {self.name!r}"
            )
        if self._logging:
            store = self._changelogging(store)
        if self._caching:
            store = CachingKeyValueStore(store)
        return self._metered(store, self.key_serde, self.value_serde)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.supplier!r}, caching={self._caching}, "
            f"logging={self._logging})"
        )


class TimestampedKeyValueStoreBuilder(KeyValueStoreBuilder[K, ValueAndTimestamp[V]]):
    """Like :class:`KeyValueStoreBuilder`, for stores of :class:`ValueAndTimestamp` values
    (``value_serde`` is the plain value's serde).

    >>> from strom import serdes
    >>> builder = TimestampedKeyValueStoreBuilder(
    ...     RocksDBKeyValueBytesStoreSupplier("t", True), serdes.String(), serdes.Long())
    >>> builder.build()  # doctest: +ELLIPSIS
    MeteredTimestampedKeyValueStore(ChangeLoggingTimestampedKeyValueBytesStore(...), ...)
    """

    _changelogging = ChangeLoggingTimestampedKeyValueBytesStore
    _metered = MeteredTimestampedKeyValueStore

    def __init__(
        self,
        supplier: StoreSupplier,
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> None:
        super().__init__(supplier, key_serde, value_serde)  # type: ignore[arg-type]
