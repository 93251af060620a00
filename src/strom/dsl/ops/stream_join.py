"""KStream-KStream joins within JoinWindows (Kafka's KStreamKStreamJoin, 3.1+ semantics).

Each side puts its records into its own window store and probes the other side's. Left and
outer joins hold unmatched records in a shared store and emit them with None for the other
side only once their window has closed (KIP-633), so no spurious results come out.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from strom.core.errors import SerializationError
from strom.dsl.ops.aggregate import skip
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.serdes.base import Serde

_TS = struct.Struct(">q")
_LEN = struct.Struct(">I")
LEFT, RIGHT = 1, 0  # as Kafka's store key: right-side entries sort first at equal times


class JoinTime:
    """The stream time both sides of one join share, per task, and the oldest time in the
    store of unmatched records (-1: unknown, e.g. after a restart)."""

    __slots__ = ("min_time", "stream_time")

    def __init__(self) -> None:
        self.stream_time = -1
        self.min_time: float = -1


class OuterKey:
    """Key of the shared store of unmatched records: ordered by time, then side, then key."""

    __slots__ = ("key", "side", "timestamp")

    def __init__(self, timestamp: int, side: int, key: Any) -> None:
        self.timestamp, self.side, self.key = timestamp, side, key


class OuterKeySerde(Serde[OuterKey]):
    """``timestamp (8 bytes, big-endian) | side (1 byte) | key bytes``: sorts by time."""

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner = inner

    def with_default(self, default: Serde[Any]) -> OuterKeySerde:
        return self if self.inner is not None else OuterKeySerde(default)

    def serialize(self, topic: str, obj: OuterKey | None) -> bytes | None:
        if obj is None:
            return None
        return (
            _TS.pack(obj.timestamp)
            + bytes((obj.side,))
            + (self.inner.serialize(topic, obj.key) or b"")
        )  # type: ignore[union-attr]

    def deserialize(self, topic: str, data: bytes | None) -> OuterKey | None:
        if data is None:
            return None
        if len(data) < 9:
            raise SerializationError(f"outer join store key too short: {data!r}")
        return OuterKey(_TS.unpack_from(data)[0], data[8], self.inner.deserialize(topic, data[9:]))  # type: ignore[union-attr]


class SideValueSerde(Serde[Any]):
    """``(side, [values])``: a side byte, then length-prefixed values in that side's serde
    (records with the same key and time on one side are kept in arrival order)."""

    def __init__(self, left: Serde[Any] | None, right: Serde[Any] | None) -> None:
        self.left, self.right = left, right

    def with_default(self, default: Serde[Any]) -> SideValueSerde:
        return SideValueSerde(self.left or default, self.right or default)

    def serialize(self, topic: str, obj: Any) -> bytes | None:
        if obj is None:
            return None
        side, values = obj
        serde = self.left if side == LEFT else self.right
        out = [bytes((side,))]
        for v in values:
            data = serde.serialize(topic, v) or b""  # type: ignore[union-attr]
            out.append(_LEN.pack(len(data)))
            out.append(data)
        return b"".join(out)

    def deserialize(self, topic: str, data: bytes | None) -> Any:
        if data is None:
            return None
        side = data[0]
        serde = self.left if side == LEFT else self.right
        values, i = [], 1
        while i < len(data):
            (n,) = _LEN.unpack_from(data, i)
            values.append(serde.deserialize(topic, data[i + 4 : i + 4 + n]))  # type: ignore[union-attr]
            i += 4 + n
        return side, values


class JoinWindowSupplier:
    """Puts each record into its side's window store, after passing it on (as Kafka)."""

    def __init__(self, store_name: str) -> None:
        self.store_name = store_name

    def __call__(self) -> JoinWindowProcessor:
        return JoinWindowProcessor(self.store_name)


class JoinWindowProcessor(Processor[Any, Any]):
    def __init__(self, store_name: str) -> None:
        self.store_name = store_name

    def init(self, context: ProcessorContext) -> None:
        self.forward = context.forward
        self.store = context.get_state_store(self.store_name)

    def process(self, record: Record[Any, Any]) -> None:
        self.forward(record)
        if record.key is not None and record.value is not None:
            self.store.put(record.key, record.value, record.timestamp)


class StreamJoinSupplier:
    def __init__(
        self,
        join_name: str,
        side: int,
        other_store: str,
        outer_store: str | None,
        joiner: Callable[[Any, Any], Any],
        before_ms: int,
        after_ms: int,
        grace_ms: int,
        emit_unmatched: bool,
        left_join: bool,
    ) -> None:
        self.join_name = join_name
        self.side = side
        self.other_store = other_store
        self.outer_store = outer_store
        self.joiner = joiner
        self.before = before_ms  # of the JoinWindows, as the left side sees them
        self.after = after_ms
        self.grace = grace_ms
        self.emit_unmatched = emit_unmatched  # this side's records come out unmatched
        self.left_join = left_join

    def __call__(self) -> StreamJoinProcessor:
        return StreamJoinProcessor(self)


class StreamJoinProcessor(Processor[Any, Any]):
    def __init__(self, s: StreamJoinSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext) -> None:
        s = self.s
        self.context = context
        self.forward = context.forward
        self.other = context.get_state_store(s.other_store)
        self.outer = context.get_state_store(s.outer_store) if s.outer_store else None
        shared = context.shared_state  # type: ignore[attr-defined]
        self.time = shared.setdefault(f"join-time:{s.join_name}", JoinTime())
        # the window of this side's records, in their own time
        self.before, self.after = (s.before, s.after) if s.side == LEFT else (s.after, s.before)

    def _join(self, mine: Any, other: Any) -> Any:
        return self.s.joiner(mine, other) if self.s.side == LEFT else self.s.joiner(other, mine)

    def process(self, record: Record[Any, Any]) -> None:
        key, value, ts = record.key, record.value, record.timestamp
        time = self.time
        if ts > time.stream_time:  # null records advance it too, as in Kafka
            time.stream_time = ts
        if value is None or key is None:
            if key is None and value is not None and self.s.emit_unmatched:
                # KIP-962: a left (or outer) join passes a null-key record on unmatched
                self.forward(record.with_value(self._join(value, None)))
                return
            skip(self.context, "null key or value", record)
            return
        if self.outer is not None and ts == time.stream_time:
            self._emit_closed(record)
        time_from, time_to = max(0, ts - self.before), max(0, ts + self.after)
        matched = False
        other_side = RIGHT if self.s.side == LEFT else LEFT
        for other_ts, other_value in self.other.fetch(key, time_from, time_to):
            matched = True
            if self.outer is not None:  # the other record has a match now: never unmatched
                self.outer.delete(OuterKey(other_ts, other_side, key))
            self.forward(
                Record(key, self._join(value, other_value), max(ts, other_ts), record.headers)
            )
        if matched or not self.s.emit_unmatched:
            return
        if self.outer is None or ts + self.after < time.stream_time:
            self.forward(record.with_value(self._join(value, None)))  # its window has ended
            return
        if time.min_time < 0 or ts < time.min_time:
            time.min_time = ts
        okey = OuterKey(ts, self.s.side, key)
        held = self.outer.get(okey)
        self.outer.put(okey, (self.s.side, [*(held[1] if held else ()), value]))

    def _emit_closed(self, record: Record[Any, Any]) -> None:
        """Emit the unmatched records whose window has closed: oldest first, at equal times
        right-side records first (KIP-633)."""
        outer, time, grace = self.outer, self.time, self.s.grace
        assert outer is not None
        if time.min_time >= 0 and time.min_time + self.after + grace >= time.stream_time:
            return  # nothing held can have closed yet
        time.min_time = float("inf")
        left_open = right_open = False
        done: list[OuterKey] = []
        for okey, (side, values) in outer.all():
            if left_open and right_open:
                break
            time.min_time = okey.timestamp
            lookback = self.s.after if side == LEFT else self.s.before
            if okey.timestamp + lookback + grace >= time.stream_time:
                if side == LEFT:
                    left_open = True
                else:
                    right_open = True
                continue
            for value in values:
                joined = self.s.joiner(value, None) if side == LEFT else self.s.joiner(None, value)
                self.forward(Record(okey.key, joined, okey.timestamp, record.headers))
            done.append(okey)
        for okey in done:
            outer.delete(okey)
