"""Window stores, in memory and on RocksDB, through their typed face: every operation, the
boundaries, ordering, retention, duplicates, changelog records, restoration and reopening."""

from __future__ import annotations

import random
import struct

import pytest

from strom import serdes
from strom.core.errors import StoreError
from strom.state import Stores, ValueAndTimestamp
from strom.state.metered import innermost
from strom.windows import MAX_TIMESTAMP, Window, Windowed

STR, LONG = serdes.String(), serdes.Long()
_WK = struct.Struct(">qi")


def wkey(key: bytes | str, start: int, seq: int = 0) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    return raw + _WK.pack(start, seq)


def long(v: int) -> bytes:
    return v.to_bytes(8, "big", signed=True)


def supplier(kind, name="w", retention=120_000, size=60_000, dup=False, timestamped=False):
    if kind == "memory":
        return Stores.in_memory_window_store(name, retention, size, dup)
    if timestamped:
        return Stores.persistent_timestamped_window_store(name, retention, size, dup)
    return Stores.persistent_window_store(name, retention, size, dup)


@pytest.fixture
def window(segmented_kind, open_store):
    """window(**supplier options, timestamped=, key_serde=, value_serde=, context=)."""

    def make(timestamped=False, key_serde=STR, value_serde=LONG, context=None, **options):
        sup = supplier(segmented_kind, timestamped=timestamped, **options)
        build = (
            Stores.timestamped_window_store_builder
            if timestamped
            else (Stores.window_store_builder)
        )
        return open_store(build(sup, key_serde, value_serde), context=context)

    return make


def test_put_and_fetch_one_window(window):
    store, _ = window()
    store.put("a", 1, 0)
    store.put("a", 2, 60_000)
    assert store.fetch("a", 0) == 1
    assert store.fetch("a", 60_000) == 2
    assert store.fetch("a", 1) is None
    assert store.fetch("b", 0) is None
    assert store.is_window_store is True
    assert (store.window_size, store.retention_period) == (60_000, 120_000)


def test_fetch_time_range_is_inclusive_oldest_first(window):
    store, _ = window(retention=1_000, size=10)
    for start in (0, 10, 20, 30):
        store.put("k", start, start)
    assert list(store.fetch("k", 10, 20)) == [(10, 10), (20, 20)]
    assert list(store.backward_fetch("k", 10, 20)) == [(20, 20), (10, 10)]
    assert list(store.fetch("k", 11, 19)) == []
    assert list(store.fetch("k", 20, 10)) == []
    assert list(store.fetch("k", 0, MAX_TIMESTAMP)) == [(0, 0), (10, 10), (20, 20), (30, 30)]
    assert list(store.fetch("other", 0, 100)) == []


def test_none_value_deletes_the_window(window):
    store, _ = window()
    store.put("a", 1, 0)
    store.put("a", None, 0)
    assert store.fetch("a", 0) is None
    assert list(store.all()) == []
    store.put("never", None, 0)  # deleting nothing is fine


def test_windowed_results_carry_start_and_start_plus_size(window):
    store, _ = window()
    store.put("a", 1, 60_000)
    assert list(store.all()) == [(Windowed("a", Window(60_000, 120_000)), 1)]


def test_multi_key_order_is_segment_then_key_then_start(window):
    # retention 240s -> segments of 120s: windows at 0 and 60s share segment 0, 130s is in 1
    store, _ = window(retention=240_000, size=10_000)
    for key in ("b", "a", "c"):
        for start in (130_000, 60_000, 0):
            store.put(key, ord(key) * 1_000_000 + start, start)

    def w(key, start):
        return (Windowed(key, Window(start, start + 10_000)), ord(key) * 1_000_000 + start)

    expected = [
        w("a", 0), w("a", 60_000), w("b", 0), w("b", 60_000), w("c", 0), w("c", 60_000),
        w("a", 130_000), w("b", 130_000), w("c", 130_000),
    ]  # fmt: skip
    assert list(store.all()) == expected
    assert list(store.backward_all()) == expected[::-1]
    assert list(store.fetch_all(0, 60_000)) == expected[:6]
    assert list(store.fetch_all(60_000, 130_000)) == [expected[i] for i in (1, 3, 5, 6, 7, 8)]
    assert list(store.backward_fetch_all(60_000, 60_000)) == [expected[i] for i in (5, 3, 1)]
    assert list(store.fetch_range("a", "b", 0, MAX_TIMESTAMP)) == [
        expected[i] for i in (0, 1, 2, 3, 6, 7)
    ]
    assert list(store.backward_fetch_range("b", "c", 0, 0)) == [expected[4], expected[2]]
    assert list(store.fetch_range(None, "a", 0, MAX_TIMESTAMP)) == [expected[i] for i in (0, 1, 6)]
    assert list(store.fetch_range("c", None, 130_000, 130_000)) == [expected[8]]
    assert list(store.fetch_range("c", "a", 0, MAX_TIMESTAMP)) == []  # inverted key range


def test_retention_hides_expired_windows_and_ignores_their_puts(window):
    store, _ = window(retention=120_000, size=60_000)  # segments of 60s
    store.put("k", 1, 0)
    store.put("k", 2, 60_000)
    store.put("k", 3, 180_000)  # observed 180s: starts <= 60s have expired
    assert store.observed_stream_time == 180_000
    assert list(store.fetch("k", 0, MAX_TIMESTAMP)) == [(180_000, 3)]
    assert store.fetch("k", 60_000) is None
    assert list(store.all()) == [(Windowed("k", Window(180_000, 240_000)), 3)]
    assert store.metrics["expired_records"] == 0
    store.put("k", 9, 60_000)  # start == observed - retention: expired, ignored, counted
    assert store.metrics["expired_records"] == 1
    store.put("k", 4, 60_001)  # one past it: live
    assert list(store.fetch("k", 0, MAX_TIMESTAMP)) == [(60_001, 4), (180_000, 3)]
    assert store.metrics["expired_records"] == 1


def test_expired_segments_are_dropped_whole(window):
    store, _ = window(retention=120_000, size=60_000)  # segments of 60s
    inner = innermost(store.wrapped)
    for start in (0, 60_000, 120_000, 170_000):
        store.put("k", start, start)
    assert inner.segment_ids == [0, 1, 2]
    store.put("k", 1, 239_999)  # horizon 119_999: segment 0 (0..59_999) and 1 are gone
    assert inner.segment_ids == [2, 3]
    assert [s for s, _ in store.fetch("k", 0, MAX_TIMESTAMP)] == [120_000, 170_000, 239_999]


def test_changelog_records_have_kafka_keys_values_and_record_timestamps(window):
    store, ctx = window()
    ctx.record_timestamp = 7
    store.put("a", 1, 60_000)
    ctx.record_timestamp = 8
    store.put("a", None, 60_000)
    store.put("a", 2, 0)  # expired? no: observed 60s, retention 120s
    assert ctx.logged == [
        ("w", wkey("a", 60_000), long(1), 7),
        ("w", wkey("a", 60_000), None, 8),
        ("w", wkey("a", 0), long(2), 8),
    ]
    store.put("a", 3, 300_000)
    ctx.logged.clear()
    store.put("a", 4, 0)  # expired: ignored and not logged
    assert ctx.logged == []


def test_retain_duplicates_keeps_every_put_with_sequence_numbers(window):
    store, ctx = window(dup=True)
    for v in (1, 2, 3):
        store.put("a", v, 0)
    store.put("a", 4, 60_000)
    store.put("a", None, 0)  # a no-op when duplicates are kept
    assert list(store.fetch("a", 0, 60_000)) == [(0, 1), (0, 2), (0, 3), (60_000, 4)]
    assert list(store.backward_fetch("a", 0, 0)) == [(0, 3), (0, 2), (0, 1)]
    assert [v for _, v in store.all()] == [1, 2, 3, 4]
    assert store.fetch("a", 0) == 1
    assert [k for _, k, _, _ in ctx.logged] == [
        wkey("a", 0, 1), wkey("a", 0, 2), wkey("a", 0, 3), wkey("a", 60_000, 4)
    ]  # fmt: skip


def test_timestamped_store_logs_plain_values_with_their_timestamps(window):
    store, ctx = window(timestamped=True)
    ctx.record_timestamp = 99
    store.put("a", ValueAndTimestamp(5, 42), 0)
    assert store.fetch("a", 0) == ValueAndTimestamp(5, 42)
    assert list(store.fetch("a", 0, 0)) == [(0, ValueAndTimestamp(5, 42))]
    store.put("a", None, 0)
    assert ctx.logged == [("w", wkey("a", 0), long(5), 42), ("w", wkey("a", 0), None, 99)]


def _restore_into(fresh_ctx, logged):
    (_store, restore) = fresh_ctx.registered[0]
    restore([(k, v, ts) for _name, k, v, ts in logged])


@pytest.mark.parametrize("dup", [False, True])
@pytest.mark.parametrize("timestamped", [False, True])
def test_restoring_the_changelog_rebuilds_the_store(window, make_context, dup, timestamped):
    store, ctx = window(dup=dup, timestamped=timestamped, retention=100_000, size=10_000)
    rnd = random.Random(7)
    for i in range(400):
        ctx.record_timestamp = i
        start = rnd.randrange(0, 300) * 1_000 + i * 500
        value = None if rnd.random() < 0.1 else rnd.randrange(100)
        if timestamped and value is not None:
            value = ValueAndTimestamp(value, i)
        store.put(rnd.choice("abcde"), value, start)
    fresh_ctx = make_context(state_dir=ctx.state_dir / "fresh")
    fresh, _ = window(dup=dup, timestamped=timestamped, retention=100_000, size=10_000,
                      context=fresh_ctx)  # fmt: skip
    _restore_into(fresh_ctx, ctx.logged)
    assert list(fresh.all()) == list(store.all())
    assert list(fresh.backward_fetch_all(0, MAX_TIMESTAMP)) == list(
        store.backward_fetch_all(0, MAX_TIMESTAMP)
    )
    assert fresh.observed_stream_time == store.observed_stream_time
    if dup:  # new puts continue after the restored sequence numbers
        fresh.put("a", ValueAndTimestamp(1, 1) if timestamped else 1, fresh.observed_stream_time)
        last_seq = max(int.from_bytes(k[-4:], "big") for _, k, _, _ in ctx.logged)
        assert int.from_bytes(fresh_ctx.logged[-1][1][-4:], "big") == last_seq + 1
        n = len(list(fresh.fetch("a", 0, MAX_TIMESTAMP)))
        assert n == len(list(store.fetch("a", 0, MAX_TIMESTAMP))) + 1


def test_restore_skips_records_expired_in_their_batch(window, make_context):
    store, ctx = window(retention=120_000, size=60_000)
    _restore_into(ctx, [("w", wkey("a", 0), long(1), 0), ("w", wkey("a", 300_000), long(2), 0)])
    assert list(store.fetch("a", 0, MAX_TIMESTAMP)) == [(300_000, 2)]
    assert innermost(store.wrapped).segment_ids == [5]


def test_none_key_and_negative_start_are_refused(window):
    store, _ = window()
    with pytest.raises(StoreError, match="key cannot be None"):
        store.put(None, 1, 0)
    with pytest.raises(StoreError, match="key cannot be None"):
        store.fetch(None, 0, 1)
    with pytest.raises(StoreError, match="negative"):
        store.put("a", 1, -1)


def test_reads_of_a_closed_store_fail(window):
    store, _ = window()
    store.close()
    with pytest.raises(StoreError, match="not open"):
        list(store.fetch("a", 0, 10))


def test_metrics_count_operations(window):
    store, _ = window()
    store.put("a", 1, 0)
    store.fetch("a", 0)
    list(store.all())
    store.flush()
    assert store.metrics == {
        "puts": 1, "fetches": 2, "removes": 0, "flushes": 1, "expired_records": 0
    }  # fmt: skip


# -- a random workload against a model of Kafka's order ----------------------------------------
KEYS = [b"", b"a", b"a\x00", b"a\x00\x00\x00\x00\x00\x00\x00\x00\x00", b"a\xff", b"b", b"\xff"]


def _model_order(entries, interval):
    return sorted(entries, key=lambda e: (e[1] // interval, e[0] + _WK.pack(e[1], 0)))


def test_random_workload_matches_a_model_in_both_kinds(window):
    retention, size = 200_000, 1_000
    bytes_serde = serdes.Bytes()
    store, _ = window(retention=retention, size=size, key_serde=bytes_serde)
    interval = 100_000
    model: dict[tuple[bytes, int], int] = {}
    observed = -1
    seen = 0
    rnd = random.Random(11)
    for i in range(1_500):
        key = rnd.choice(KEYS)
        start = max(0, i * 300 + rnd.randrange(-150_000, 20_000))
        value = None if rnd.random() < 0.15 else i
        store.put(key, value, start)
        observed = max(observed, start)
        if start > observed - retention:
            if value is None:
                model.pop((key, start), None)
            else:
                model[(key, start)] = value
        if i % 100 == 99:
            live = {k: v for k, v in model.items() if k[1] > observed - retention}
            for _ in range(10):
                lo, hi = sorted(rnd.sample([*KEYS, None, None], 2), key=lambda k: (k is None, k))
                if rnd.random() < 0.5:
                    lo, hi = None, hi
                tf = rnd.randrange(0, observed + 1)
                tt = tf + rnd.randrange(0, 200_000)
                want = _model_order(
                    [
                        (k, s)
                        for (k, s) in live
                        if (lo is None or k >= lo) and (hi is None or k <= hi) and tf <= s <= tt
                    ],
                    interval,
                )
                want_items = [(Windowed(k, Window(s, s + size)), live[(k, s)]) for k, s in want]
                assert list(store.fetch_range(lo, hi, tf, tt)) == want_items
                seen += len(want_items)
                assert list(store.backward_fetch_range(lo, hi, tf, tt)) == want_items[::-1]
                one = rnd.choice(KEYS)
                want_one = sorted(
                    (s, v) for (k, s), v in live.items() if k == one and tf <= s <= tt
                )
                assert list(store.fetch(one, tf, tt)) == want_one
            all_items = [(Windowed(k, Window(s, s + size)), live[(k, s)])
                         for k, s in _model_order(list(live), interval)]  # fmt: skip
            assert list(store.all()) == all_items
    assert seen > 1_000  # the queries did find windows


def test_rocksdb_window_store_survives_reopen(open_store, make_context, tmp_path):
    builder = Stores.window_store_builder(
        Stores.persistent_window_store("w", 120_000, 60_000), STR, LONG
    )
    store, _ = open_store(builder)
    store.put("a", 1, 0)
    store.put("b", 2, 60_000)
    store.put("a", 3, 180_000)  # expires start 0 and 60s
    store.put("c", 4, 100_000)
    store.close()
    again, _ = open_store(builder, context=make_context())
    assert again.persistent is True
    assert again.observed_stream_time == 180_000
    assert list(again.all()) == [
        (Windowed("c", Window(100_000, 160_000)), 4),
        (Windowed("a", Window(180_000, 240_000)), 3),
    ]
    again.put("z", 5, 60_000)  # still expired after the reopen
    assert again.metrics["expired_records"] == 1
    assert (tmp_path / "rocksdb" / "w").is_dir()


def test_in_memory_window_store_starts_empty_after_reopen(open_store, make_context):
    builder = Stores.window_store_builder(Stores.in_memory_window_store("w", 120_000, 60_000),
                                          STR, LONG)  # fmt: skip
    store, ctx = open_store(builder)
    store.put("a", 1, 0)
    store.close()
    store.init(ctx, store)
    assert store.persistent is False
    assert list(store.all()) == []
