"""A persistent key-value bytes store on RocksDB through ``rocksdict`` (Kafka's ``RocksDBStore``).

Writes go straight to RocksDB (its memtable serves reads of unflushed writes) with the
write-ahead log on but unsynced; :meth:`RocksDBKeyValueStore.flush`, called at commit, syncs the
WAL. The database lives in ``<state_dir>/rocksdb/<store name>`` and survives close and reopen.
"""

from __future__ import annotations

import weakref
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

from rocksdict import Options, Rdict, RdictIter, WriteBatch

from strom.core.errors import StoreError
from strom.state.api import KeyValueStore, StateStore, StateStoreContext
from strom.state.memory import ClosedHandle, empty_range

KvIter = Generator[tuple[bytes, bytes], None, None]


def _options() -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    return opts


class RocksDBKeyValueStore(KeyValueStore[bytes, bytes]):
    """A bytes key-value store in RocksDB, iterated in unsigned byte order.

    Iterators read a consistent snapshot taken when they are made; closing the store closes
    the iterators still open (they then end), so the database can be reopened at once.

    >>> import tempfile, types
    >>> ctx = types.SimpleNamespace(state_dir=tempfile.mkdtemp())
    >>> store = RocksDBKeyValueStore("counts")
    >>> store.init(ctx, store)
    >>> store.put(b"a", b"1")
    >>> store.get(b"a")
    b'1'
    >>> store.close()
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._db: Rdict = ClosedHandle(f"store {name!r}")  # type: ignore[assignment]
        self._path: Path | None = None
        self._open = False
        self._unsynced = False
        self._iterators: weakref.WeakSet[KvIter] = weakref.WeakSet()

    # -- lifecycle -------------------------------------------------------------------------
    def init(self, context: StateStoreContext, root: StateStore) -> None:
        if self._open:
            return
        state_dir = context.state_dir
        if state_dir is None:
            raise StoreError(f"store {self.name!r} is persistent but the task has no state dir")
        path = Path(state_dir) / "rocksdb" / self.name
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = Rdict(str(path), options=_options())
        except Exception as e:  # rocksdict raises plain Exceptions
            raise StoreError(f"store {self.name!r}: cannot open RocksDB at {path}: {e}") from e
        self._path = path
        self._open = True

    @property
    def path(self) -> Path | None:
        """The database directory (set by :meth:`init`)."""
        return self._path

    def flush(self) -> None:
        """Sync the write-ahead log, if anything was written since the last flush."""
        if self._unsynced:
            self._db.flush_wal(True)
            self._unsynced = False

    def close(self) -> None:
        if not self._open:
            return
        for it in list(self._iterators):
            it.close()
        self._iterators = weakref.WeakSet()
        db = self._db
        self._db = ClosedHandle(f"store {self.name!r}")  # type: ignore[assignment]
        self._open = False
        self._unsynced = False
        db.close()

    @property
    def persistent(self) -> bool:
        return True

    @property
    def is_open(self) -> bool:
        return self._open

    # -- writes ----------------------------------------------------------------------------
    def put(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self._db.delete(key)
        else:
            self._db.put(key, value)
        self._unsynced = True

    def put_if_absent(self, key: bytes, value: bytes) -> bytes | None:
        old = self._db.get(key)
        if old is None:
            self.put(key, value)
        return old

    def put_all(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        batch = WriteBatch(raw_mode=True)
        for key, value in entries:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        self._db.write(batch)
        self._unsynced = True

    restore_all = put_all

    def delete(self, key: bytes) -> bytes | None:
        db = self._db
        old = db.get(key)
        if old is not None:
            db.delete(key)
            self._unsynced = True
        return old

    # -- reads -----------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        return self._db.get(key)

    def _track(self, gen: KvIter) -> KvIter:
        self._iterators.add(gen)
        return gen

    @staticmethod
    def _forward(it: RdictIter, to_key: bytes | None) -> KvIter:
        while it.valid():
            k = it.key()
            if to_key is not None and k > to_key:
                return
            yield k, it.value()
            it.next()

    @staticmethod
    def _backward(it: RdictIter, from_key: bytes | None) -> KvIter:
        while it.valid():
            k = it.key()
            if from_key is not None and k < from_key:
                return
            yield k, it.value()
            it.prev()

    @staticmethod
    def _prefixed(it: RdictIter, prefix: bytes) -> KvIter:
        while it.valid():
            k = it.key()
            if not k.startswith(prefix):
                return
            yield k, it.value()
            it.next()

    def range(self, from_key: bytes | None, to_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        """Entries with ``from_key <= key <= to_key`` ascending; None bounds are open."""
        it = self._db.iter()
        if empty_range(from_key, to_key):
            return iter(())
        if from_key is None:
            it.seek_to_first()
        else:
            it.seek(from_key)
        return self._track(self._forward(it, to_key))

    def reverse_range(
        self, from_key: bytes | None, to_key: bytes | None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Entries with ``from_key <= key <= to_key`` descending."""
        it = self._db.iter()
        if empty_range(from_key, to_key):
            return iter(())
        if to_key is None:
            it.seek_to_last()
        else:
            it.seek_for_prev(to_key)
        return self._track(self._backward(it, from_key))

    def all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.range(None, None)

    def reverse_all(self) -> Iterator[tuple[bytes, bytes]]:
        return self.reverse_range(None, None)

    def prefix_scan(self, prefix: bytes, prefix_serde: Any = None) -> Iterator[tuple[bytes, bytes]]:
        """Entries whose key starts with ``prefix`` (bytes), ascending."""
        it = self._db.iter()
        it.seek(prefix)
        return self._track(self._prefixed(it, prefix))

    def approximate_num_entries(self) -> int:
        """RocksDB's estimate of the number of keys (``rocksdb.estimate-num-keys``)."""
        n = self._db.property_int_value("rocksdb.estimate-num-keys")
        return int(n) if n is not None else 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
