"""Time-segmented bytes stores: the bottom of window and session stores (Kafka's
``SegmentedBytesStore`` with its ``Segments``).

Entries are binary keys of a :class:`~strom.state.window_keys.KeySchema` (window or session
layout). Each lands in the segment ``segment_time // segment_interval``. The store tracks the
observed stream time (the largest segment time written); an entry whose segment time is
``<= observed - retention`` has expired: writes of it are ignored and counted in
``expired_records``, reads skip it, and a segment whose every timestamp has expired is dropped
whole.

Both kinds, in memory and on RocksDB, iterate in the same order: segments ascending, and
within a segment binary keys in unsigned byte order (as Kafka's RocksDB window store and its
caching layer do), so switching kinds never changes what a query yields.
"""

from __future__ import annotations

from abc import abstractmethod
from bisect import insort
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from strom.core.errors import StoreError
from strom.state.api import StateStore, StateStoreContext
from strom.state.memory import SortedKeyIndex
from strom.state.window_keys import KeySchema
from strom.windows.window import MAX_TIMESTAMP

#: Iterators of segmented stores yield ``(binary key, value)``.
Entries = Iterator[tuple[bytes, bytes]]

#: Kafka's smallest segment interval (``Stores`` uses ``max(retention / 2, 60s)``).
MIN_SEGMENT_INTERVAL = 60_000


def default_segment_interval(retention_ms: int) -> int:
    """Kafka's segment interval for a retention: ``max(retention // 2, 60_000)``.

    >>> default_segment_interval(86_400_000), default_segment_interval(1_000)
    (43200000, 60000)
    """
    return max(retention_ms // 2, MIN_SEGMENT_INTERVAL)


class SegmentedBytesStore(StateStore):
    """Retention, segments and queries common to both kinds; subclasses hold the segments.

    ``fetch(key_from, key_to, time_from, time_to)`` yields the entries of keys within the key
    bounds (None: unbounded; equal bounds take a fast path for one key) that the schema's time
    condition matches, from segments that may hold them.

    >>> from strom.state.window_keys import WINDOW_KEYS, window_store_key
    >>> s = InMemorySegmentedBytesStore("w", 60_000, 60_000, WINDOW_KEYS)
    >>> s.init(None, s)
    >>> [s.put_binary(window_store_key(b"a", t), b"v") for t in (0, 130_000)]
    [True, True]
    >>> s.segment_ids, s.observed_stream_time  # segment 0 expired and was dropped
    ([2], 130000)
    >>> s.put_binary(window_store_key(b"a", 70_000), b"3"), s.expired_records
    (False, 1)
    """

    def __init__(self, name: str, retention_ms: int, segment_interval: int, schema: KeySchema):
        if segment_interval < 1:
            raise ValueError(f"segment interval must be positive, got {segment_interval}")
        self.name = name
        self.retention_period = retention_ms
        self.segment_interval = segment_interval
        self.schema = schema
        self.observed_stream_time = -1
        self.expired_records = 0
        self._live: list[int] = []  # segment ids, ascending
        self._min_live = -(2**63)  # segments below this id have been dropped
        self._open = False

    # -- the kind's storage ----------------------------------------------------------------
    @abstractmethod
    def _write(self, segment: int, c: bytes, value: bytes | None) -> None: ...

    @abstractmethod
    def _read(self, segment: int, c: bytes) -> bytes | None: ...

    @abstractmethod
    def _drop(self, segment: int) -> None: ...

    @abstractmethod
    def _scan_key(
        self, segments: Sequence[int], key: bytes, tf: int, tt: int, backward: bool
    ) -> Entries: ...

    @abstractmethod
    def _scan_range(
        self,
        segments: Sequence[int],
        key_from: bytes | None,
        key_to: bytes | None,
        tf: int,
        tt: int,
        backward: bool,
    ) -> Entries: ...

    def _write_batch(self, entries: list[tuple[int, bytes, bytes | None]]) -> None:
        for segment, c, value in entries:
            self._write(segment, c, value)

    # -- segments ---------------------------------------------------------------------------
    def _advance(self, timestamp: int) -> None:
        """Note stream time ``timestamp`` (larger than observed); drop expired segments."""
        self.observed_stream_time = timestamp
        min_live = (timestamp - self.retention_period + 1) // self.segment_interval
        if min_live > self._min_live:
            self._min_live = min_live
            live = self._live
            while live and live[0] < min_live:
                self._drop(live.pop(0))

    def _ensure(self, segment: int) -> None:
        live = self._live
        if not live or segment > live[-1]:
            live.append(segment)
        elif segment not in live:
            insort(live, segment)

    @property
    def segment_ids(self) -> list[int]:
        """The ids of the segments that hold (or held) entries, ascending."""
        return list(self._live)

    # -- writes -----------------------------------------------------------------------------
    def put_binary(self, c: bytes, value: bytes | None) -> bool:
        """Write (None: delete) one binary key; False if its time has expired (ignored)."""
        ts = self.schema.segment_time(c)
        if ts < 0:
            raise StoreError(f"store {self.name!r}: negative timestamp {ts} in a window key")
        if ts > self.observed_stream_time:
            self._advance(ts)
        if ts <= self.observed_stream_time - self.retention_period:
            self.expired_records += 1
            return False
        segment = ts // self.segment_interval
        if value is not None:
            self._ensure(segment)
        elif not self._live or segment not in self._live:
            return True  # nothing to delete
        self._write(segment, c, value)
        return True

    def restore_all(self, records: Iterable[Sequence[Any]]) -> None:
        """Apply changelog records ``(binary key, value or None[, timestamp])``: stream time
        first advances to the batch's latest, then entries still live are written (as Kafka)."""
        seg_time = self.schema.segment_time
        batch = [(seg_time(r[0]), r[0], r[1]) for r in records]
        if not batch:
            return
        latest = max(ts for ts, _, _ in batch)
        if latest > self.observed_stream_time:
            self._advance(latest)
        horizon = self.observed_stream_time - self.retention_period
        interval = self.segment_interval
        out: list[tuple[int, bytes, bytes | None]] = []
        for ts, c, value in batch:
            if ts > horizon:
                segment = ts // interval
                self._ensure(segment)
                out.append((segment, c, value))
        self._write_batch(out)

    # -- reads ------------------------------------------------------------------------------
    def get_binary(self, c: bytes) -> bytes | None:
        ts = self.schema.segment_time(c)
        if ts <= self.observed_stream_time - self.retention_period:
            return None
        return self._read(ts // self.segment_interval, c)

    def actual_from(self, time_from: int) -> int:
        """``time_from`` raised past expired times (Kafka's ``getActualFrom``)."""
        return max(time_from, self.observed_stream_time - self.retention_period + 1)

    def fetch(
        self,
        key_from: bytes | None,
        key_to: bytes | None,
        time_from: int,
        time_to: int,
        backward: bool = False,
    ) -> Entries:
        """Entries of keys in ``[key_from, key_to]`` matching the time bounds, in segment then
        byte order (reversed when ``backward``)."""
        if not self._open:
            raise StoreError(f"store {self.name!r} is not open")
        tf = self.actual_from(time_from)
        tt = min(time_to, MAX_TIMESTAMP)
        if key_from is not None and key_to is not None and key_from > key_to:
            return iter(())
        schema = self.schema
        if schema.bounded and tt < tf:
            return iter(())
        lo = max(tf, 0) // self.segment_interval
        hi = (tt if schema.bounded else MAX_TIMESTAMP) // self.segment_interval
        segments = [s for s in self._live if lo <= s <= hi]
        if not segments:
            return iter(())
        if backward:
            segments.reverse()
        if key_from is not None and key_from == key_to:
            return self._scan_key(segments, key_from, tf, tt, backward)
        return self._scan_range(segments, key_from, key_to, tf, tt, backward)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._open

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class _MemSegment:
    """One segment in memory: key -> {binary key: value}, and the keys sorted on demand."""

    __slots__ = ("by_key", "keys")

    def __init__(self) -> None:
        self.by_key: dict[bytes, dict[bytes, bytes]] = {}
        self.keys = SortedKeyIndex()


class InMemorySegmentedBytesStore(SegmentedBytesStore):
    """Segments in dicts: one key's entries are found by a dict lookup, key ranges through a
    lazily sorted key index. Iterators work on snapshots, so the store may change meanwhile.

    >>> from strom.state.window_keys import WINDOW_KEYS, window_store_key
    >>> s = InMemorySegmentedBytesStore("w", 100_000, 60_000, WINDOW_KEYS)
    >>> s.init(None, s)
    >>> s.put_binary(window_store_key(b"a", 5), b"x")
    True
    >>> [v for _, v in s.fetch(b"a", b"a", 0, 10)]
    [b'x']
    """

    def __init__(self, name: str, retention_ms: int, segment_interval: int, schema: KeySchema):
        super().__init__(name, retention_ms, segment_interval, schema)
        self._segments: dict[int, _MemSegment] = {}

    def init(self, context: StateStoreContext | None, root: StateStore) -> None:
        self._open = True

    def flush(self) -> None:
        """Nothing to do: writes are applied at once."""

    def close(self) -> None:
        self._segments = {}
        self._live = []
        self._min_live = -(2**63)
        self.observed_stream_time = -1
        self._open = False

    @property
    def persistent(self) -> bool:
        return False

    def _write(self, segment: int, c: bytes, value: bytes | None) -> None:
        key = c[: -self.schema.suffix]
        seg = self._segments.get(segment)
        if value is None:
            if seg is not None:
                entries = seg.by_key.get(key)
                if entries is not None and entries.pop(c, None) is not None and not entries:
                    del seg.by_key[key]
                    seg.keys.discard(key)
            return
        if seg is None:
            seg = self._segments[segment] = _MemSegment()
        entries = seg.by_key.get(key)
        if entries is None:
            entries = seg.by_key[key] = {}
            seg.keys.add(key)
        entries[c] = value

    def _read(self, segment: int, c: bytes) -> bytes | None:
        seg = self._segments.get(segment)
        if seg is None:
            return None
        entries = seg.by_key.get(c[: -self.schema.suffix])
        return None if entries is None else entries.get(c)

    def _drop(self, segment: int) -> None:
        self._segments.pop(segment, None)

    def _scan_key(
        self, segments: Sequence[int], key: bytes, tf: int, tt: int, backward: bool
    ) -> Entries:
        matches = self.schema.matches
        for segment in segments:
            seg = self._segments.get(segment)
            entries = None if seg is None else seg.by_key.get(key)
            if entries:
                found = [(c, v) for c, v in entries.items() if matches(c, tf, tt)]
                found.sort(reverse=backward)
                yield from found

    def _scan_range(
        self,
        segments: Sequence[int],
        key_from: bytes | None,
        key_to: bytes | None,
        tf: int,
        tt: int,
        backward: bool,
    ) -> Entries:
        matches = self.schema.matches
        for segment in segments:
            seg = self._segments.get(segment)
            if seg is None:
                continue
            found: list[tuple[bytes, bytes]] = []
            by_key = seg.by_key
            for key in seg.keys.between(key_from, key_to):
                entries = by_key.get(key)
                if entries:
                    found.extend((c, v) for c, v in entries.items() if matches(c, tf, tt))
            found.sort(reverse=backward)
            yield from found

    def approximate_num_entries(self) -> int:
        """Entries held (expired ones not yet dropped included)."""
        return sum(len(e) for s in self._segments.values() for e in s.by_key.values())
