"""The changelogging layer: exactly which records reach the changelog, and the LRU map."""

from __future__ import annotations

import pytest

from strom.state.changelogging import (
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
)
from strom.state.memory import InMemoryLRUKeyValueStore


@pytest.fixture
def logged(inner_kind, context, make_inner):
    store = ChangeLoggingKeyValueBytesStore(make_inner(inner_kind, "counts"))
    store.init(context, store)
    yield store
    store.close()


def test_registers_nothing(logged, context):
    assert context.registered == []
    assert logged.name == "counts"


def test_put_logs_after_writing(logged, context):
    context.record_timestamp = 42
    logged.put(b"k", b"v")
    assert logged.get(b"k") == b"v"
    assert context.logged == [("counts", b"k", b"v", 42)]


def test_delete_logs_tombstone(logged, context):
    logged.put(b"k", b"v")
    context.record_timestamp = 7
    assert logged.delete(b"k") == b"v"
    assert context.logged[-1] == ("counts", b"k", None, 7)
    assert logged.get(b"k") is None


def test_put_none_logs_tombstone(logged, context):
    logged.put(b"k", None)
    assert context.logged == [("counts", b"k", None, 0)]


def test_put_if_absent_logs_only_when_it_puts(logged, context):
    context.record_timestamp = 1
    assert logged.put_if_absent(b"k", b"1") is None
    context.record_timestamp = 2
    assert logged.put_if_absent(b"k", b"2") == b"1"
    assert context.logged == [("counts", b"k", b"1", 1)]


def test_put_all_logs_each_in_order(logged, context):
    context.record_timestamp = 5
    logged.put_all([(b"b", b"2"), (b"a", b"1"), (b"b", None)])
    assert context.logged == [
        ("counts", b"b", b"2", 5),
        ("counts", b"a", b"1", 5),
        ("counts", b"b", None, 5),
    ]
    assert list(logged.all()) == [(b"a", b"1")]


def test_reads_pass_through_and_log_nothing(logged, context):
    logged.put_all([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    context.logged.clear()
    assert logged.get(b"a") == b"1"
    assert list(logged.range(b"b", b"c")) == [(b"b", b"2"), (b"c", b"3")]
    assert next(logged.reverse_all()) == (b"c", b"3")
    assert list(logged.prefix_scan(b"a")) == [(b"a", b"1")]
    assert context.logged == []


def test_timestamped_logs_plain_value_with_its_timestamp(context, make_inner):
    store = ChangeLoggingTimestampedKeyValueBytesStore(make_inner("memory", "t"))
    store.init(context, store)
    context.record_timestamp = 99
    store.put(b"k", (1234).to_bytes(8, "big") + b"value")
    store.delete(b"k")
    assert context.logged == [("t", b"k", b"value", 1234), ("t", b"k", None, 99)]


class TestLruMap:
    def test_keeps_most_recently_used(self, context):
        lru = InMemoryLRUKeyValueStore("lru", 2)
        lru.init(context, lru)
        lru.put(b"a", b"1")
        lru.put(b"b", b"2")
        assert lru.get(b"a") == b"1"  # a is now more recent than b
        lru.put(b"c", b"3")
        assert lru.get(b"b") is None
        assert list(lru.all()) == [(b"a", b"1"), (b"c", b"3")]
        assert lru.approximate_num_entries() == 2

    def test_eviction_is_logged_as_tombstone(self, context):
        store = ChangeLoggingKeyValueBytesStore(InMemoryLRUKeyValueStore("lru", 1))
        store.init(context, store)
        context.record_timestamp = 3
        store.put(b"a", b"1")
        store.put(b"b", b"2")
        assert context.logged == [
            ("lru", b"a", b"1", 3),
            ("lru", b"a", None, 3),
            ("lru", b"b", b"2", 3),
        ]

    def test_restore_does_not_log_evictions(self, context):
        store = ChangeLoggingKeyValueBytesStore(InMemoryLRUKeyValueStore("lru", 1))
        store.init(context, store)
        store.wrapped.restore_all([(b"a", b"1"), (b"b", b"2")])
        assert context.logged == []
        assert list(store.all()) == [(b"b", b"2")]

    def test_zero_entries_keeps_nothing(self, context):
        lru = InMemoryLRUKeyValueStore("lru", 0)
        lru.init(context, lru)
        lru.put(b"a", b"1")
        assert lru.get(b"a") is None

    def test_negative_size_rejected(self):
        with pytest.raises(ValueError, match="negative"):
            InMemoryLRUKeyValueStore("lru", -1)
