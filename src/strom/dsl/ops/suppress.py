"""``KTable.suppress``: hold table updates back — until a window closes (one final result per
window) or for a time limit — in a buffer that is a logged store, so it survives restarts."""

from __future__ import annotations

import heapq
import struct
from typing import Any

from strom.core.errors import SerializationError, StreamsError
from strom.dsl.ops.change import Change
from strom.dsl.ops.change_serde import ChangeSerde
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.serdes.base import Serde
from strom.windows.suppressed import UNLIMITED, Suppressed

_HEAD = struct.Struct(">qq")  # buffer time, record timestamp


class BufferEntry:
    __slots__ = ("buffer_time", "change", "timestamp")

    def __init__(self, buffer_time: int, timestamp: int, change: Change) -> None:
        self.buffer_time = buffer_time
        self.timestamp = timestamp
        self.change = change


class BufferEntrySerde(Serde[BufferEntry]):
    """``buffer time | record timestamp | Change`` for the buffer's changelog."""

    def __init__(self, value_serde: Serde[Any] | None) -> None:
        self.change = ChangeSerde(value_serde)

    def with_default(self, default: Serde[Any]) -> BufferEntrySerde:
        return self if self.change.inner is not None else BufferEntrySerde(default)

    def serialize(self, topic: str, obj: BufferEntry | None) -> bytes | None:
        if obj is None:
            return None
        return _HEAD.pack(obj.buffer_time, obj.timestamp) + (
            self.change.serialize(topic, obj.change) or b""
        )

    def deserialize(self, topic: str, data: bytes | None) -> BufferEntry | None:
        if data is None:
            return None
        if len(data) < _HEAD.size:
            raise SerializationError(f"suppress buffer entry too short: {len(data)} bytes")
        buffer_time, ts = _HEAD.unpack_from(data)
        change = self.change.deserialize(topic, data[_HEAD.size :])
        return BufferEntry(buffer_time, ts, change or Change(None, None))


class SuppressSupplier:
    def __init__(
        self,
        name: str,
        store_name: str,
        suppressed: Suppressed,
        time_to_wait_ms: int,
        final_results: bool,
    ) -> None:
        self.name = name
        self.store_name = store_name
        self.suppressed = suppressed
        self.time_to_wait = time_to_wait_ms
        self.final_results = final_results

    def __call__(self) -> SuppressProcessor:
        return SuppressProcessor(self)


class SuppressProcessor(Processor[Any, Any]):
    def __init__(self, s: SuppressSupplier) -> None:
        self.s = s
        self.observed = -1

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        cfg = self.s.suppressed.buffer_config
        self.max_records = None if cfg.record_limit == UNLIMITED else cfg.record_limit
        self.max_bytes = None if cfg.byte_limit == UNLIMITED else cfg.byte_limit
        self.shut_down = cfg.is_strict
        self.safe_to_drop_tombstones = self.s.final_results
        # the index: (buffer time, sequence, key); rebuilt from the logged store on start
        self._heap: list[tuple[int, int, Any]] = []
        self._times: dict[Any, int] = {}
        self._seq = 0
        self._bytes = 0
        for key, entry in self.store.all():
            self._index(key, entry)
            self.observed = max(self.observed, entry.timestamp)

    def _index(self, key: Any, entry: BufferEntry) -> None:
        self._times[key] = entry.buffer_time
        self._seq += 1
        heapq.heappush(self._heap, (entry.buffer_time, self._seq, key))
        self._bytes += _size(key, entry)

    def process(self, record: Record[Any, Change]) -> None:
        key, change, ts = record.key, record.value, record.timestamp
        if ts > self.observed:
            self.observed = ts
        previous = self.store.get(key)
        if previous is not None:  # keep when it was first buffered; take the latest value
            self._bytes -= _size(key, previous)
            entry = BufferEntry(previous.buffer_time, ts, change)
            self._bytes += _size(key, entry)
        else:
            buffer_time = key.window.end if self.s.final_results else ts
            entry = BufferEntry(buffer_time, ts, change)
            self._index(key, entry)
        self.store.put(key, entry)
        self._evict_while(lambda t: t <= self.observed - self.s.time_to_wait)
        if self._over():
            if self.shut_down:
                raise StreamsError(
                    f"{self.s.name} buffer exceeded its max capacity. Currently "
                    f"[{len(self._times)}/{self.max_records}] records and "
                    f"[{self._bytes}/{self.max_bytes}] bytes."
                )
            self._evict_while(lambda _t: self._over())

    def _over(self) -> bool:
        return (self.max_records is not None and len(self._times) > self.max_records) or (
            self.max_bytes is not None and self._bytes > self.max_bytes
        )

    def _evict_while(self, condition: Any) -> None:
        heap, times = self._heap, self._times
        while heap:
            buffer_time, _, key = heap[0]
            if times.get(key) != buffer_time:  # stale index entry
                heapq.heappop(heap)
                continue
            if not condition(buffer_time):
                return
            heapq.heappop(heap)
            del times[key]
            entry = self.store.get(key)
            self.store.delete(key)
            if entry is None:
                continue
            self._bytes -= _size(key, entry)
            if entry.change.new is not None or not self.safe_to_drop_tombstones:
                self.context.forward(Record(key, entry.change, entry.timestamp))


def _size(key: Any, entry: BufferEntry) -> int:
    """A rough, stable byte count of an entry for ``max_bytes`` (key and values as text)."""
    return 24 + len(repr(key)) + len(repr(entry.change.new)) + len(repr(entry.change.old))
