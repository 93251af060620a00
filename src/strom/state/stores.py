"""``Stores``: the factory of store suppliers and builders (Kafka's ``Stores``)."""

from __future__ import annotations

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

K = TypeVar("K")
V = TypeVar("V")


class Stores:
    """Suppliers of key-value stores (persistent on RocksDB, in memory, or an LRU map) and the
    builders that make typed stores of them.

    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> builder = Stores.key_value_store_builder(
    ...     Stores.persistent_key_value_store("counts"), serdes.String(), serdes.Long())
    >>> builder.with_caching_enabled().caching_enabled, builder.logging_enabled
    (True, True)
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
