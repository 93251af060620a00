"""Window stores: what they offer (:class:`ReadOnlyWindowStore`, :class:`WindowStore`) and their
innermost bytes stores, in memory and on RocksDB (Kafka's ``InMemoryWindowStore`` and
``RocksDBWindowStore``).

A window store keeps values per key and window start. Typed stores (the metered top of a
stack) yield ``(window_start, value)`` for one key and ``(Windowed(key, Window(start,
start + window_size)), value)`` across keys. Iteration order, for both kinds: segments of time
ascending, within a segment binary keys ascending (serialized key, then window start, then
sequence number), as Kafka's RocksDB store and caching layer yield; backward variants reverse
it. All time bounds are inclusive.

Bytes stores (every layer below the metered one) share this shape:
``put(key, value, window_start) -> binary key written or None`` (None: ignored),
``get(key, window_start)``, and ``fetch(key_from, key_to, time_from, time_to, backward)``
yielding ``(binary key, value)`` with binary keys laid out as Kafka's ``WindowKeySchema``;
below the caching layer also ``put_binary(binary key, value) -> bool`` and
``get_binary(binary key)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from strom.state.api import StateStore
from strom.state.segments import (
    InMemorySegmentedBytesStore,
    SegmentedBytesStore,
    default_segment_interval,
)
from strom.state.segments_rocksdb import RocksDBSegmentedBytesStore
from strom.state.window_keys import MAX_SEQ, WINDOW_KEYS, window_store_key
from strom.windows.window import Windowed

K = TypeVar("K")
V = TypeVar("V")


class ReadOnlyWindowStore(ABC, Generic[K, V]):
    """Reads of a typed window store (Kafka's ``ReadOnlyWindowStore``); bounds inclusive.

    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> store = Stores.window_store_builder(Stores.in_memory_window_store("w", 120_000, 60_000),
    ...                                     serdes.String(), serdes.Long()).build()
    >>> isinstance(store, ReadOnlyWindowStore), store.is_window_store
    (True, True)
    """

    is_window_store = True
    window_size: int
    retention_period: int

    @abstractmethod
    def fetch(self, key: K, time_from: int, time_to: int | None = None) -> Any:
        """With ``time_to``: an iterator of ``(window_start, value)`` for windows of ``key``
        starting in ``[time_from, time_to]``, oldest first. Without: the value of the window
        of ``key`` starting at ``time_from``, or None."""

    @abstractmethod
    def backward_fetch(self, key: K, time_from: int, time_to: int) -> Iterator[tuple[int, V]]:
        """Like ``fetch(key, time_from, time_to)``, newest first."""

    @abstractmethod
    def fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        """Windows of keys in ``[key_from, key_to]`` (None: unbounded) starting in
        ``[time_from, time_to]``."""

    @abstractmethod
    def backward_fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]: ...

    @abstractmethod
    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed[K], V]]:
        """Windows of every key starting in ``[time_from, time_to]``."""

    @abstractmethod
    def backward_fetch_all(
        self, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]: ...

    @abstractmethod
    def all(self) -> Iterator[tuple[Windowed[K], V]]:
        """Every window that has not expired."""

    @abstractmethod
    def backward_all(self) -> Iterator[tuple[Windowed[K], V]]: ...


class WindowStore(StateStore, ReadOnlyWindowStore[K, V]):
    """A typed window store (Kafka's ``WindowStore``).

    ``put(key, value, window_start)``: a None value deletes the window (in a store that
    retains duplicates, where each put adds an entry, it does nothing). Windows that start at
    or before ``observed stream time - retention_period`` have expired: puts of them are
    ignored and counted, reads skip them.

    >>> import types
    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> store = Stores.window_store_builder(Stores.in_memory_window_store("w", 120_000, 60_000),
    ...     serdes.String(), serdes.Long()).with_logging_disabled().build()
    >>> ctx = types.SimpleNamespace(app_configs={}, changelog_topic=lambda name: name,
    ...                             register=lambda store, restore: None)
    >>> store.init(ctx, store)
    >>> store.put("a", 1, 0); store.put("a", 2, 60_000)
    >>> list(store.fetch("a", 0, 60_000)), store.fetch("a", 60_000)
    ([(0, 1), (60000, 2)], 2)
    >>> list(store.all())[0]
    (Windowed(key='a', window=Window(start=0, end=60000)), 1)
    """

    @abstractmethod
    def put(self, key: K, value: V | None, window_start: int) -> None: ...


class SegmentedWindowStore(SegmentedBytesStore):
    """Window semantics on a segmented bytes store: sequence numbers for duplicates and the
    window put/get; the kinds below differ only in where segments live.

    >>> store = InMemoryWindowStore("joins", 120_000, 10_000, retain_duplicates=True)
    >>> store.init(None, store)
    >>> [store.put(b"k", v, 0)[-4:] for v in (b"x", b"y")]  # each put: a new sequence number
    [b'\\x00\\x00\\x00\\x01', b'\\x00\\x00\\x00\\x02']
    >>> [v for _, v in store.fetch(b"k", b"k", 0, 0)]
    [b'x', b'y']
    """

    def __init__(
        self,
        name: str,
        retention_ms: int,
        window_size: int,
        retain_duplicates: bool = False,
        segment_interval: int | None = None,
    ) -> None:
        interval = (
            default_segment_interval(retention_ms)
            if segment_interval is None
            else (segment_interval)
        )
        super().__init__(name, retention_ms, interval, WINDOW_KEYS)  # type: ignore[call-arg]
        self.window_size = window_size
        self.retain_duplicates = retain_duplicates
        self._seq = 0

    def put(self, key: bytes, value: bytes | None, window_start: int) -> bytes | None:
        """Write the window; returns its binary key, or None if nothing was written (an
        expired window, or a None value in a store that retains duplicates)."""
        if self.retain_duplicates:
            if value is None:
                return None
            self._seq = seq = (self._seq + 1) & MAX_SEQ
            c = window_store_key(key, window_start, seq)
        else:
            c = window_store_key(key, window_start, 0)
        return c if self.put_binary(c, value) else None

    def get(self, key: bytes, window_start: int) -> bytes | None:
        """The value of one window (with duplicates: the oldest entry)."""
        if self.retain_duplicates:
            for _c, value in self.fetch(key, key, window_start, window_start):
                return value
            return None
        return self.get_binary(window_store_key(key, window_start, 0))

    def restore_all(self, records: Iterable[Sequence[Any]]) -> None:
        records = records if isinstance(records, list) else list(records)
        super().restore_all(records)
        if self.retain_duplicates and records:
            # continue after the restored sequence numbers rather than overwrite them
            seqs = [int.from_bytes(r[0][-4:], "big") for r in records]
            self._seq = max(self._seq, *seqs)


class InMemoryWindowStore(SegmentedWindowStore, InMemorySegmentedBytesStore):
    """A window bytes store in memory (``Stores.in_memory_window_store``).

    >>> store = InMemoryWindowStore("w", retention_ms=120_000, window_size=60_000)
    >>> store.init(None, store)
    >>> store.put(b"a", b"1", 0)
    b'a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'
    >>> store.get(b"a", 0)
    b'1'
    """

    def __repr__(self) -> str:
        return (
            f"InMemoryWindowStore({self.name!r}, retention_ms={self.retention_period}, "
            f"window_size={self.window_size}, retain_duplicates={self.retain_duplicates})"
        )


class RocksDBWindowStore(SegmentedWindowStore, RocksDBSegmentedBytesStore):
    """A window bytes store on RocksDB, segments as key prefixes
    (``Stores.persistent_window_store``).

    >>> import tempfile, types
    >>> store = RocksDBWindowStore("w", retention_ms=120_000, window_size=60_000)
    >>> store.init(types.SimpleNamespace(state_dir=tempfile.mkdtemp()), store)
    >>> store.put(b"a", b"1", 0) is not None, store.get(b"a", 0)
    (True, b'1')
    >>> store.close()
    """

    def __repr__(self) -> str:
        return (
            f"RocksDBWindowStore({self.name!r}, retention_ms={self.retention_period}, "
            f"window_size={self.window_size}, retain_duplicates={self.retain_duplicates})"
        )
