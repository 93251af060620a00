"""``Stores``: the factory of store suppliers and builders (Kafka's ``Stores``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from strom.serdes.base import Serde
from strom.state.api import StoreSupplier
from strom.state.builders import (
    InMemoryKeyValueBytesStoreSupplier,
    KeyValueStoreBuilder,
    LruMapSupplier,
    RocksDBKeyValueBytesStoreSupplier,
    TimestampedKeyValueStoreBuilder,
)
from strom.state.window_builders import (
    InMemorySessionBytesStoreSupplier,
    InMemoryWindowBytesStoreSupplier,
    RocksDBSessionBytesStoreSupplier,
    RocksDBWindowBytesStoreSupplier,
    SessionBytesStoreSupplier,
    SessionStoreBuilder,
    TimestampedWindowStoreBuilder,
    WindowBytesStoreSupplier,
    WindowStoreBuilder,
)

K = TypeVar("K")
V = TypeVar("V")


class Stores:
    """Suppliers of key-value stores (persistent on RocksDB, in memory, or an LRU map), of
    window and session stores (on RocksDB or in memory), and the builders that make typed
    stores of them. Durations are int milliseconds or ``timedelta``.

    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> builder = Stores.key_value_store_builder(
    ...     Stores.persistent_key_value_store("counts"), serdes.String(), serdes.Long())
    >>> builder.with_caching_enabled().caching_enabled, builder.logging_enabled
    (True, True)
    >>> windows = Stores.timestamped_window_store_builder(
    ...     Stores.persistent_timestamped_window_store("w", 120_000, 60_000),
    ...     serdes.String(), serdes.Long())
    >>> windows.log_config["cleanup.policy"]
    'compact,delete'
    """

    def __init__(self) -> None:
        raise TypeError("Stores is a namespace of static factory methods")

    @staticmethod
    def persistent_key_value_store(name: str) -> RocksDBKeyValueBytesStoreSupplier:
        """A supplier of RocksDB key-value stores named ``name``."""
        return RocksDBKeyValueBytesStoreSupplier(name, timestamped=False)

    @staticmethod
    def persistent_timestamped_key_value_store(name: str) -> RocksDBKeyValueBytesStoreSupplier:
        """A supplier of RocksDB stores for timestamped values (what the DSL materializes)."""
        return RocksDBKeyValueBytesStoreSupplier(name, timestamped=True)

    @staticmethod
    def in_memory_key_value_store(name: str) -> InMemoryKeyValueBytesStoreSupplier:
        """A supplier of in-memory key-value stores named ``name``."""
        return InMemoryKeyValueBytesStoreSupplier(name)

    @staticmethod
    def lru_map(name: str, max_cache_size: int) -> LruMapSupplier:
        """A supplier of in-memory stores keeping the ``max_cache_size`` most recently used
        entries (those dropped are deleted from the changelog too)."""
        return LruMapSupplier(name, max_cache_size)

    @staticmethod
    def key_value_store_builder(
        supplier: StoreSupplier, key_serde: Serde[K] | None, value_serde: Serde[V] | None
    ) -> KeyValueStoreBuilder[K, V]:
        """A builder of typed key-value stores on ``supplier`` (logging on, caching off)."""
        return KeyValueStoreBuilder(supplier, key_serde, value_serde)

    @staticmethod
    def timestamped_key_value_store_builder(
        supplier: StoreSupplier, key_serde: Serde[K] | None, value_serde: Serde[V] | None
    ) -> TimestampedKeyValueStoreBuilder[K, V]:
        """A builder of key-value stores of ``ValueAndTimestamp`` values."""
        return TimestampedKeyValueStoreBuilder(supplier, key_serde, value_serde)

    # -- window and session stores ----------------------------------------------------------
    @staticmethod
    def persistent_window_store(
        name: str,
        retention: int | timedelta,
        window_size: int | timedelta,
        retain_duplicates: bool = False,
    ) -> RocksDBWindowBytesStoreSupplier:
        """A supplier of RocksDB window stores keeping windows for ``retention`` (no smaller
        than ``window_size``); ``retain_duplicates`` keeps every put (join stores)."""
        return RocksDBWindowBytesStoreSupplier(name, retention, window_size, retain_duplicates)

    @staticmethod
    def persistent_timestamped_window_store(
        name: str,
        retention: int | timedelta,
        window_size: int | timedelta,
        retain_duplicates: bool = False,
    ) -> RocksDBWindowBytesStoreSupplier:
        """A supplier of RocksDB window stores for timestamped values (what the DSL's
        windowed aggregations materialize)."""
        return RocksDBWindowBytesStoreSupplier(
            name, retention, window_size, retain_duplicates, timestamped=True
        )

    @staticmethod
    def in_memory_window_store(
        name: str,
        retention: int | timedelta,
        window_size: int | timedelta,
        retain_duplicates: bool = False,
    ) -> InMemoryWindowBytesStoreSupplier:
        """A supplier of in-memory window stores."""
        return InMemoryWindowBytesStoreSupplier(name, retention, window_size, retain_duplicates)

    @staticmethod
    def window_store_builder(
        supplier: WindowBytesStoreSupplier,
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> WindowStoreBuilder[K, V]:
        """A builder of typed window stores on ``supplier`` (logging on, caching off)."""
        return WindowStoreBuilder(supplier, key_serde, value_serde)

    @staticmethod
    def timestamped_window_store_builder(
        supplier: WindowBytesStoreSupplier,
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> TimestampedWindowStoreBuilder[K, V]:
        """A builder of window stores of ``ValueAndTimestamp`` values."""
        return TimestampedWindowStoreBuilder(supplier, key_serde, value_serde)

    @staticmethod
    def persistent_session_store(
        name: str, retention: int | timedelta
    ) -> RocksDBSessionBytesStoreSupplier:
        """A supplier of RocksDB session stores keeping sessions for ``retention`` (by end)."""
        return RocksDBSessionBytesStoreSupplier(name, retention)

    @staticmethod
    def in_memory_session_store(
        name: str, retention: int | timedelta
    ) -> InMemorySessionBytesStoreSupplier:
        """A supplier of in-memory session stores."""
        return InMemorySessionBytesStoreSupplier(name, retention)

    @staticmethod
    def session_store_builder(
        supplier: SessionBytesStoreSupplier,
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> SessionStoreBuilder[K, V]:
        """A builder of typed session stores on ``supplier`` (logging on, caching off)."""
        return SessionStoreBuilder(supplier, key_serde, value_serde)
