"""``Stores``, suppliers and builders: defaults, toggles, the stacks they build."""

from __future__ import annotations

import pytest

import strom.state
from strom import serdes
from strom.state import (
    CachingKeyValueStore,
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
    InMemoryKeyValueStore,
    InMemoryLRUKeyValueStore,
    MeteredKeyValueStore,
    MeteredTimestampedKeyValueStore,
    RocksDBKeyValueStore,
    Stores,
    ValueAndTimestamp,
)


def layers(store):
    out = []
    while store is not None:
        out.append(type(store))
        store = getattr(store, "wrapped", None)
    return out


def test_suppliers():
    rocks = Stores.persistent_key_value_store("a")
    assert rocks.name == "a" and rocks.metrics_scope() == "rocksdb" and not rocks.timestamped
    assert isinstance(rocks.get(), RocksDBKeyValueStore)
    assert rocks.get() is not rocks.get()  # a new store per task
    assert Stores.persistent_timestamped_key_value_store("a").timestamped
    mem = Stores.in_memory_key_value_store("b")
    assert isinstance(mem.get(), InMemoryKeyValueStore) and mem.metrics_scope() == "in-memory"
    lru = Stores.lru_map("c", 10)
    store = lru.get()
    assert isinstance(store, InMemoryLRUKeyValueStore) and store.max_entries == 10
    assert lru.metrics_scope() == "in-memory-lru"


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "ü", "x" * 250])
def test_illegal_names(bad):
    with pytest.raises(ValueError, match="store name"):
        Stores.in_memory_key_value_store(bad)


def test_non_string_name():
    with pytest.raises(TypeError, match="must be a str"):
        Stores.persistent_key_value_store(None)


def test_lru_size_validated():
    with pytest.raises(ValueError, match="negative"):
        Stores.lru_map("c", -1)
    with pytest.raises(TypeError):
        Stores.lru_map("c", "10")


def test_legal_name_characters():
    assert Stores.in_memory_key_value_store("Aa0._-").name == "Aa0._-"


def test_builder_defaults_as_kafka():
    builder = Stores.key_value_store_builder(
        Stores.in_memory_key_value_store("s"), serdes.String(), serdes.Long()
    )
    assert builder.name == "s"
    assert builder.logging_enabled and not builder.caching_enabled
    assert builder.log_config == {}
    assert layers(builder.build()) == [
        MeteredKeyValueStore,
        ChangeLoggingKeyValueBytesStore,
        InMemoryKeyValueStore,
    ]


def test_builder_toggles():
    builder = Stores.key_value_store_builder(
        Stores.persistent_key_value_store("s"), serdes.String(), serdes.Long()
    )
    assert builder.with_caching_enabled() is builder
    assert layers(builder.build()) == [
        MeteredKeyValueStore,
        CachingKeyValueStore,
        ChangeLoggingKeyValueBytesStore,
        RocksDBKeyValueStore,
    ]
    builder.with_logging_disabled()
    assert not builder.logging_enabled
    assert layers(builder.build()) == [
        MeteredKeyValueStore,
        CachingKeyValueStore,
        RocksDBKeyValueStore,
    ]
    builder.with_caching_disabled().with_logging_enabled({"retention.ms": "1000"})
    assert builder.log_config == {"retention.ms": "1000"}
    assert layers(builder.build()) == [
        MeteredKeyValueStore,
        ChangeLoggingKeyValueBytesStore,
        RocksDBKeyValueStore,
    ]


def test_timestamped_builder_stack():
    builder = Stores.timestamped_key_value_store_builder(
        Stores.persistent_timestamped_key_value_store("t"), serdes.String(), serdes.Long()
    ).with_caching_enabled()
    assert layers(builder.build()) == [
        MeteredTimestampedKeyValueStore,
        CachingKeyValueStore,
        ChangeLoggingTimestampedKeyValueBytesStore,
        RocksDBKeyValueStore,
    ]


def test_builder_rejects_non_supplier():
    with pytest.raises(TypeError, match="StoreSupplier"):
        Stores.key_value_store_builder("s", None, None)


def test_stores_is_not_instantiable():
    with pytest.raises(TypeError):
        Stores()


def test_built_store_works_end_to_end(context):
    store = (
        Stores.timestamped_key_value_store_builder(
            Stores.in_memory_key_value_store("t"), serdes.String(), serdes.Long()
        )
        .with_caching_enabled()
        .build()
    )
    store.init(context, store)
    context.record_timestamp = 10
    store.put("a", ValueAndTimestamp(1, 10))
    assert store.get("a") == ValueAndTimestamp(1, 10)
    assert context.logged == []
    store.flush()
    assert context.logged == [("t", b"a", serdes.Long().serialize("", 1), 10)]
    assert [root for root, _ in context.registered] == [store]
    store.close()
    assert not store.is_open


def test_public_names_sorted_and_present():
    names = strom.state.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(strom.state, name)
