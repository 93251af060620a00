"""In-memory key-value bytes stores: a plain map and an LRU map (Kafka's ``InMemoryKeyValueStore``
and ``MemoryNavigableLRUCache``).

Keys iterate in unsigned byte-lexicographic order, which is how Python compares ``bytes`` and how
Kafka's ``Bytes`` comparator orders keys.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from strom.core.errors import StoreError
from strom.state.api import KeyValueStore, StateStore, StateStoreContext

#: ``listener(key, value)`` called when an LRU store drops its least recently used entry.
EvictionListener = Callable[[bytes, bytes], None]


class ClosedHandle:
    """Stands in for a store's map or database while the store is not open.

    Any use raises :class:`StoreError`, so open stores pay nothing to check their state.
    """

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def _fail(self, *_args: Any) -> NoReturn:
        raise StoreError(f"{self._what} is not open")

    def __getattr__(self, _name: str) -> Any:
        self._fail()

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __len__ = __iter__ = _fail


class SortedKeyIndex:
    """The keys of a hash map, kept sorted lazily so that adding a key stays O(1).

    New and removed keys are held aside and folded into the sorted list on the next scan
    (Timsort merges the sorted run with the few new keys cheaply).

    >>> idx = SortedKeyIndex()
    >>> for k in (b"b", b"\\xff", b"a"):
    ...     idx.add(k)
    >>> idx.between(b"a", b"b")
    [b'a', b'b']
    """

    __slots__ = ("_added", "_removed", "_sorted")

    def __init__(self) -> None:
        self._sorted: list[bytes] = []
        self._added: set[bytes] = set()
        self._removed: set[bytes] = set()

    def add(self, key: bytes) -> None:
        """Note a key that was absent from the map and is now present."""
        if key in self._removed:
            self._removed.discard(key)  # still in the sorted list
        else:
            self._added.add(key)

    def discard(self, key: bytes) -> None:
        """Note a key that was present in the map and is now gone."""
        if key in self._added:
            self._added.discard(key)
        else:
            self._removed.add(key)

    def clear(self) -> None:
        self._sorted = []
        self._added.clear()
        self._removed.clear()

    def _keys(self) -> list[bytes]:
        if self._removed:
            removed = self._removed
            self._sorted = [k for k in self._sorted if k not in removed]
            removed.clear()
        if self._added:
            self._sorted.extend(self._added)
            self._sorted.sort()
            self._added.clear()
        return self._sorted

    def between(self, lo: bytes | None, hi: bytes | None, reverse: bool = False) -> list[bytes]:
        """A snapshot of the keys with ``lo <= key <= hi`` (None: unbounded), sorted."""
        keys = self._keys()
        start = 0 if lo is None else bisect_left(keys, lo)
        end = len(keys) if hi is None else bisect_right(keys, hi)
        out = keys[start:end]
        if reverse:
            out.reverse()
        return out

    def with_prefix(self, prefix: bytes) -> list[bytes]:
        """A snapshot of the keys starting with ``prefix``, ascending."""
        keys = self._keys()
        start = bisect_left(keys, prefix)
        end = start
        n = len(keys)
        while end < n and keys[end].startswith(prefix):
            end += 1
        return keys[start:end]


def empty_range(from_key: bytes | None, to_key: bytes | None) -> bool:
    """True for an inverted range (Kafka returns an empty iterator for ``from > to``)."""
    return from_key is not None and to_key is not None and from_key > to_key


class InMemoryKeyValueStore(KeyValueStore[bytes, bytes]):
    """A bytes key-value store held in a dict; iteration in unsigned byte order.

    Iterators see the keys present when they were made and each value as it is when reached
    (keys deleted meanwhile are skipped), so the store may change while iterating.

    >>> store = InMemoryKeyValueStore("counts")
    >>> store.init(None, store)
    >>> store.put(b"b", b"2"); store.put(b"a", b"1")
    >>> list(store.all())
    [(b'a', b'1'), (b'b', b'2')]
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._map: dict[bytes, bytes] = ClosedHandle(f"store {name!r}")  # type: ignore[assignment]
        self._index = SortedKeyIndex()
        self._open = False

    def _new_map(self) -> dict[bytes, bytes]:
        return {}

    # -- lifecycle -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if not self._open:
            raise StoreError(f"store {self.name!r} is not open")

    def init(self, context: StateStoreContext | None, root: StateStore) -> None:
        if not self._open:
            self._map = self._new_map()
            self._index.clear()
            self._open = True

    def flush(self) -> None:
        """Nothing to do: writes are applied at once."""

    def close(self) -> None:
        self._map = ClosedHandle(f"store {self.name!r}")  # type: ignore[assignment]
        self._index.clear()
        self._open = False

    @property
    def persistent(self) -> bool:
        return False

    @property
    def is_open(self) -> bool:
        return self._open

    # -- writes ----------------------------------------------------------------------------
    def put(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.delete(key)
            return
        m = self._map
        if key not in m:
            self._index.add(key)
        m[key] = value

    def put_if_absent(self, key: bytes, value: bytes) -> bytes | None:
        old = self._map.get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        for key, value in entries:
            self.put(key, value)

    def delete(self, key: bytes) -> bytes | None:
        old = self._map.pop(key, None)
        if old is not None:
            self._index.discard(key)
        return old

    def restore_all(self, records: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Apply changelog records (used by restoration; no listeners are told)."""
        self.put_all(records)

    # -- reads -----------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        return self._map.get(key)

    def _values(self, keys: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
        for k in keys:
            v = self._map.get(k)
            if v is not None:
                yield k, v

    def range(self, from_key: bytes | None, to_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        """Entries with ``from_key <= key <= to_key`` ascending; None bounds are open."""
        self._check_open()
        if empty_range(from_key, to_key):
            return iter(())
        return self._values(self._index.between(from_key, to_key))

    def reverse_range(
        self, from_key: bytes | None, to_key: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Entries with ``from_key <= key <= to_key`` descending."""
        self._check_open()
        if empty_range(from_key, to_key):
            return iter(())
        return self._values(self._index.between(from_key, to_key, reverse=True))

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.range(None, None)

    def reverse_all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.reverse_range(None, None)

    def prefix_scan(self, prefix: bytes, prefix_serde: Any = None) -> Iterator[tuple[bytes, bytes]]:
        """Entries whose key starts with ``prefix`` (bytes), ascending."""
        self._check_open()
        return self._values(self._index.with_prefix(prefix))

    def approximate_num_entries(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class InMemoryLRUKeyValueStore(InMemoryKeyValueStore):
    """An in-memory store keeping at most ``max_entries``; the least recently used goes first
    (Kafka's ``Stores.lruMap``). Reads and writes count as use; iteration does not.

    When the changelogging layer wraps this store it logs a tombstone for each evicted key.

    >>> lru = InMemoryLRUKeyValueStore("recent", 2)
    >>> lru.init(None, lru)
    >>> lru.put(b"a", b"1"); lru.put(b"b", b"2"); lru.get(b"a"); lru.put(b"c", b"3")
    b'1'
    >>> [k for k, _ in lru.all()]
    [b'a', b'c']
    """

    def __init__(self, name: str, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries cannot be negative, got {max_entries}")
        super().__init__(name)
        self.max_entries = max_entries
        self._listener: EvictionListener | None = None

    def _new_map(self) -> dict[bytes, bytes]:
        return OrderedDict()

    def set_eviction_listener(self, listener: EvictionListener | None) -> None:
        """Call ``listener(key, value)`` for each entry dropped to respect ``max_entries``."""
        self._listener = listener

    def get(self, key: bytes) -> bytes | None:
        m = self._map
        value = m.get(key)
        if value is not None:
            m.move_to_end(key)  # type: ignore[attr-defined]
        return value

    def put(self, key: bytes, value: bytes | None) -> None:
        self._put(key, value, self._listener)

    def _put(self, key: bytes, value: bytes | None, listener: EvictionListener | None) -> None:
        if value is None:
            self.delete(key)
            return
        m = self._map
        if key in m:
            m.move_to_end(key)  # type: ignore[attr-defined]
        else:
            self._index.add(key)
        m[key] = value
        while len(m) > self.max_entries:
            old_key, old_value = m.popitem(last=False)  # type: ignore[call-arg]
            self._index.discard(old_key)
            if listener is not None:
                listener(old_key, old_value)

    def restore_all(self, records: Iterable[tuple[bytes, bytes | None]]) -> None:
        for key, value in records:
            self._put(key, value, None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.max_entries})"
