"""Session stores: what they offer (:class:`ReadOnlySessionStore`, :class:`SessionStore`) and
their innermost bytes stores, in memory and on RocksDB (Kafka's ``InMemorySessionStore`` and
``RocksDBSessionStore``).

A session store keeps one value per key and session ``Window(start, end)`` (both bounds event
times, inclusive). Sessions are segmented and expire by their end time. Iteration order, for
both kinds: segments (by end) ascending, within a segment binary keys ascending (serialized
key, then end, then start), as Kafka's RocksDB store yields; backward variants reverse it.

Bytes stores share this shape: ``put(binary key, value) -> bool`` (False: expired, ignored),
``get(binary key)``, ``fetch(key_from, key_to, earliest_end, latest_start, backward)``
yielding ``(binary key, value)``, binary keys laid out as Kafka's ``SessionKeySchema``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Generic, TypeVar

from strom.state.api import StateStore
from strom.state.segments import (
    InMemorySegmentedBytesStore,
    SegmentedBytesStore,
    default_segment_interval,
)
from strom.state.segments_rocksdb import RocksDBSegmentedBytesStore
from strom.state.window_keys import SESSION_KEYS
from strom.windows.window import Windowed

K = TypeVar("K")
V = TypeVar("V")


class ReadOnlySessionStore(ABC, Generic[K, V]):
    """Reads of a typed session store (Kafka's ``ReadOnlySessionStore``).

    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> store = Stores.session_store_builder(Stores.in_memory_session_store("s", 60_000),
    ...                                      serdes.String(), serdes.Long()).build()
    >>> isinstance(store, ReadOnlySessionStore), store.is_session_store
    (True, True)
    """

    is_session_store = True
    retention_period: int

    @abstractmethod
    def find_sessions(
        self, key: K, earliest_session_end_time: int, latest_session_start_time: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        """Sessions of ``key`` with ``end >= earliest_session_end_time`` and
        ``start <= latest_session_start_time``: those that overlap or touch that span."""

    @abstractmethod
    def backward_find_sessions(
        self, key: K, earliest_session_end_time: int, latest_session_start_time: int
    ) -> Iterator[tuple[Windowed[K], V]]: ...

    @abstractmethod
    def find_sessions_range(
        self,
        key_from: K | None,
        key_to: K | None,
        earliest_session_end_time: int,
        latest_session_start_time: int,
    ) -> Iterator[tuple[Windowed[K], V]]:
        """Like :meth:`find_sessions` for keys in ``[key_from, key_to]`` (None: unbounded)."""

    @abstractmethod
    def backward_find_sessions_range(
        self,
        key_from: K | None,
        key_to: K | None,
        earliest_session_end_time: int,
        latest_session_start_time: int,
    ) -> Iterator[tuple[Windowed[K], V]]: ...

    @abstractmethod
    def find_sessions_ending(
        self, earliest_session_end_time: int, latest_session_end_time: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        """Sessions of every key ending in ``[earliest, latest]`` (Kafka's two-argument
        ``findSessions``, used to emit sessions as they close)."""

    @abstractmethod
    def fetch_session(self, key: K, session_start_time: int, session_end_time: int) -> V | None:
        """The value of exactly this session, or None."""

    @abstractmethod
    def fetch(self, key: K) -> Iterator[tuple[Windowed[K], V]]:
        """Every session of ``key``."""

    @abstractmethod
    def backward_fetch(self, key: K) -> Iterator[tuple[Windowed[K], V]]: ...

    @abstractmethod
    def fetch_range(self, key_from: K | None, key_to: K | None) -> Iterator[tuple[Windowed[K], V]]:
        """Every session of keys in ``[key_from, key_to]``."""

    @abstractmethod
    def backward_fetch_range(
        self, key_from: K | None, key_to: K | None
    ) -> Iterator[tuple[Windowed[K], V]]: ...


class SessionStore(StateStore, ReadOnlySessionStore[K, V]):
    """A typed session store (Kafka's ``SessionStore``): ``put(Windowed(key, Window(start,
    end)), value)`` (None deletes) and ``remove(windowed)``. Sessions that end at or before
    ``observed stream time - retention_period`` have expired: puts of them are ignored and
    counted, reads skip them.

    >>> import types
    >>> from strom import serdes
    >>> from strom.state import Stores
    >>> from strom.windows import Window, Windowed
    >>> store = Stores.session_store_builder(Stores.in_memory_session_store("s", 60_000),
    ...     serdes.String(), serdes.Long()).with_logging_disabled().build()
    >>> ctx = types.SimpleNamespace(app_configs={}, changelog_topic=lambda name: name,
    ...                             register=lambda store, restore: None)
    >>> store.init(ctx, store)
    >>> store.put(Windowed("a", Window(10, 20)), 3)
    >>> list(store.find_sessions("a", 15, 30))
    [(Windowed(key='a', window=Window(start=10, end=20)), 3)]
    >>> store.fetch_session("a", 10, 20)
    3
    """

    @abstractmethod
    def put(self, session: Windowed[K], value: V | None) -> None: ...

    @abstractmethod
    def remove(self, session: Windowed[K]) -> None: ...


class SegmentedSessionStore(SegmentedBytesStore):
    """Session keys on a segmented bytes store (segments by session end).

    >>> from strom.state.window_keys import session_store_key
    >>> store = InMemorySessionStore("s", retention_ms=60_000)
    >>> store.init(None, store)
    >>> [store.put(session_store_key(b"a", 0, end), b"v") for end in (5, 5_000_000)]
    [True, True]
    >>> store.put(session_store_key(b"a", 0, 5), b"3")  # ended too long ago: expired
    False
    """

    def __init__(self, name: str, retention_ms: int, segment_interval: int | None = None) -> None:
        interval = (
            default_segment_interval(retention_ms)
            if segment_interval is None
            else (segment_interval)
        )
        super().__init__(name, retention_ms, interval, SESSION_KEYS)

    def put(self, c: bytes, value: bytes | None) -> bool:
        """Write (None: delete) one session; False if it has expired (ignored)."""
        return self.put_binary(c, value)

    def get(self, c: bytes) -> bytes | None:
        return self.get_binary(c)


class InMemorySessionStore(SegmentedSessionStore, InMemorySegmentedBytesStore):
    """A session bytes store in memory (``Stores.in_memory_session_store``).

    >>> from strom.state.window_keys import session_store_key
    >>> store = InMemorySessionStore("s", retention_ms=60_000)
    >>> store.init(None, store)
    >>> store.put(session_store_key(b"a", 10, 20), b"1")
    True
    >>> [v for _, v in store.fetch(b"a", b"a", 15, 15)]
    [b'1']
    """

    def __repr__(self) -> str:
        return f"InMemorySessionStore({self.name!r}, retention_ms={self.retention_period})"


class RocksDBSessionStore(SegmentedSessionStore, RocksDBSegmentedBytesStore):
    """A session bytes store on RocksDB (``Stores.persistent_session_store``).

    >>> import tempfile, types
    >>> from strom.state.window_keys import session_store_key
    >>> store = RocksDBSessionStore("s", retention_ms=60_000)
    >>> store.init(types.SimpleNamespace(state_dir=tempfile.mkdtemp()), store)
    >>> store.put(session_store_key(b"a", 10, 20), b"1"), store.get(session_store_key(b"a", 10, 20))
    (True, b'1')
    >>> store.close()
    """

    def __repr__(self) -> str:
        return f"RocksDBSessionStore({self.name!r}, retention_ms={self.retention_period})"
