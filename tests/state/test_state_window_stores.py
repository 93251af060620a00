"""``Stores`` for window and session stores: validation as Kafka's, durations, the built
stacks, changelog topic config, exports."""

from __future__ import annotations

from datetime import timedelta

import pytest

import strom.state
from strom import serdes
from strom.state import (
    CachingSessionStore,
    CachingWindowStore,
    ChangeLoggingSessionBytesStore,
    ChangeLoggingTimestampedWindowBytesStore,
    ChangeLoggingWindowBytesStore,
    InMemorySessionStore,
    InMemoryWindowStore,
    MeteredSessionStore,
    MeteredTimestampedWindowStore,
    MeteredWindowStore,
    RocksDBSessionStore,
    RocksDBWindowStore,
    Stores,
    TimestampedWindowStore,
    ValueAndTimestamp,
    WindowStoreFacade,
)
from strom.windows import Window, Windowed

STR, LONG = serdes.String(), serdes.Long()


def test_window_suppliers_take_ms_or_timedelta():
    sup = Stores.persistent_window_store("w", timedelta(hours=1), timedelta(minutes=5))
    assert (sup.retention_period, sup.window_size, sup.retain_duplicates) == (3_600_000, 300_000,
                                                                              False)  # fmt: skip
    assert sup.segment_interval == 1_800_000
    assert isinstance(sup.get(), RocksDBWindowStore)
    mem = Stores.in_memory_window_store("w", 1_000, 1_000, retain_duplicates=True)
    assert mem.segment_interval == 60_000  # at least a minute, as Kafka
    store = mem.get()
    assert isinstance(store, InMemoryWindowStore) and store.retain_duplicates
    assert Stores.persistent_timestamped_window_store("w", 10, 10).timestamped is True


@pytest.mark.parametrize(
    "factory",
    [Stores.persistent_window_store, Stores.persistent_timestamped_window_store,
     Stores.in_memory_window_store],
)  # fmt: skip
def test_window_store_validation(factory):
    with pytest.raises(ValueError, match="no smaller than its window size"):
        factory("w", 1_000, 2_000)
    with pytest.raises(ValueError, match="retention period cannot be negative"):
        factory("w", -1, 0)
    with pytest.raises(ValueError, match="window size cannot be negative"):
        factory("w", 10, -1)
    with pytest.raises(TypeError, match=r"milliseconds or datetime\.timedelta"):
        factory("w", "1h", 10)
    with pytest.raises(ValueError, match="illegal characters"):
        factory("bad name", 10, 10)
    factory("w", 0, 0)  # both may be zero


@pytest.mark.parametrize(
    "factory", [Stores.persistent_session_store, Stores.in_memory_session_store]
)
def test_session_store_validation(factory):
    with pytest.raises(ValueError, match="retention period cannot be negative"):
        factory("s", -1)
    with pytest.raises(TypeError):
        factory(None, 10)
    assert factory("s", timedelta(minutes=10)).retention_period == 600_000


def test_session_suppliers_make_the_right_kind():
    assert isinstance(Stores.persistent_session_store("s", 10).get(), RocksDBSessionStore)
    assert isinstance(Stores.in_memory_session_store("s", 10).get(), InMemorySessionStore)


def test_window_builder_stacks_and_defaults():
    builder = Stores.window_store_builder(Stores.in_memory_window_store("w", 100, 10), STR, LONG)
    assert (builder.caching_enabled, builder.logging_enabled) == (False, True)
    store = builder.build()
    assert type(store) is MeteredWindowStore
    assert type(store.wrapped) is ChangeLoggingWindowBytesStore
    store = builder.with_caching_enabled().build()
    assert type(store.wrapped) is CachingWindowStore
    assert type(store.wrapped.wrapped) is ChangeLoggingWindowBytesStore
    store = builder.with_logging_disabled().build()
    assert type(store.wrapped) is CachingWindowStore
    assert type(store.wrapped.wrapped) is InMemoryWindowStore
    assert builder.log_config == {}
    assert builder.build() is not builder.build()  # one stack per task


def test_timestamped_window_builder_stack():
    sup = Stores.persistent_timestamped_window_store("w", 100, 10)
    store = Stores.timestamped_window_store_builder(sup, STR, LONG).build()
    assert type(store) is MeteredTimestampedWindowStore is TimestampedWindowStore
    assert type(store.wrapped) is ChangeLoggingTimestampedWindowBytesStore
    assert store.is_window_store


def test_session_builder_stack():
    builder = Stores.session_store_builder(Stores.persistent_session_store("s", 100), STR, LONG)
    store = builder.with_caching_enabled().build()
    assert type(store) is MeteredSessionStore
    assert type(store.wrapped) is CachingSessionStore
    assert type(store.wrapped.wrapped) is ChangeLoggingSessionBytesStore
    assert type(store.wrapped.wrapped.wrapped) is RocksDBSessionStore
    assert store.is_session_store


def test_builders_refuse_the_wrong_supplier():
    with pytest.raises(TypeError, match="WindowBytesStoreSupplier"):
        Stores.window_store_builder(Stores.in_memory_key_value_store("kv"), STR, LONG)
    with pytest.raises(TypeError, match="SessionBytesStoreSupplier"):
        Stores.session_store_builder(Stores.in_memory_window_store("w", 10, 10), STR, LONG)


def test_changelog_config_is_compact_delete_with_extra_retention():
    builder = Stores.window_store_builder(
        Stores.persistent_window_store("w", 3_600_000, 60_000), STR, LONG
    )
    assert builder.log_config == {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(3_600_000 + 86_400_000),
    }
    assert builder.changelog_config(1_000)["retention.ms"] == "3601000"
    builder.with_logging_enabled({"min.insync.replicas": "2", "retention.ms": "5"})
    assert builder.log_config == {
        "cleanup.policy": "compact,delete",
        "retention.ms": "5",
        "min.insync.replicas": "2",
    }
    sessions = Stores.session_store_builder(Stores.in_memory_session_store("s", 10), STR, LONG)
    assert sessions.log_config["retention.ms"] == str(10 + 86_400_000)


def test_facade_shows_plain_values(open_store):
    sup = Stores.in_memory_window_store("w", 120_000, 60_000)
    store, _ = open_store(Stores.timestamped_window_store_builder(sup, STR, LONG))
    store.put("a", ValueAndTimestamp(1, 5), 0)
    facade = WindowStoreFacade(store)
    assert facade.is_window_store
    assert facade.fetch("a", 0) == 1
    assert list(facade.fetch("a", 0, 10)) == [(0, 1)]
    assert list(facade.all()) == [(Windowed("a", Window(0, 60_000)), 1)]
    facade.put("b", 2, 0)
    assert store.fetch("b", 0) == ValueAndTimestamp(2, -1)


def test_default_serdes_come_from_app_configs(open_store):
    sup = Stores.in_memory_session_store("s", 100)
    configs = {"default.key.serde": serdes.String, "default.value.serde": serdes.Long}
    store, ctx = open_store(Stores.session_store_builder(sup, None, None), configs)
    store.put(Windowed("a", Window(0, 1)), 3)
    assert ctx.logged[0][1][:1] == b"a" and ctx.logged[0][2] == (3).to_bytes(8, "big")


def test_new_types_are_exported_sorted():
    names = strom.state.__all__
    for name in ("Stores", "WindowStore", "SessionStore", "ReadOnlyWindowStore",
                 "ReadOnlySessionStore", "WindowStoreBuilder", "SessionStoreBuilder",
                 "TimestampedWindowStore", "WindowStoreFacade"):  # fmt: skip
        assert name in names and hasattr(strom.state, name)
