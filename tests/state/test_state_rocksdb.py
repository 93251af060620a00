"""RocksDB-specific behaviour: on-disk location, persistence across close/reopen."""

from __future__ import annotations

import pytest

from strom.core.errors import StoreError
from strom.state.rocksdb import RocksDBKeyValueStore


def test_path_under_state_dir(context, tmp_path):
    store = RocksDBKeyValueStore("my-store")
    store.init(context, store)
    try:
        assert store.path == tmp_path / "rocksdb" / "my-store"
        assert store.path.is_dir()
    finally:
        store.close()


def test_data_survives_close_and_reopen(context):
    store = RocksDBKeyValueStore("s")
    store.init(context, store)
    store.put_all([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    store.delete(b"b")
    store.flush()
    store.close()

    again = RocksDBKeyValueStore("s")
    again.init(context, again)
    try:
        assert list(again.all()) == [(b"a", b"1"), (b"c", b"3")]
        assert again.get(b"b") is None
    finally:
        again.close()


def test_unflushed_writes_are_readable_and_survive_close(context):
    store = RocksDBKeyValueStore("s")
    store.init(context, store)
    store.put(b"k", b"v")
    assert store.get(b"k") == b"v"
    assert list(store.range(b"k", b"k")) == [(b"k", b"v")]
    store.close()
    store.init(context, store)  # the same object reopens
    try:
        assert store.get(b"k") == b"v"
    finally:
        store.close()


def test_close_with_open_iterators_allows_reopen(context):
    store = RocksDBKeyValueStore("s")
    store.init(context, store)
    store.put_all([(b"a", b"1"), (b"b", b"2")])
    started = store.all()
    assert next(started) == (b"a", b"1")
    unstarted = store.range(b"a", b"z")
    store.close()
    assert list(started) == []  # closed with the store
    assert list(unstarted) == []
    reopened = RocksDBKeyValueStore("s")
    reopened.init(context, reopened)  # would fail on RocksDB's lock if an iterator held it
    try:
        assert reopened.get(b"b") == b"2"
    finally:
        reopened.close()


def test_needs_a_state_dir(make_context):
    store = RocksDBKeyValueStore("s")
    with pytest.raises(StoreError, match="state dir"):
        store.init(make_context(state_dir=None), store)


def test_two_stores_share_a_task_dir(context):
    a, b = RocksDBKeyValueStore("a"), RocksDBKeyValueStore("b")
    a.init(context, a)
    b.init(context, b)
    try:
        a.put(b"k", b"from-a")
        assert b.get(b"k") is None
    finally:
        a.close()
        b.close()
