"""Typed values in the record cache: a metered store over a cache keeps, beside each entry's
bytes, the immutable object they deserialize to. Reads then skip deserializing; what reaches
the changelog, the store below and the flush listener is byte for byte what a bytes-only
stack writes."""

from __future__ import annotations

import threading

import pytest

from strom import serdes
from strom.core.errors import SerializationError
from strom.state.api import ValueAndTimestamp
from strom.state.caching import NO_OBJ, CachingKeyValueStore
from strom.state.changelogging import (
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
)
from strom.state.metered import MeteredKeyValueStore, MeteredTimestampedKeyValueStore


class SameBytesLong(serdes.Long):
    """Long's bytes, but not Long itself: a serde the cache may not keep objects for."""


@pytest.fixture
def stack(make_context, make_inner, inner_kind, tmp_path):
    """stack(value_serde, timestamped=True, configs=None) -> (metered store, context)."""
    opened = []

    def make(value_serde, timestamped=True, configs=None):
        ctx = make_context(configs, state_dir=tmp_path / str(len(opened)))
        logging = (
            ChangeLoggingTimestampedKeyValueBytesStore
            if timestamped
            else ChangeLoggingKeyValueBytesStore
        )
        metered = MeteredTimestampedKeyValueStore if timestamped else MeteredKeyValueStore
        store = metered(
            CachingKeyValueStore(logging(make_inner(inner_kind, "counts"))),
            serdes.String(),
            value_serde,
        )
        store.init(ctx, store)
        opened.append(store)
        return store, ctx

    yield make
    for store in opened:
        store.close()


def entry(store, key):
    return store.wrapped._cache.get(store.key_serde.serialize("t", key))


def run_counts(store, ctx):
    """A word count's reads and writes (get, then put of the count + 1), with deletes and
    flushes between; returns what the flush listener saw."""
    seen = []
    store.set_flush_listener(lambda *args: seen.append(args), True)
    words = ["a", "b", "a", "c", "a", "b", "d", "a"]
    for i, word in enumerate(words):
        ctx.record_timestamp = 100 + i
        old = store.get(word)
        count = 1 if old is None else old.value + 1
        store.put(word, ValueAndTimestamp(count, ctx.record_timestamp))
        if i == 3:
            store.flush()
        if i == 5:
            store.delete("c")
    store.flush()
    return seen


def test_a_typed_cache_writes_what_a_bytes_cache_writes(stack):
    typed, typed_ctx = stack(serdes.Long())
    plain, plain_ctx = stack(SameBytesLong())
    assert typed._typed and not plain._typed
    assert run_counts(typed, typed_ctx) == run_counts(plain, plain_ctx)
    assert typed_ctx.logged == plain_ctx.logged  # changelog: same keys, bytes and timestamps
    assert typed_ctx.logged[-1] == ("counts", b"a", (4).to_bytes(8, "big"), 107)
    assert list(typed.all()) == list(plain.all())
    assert typed.wrapped.cache_size_bytes == plain.wrapped.cache_size_bytes


def test_a_read_after_a_write_returns_the_written_object(stack):
    store, _ctx = stack(serdes.Long())
    value = ValueAndTimestamp(41, 7)
    store.put("k", value)
    assert store.get("k") is value  # not deserialized again
    e = entry(store, "k")
    assert e.obj is value and e.value == (7).to_bytes(8, "big") + (41).to_bytes(8, "big")


def test_a_read_from_the_store_below_keeps_its_object(stack):
    store, _ctx = stack(serdes.String(), timestamped=False)
    store.put("k", "v")
    store.flush()
    store.wrapped._clear_cache()  # the next read goes below
    first = store.get("k")
    assert first == "v" and store.get("k") is first
    assert entry(store, "k").obj is first


@pytest.mark.parametrize(
    ("serde", "value", "read_back"),
    [
        (serdes.Double(), 3, 3.0),  # an int becomes a float: not the same object
        (serdes.Json(), [1, 2], [1, 2]),  # mutable: a reader could change the cached value
        (serdes.Json(), (1, 2), [1, 2]),
    ],
)
def test_values_that_do_not_round_trip_exactly_are_deserialized(stack, serde, value, read_back):
    store, _ctx = stack(serde)
    store.put("k", ValueAndTimestamp(value, 1))
    assert entry(store, "k").obj is NO_OBJ  # the object written is not what a read gives
    got = store.get("k")
    assert got == ValueAndTimestamp(read_back, 1) and type(got.value) is type(read_back)
    if isinstance(got.value, list):
        assert entry(store, "k").obj is NO_OBJ
        got.value.append(99)  # changing what a read returned changes nothing stored
        assert store.get("k").value == read_back


def test_out_of_range_values_raise_the_serdes_error(stack):
    store, _ctx = stack(serdes.Integer())
    with pytest.raises(SerializationError, match="does not fit in a 32-bit int"):
        store.put("k", ValueAndTimestamp(2**40, 1))
    assert store.get("k") is None


def test_reads_on_other_threads_leave_entries_alone(stack):
    store, _ctx = stack(serdes.Long())
    store.wrapped.put(b"k", (1).to_bytes(8, "big") + (5).to_bytes(8, "big"))  # bytes only
    got = []
    reader = threading.Thread(target=lambda: got.append(store.get("k")))
    reader.start()
    reader.join()
    assert got == [ValueAndTimestamp(5, 1)]
    assert entry(store, "k").obj is NO_OBJ
    assert store.get("k") == ValueAndTimestamp(5, 1)  # the owner's read keeps it
    assert entry(store, "k").obj == ValueAndTimestamp(5, 1)


def test_bytes_writes_below_the_metered_layer_drop_the_object(stack):
    store, _ctx = stack(serdes.Long())
    store.put("k", ValueAndTimestamp(1, 1))
    store.wrapped.put(b"k", (2).to_bytes(8, "big") + (9).to_bytes(8, "big"))
    assert store.get("k") == ValueAndTimestamp(9, 2)
    store.delete("k")
    assert store.get("k") is None


def test_no_cache_no_typed_values(stack):
    store, _ctx = stack(serdes.Long(), configs={"statestore.cache.max.bytes": 0})
    assert not store._typed
    store.put("k", ValueAndTimestamp(3, 1))
    assert store.get("k") == ValueAndTimestamp(3, 1)
