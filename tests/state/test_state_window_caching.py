"""The caching layer of window and session stores: coalescing, flush order, flush-listener
calls (with old values), merged reads, eviction, expiry and the zero budget."""

from __future__ import annotations

import random

import pytest

from strom import serdes
from strom.state import (
    CachingSessionStore,
    CachingWindowStore,
    Stores,
    ValueAndTimestamp,
)
from strom.state.metered import innermost
from strom.windows import MAX_TIMESTAMP, Window, Windowed

STR, LONG = serdes.String(), serdes.Long()


def long(v: int) -> bytes:
    return v.to_bytes(8, "big", signed=True)


def w(key, start, size=60_000):
    return Windowed(key, Window(start, start + size))


def s(key, start, end):
    return Windowed(key, Window(start, end))


@pytest.fixture
def window(segmented_kind, open_store):
    """window(max_bytes=None, timestamped=False, dup=False) -> (cached store, context)."""

    def make(max_bytes=None, timestamped=False, dup=False, retention=120_000):
        if segmented_kind == "memory":
            sup = Stores.in_memory_window_store("w", retention, 60_000, dup)
        else:
            sup = Stores.persistent_window_store("w", retention, 60_000, dup)
        build = (
            Stores.timestamped_window_store_builder
            if timestamped
            else (Stores.window_store_builder)
        )
        configs = {} if max_bytes is None else {"statestore.cache.max.bytes": max_bytes}
        return open_store(build(sup, STR, LONG).with_caching_enabled(), configs)

    return make


@pytest.fixture
def sessions(segmented_kind, open_store):
    def make(max_bytes=None):
        sup = (
            Stores.in_memory_session_store("s", 120_000)
            if segmented_kind == "memory"
            else Stores.persistent_session_store("s", 120_000)
        )
        configs = {} if max_bytes is None else {"statestore.cache.max.bytes": max_bytes}
        builder = Stores.session_store_builder(sup, STR, LONG).with_caching_enabled()
        return open_store(builder, configs)

    return make


def listen(store, send_old_values=True):
    calls = []
    assert store.set_flush_listener(lambda *a: calls.append(a), send_old_values) is True
    return calls


def stored(store):
    """What the store below the cache holds, read through a fresh iteration of the inner."""
    return [(c, v) for c, v in innermost(store.wrapped).fetch(None, None, 0, MAX_TIMESTAMP)]


# -- windows -----------------------------------------------------------------------------------
def test_window_writes_stay_in_the_cache_until_flush(window):
    store, ctx = window()
    assert isinstance(store.wrapped, CachingWindowStore)
    ctx.record_timestamp = 3
    store.put("a", 1, 0)
    assert store.fetch("a", 0) == 1
    assert list(store.fetch("a", 0, 10)) == [(0, 1)]
    assert stored(store) == []
    assert ctx.logged == []
    store.flush()
    assert len(stored(store)) == 1
    assert [(k[:1], v, ts) for _n, k, v, ts in ctx.logged] == [(b"a", long(1), 3)]


def test_window_updates_coalesce_into_one_record_and_one_listener_call(window):
    store, ctx = window()
    ctx.record_timestamp = 1
    store.put("a", 1, 0)
    store.flush()
    calls = listen(store)
    ctx.logged.clear()
    ctx.record_timestamp = 10
    store.put("a", 2, 0)
    ctx.record_timestamp = 11
    store.put("a", 3, 0)
    store.flush()
    assert calls == [(w("a", 0), 3, 1, 11)]
    assert [(v, ts) for _n, _k, v, ts in ctx.logged] == [(long(3), 11)]
    store.flush()
    assert len(calls) == 1  # nothing dirty: nothing forwarded


def test_window_listener_without_old_values_and_flush_order(window):
    store, ctx = window()
    store.put("x", 0, 0)
    store.flush()
    calls = listen(store, send_old_values=False)
    for i, (key, start) in enumerate([("b", 0), ("a", 60_000), ("x", 0), ("b", 0)]):
        ctx.record_timestamp = i
        store.put(key, i, start)
    store.flush()
    # in the order last dirtied: b was re-dirtied last
    assert calls == [(w("a", 60_000), 1, None, 1), (w("x", 0), 2, None, 2), (w("b", 0), 3, None, 3)]


def test_window_deletes_forward_old_values_and_skip_what_never_reached_the_store(window):
    store, ctx = window()
    store.put("a", 1, 0)
    store.flush()
    calls = listen(store)
    ctx.logged.clear()
    ctx.record_timestamp = 5
    store.put("a", None, 0)
    store.put("new", 1, 0)
    store.put("new", None, 0)  # created and deleted within one commit
    assert store.fetch("a", 0) is None
    store.flush()
    assert calls == [(w("a", 0), None, 1, 5)]
    assert [(k[:1], v) for _n, k, v, _ts in ctx.logged] == [(b"a", None)]
    assert stored(store) == []


def test_window_reads_merge_cache_and_store_in_order(window):
    store, _ = window(retention=240_000)  # segments of 120s
    for key in ("a", "b", "d"):
        store.put(key, 1, 0)
        store.put(key, 1, 130_000)
    store.flush()
    store.put("a", 2, 0)  # update
    store.put("b", None, 0)  # delete
    store.put("c", 3, 0)  # new
    store.put("c", 3, 130_000)
    store.put("a", 4, 60_000)  # new window of an existing key
    expected = [
        (w("a", 0), 2), (w("a", 60_000), 4), (w("c", 0), 3), (w("d", 0), 1),
        (w("a", 130_000), 1), (w("b", 130_000), 1), (w("c", 130_000), 3), (w("d", 130_000), 1),
    ]  # fmt: skip
    assert list(store.all()) == expected
    assert list(store.backward_all()) == expected[::-1]
    assert list(store.fetch_range("b", "c", 0, 60_000)) == [(w("c", 0), 3)]
    assert list(store.fetch("a", 0, MAX_TIMESTAMP)) == [(0, 2), (60_000, 4), (130_000, 1)]
    assert list(store.backward_fetch("b", 0, MAX_TIMESTAMP)) == [(130_000, 1)]
    assert store.fetch("b", 0) is None
    store.flush()
    assert list(store.all()) == expected  # the same once everything is below


def test_window_cache_respects_retention(window):
    store, _ = window()
    store.put("b", 1, 0)
    store.flush()  # b@0 is below, where stream time stays at 0 until the next flush
    store.put("a", 1, 0)
    store.put("a", 2, 200_000)  # start 0 expires (still in the cache)
    assert store.fetch("a", 0) is None
    assert store.fetch("b", 0) is None
    assert list(store.fetch("a", 0, MAX_TIMESTAMP)) == [(200_000, 2)]
    assert list(store.fetch("b", 0, MAX_TIMESTAMP)) == []
    store.put("a", 3, 80_000)  # expired: ignored and counted
    assert store.metrics["expired_records"] == 1
    assert list(store.all()) == [(w("a", 200_000), 2)]


def test_timestamped_window_listener_gets_value_and_timestamp(window):
    store, ctx = window(timestamped=True)
    calls = listen(store)
    ctx.record_timestamp = 9
    store.put("a", ValueAndTimestamp(1, 7), 0)
    store.flush()
    assert calls == [(w("a", 0), ValueAndTimestamp(1, 7), None, 9)]
    assert [(v, ts) for _n, _k, v, ts in ctx.logged] == [(long(1), 7)]


def test_zero_budget_means_no_window_cache(window):
    store, ctx = window(max_bytes=0)
    assert store.set_flush_listener(lambda *a: None, True) is False
    store.put("a", 1, 0)
    assert len(ctx.logged) == 1  # straight through
    assert len(stored(store)) == 1
    assert list(store.all()) == [(w("a", 0), 1)]


def test_window_eviction_flushes_dirty_entries(window):
    store, ctx = window(max_bytes=400)
    calls = listen(store)
    for i in range(10):
        ctx.record_timestamp = i
        store.put(f"k{i}", i, 0)
    assert calls  # the cache overflowed: dirty entries went below and were forwarded
    assert store.wrapped.cache_size_bytes <= 400
    store.flush()
    assert sorted(c[1] for c in calls) == list(range(10))
    assert [v for _, v in store.all()] == list(range(10))


def test_window_store_retaining_duplicates_is_never_cached(window):
    store, _ = window(dup=True)
    assert not isinstance(store.wrapped, CachingWindowStore)
    assert store.set_flush_listener(lambda *a: None, True) is False


# -- sessions ----------------------------------------------------------------------------------
def test_session_merge_forwards_the_removed_session_and_the_new_one(sessions):
    store, ctx = sessions()
    assert isinstance(store.wrapped, CachingSessionStore)
    ctx.record_timestamp = 10
    store.put(s("a", 10, 10), 1)
    store.flush()
    calls = listen(store)
    ctx.logged.clear()
    ctx.record_timestamp = 15
    store.remove(s("a", 10, 10))  # the session grows: remove the old one, put the merged one
    store.put(s("a", 10, 15), 2)
    assert list(store.find_sessions("a", 0, 100)) == [(s("a", 10, 15), 2)]
    store.flush()
    assert calls == [(s("a", 10, 10), None, 1, 15), (s("a", 10, 15), 2, None, 15)]
    assert [v for _n, _k, v, _ts in ctx.logged] == [None, long(2)]
    assert list(store.fetch("a")) == [(s("a", 10, 15), 2)]


def test_session_updates_coalesce(sessions):
    store, ctx = sessions()
    calls = listen(store, send_old_values=False)
    for i in range(3):
        ctx.record_timestamp = i
        store.put(s("a", 0, 5), i)
    store.flush()
    assert calls == [(s("a", 0, 5), 2, None, 2)]
    assert len(ctx.logged) == 1


def test_session_reads_merge_cache_and_store(sessions):
    store, _ = sessions()
    store.put(s("a", 0, 10), 1)
    store.put(s("b", 0, 10), 2)
    store.put(s("c", 0, 20), 3)
    store.flush()
    store.remove(s("b", 0, 10))
    store.put(s("a", 5, 10), 4)
    store.put(s("c", 0, 20), 5)
    expected = [(s("a", 0, 10), 1), (s("a", 5, 10), 4), (s("c", 0, 20), 5)]
    assert list(store.fetch_range(None, None)) == expected
    assert list(store.backward_fetch_range(None, None)) == expected[::-1]
    assert list(store.find_sessions("a", 10, 4)) == [(s("a", 0, 10), 1)]
    assert store.fetch_session("b", 0, 10) is None
    assert store.fetch_session("c", 0, 20) == 5
    store.flush()
    assert list(store.fetch_range(None, None)) == expected


def test_session_cache_respects_retention(sessions):
    store, _ = sessions()  # retention 120s
    store.put(s("b", 0, 10), 1)
    store.flush()
    store.put(s("a", 0, 200_000), 2)  # b's session (end 10) has expired
    assert store.fetch_session("b", 0, 10) is None
    assert list(store.fetch_range(None, None)) == [(s("a", 0, 200_000), 2)]
    store.put(s("c", 0, 80_000), 3)  # expired: ignored and counted
    assert store.metrics["expired_records"] == 1
    store.flush()
    assert list(store.fetch_range(None, None)) == [(s("a", 0, 200_000), 2)]


def test_zero_budget_means_no_session_cache(sessions):
    store, ctx = sessions(max_bytes=0)
    assert store.set_flush_listener(lambda *a: None, True) is False
    store.put(s("a", 0, 1), 1)
    assert len(ctx.logged) == 1
    assert list(store.fetch("a")) == [(s("a", 0, 1), 1)]


# -- a random workload: cached reads equal uncached ones ---------------------------------------
def _pair(segmented_kind, open_store, make_context, tmp_path, build):
    stores = []
    for caching, budget in ((True, 2_000), (False, None)):
        builder = build(segmented_kind)
        if caching:
            builder.with_caching_enabled()
        configs = {} if budget is None else {"statestore.cache.max.bytes": budget}
        ctx = make_context(configs, state_dir=tmp_path / str(caching))
        stores.append(open_store(builder, context=ctx))
    return stores


def test_cached_window_reads_equal_uncached(segmented_kind, open_store, make_context, tmp_path):
    def build(kind):
        factory = (
            Stores.in_memory_window_store if kind == "memory" else (Stores.persistent_window_store)
        )
        return Stores.window_store_builder(factory("w", 150_000, 1_000), STR, LONG)

    (cached, cctx), (plain, pctx) = _pair(segmented_kind, open_store, make_context, tmp_path, build)
    rnd = random.Random(21)
    for i in range(2_000):
        key = rnd.choice("abcdef")
        start = max(0, i * 100 + rnd.randrange(-160_000, 5_000))
        value = None if rnd.random() < 0.2 else i
        cctx.record_timestamp = pctx.record_timestamp = i
        cached.put(key, value, start)
        plain.put(key, value, start)
        if rnd.random() < 0.02:
            cached.flush()
        if i % 50 == 0:
            tf = rnd.randrange(0, i * 100 + 1)
            tt = tf + rnd.randrange(0, 100_000)
            assert list(cached.all()) == list(plain.all())
            assert list(cached.fetch(key, tf, tt)) == list(plain.fetch(key, tf, tt))
            assert list(cached.backward_fetch_range("b", "d", tf, tt)) == list(
                plain.backward_fetch_range("b", "d", tf, tt)
            )
            assert cached.fetch(key, start) == plain.fetch(key, start)
    # an entry may also expire while cached: the store below then drops it at flush, counted
    assert cached.metrics["expired_records"] >= plain.metrics["expired_records"] > 0
    cached.flush()
    assert list(cached.all()) == list(plain.all())


def test_cached_session_reads_equal_uncached(segmented_kind, open_store, make_context, tmp_path):
    def build(kind):
        factory = (
            Stores.in_memory_session_store
            if kind == "memory"
            else (Stores.persistent_session_store)
        )
        return Stores.session_store_builder(factory("s", 100_000), STR, LONG)

    (cached, cctx), (plain, pctx) = _pair(segmented_kind, open_store, make_context, tmp_path, build)
    rnd = random.Random(22)
    for i in range(2_000):
        key = rnd.choice("abcdef")
        start = max(0, i * 100 + rnd.randrange(-120_000, 5_000))
        session = s(key, start, start + rnd.randrange(0, 10_000))
        value = None if rnd.random() < 0.2 else i
        cctx.record_timestamp = pctx.record_timestamp = i
        cached.put(session, value)
        plain.put(session, value)
        if rnd.random() < 0.02:
            cached.flush()
        if i % 50 == 0:
            ee = rnd.randrange(0, i * 100 + 1)
            ls = ee + rnd.randrange(-20_000, 20_000)
            assert list(cached.fetch_range(None, None)) == list(plain.fetch_range(None, None))
            assert list(cached.find_sessions(key, ee, ls)) == list(plain.find_sessions(key, ee, ls))
            assert list(cached.backward_find_sessions_range("b", "e", ee, ls)) == list(
                plain.backward_find_sessions_range("b", "e", ee, ls)
            )
            w = session.window
            assert cached.fetch_session(key, w.start, w.end) == plain.fetch_session(
                key, w.start, w.end
            )
    cached.flush()
    assert list(cached.fetch_range(None, None)) == list(plain.fetch_range(None, None))
