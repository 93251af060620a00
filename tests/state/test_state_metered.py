"""The metered (typed) layer and the timestamped variant, over full stacks."""

from __future__ import annotations

import pytest

from strom import serdes
from strom.core.errors import StoreError
from strom.state import ValueAndTimestamp
from strom.state.caching import CachingKeyValueStore
from strom.state.changelogging import (
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
)
from strom.state.metered import (
    KeyValueStoreFacade,
    MeteredKeyValueStore,
    MeteredTimestampedKeyValueStore,
    ValueAndTimestampSerde,
    innermost,
)

LONG = serdes.Long()


def ts_bytes(ts: int) -> bytes:
    return ts.to_bytes(8, "big", signed=True)


class RecordingString(serdes.String):
    def __init__(self) -> None:
        super().__init__()
        self.topics: set[str] = set()

    def serialize(self, topic, obj):
        self.topics.add(topic)
        return super().serialize(topic, obj)

    def deserialize(self, topic, data):
        self.topics.add(topic)
        return super().deserialize(topic, data)


@pytest.fixture
def stack(inner_kind, context, make_inner):
    """stack(caching=False, logging=True, timestamped=False) -> an initialised metered store."""
    opened = []

    def make(caching=False, logging=True, timestamped=False, key_serde=None):
        store = make_inner(inner_kind, "counts")
        if logging:
            cls = (
                ChangeLoggingTimestampedKeyValueBytesStore
                if timestamped
                else ChangeLoggingKeyValueBytesStore
            )
            store = cls(store)
        if caching:
            store = CachingKeyValueStore(store)
        metered_cls = MeteredTimestampedKeyValueStore if timestamped else MeteredKeyValueStore
        metered = metered_cls(store, key_serde or serdes.String(), LONG)
        metered.init(context, metered)
        opened.append(metered)
        return metered

    yield make
    for store in opened:
        store.close()


def test_typed_round_trip_and_changelog_bytes(stack, context):
    store = stack()
    context.record_timestamp = 3
    store.put("a", 1)
    assert store.get("a") == 1
    assert store.get("missing") is None
    assert context.logged == [("counts", b"a", LONG.serialize("", 1), 3)]
    assert store.put_if_absent("a", 5) == 1
    assert store.put_if_absent("b", 2) is None
    assert store.delete("a") == 1
    assert store.delete("a") is None
    store.put("b", None)
    assert store.get("b") is None
    assert context.logged[-1] == ("counts", b"b", None, 3)


def test_serde_topic_is_the_changelog_topic(stack):
    key_serde = RecordingString()
    store = stack(key_serde=key_serde)
    store.put("a", 1)
    store.get("a")
    list(store.all())
    assert key_serde.topics == {"app-counts-changelog"}


def test_none_key_rejected(stack):
    store = stack()
    for op in (
        lambda: store.get(None),
        lambda: store.put(None, 1),
        lambda: store.delete(None),
        lambda: store.put_all([(None, 1)]),
    ):
        with pytest.raises(StoreError, match="key cannot be None"):
            op()


def test_iteration_is_typed_and_in_serialized_key_order(stack):
    store = stack(caching=True)
    store.put_all([("b", 2), ("a", 1), ("ab", 12), ("é", 3), ("c", 4)])
    assert list(store.all()) == [("a", 1), ("ab", 12), ("b", 2), ("c", 4), ("é", 3)]
    assert next(store.reverse_all()) == ("é", 3)
    assert list(store.range("ab", "c")) == [("ab", 12), ("b", 2), ("c", 4)]
    assert list(store.range(None, "ab")) == [("a", 1), ("ab", 12)]
    assert list(store.reverse_range("a", "b")) == [("b", 2), ("ab", 12), ("a", 1)]
    assert list(store.prefix_scan("a")) == [("a", 1), ("ab", 12)]
    assert list(store.prefix_scan("a", serdes.String())) == [("a", 1), ("ab", 12)]
    assert store.approximate_num_entries() >= 0


def test_register_and_restore_bypass_cache_and_changelog(stack, context):
    store = stack(caching=True)
    [(root, restore)] = context.registered
    assert root is store
    restore([(b"a", LONG.serialize("", 1)), (b"b", LONG.serialize("", 2), 7)])
    restore([(b"b", None, 8)])
    assert context.logged == []
    assert store.get("a") == 1 and store.get("b") is None
    assert innermost(store).get(b"a") == LONG.serialize("", 1)


def test_metrics_count_operations(stack):
    store = stack()
    store.put("a", 1)
    store.put("b", 2)
    store.get("a")
    store.delete("a")
    list(store.range("a", "z"))
    list(store.all())
    store.flush()
    m = store.metrics
    assert (m["puts"], m["gets"], m["deletes"], m["ranges"], m["alls"], m["flushes"]) == (
        2,
        1,
        1,
        1,
        1,
        1,
    )


def test_flush_listener_needs_caching(stack):
    assert stack().set_flush_listener(lambda *a: None, True) is False


def test_flush_listener_delivers_objects(stack, context):
    store = stack(caching=True)
    calls = []
    assert store.set_flush_listener(lambda *a: calls.append(a), True) is True
    store.put("a", 1)
    store.flush()
    context.record_timestamp = 4
    store.put("a", 2)
    store.put("a", 3)
    store.delete("b")
    store.flush()
    assert calls == [("a", 1, None, 0), ("a", 3, 1, 4)]


class TestTimestamped:
    def test_layout_is_big_endian_timestamp_then_value(self, stack):
        store = stack(timestamped=True)
        store.put("k", ValueAndTimestamp(5, 1_700_000_000_000))
        raw = innermost(store).get(b"k")
        assert raw == ts_bytes(1_700_000_000_000) + LONG.serialize("", 5)
        assert store.get("k") == ValueAndTimestamp(5, 1_700_000_000_000)

    def test_negative_timestamp_and_tombstones(self, stack):
        store = stack(timestamped=True)
        store.put("k", ValueAndTimestamp(5, -1))
        assert innermost(store).get(b"k")[:8] == b"\xff" * 8
        assert store.get("k") == ValueAndTimestamp(5, -1)
        store.put("k", None)
        assert store.get("k") is None
        store.put("j", ValueAndTimestamp(None, 3))  # a None value is a tombstone too
        assert store.get("j") is None

    def test_rejects_plain_values(self, stack):
        store = stack(timestamped=True)
        with pytest.raises(TypeError, match="ValueAndTimestamp"):
            store.put("k", 5)

    def test_changelog_carries_plain_value_and_value_timestamp(self, stack, context):
        store = stack(timestamped=True)
        context.record_timestamp = 50
        store.put("k", ValueAndTimestamp(5, 10))
        store.delete("k")
        assert context.logged == [
            ("counts", b"k", LONG.serialize("", 5), 10),
            ("counts", b"k", None, 50),
        ]

    def test_restore_puts_timestamp_back(self, stack, context):
        store = stack(timestamped=True)
        [(_, restore)] = context.registered
        restore([(b"k", LONG.serialize("", 5), 10), (b"gone", None, 11)])
        assert store.get("k") == ValueAndTimestamp(5, 10)
        assert innermost(store).get(b"k") == ts_bytes(10) + LONG.serialize("", 5)
        with pytest.raises(StoreError, match="timestamp"):
            restore([(b"k", LONG.serialize("", 5))])

    def test_flush_listener_delivers_value_and_timestamp(self, stack, context):
        store = stack(timestamped=True, caching=True)
        calls = []
        store.set_flush_listener(lambda *a: calls.append(a), True)
        context.record_timestamp = 20
        store.put("k", ValueAndTimestamp(1, 20))
        store.flush()
        context.record_timestamp = 30
        store.put("k", ValueAndTimestamp(2, 30))
        store.flush()
        assert calls == [
            ("k", ValueAndTimestamp(1, 20), None, 20),
            ("k", ValueAndTimestamp(2, 30), ValueAndTimestamp(1, 20), 30),
        ]

    def test_iteration_yields_value_and_timestamp(self, stack):
        store = stack(timestamped=True)
        store.put_all([("b", ValueAndTimestamp(2, 2)), ("a", ValueAndTimestamp(1, 1))])
        assert list(store.all()) == [("a", (1, 1)), ("b", (2, 2))]

    def test_facade_hides_timestamps(self, stack):
        store = stack(timestamped=True)
        facade = KeyValueStoreFacade(store)
        store.put("a", ValueAndTimestamp(1, 100))
        facade.put("b", 2)
        assert facade.get("a") == 1
        assert store.get("b") == ValueAndTimestamp(2, -1)
        assert list(facade.all()) == [("a", 1), ("b", 2)]
        assert facade.delete("a") == 1
        assert facade.put_if_absent("b", 9) == 2


def test_value_and_timestamp_serde():
    serde = ValueAndTimestampSerde(serdes.String())
    data = serde.serialize("t", ValueAndTimestamp("x", 258))
    assert data == b"\x00\x00\x00\x00\x00\x00\x01\x02x"
    assert serde.deserialize("t", data) == ValueAndTimestamp("x", 258)
    assert serde.serialize("t", None) is None
    assert serde.deserialize("t", None) is None
    with pytest.raises(StoreError):
        serde.deserialize("t", b"\x00")
