"""Session stores, in memory and on RocksDB, through their typed face: every operation, the
find_sessions bounds, ordering, retention by end time, changelog records, restoration and
reopening."""

from __future__ import annotations

import random
import struct

import pytest

from strom import serdes
from strom.core.errors import StoreError
from strom.state import Stores
from strom.state.metered import innermost
from strom.windows import Window, Windowed

STR, LONG = serdes.String(), serdes.Long()
_SK = struct.Struct(">qq")


def skey(key: bytes | str, start: int, end: int) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    return raw + _SK.pack(end, start)


def long(v: int) -> bytes:
    return v.to_bytes(8, "big", signed=True)


def s(key, start, end):
    return Windowed(key, Window(start, end))


@pytest.fixture
def sessions(segmented_kind, open_store):
    """sessions(retention=, key_serde=, context=) -> (store, context)."""

    def make(retention=120_000, key_serde=STR, context=None):
        sup = (
            Stores.in_memory_session_store("s", retention)
            if segmented_kind == "memory"
            else Stores.persistent_session_store("s", retention)
        )
        return open_store(Stores.session_store_builder(sup, key_serde, LONG), context=context)

    return make


def test_put_fetch_session_and_remove(sessions):
    store, _ = sessions()
    store.put(s("a", 10, 20), 1)
    assert store.fetch_session("a", 10, 20) == 1
    assert store.fetch_session("a", 10, 21) is None
    assert store.fetch_session("b", 10, 20) is None
    store.remove(s("a", 10, 20))
    assert store.fetch_session("a", 10, 20) is None
    store.put(s("a", 0, 0), 2)
    store.put(s("a", 0, 0), None)  # None deletes too
    assert list(store.fetch("a")) == []
    assert store.is_session_store is True
    assert store.retention_period == 120_000


def test_find_sessions_takes_end_at_or_after_earliest_and_start_at_or_before_latest(sessions):
    store, _ = sessions()
    store.put(s("a", 0, 10), 1)
    store.put(s("a", 20, 30), 2)
    store.put(s("a", 40, 40), 3)
    store.put(s("b", 5, 25), 9)
    assert list(store.find_sessions("a", 10, 20)) == [(s("a", 0, 10), 1), (s("a", 20, 30), 2)]
    assert list(store.find_sessions("a", 11, 19)) == []
    assert list(store.find_sessions("a", 30, 40)) == [(s("a", 20, 30), 2), (s("a", 40, 40), 3)]
    assert list(store.find_sessions("a", 41, 100)) == []
    assert list(store.find_sessions("a", 0, 0)) == [(s("a", 0, 10), 1)]
    # a session spanning the whole query (latest start before earliest end) is found too
    assert list(store.find_sessions("b", 15, 14)) == [(s("b", 5, 25), 9)]
    assert list(store.backward_find_sessions("a", 0, 100)) == [
        (s("a", 40, 40), 3), (s("a", 20, 30), 2), (s("a", 0, 10), 1)
    ]  # fmt: skip


def test_fetch_and_ranges_order_by_segment_key_end_start(sessions):
    store, _ = sessions(retention=240_000)  # segments of 120s by end time
    store.put(s("b", 0, 10), 1)
    store.put(s("a", 5, 10), 2)
    store.put(s("a", 0, 10), 3)
    store.put(s("a", 0, 130_000), 4)  # ends in segment 1
    store.put(s("c", 100, 200), 5)
    expected = [
        (s("a", 0, 10), 3), (s("a", 5, 10), 2), (s("b", 0, 10), 1), (s("c", 100, 200), 5),
        (s("a", 0, 130_000), 4),
    ]  # fmt: skip
    assert list(store.fetch_range(None, None)) == expected
    assert list(store.backward_fetch_range(None, None)) == expected[::-1]
    assert list(store.fetch("a")) == [expected[0], expected[1], expected[4]]
    assert list(store.backward_fetch("a")) == [expected[4], expected[1], expected[0]]
    assert list(store.fetch_range("a", "b")) == [expected[i] for i in (0, 1, 2, 4)]
    assert list(store.fetch_range("b", None)) == [expected[2], expected[3]]
    assert list(store.find_sessions_range("a", "c", 11, 150)) == [expected[3], expected[4]]
    assert list(store.backward_find_sessions_range(None, "b", 0, 0)) == [
        expected[4], expected[2], expected[0]
    ]  # fmt: skip
    assert list(store.find_sessions_ending(10, 200)) == expected[:4]
    assert list(store.fetch_range("c", "a")) == []


def test_retention_by_session_end(sessions):
    store, ctx = sessions(retention=120_000)  # segments of 60s
    store.put(s("a", 0, 50_000), 1)
    store.put(s("a", 60_000, 70_000), 2)
    store.put(s("b", 100_000, 190_000), 3)  # observed 190s: ends <= 70s have expired
    assert store.observed_stream_time == 190_000
    assert list(store.fetch("a")) == []
    assert store.fetch_session("a", 60_000, 70_000) is None
    assert store.metrics["expired_records"] == 0
    ctx.logged.clear()
    store.put(s("a", 0, 70_000), 9)  # end == observed - retention: ignored, counted, unlogged
    assert store.metrics["expired_records"] == 1
    assert ctx.logged == []
    store.put(s("a", 0, 70_001), 4)
    assert list(store.fetch("a")) == [(s("a", 0, 70_001), 4)]
    assert innermost(store.wrapped).segment_ids == [1, 3]


def test_changelog_records_have_kafka_session_keys(sessions):
    store, ctx = sessions()
    ctx.record_timestamp = 5
    store.put(s("a", 1, 2), 7)
    ctx.record_timestamp = 6
    store.remove(s("a", 1, 2))
    assert ctx.logged == [("s", skey("a", 1, 2), long(7), 5), ("s", skey("a", 1, 2), None, 6)]
    assert skey("a", 1, 2).hex() == "6100000000000000020000000000000001"


def test_restoring_the_changelog_rebuilds_the_store(sessions, make_context):
    store, ctx = sessions(retention=50_000)
    rnd = random.Random(3)
    for i in range(400):
        ctx.record_timestamp = i
        start = i * 300 + rnd.randrange(0, 20_000)
        session = s(rnd.choice("abcd"), start, start + rnd.randrange(0, 5_000))
        if rnd.random() < 0.2:
            store.remove(session)
        else:
            store.put(session, i)
    fresh_ctx = make_context(state_dir=ctx.state_dir / "fresh")
    fresh, _ = sessions(retention=50_000, context=fresh_ctx)
    (_root, restore) = fresh_ctx.registered[0]
    restore([(k, v, ts) for _n, k, v, ts in ctx.logged])
    assert list(fresh.fetch_range(None, None)) == list(store.fetch_range(None, None))
    assert fresh.observed_stream_time == store.observed_stream_time


def test_none_key_and_bad_keys_are_refused(sessions):
    store, _ = sessions()
    with pytest.raises(StoreError, match="key cannot be None"):
        store.put(s(None, 0, 1), 1)
    with pytest.raises(StoreError, match="key cannot be None"):
        list(store.find_sessions(None, 0, 1))
    with pytest.raises(TypeError, match="Windowed"):
        store.put("a", 1)


KEYS = [b"", b"a", b"a\x00", b"a" + bytes(16), b"a\xff", b"b"]


def test_random_workload_matches_a_model_in_both_kinds(sessions):
    retention, interval = 100_000, 60_000
    store, _ = sessions(retention=retention, key_serde=serdes.Bytes())
    model: dict[tuple[bytes, int, int], int] = {}
    observed = -1
    seen = 0
    rnd = random.Random(5)
    for i in range(1_200):
        key = rnd.choice(KEYS)
        start = max(0, i * 200 + rnd.randrange(-90_000, 5_000))
        end = start + rnd.randrange(0, 30_000)
        value = None if rnd.random() < 0.15 else i
        store.put(Windowed(key, Window(start, end)), value)
        observed = max(observed, end)
        if end > observed - retention:
            if value is None:
                model.pop((key, start, end), None)
            else:
                model[(key, start, end)] = value
        if i % 100 == 99:
            live = {k: v for k, v in model.items() if k[2] > observed - retention}

            def order(e):
                return (e[2] // interval, e[0] + _SK.pack(e[2], e[1]))

            for _ in range(10):
                lo, hi = sorted(rnd.sample(KEYS, 2))
                earliest_end = rnd.randrange(0, observed + 1)
                latest_start = earliest_end + rnd.randrange(-30_000, 30_000)
                want = [
                    (Windowed(k, Window(st, en)), live[(k, st, en)])
                    for k, st, en in sorted(live, key=order)
                    if lo <= k <= hi and en >= earliest_end and st <= latest_start
                ]
                got = list(store.find_sessions_range(lo, hi, earliest_end, latest_start))
                assert got == want
                back = store.backward_find_sessions_range(lo, hi, earliest_end, latest_start)
                assert list(back) == want[::-1]
                seen += len(want)
                one = rnd.choice(KEYS)
                want_one = [
                    (Windowed(k, Window(st, en)), live[(k, st, en)])
                    for k, st, en in sorted(live, key=order)
                    if k == one and en >= earliest_end and st <= latest_start
                ]
                assert list(store.find_sessions(one, earliest_end, latest_start)) == want_one
    assert seen > 500


def test_rocksdb_session_store_survives_reopen(open_store, make_context):
    builder = Stores.session_store_builder(Stores.persistent_session_store("s", 60_000), STR, LONG)
    store, _ = open_store(builder)
    store.put(s("a", 0, 10), 1)
    store.put(s("b", 100_000, 100_000), 2)  # expires the first
    store.put(s("c", 50_000, 60_000), 3)
    store.close()
    again, _ = open_store(builder, context=make_context())
    # both end in segment 1 (60s..120s): key order
    assert list(again.fetch_range(None, None)) == [(s("b", 100_000, 100_000), 2),
                                                   (s("c", 50_000, 60_000), 3)]  # fmt: skip
    again.put(s("z", 0, 40_000), 4)  # still expired after the reopen
    assert again.metrics["expired_records"] == 1
