"""Caching for window and session stores (Kafka's ``CachingWindowStore`` and
``CachingSessionStore``).

Writes stay in a cache of binary keys as dirty entries until :meth:`flush` (at commit) or
eviction sends them below, in the order they were last dirtied; each reaches the flush
listener (the DSL forwards from it) once per flush. Reads merge the cache with the store below
in the store's order (segment, then binary key). Like the key-value cache, the budget is
``statestore.cache.max.bytes`` per store, and a zero budget means no cache at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import get_ident
from typing import Any

from strom.core.errors import StoreError
from strom.state.api import StateStore, StateStoreContext
from strom.state.caching import (
    DEFAULT_MAX_BYTES,
    ENTRY_OVERHEAD,
    BytesFlushListener,
    CacheFlushing,
    _Entry,
    _FlushContext,
    cache_max_bytes,
)
from strom.state.memory import SortedKeyIndex
from strom.state.segments import Entries
from strom.state.window_keys import SESSION_KEYS, WINDOW_KEYS, KeySchema, window_store_key


def merge_sorted(
    cached: list[tuple[Any, bytes, bytes | None]],
    stored: Entries,
    order: Callable[[bytes], Any],
    backward: bool,
) -> Entries:
    """Merge cache entries ``(order key, binary key, value or None)`` with a store iterator of
    the same order: the cache wins on equal keys and its deletions hide the store's entry."""
    try:
        nxt = next(stored, None)
        nk = None if nxt is None else order(nxt[0])
        for ok, ck, cv in cached:
            while nxt is not None and (nk > ok if backward else nk < ok):  # type: ignore[operator]
                yield nxt
                nxt = next(stored, None)
                nk = None if nxt is None else order(nxt[0])
            if nxt is not None and nxt[0] == ck:
                nxt = next(stored, None)
                nk = None if nxt is None else order(nxt[0])
            if cv is not None:
                yield ck, cv
        while nxt is not None:
            yield nxt
            nxt = next(stored, None)
    finally:
        close = getattr(stored, "close", None)
        if close is not None:
            close()


class _CachingSegmentedStore(CacheFlushing, StateStore):
    """The cache both kinds share: entries by binary key (LRU), dirty order, an index of
    keys for range reads, expiry by the stream time seen."""

    schema: KeySchema
    _ops: tuple[str, ...] = ("put", "get", "fetch")

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._dirty: dict[bytes, None] = {}
        # entries by key and the keys sorted, for range reads: built at the first one, then
        # kept up to date (stores only read by window, as most aggregations, never pay for it)
        self._by_key: dict[bytes, set[bytes]] | None = None
        self._keys = SortedKeyIndex()
        self._size = 0
        self._observed = -1
        self._retention: int = wrapped.retention_period
        self.max_bytes = DEFAULT_MAX_BYTES
        self.cache_expired_records = 0
        self._listener: BytesFlushListener | None = None
        self._send_old_values = False
        self._context: StateStoreContext | None = None
        self._flush_context: _FlushContext | None = None
        self._owner = get_ident()
        self.enabled = True

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self._context = context
        self._owner = get_ident()
        self._flush_context = _FlushContext(context)
        self.max_bytes = cache_max_bytes(context.app_configs)
        if self.max_bytes <= 0:
            # a zero budget means no cache at all, as in Kafka: every call goes straight below
            self.enabled = False
            self.wrapped.init(context, root)
            for op in self._ops:
                setattr(self, op, getattr(self.wrapped, op))
            return
        self.wrapped.init(self._flush_context, root)  # type: ignore[arg-type]

    def _clear_cache(self) -> None:
        self._cache.clear()
        self._dirty = {}
        self._by_key = None
        self._keys.clear()
        self._size = 0
        self._observed = -1

    @property
    def persistent(self) -> bool:
        return self.wrapped.persistent

    @property
    def is_open(self) -> bool:
        return self.wrapped.is_open

    @property
    def retention_period(self) -> int:
        return self.wrapped.retention_period

    @property
    def segment_interval(self) -> int:
        return self.wrapped.segment_interval

    @property
    def observed_stream_time(self) -> int:
        return max(self._observed, self.wrapped.observed_stream_time)

    @property
    def expired_records(self) -> int:
        return self.cache_expired_records + self.wrapped.expired_records

    @property
    def cache_size_bytes(self) -> int:
        return self._size

    @property
    def dirty_keys(self) -> list[bytes]:
        """Binary keys waiting to be flushed, in flush order."""
        return list(self._dirty)

    # -- the store below (per kind) -----------------------------------------------------------
    def _below_get(self, c: bytes) -> bytes | None:
        raise NotImplementedError

    def _below_put(self, c: bytes, value: bytes | None) -> None:
        raise NotImplementedError

    # -- the cache ---------------------------------------------------------------------------
    def _expired(self, ts: int) -> bool:
        """Note stream time ``ts`` and tell whether it has expired."""
        if ts > self._observed:
            # the store below runs ahead of the cache only after a restore
            below = self.wrapped.observed_stream_time
            self._observed = ts if ts > below else below
        return ts <= self._observed - self._retention

    def _cache_put(self, c: bytes, value: bytes | None) -> None:
        ts = self._context.record_timestamp  # type: ignore[union-attr]
        cache = self._cache
        entry = cache.get(c)
        if entry is None:
            cache[c] = _Entry(value, True, ts)
            if self._by_key is not None:
                self._index(c)
            self._size += len(c) + (len(value) if value else 0) + ENTRY_OVERHEAD
        else:
            old = entry.value
            self._size += (len(value) if value else 0) - (len(old) if old else 0)
            entry.value = value
            entry.dirty = True
            entry.timestamp = ts
            cache.move_to_end(c)
        dirty = self._dirty
        if c in dirty:
            del dirty[c]  # re-dirtied: moves to the end of the flush order
        dirty[c] = None
        if self._size > self.max_bytes:
            self._evict()

    def _index(self, c: bytes) -> None:
        key = c[: -self.schema.suffix]
        keys = self._by_key.get(key)  # type: ignore[union-attr]
        if keys is None:
            self._by_key[key] = {c}  # type: ignore[index]
            self._keys.add(key)
        else:
            keys.add(c)

    def _forget(self, c: bytes, entry: _Entry) -> None:
        by_key = self._by_key
        if by_key is not None:
            key = c[: -self.schema.suffix]
            keys = by_key.get(key)
            if keys is not None:
                keys.discard(c)
                if not keys:
                    del by_key[key]
                    self._keys.discard(key)
        self._size -= len(c) + (len(entry.value) if entry.value else 0) + ENTRY_OVERHEAD

    def _evict(self) -> None:
        cache = self._cache
        while self._size > self.max_bytes and cache:
            c, entry = cache.popitem(last=False)
            self._forget(c, entry)
            if entry.dirty:
                self._flush_dirty((c, entry))

    def _flush_dirty(self, evicted: tuple[bytes, _Entry] | None) -> None:
        batch: list[tuple[bytes, bytes | None, int]] = []
        if evicted is not None:
            c, entry = evicted
            entry.dirty = False
            self._dirty.pop(c, None)
            batch.append((c, entry.value, entry.timestamp))
        cache = self._cache
        for c in self._dirty:
            entry = cache[c]
            entry.dirty = False
            batch.append((c, entry.value, entry.timestamp))
        self._dirty = {}  # before writing below: the listener may write into this store again
        for c, value, ts in batch:
            self._write_below(c, value, ts)
        for c, value, _ts in batch:
            if value is None:
                entry = cache.get(c)
                if entry is not None and entry.value is None and not entry.dirty:
                    del cache[c]
                    self._forget(c, entry)

    def _write_below(self, c: bytes, value: bytes | None, ts: int) -> None:
        listener = self._listener
        fctx = self._flush_context
        if listener is None:
            fctx.timestamp = ts  # type: ignore[union-attr]
            try:
                self._below_put(c, value)
            finally:
                fctx.timestamp = None  # type: ignore[union-attr]
            return
        send_old = self._send_old_values
        old = self._below_get(c) if (send_old or value is None) else None
        if value is None and old is None:
            return  # deleting what never reached the store: nothing to write or forward
        fctx.timestamp = ts  # type: ignore[union-attr]
        try:
            self._below_put(c, value)
        finally:
            fctx.timestamp = None  # type: ignore[union-attr]
        listener(c, value, old if send_old else None, ts)

    def _cached_get(self, c: bytes) -> _Entry | None:
        entry = self._cache.get(c)
        if entry is not None and get_ident() == self._owner:
            self._cache.move_to_end(c)
        return entry

    def _fetch(
        self, key_from: bytes | None, key_to: bytes | None, tf: int, tt: int, backward: bool
    ) -> Entries:
        """Cache and store merged: the entries of keys in ``[key_from, key_to]`` matching the
        time bounds (``tf`` already raised past expired times)."""
        stored = self.wrapped.fetch(key_from, key_to, tf, tt, backward)
        if not self._cache:
            return stored
        schema = self.schema
        matches = schema.matches
        cache = self._cache
        if self._by_key is None:
            self._by_key = {}
            for c in cache:
                self._index(c)
        if key_from is not None and key_from == key_to:
            cs = self._by_key.get(key_from)
            if not cs:
                return stored
            cached = [(c, c, cache[c].value) for c in cs if matches(c, tf, tt)]
            order: Callable[[bytes], Any] = bytes  # one key: byte order is segment order
        else:
            seg_time, interval = schema.segment_time, self.wrapped.segment_interval
            cached = []
            for key in self._keys.between(key_from, key_to):
                for c in self._by_key[key]:
                    if matches(c, tf, tt):
                        cached.append(((seg_time(c) // interval, c), c, cache[c].value))

            def order(c: bytes) -> Any:
                return (seg_time(c) // interval, c)

        if not cached:
            return stored
        cached.sort(key=lambda t: t[0], reverse=backward)
        return merge_sorted(cached, stored, order, backward)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"


class CachingWindowStore(_CachingSegmentedStore):
    """A write-back cache in front of a window bytes store (not for stores that retain
    duplicates: builders leave those uncached, as Kafka does).

    >>> from strom.state.window import InMemoryWindowStore
    >>> CachingWindowStore(InMemoryWindowStore("w", 120_000, 60_000)).window_size
    60000
    """

    schema = WINDOW_KEYS

    def __init__(self, wrapped: Any) -> None:
        if wrapped.retain_duplicates:
            raise ValueError(f"store {wrapped.name!r} retains duplicates: it cannot be cached")
        super().__init__(wrapped)

    @property
    def window_size(self) -> int:
        return self.wrapped.window_size

    @property
    def retain_duplicates(self) -> bool:
        return False

    def _below_get(self, c: bytes) -> bytes | None:
        return self.wrapped.get_binary(c)

    def _below_put(self, c: bytes, value: bytes | None) -> None:
        self.wrapped.put_binary(c, value)

    def put(self, key: bytes, value: bytes | None, window_start: int) -> bytes | None:
        """Cache the write; returns its binary key (None if the window has expired)."""
        if window_start < 0:
            raise StoreError(f"store {self.name!r}: negative window start {window_start}")
        if self._expired(window_start):
            self.cache_expired_records += 1
            return None
        c = window_store_key(key, window_start, 0)
        self._cache_put(c, value)
        return c

    def get(self, key: bytes, window_start: int) -> bytes | None:
        if window_start <= self._observed - self._retention:
            return None  # expired (the store below checks its own stream time too)
        c = window_store_key(key, window_start, 0)
        entry = self._cached_get(c)
        return self.wrapped.get_binary(c) if entry is None else entry.value

    def fetch(
        self,
        key_from: bytes | None,
        key_to: bytes | None,
        time_from: int,
        time_to: int,
        backward: bool = False,
    ) -> Entries:
        tf = max(time_from, self.observed_stream_time - self._retention + 1)
        if time_to < tf:
            return iter(())
        return self._fetch(key_from, key_to, tf, time_to, backward)


class CachingSessionStore(_CachingSegmentedStore):
    """A write-back cache in front of a session bytes store.

    >>> from strom.state.session import InMemorySessionStore
    >>> CachingSessionStore(InMemorySessionStore("s", 60_000)).name
    's'
    """

    schema = SESSION_KEYS

    def _below_get(self, c: bytes) -> bytes | None:
        return self.wrapped.get(c)

    def _below_put(self, c: bytes, value: bytes | None) -> None:
        self.wrapped.put(c, value)

    def put(self, c: bytes, value: bytes | None) -> bool:
        """Cache the write; False if the session has expired (ignored)."""
        end = SESSION_KEYS.segment_time(c)
        if end < 0:
            raise StoreError(f"store {self.name!r}: negative session end {end}")
        if self._expired(end):
            self.cache_expired_records += 1
            return False
        self._cache_put(c, value)
        return True

    def get(self, c: bytes) -> bytes | None:
        if SESSION_KEYS.segment_time(c) <= self._observed - self._retention:
            return None  # expired (the store below checks its own stream time too)
        entry = self._cached_get(c)
        return self.wrapped.get(c) if entry is None else entry.value

    def fetch(
        self,
        key_from: bytes | None,
        key_to: bytes | None,
        time_from: int,
        time_to: int,
        backward: bool = False,
    ) -> Entries:
        tf = max(time_from, self.observed_stream_time - self._retention + 1)
        return self._fetch(key_from, key_to, tf, time_to, backward)


def caching_layer(store: Any) -> _CachingSegmentedStore | None:
    """The caching layer of a window or session stack, or None."""
    while store is not None:
        if isinstance(store, _CachingSegmentedStore):
            return store
        store = getattr(store, "wrapped", None)
    return None
