"""The caching layer: a bytes record cache in front of a store (Kafka's ``CachingKeyValueStore``
with the ``NamedCache`` it writes into).

Writes stay in the cache as dirty entries until :meth:`CachingKeyValueStore.flush` (at commit)
or eviction sends them below, so several updates of one key within a commit interval reach the
changelog, and the flush listener (which forwards downstream), once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from threading import get_ident
from typing import Any

from strom.state.api import KeyValueStore, StateStore, StateStoreContext
from strom.state.memory import SortedKeyIndex, empty_range

#: ``listener(key, new_value, old_value, timestamp)`` with bytes (or None) values.
BytesFlushListener = Callable[[bytes, bytes | None, bytes | None, int], None]

#: Bytes counted per cache entry besides its key and value (Kafka counts pointers and metadata).
ENTRY_OVERHEAD = 64
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


#: An entry's ``obj`` when it holds no typed value.
NO_OBJ: Any = object()


class _Entry:
    """A cached value: its bytes, and (``obj``) the typed value those bytes deserialize to,
    when the layer above has said it may share it (see ``CachingKeyValueStore.typed``)."""

    __slots__ = ("dirty", "obj", "timestamp", "value")

    def __init__(self, value: bytes | None, dirty: bool, timestamp: int, obj: Any = NO_OBJ) -> None:
        self.value = value
        self.dirty = dirty
        self.timestamp = timestamp
        self.obj = obj


class _FlushContext:
    """The host's context, except that ``record_timestamp`` is the flushed entry's while the
    cache writes it below (Kafka sets the entry's record context around that write)."""

    __slots__ = ("_ctx", "timestamp")

    def __init__(self, context: StateStoreContext) -> None:
        self._ctx = context
        self.timestamp: int | None = None

    @property
    def record_timestamp(self) -> int:
        ts = self.timestamp
        return self._ctx.record_timestamp if ts is None else ts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def cache_max_bytes(configs: Any) -> int:
    """The cache budget from ``statestore.cache.max.bytes`` (or the older
    ``cache.max.bytes.buffering``), 10 MiB by default."""
    if not configs:
        return DEFAULT_MAX_BYTES
    value = configs.get("statestore.cache.max.bytes", configs.get("cache.max.bytes.buffering"))
    return DEFAULT_MAX_BYTES if value is None else int(value)


def _merge(
    cached: list[tuple[bytes, bytes | None]],
    stored: Iterator[tuple[bytes, bytes]],
    reverse: bool,
) -> Iterator[tuple[bytes, bytes]]:
    """Merge a key-ordered cache snapshot with a store iterator: the cache wins on equal keys
    and its deletions (None) hide the store's entry."""
    try:
        nxt = next(stored, None)
        for ck, cv in cached:
            while nxt is not None and (nxt[0] > ck if reverse else nxt[0] < ck):
                yield nxt
                nxt = next(stored, None)
            if nxt is not None and nxt[0] == ck:
                nxt = next(stored, None)
            if cv is not None:
                yield ck, cv
        while nxt is not None:
            yield nxt
            nxt = next(stored, None)
    finally:
        close = getattr(stored, "close", None)
        if close is not None:
            close()


class CacheFlushing:
    """What the key-value and window caching stores share: the flush listener, flushing
    dirty entries below, and closing (subclasses say what ``_clear_cache`` clears)."""

    enabled: bool
    wrapped: StateStore
    _dirty: Any
    _listener: BytesFlushListener | None
    _send_old_values: bool

    def _flush_dirty(self, evicted: tuple[bytes, _Entry] | None) -> None:
        raise NotImplementedError

    def _clear_cache(self) -> None:
        raise NotImplementedError

    def set_flush_listener(
        self, listener: BytesFlushListener | None, send_old_values: bool
    ) -> bool:
        """Install ``listener(binary key, new, old, timestamp)``, called as dirty entries reach
        the store below; False when the cache is disabled (then the caller forwards at once)."""
        if not self.enabled:
            return False
        self._listener = listener
        self._send_old_values = send_old_values
        return True

    def flush(self) -> None:
        if self._dirty:
            self._flush_dirty(None)
        self.wrapped.flush()

    def flush_cache(self) -> None:
        """Send dirty entries below without flushing the store below."""
        if self._dirty:
            self._flush_dirty(None)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.wrapped.close()
            self._clear_cache()


class CachingKeyValueStore(CacheFlushing, KeyValueStore[bytes, bytes]):
    """A write-back LRU cache of bytes in front of ``wrapped``.

    Reads hit the cache first (a cached None is a deletion); writes become dirty entries. At
    :meth:`flush`, dirty entries go below in the order they were last dirtied, each preceded,
    if a listener is set, by a read of the old value below and followed by
    ``listener(key, new, old, timestamp)``. When the cache outgrows its budget
    (``statestore.cache.max.bytes``) it evicts least recently used entries; evicting a dirty
    one flushes every dirty entry first.

    >>> from strom.state.memory import InMemoryKeyValueStore
    >>> cached = CachingKeyValueStore(InMemoryKeyValueStore("counts"))
    >>> cached.name
    'counts'
    """

    def __init__(self, wrapped: KeyValueStore[bytes, bytes]) -> None:
        self.wrapped = wrapped
        self.name = wrapped.name
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._dirty: dict[bytes, None] = {}
        self._index = SortedKeyIndex()
        self._size = 0
        self.max_bytes = DEFAULT_MAX_BYTES
        self._listener: BytesFlushListener | None = None
        self._send_old_values = False
        self._context: StateStoreContext | None = None
        self._flush_context: _FlushContext | None = None
        self._owner = get_ident()
        self.enabled = True
        self._deserialize: Callable[[bytes], Any] = lambda raw: raw
        self._shareable: Callable[[Any], bool] = lambda obj: False

    # -- lifecycle -------------------------------------------------------------------------
    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self._context = context
        self._owner = get_ident()  # reads from other threads (queries) do not fill the cache
        self._flush_context = _FlushContext(context)
        self.max_bytes = cache_max_bytes(context.app_configs)
        if self.max_bytes <= 0:
            # a zero budget means no cache at all, as in Kafka: every call goes straight below
            self.enabled = False
            self.wrapped.init(context, root)
            w = self.wrapped
            for op in (
                "get",
                "put",
                "put_if_absent",
                "put_all",
                "delete",
                "range",
                "reverse_range",
                "all",
                "reverse_all",
                "prefix_scan",
                "approximate_num_entries",
            ):
                setattr(self, op, getattr(w, op))
            return
        self.wrapped.init(self._flush_context, root)  # type: ignore[arg-type]

    def _clear_cache(self) -> None:
        self._cache.clear()
        self._dirty = {}
        self._index.clear()
        self._size = 0

    @property
    def persistent(self) -> bool:
        return self.wrapped.persistent

    @property
    def is_open(self) -> bool:
        return self.wrapped.is_open

    @property
    def cache_size_bytes(self) -> int:
        """Bytes the cache counts against its budget."""
        return self._size

    @property
    def dirty_keys(self) -> list[bytes]:
        """Keys waiting to be flushed, in flush order."""
        return list(self._dirty)

    # -- the cache -------------------------------------------------------------------------
    def _flush_dirty(self, evicted: tuple[bytes, _Entry] | None) -> None:
        batch: list[tuple[bytes, bytes | None, int]] = []
        if evicted is not None:
            key, entry = evicted
            entry.dirty = False
            self._dirty.pop(key, None)
            batch.append((key, entry.value, entry.timestamp))
        cache = self._cache
        for key in self._dirty:
            entry = cache[key]
            entry.dirty = False
            batch.append((key, entry.value, entry.timestamp))
        self._dirty = {}  # before writing below: the listener may write into this store again
        for key, value, ts in batch:
            self._write_below(key, value, ts)
        for key, value, _ts in batch:
            if value is None:
                entry = cache.get(key)
                if entry is not None and entry.value is None and not entry.dirty:
                    self._remove(key)

    def _write_below(self, key: bytes, value: bytes | None, ts: int) -> None:
        listener = self._listener
        fctx = self._flush_context
        if listener is None:
            fctx.timestamp = ts  # type: ignore[union-attr]
            try:
                self.wrapped.put(key, value)
            finally:
                fctx.timestamp = None  # type: ignore[union-attr]
            return
        send_old = self._send_old_values
        old = self.wrapped.get(key) if (send_old or value is None) else None
        if value is None and old is None:
            return  # deleting what never reached the store: nothing to write or forward
        fctx.timestamp = ts  # type: ignore[union-attr]
        try:
            self.wrapped.put(key, value)
        finally:
            fctx.timestamp = None  # type: ignore[union-attr]
        listener(key, value, old if send_old else None, ts)

    def _remove(self, key: bytes) -> None:
        entry = self._cache.pop(key)
        self._index.discard(key)
        self._size -= len(key) + (len(entry.value) if entry.value else 0) + ENTRY_OVERHEAD

    def _evict(self) -> None:
        cache = self._cache
        while self._size > self.max_bytes and cache:
            key, entry = cache.popitem(last=False)
            self._index.discard(key)
            self._size -= len(key) + (len(entry.value) if entry.value else 0) + ENTRY_OVERHEAD
            if entry.dirty:
                self._flush_dirty((key, entry))

    def _get(self, key: bytes) -> bytes | None:
        cache = self._cache
        entry = cache.get(key)
        if entry is not None:
            cache.move_to_end(key)
            return entry.value
        value = self.wrapped.get(key)
        if value is not None and get_ident() == self._owner:
            cache[key] = _Entry(value, False, -1)
            self._index.add(key)
            self._size += len(key) + len(value) + ENTRY_OVERHEAD
            if self._size > self.max_bytes:
                self._evict()
        return value

    # -- typed values ----------------------------------------------------------------------
    def typed(self, deserialize: Callable[[bytes], Any], shareable: Callable[[Any], bool]) -> bool:
        """Let the typed layer above keep, beside each entry's bytes, the object they
        deserialize to, so that reading an entry back skips deserializing it.

        ``deserialize(bytes)`` is the layer's value deserializer; ``shareable(obj)`` says
        whether an object may be handed out more than once (it is immutable, so a reader
        cannot tell it from a freshly deserialized one). Writes that bring their object go
        through ``put(key, bytes, obj)``, whose bytes must deserialize to an equal object.
        False when the cache is disabled (then there is nothing to keep objects in)."""
        if not self.enabled:
            return False
        self._deserialize = deserialize
        self._shareable = shareable
        return True

    def get_typed(self, key: bytes) -> Any:
        """The typed value of ``key`` (None if absent), from the entry's object when it has
        one; see :meth:`typed`."""
        cache = self._cache
        entry = cache.get(key)
        if entry is not None:
            cache.move_to_end(key)
            obj = entry.obj
            if obj is not NO_OBJ:
                return obj
            raw = entry.value
            if raw is None:
                return None
        else:
            raw = self._get(key)  # fills the cache
            if raw is None:
                return None
            entry = cache.get(key)
        obj = self._deserialize(raw)
        if (
            entry is not None
            and entry.value is raw
            and get_ident() == self._owner  # readers on other threads leave entries alone
            and self._shareable(obj)
        ):
            entry.obj = obj
        return obj

    # -- KeyValueStore ---------------------------------------------------------------------
    get = _get

    def put(self, key: bytes, value: bytes | None, obj: Any = NO_OBJ) -> None:
        """Write ``value`` as a dirty entry; ``obj``, when given, is the typed value it
        deserializes to (see :meth:`typed`)."""
        ts = self._context.record_timestamp  # type: ignore[union-attr]
        cache = self._cache
        entry = cache.get(key)
        if entry is None:
            cache[key] = _Entry(value, True, ts, obj)
            self._index.add(key)
            self._size += len(key) + (len(value) if value else 0) + ENTRY_OVERHEAD
        else:
            old = entry.value
            if old is None or value is None or len(old) != len(value):
                self._size += (len(value) if value else 0) - (len(old) if old else 0)
            entry.value = value
            entry.obj = obj
            entry.dirty = True
            entry.timestamp = ts
            cache.move_to_end(key)
        dirty = self._dirty
        dirty.pop(key, None)  # re-dirtied: moves to the end of the flush order
        dirty[key] = None
        if self._size > self.max_bytes:
            self._evict()

    def put_if_absent(self, key: bytes, value: bytes) -> bytes | None:
        old = self._get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        for key, value in entries:
            self.put(key, value)

    def delete(self, key: bytes) -> bytes | None:
        old = self._get(key)
        self.put(key, None)
        return old

    def _cached(self, keys: list[bytes]) -> list[tuple[bytes, bytes | None]]:
        cache = self._cache
        return [(k, cache[k].value) for k in keys]

    def range(self, from_key: bytes | None, to_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        """Cache and store merged, ``from_key <= key <= to_key`` ascending."""
        if empty_range(from_key, to_key):
            return iter(())
        stored = self.wrapped.range(from_key, to_key)
        return _merge(self._cached(self._index.between(from_key, to_key)), stored, False)

    def reverse_range(
        self, from_key: bytes | None, to_key: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        if empty_range(from_key, to_key):
            return iter(())
        stored = self.wrapped.reverse_range(from_key, to_key)
        keys = self._index.between(from_key, to_key, reverse=True)
        return _merge(self._cached(keys), stored, True)

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.range(None, None)

    def reverse_all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.reverse_range(None, None)

    def prefix_scan(self, prefix: bytes, prefix_serde: Any = None) -> Iterator[tuple[bytes, bytes]]:
        stored = self.wrapped.prefix_scan(prefix, prefix_serde)
        return _merge(self._cached(self._index.with_prefix(prefix)), stored, False)

    def approximate_num_entries(self) -> int:
        """The store below's estimate (unflushed cache entries are not counted, as in Kafka)."""
        return self.wrapped.approximate_num_entries()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"
