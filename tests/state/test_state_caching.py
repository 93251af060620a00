"""The caching layer: coalescing, flush order, listener calls, eviction, merged iteration."""

from __future__ import annotations

import pytest

from strom.state.caching import ENTRY_OVERHEAD, CachingKeyValueStore, cache_max_bytes
from strom.state.changelogging import ChangeLoggingKeyValueBytesStore


@pytest.fixture
def build(inner_kind, make_context, make_inner):
    """build(max_bytes=None) -> (caching store over changelogging over inner, context)."""
    opened = []

    def make(max_bytes=None):
        configs = {} if max_bytes is None else {"statestore.cache.max.bytes": max_bytes}
        ctx = make_context(configs)
        store = CachingKeyValueStore(ChangeLoggingKeyValueBytesStore(make_inner(inner_kind, "c")))
        store.init(ctx, store)
        opened.append(store)
        return store, ctx

    yield make
    for store in opened:
        store.close()


def listen(store, send_old_values=True):
    calls = []
    assert store.set_flush_listener(lambda *args: calls.append(args), send_old_values) is True
    return calls


def below(store):
    return store.wrapped  # the changelogging layer (reads pass through to the inner store)


def test_writes_stay_in_cache_until_flush(build):
    store, ctx = build()
    store.put(b"k", b"v")
    assert store.get(b"k") == b"v"
    assert below(store).get(b"k") is None
    assert ctx.logged == []
    store.flush()
    assert below(store).get(b"k") == b"v"
    assert ctx.logged == [("c", b"k", b"v", 0)]


def test_two_puts_coalesce_into_one_record_and_one_listener_call(build):
    store, ctx = build()
    ctx.record_timestamp = 1
    store.put(b"k", b"old")
    store.flush()
    calls = listen(store)
    ctx.logged.clear()
    ctx.record_timestamp = 10
    store.put(b"k", b"v1")
    ctx.record_timestamp = 11
    store.put(b"k", b"v2")
    ctx.record_timestamp = 99  # flushing happens later, at another record
    store.flush()
    assert ctx.logged == [("c", b"k", b"v2", 11)]  # the entry's timestamp, not the current one
    assert calls == [(b"k", b"v2", b"old", 11)]


def test_old_value_only_when_asked(build):
    store, _ctx = build()
    store.put(b"k", b"old")
    store.flush()
    calls = listen(store, send_old_values=False)
    store.put(b"k", b"new")
    store.flush()
    assert calls == [(b"k", b"new", None, 0)]


def test_flush_order_is_order_last_dirtied(build):
    store, ctx = build()
    calls = listen(store)
    for key in (b"a", b"b", b"c"):
        store.put(key, key)
    store.put(b"a", b"a2")  # re-dirtied: moves to the end
    assert store.dirty_keys == [b"b", b"c", b"a"]
    store.flush()
    assert [key for _, key, _, _ in ctx.logged] == [b"b", b"c", b"a"]
    assert [c[:3] for c in calls] == [(b"b", b"b", None), (b"c", b"c", None), (b"a", b"a2", None)]
    assert store.dirty_keys == []


def test_delete_of_flushed_key(build):
    store, ctx = build()
    store.put(b"k", b"v")
    store.flush()
    calls = listen(store)
    ctx.record_timestamp = 5
    assert store.delete(b"k") == b"v"
    assert store.get(b"k") is None  # the cached deletion hides the store's value
    assert below(store).get(b"k") == b"v"
    store.flush()
    assert below(store).get(b"k") is None
    assert ctx.logged[-1] == ("c", b"k", None, 5)
    assert calls == [(b"k", None, b"v", 5)]


def test_put_then_delete_of_new_key_writes_nothing_with_listener(build):
    store, ctx = build()
    calls = listen(store)
    store.put(b"k", b"v")
    store.delete(b"k")
    store.flush()
    assert calls == [] and ctx.logged == []


def test_put_then_delete_of_new_key_without_listener_logs_tombstone(build):
    store, ctx = build()
    store.put(b"k", b"v")
    store.delete(b"k")
    store.flush()
    assert ctx.logged == [("c", b"k", None, 0)]


def test_put_if_absent_sees_cache_and_store(build):
    store, _ctx = build()
    store.put(b"flushed", b"1")
    store.flush()
    assert store.put_if_absent(b"flushed", b"x") == b"1"
    assert store.put_if_absent(b"new", b"2") is None
    assert store.put_if_absent(b"new", b"3") == b"2"
    store.delete(b"new")
    assert store.put_if_absent(b"new", b"4") is None


def test_merged_iteration_cache_wins_and_deletes_hidden(build):
    store, _ctx = build()
    store.put_all([(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"e", b"5")])
    store.flush()
    store.put(b"b", b"20")
    store.delete(b"c")
    store.put(b"d", b"4")
    store.put(b"\x00", b"0")
    store.put(b"\xff", b"ff")
    expected = [
        (b"\x00", b"0"),
        (b"a", b"1"),
        (b"b", b"20"),
        (b"d", b"4"),
        (b"e", b"5"),
        (b"\xff", b"ff"),
    ]
    assert list(store.all()) == expected
    assert list(store.reverse_all()) == expected[::-1]
    assert list(store.range(b"b", b"d")) == [(b"b", b"20"), (b"d", b"4")]
    assert list(store.reverse_range(b"b", b"d")) == [(b"d", b"4"), (b"b", b"20")]
    assert list(store.range(b"c", b"c")) == []
    assert list(store.range(b"e", b"a")) == []
    assert list(store.prefix_scan(b"b")) == [(b"b", b"20")]
    store.flush()
    assert list(store.all()) == expected
    assert list(below(store).all()) == expected


def test_iterator_snapshot_survives_writes(build):
    store, _ctx = build()
    store.put_all([(b"a", b"1"), (b"b", b"2")])
    it = store.all()
    store.put(b"c", b"3")
    store.flush()
    assert list(it) == [(b"a", b"1"), (b"b", b"2")]


def test_tiny_budget_evicts_lru_and_flushes_all_dirty(build):
    entry = 1 + 1 + ENTRY_OVERHEAD  # one-byte key and value
    store, ctx = build(max_bytes=2 * entry)
    calls = listen(store)
    store.put(b"a", b"1")
    store.put(b"b", b"2")
    assert ctx.logged == []
    store.put(b"c", b"3")  # over budget: a (dirty) is evicted, which flushes every dirty entry
    assert [(k, v) for _, k, v, _ in ctx.logged] == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
    assert [c[:2] for c in calls] == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
    assert store.cache_size_bytes <= 2 * entry
    assert store.dirty_keys == []
    assert store.get(b"a") == b"1"  # read back from below
    store.flush()
    assert len(ctx.logged) == 3  # nothing more was dirty


def test_clean_entries_evict_silently(build):
    entry = 1 + 1 + ENTRY_OVERHEAD
    store, ctx = build(max_bytes=2 * entry)
    below(store).put_all([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    ctx.logged.clear()
    calls = listen(store)
    for key in (b"a", b"b", b"c", b"a"):
        assert store.get(key) is not None
    assert calls == [] and ctx.logged == []
    assert store.cache_size_bytes <= 2 * entry


def test_zero_budget_writes_through(build):
    """A zero budget removes the cache (as Kafka does): writes go straight below, and the
    store tells the caller to forward by itself (set_flush_listener returns False)."""
    store, ctx = build(max_bytes=0)
    assert store.set_flush_listener(lambda *args: None, True) is False
    ctx.record_timestamp = 1
    store.put(b"k", b"1")
    ctx.record_timestamp = 2
    store.put(b"k", b"2")
    assert store.wrapped.get(b"k") == b"2"
    assert [(k, v, ts) for _, k, v, ts in ctx.logged] == [(b"k", b"1", 1), (b"k", b"2", 2)]
    assert store.cache_size_bytes == 0


def test_listener_may_write_back_into_the_store(build):
    store, _ctx = build()
    seen = []

    def listener(key, new, old, ts):
        seen.append(key)
        if key == b"a":
            store.put(b"derived", b"x")

    store.set_flush_listener(listener, False)
    store.put(b"a", b"1")
    store.flush()
    assert seen == [b"a"]
    assert store.dirty_keys == [b"derived"]
    store.flush()
    assert seen == [b"a", b"derived"]


def test_close_flushes(build):
    store, ctx = build()
    store.put(b"k", b"v")
    store.close()
    assert ctx.logged == [("c", b"k", b"v", 0)]


def test_approximate_num_entries_from_below(build):
    store, _ctx = build()
    store.put(b"k", b"v")
    store.flush()
    assert store.approximate_num_entries() >= 1


def test_cache_max_bytes_config():
    assert cache_max_bytes({}) == 10 * 1024 * 1024
    assert cache_max_bytes({"statestore.cache.max.bytes": "100"}) == 100
    assert cache_max_bytes({"cache.max.bytes.buffering": 7}) == 7
