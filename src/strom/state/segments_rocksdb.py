"""The RocksDB kind of segmented store: one database, each segment a key prefix.

A database key is the 8-byte big-endian segment id followed by the binary window or session
key, so a segment is a contiguous key range: dropping it is one ``delete_range`` (a single
range tombstone, reclaimed by compaction), and iterating segments in order is one iterator
seeking from prefix to prefix. The observed stream time is kept under a metadata key (sorted
after every segment) at each flush, so a reopened store expires what it expired before.
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Generator, Sequence
from pathlib import Path

from rocksdict import Options, Rdict, RdictIter, WriteBatch

from strom.core.errors import StoreError
from strom.state.api import StateStore, StateStoreContext
from strom.state.memory import ClosedHandle
from strom.state.segments import Entries, SegmentedBytesStore
from strom.state.window_keys import KeySchema, upper_range

_SEGMENT = struct.Struct(">q")
#: Segment ids are non-negative, so their prefixes start below 0x80 and this key sorts last.
_META_OBSERVED = b"\xff\xffobserved-stream-time"

EntryGen = Generator[tuple[bytes, bytes], None, None]


def _options() -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    return opts


class RocksDBSegmentedBytesStore(SegmentedBytesStore):
    """Segments as key prefixes of one RocksDB database under
    ``<state_dir>/rocksdb/<name>``; writes unsynced until :meth:`flush` syncs the WAL.

    >>> import tempfile, types
    >>> from strom.state.window_keys import WINDOW_KEYS, window_store_key
    >>> ctx = types.SimpleNamespace(state_dir=tempfile.mkdtemp())
    >>> s = RocksDBSegmentedBytesStore("w", 100_000, 60_000, WINDOW_KEYS)
    >>> s.init(ctx, s)
    >>> s.put_binary(window_store_key(b"a", 5), b"x")
    True
    >>> [v for _, v in s.fetch(b"a", b"a", 0, 10)]
    [b'x']
    >>> s.close()
    """

    def __init__(self, name: str, retention_ms: int, segment_interval: int, schema: KeySchema):
        super().__init__(name, retention_ms, segment_interval, schema)
        self._db: Rdict = ClosedHandle(f"store {name!r}")  # type: ignore[assignment]
        self._path: Path | None = None
        self._unsynced = False
        self._saved_observed = -1
        self._iterators: weakref.WeakSet[EntryGen] = weakref.WeakSet()

    # -- lifecycle --------------------------------------------------------------------------
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
        self._load()

    def _load(self) -> None:
        """Find the segments on disk and the stream time they were written at."""
        db = self._db
        raw = db.get(_META_OBSERVED)
        observed = _SEGMENT.unpack(raw)[0] if raw is not None else -1
        self._saved_observed = observed
        live: list[int] = []
        it = db.iter()
        it.seek_to_first()
        while it.valid():
            k = it.key()
            if k[0] >= 0x80:
                break
            segment = _SEGMENT.unpack_from(k)[0]
            live.append(segment)
            it.seek(_SEGMENT.pack(segment + 1))
        del it
        self._live = live
        self._min_live = -(2**63)
        self.observed_stream_time = -1
        if observed >= 0:
            self._advance(observed)

    @property
    def path(self) -> Path | None:
        """The database directory (set by :meth:`init`)."""
        return self._path

    def flush(self) -> None:
        """Save the observed stream time and sync the write-ahead log."""
        if self.observed_stream_time != self._saved_observed:
            self._db.put(_META_OBSERVED, _SEGMENT.pack(self.observed_stream_time))
            self._saved_observed = self.observed_stream_time
            self._unsynced = True
        if self._unsynced:
            self._db.flush_wal(True)
            self._unsynced = False

    def close(self) -> None:
        if not self._open:
            return
        try:
            self.flush()
        finally:
            for it in list(self._iterators):
                it.close()
            self._iterators = weakref.WeakSet()
            db = self._db
            self._db = ClosedHandle(f"store {self.name!r}")  # type: ignore[assignment]
            self._open = False
            self._live = []
            self.observed_stream_time = -1
            db.close()

    @property
    def persistent(self) -> bool:
        return True

    # -- storage ----------------------------------------------------------------------------
    def _write(self, segment: int, c: bytes, value: bytes | None) -> None:
        if value is None:
            self._db.delete(_SEGMENT.pack(segment) + c)
        else:
            self._db.put(_SEGMENT.pack(segment) + c, value)
        self._unsynced = True

    def _write_batch(self, entries: list[tuple[int, bytes, bytes | None]]) -> None:
        batch = WriteBatch(raw_mode=True)
        pack = _SEGMENT.pack
        for segment, c, value in entries:
            if value is None:
                batch.delete(pack(segment) + c)
            else:
                batch.put(pack(segment) + c, value)
        self._db.write(batch)
        self._unsynced = True

    def _read(self, segment: int, c: bytes) -> bytes | None:
        return self._db.get(_SEGMENT.pack(segment) + c)

    def _drop(self, segment: int) -> None:
        self._db.delete_range(_SEGMENT.pack(segment), _SEGMENT.pack(segment + 1))
        self._unsynced = True

    # -- scans ------------------------------------------------------------------------------
    def _track(self, gen: EntryGen) -> EntryGen:
        self._iterators.add(gen)
        return gen

    @staticmethod
    def _between(it: RdictIter, lo: bytes, hi: bytes, backward: bool, keep: object) -> EntryGen:
        """Database entries with ``lo <= key <= hi`` whose binary key ``keep(c)`` accepts."""
        if backward:
            it.seek_for_prev(hi)
            while it.valid():
                k = it.key()
                if k < lo:
                    return
                c = k[8:]
                if keep(c):  # type: ignore[operator]
                    yield c, it.value()
                it.prev()
        else:
            it.seek(lo)
            while it.valid():
                k = it.key()
                if k > hi:
                    return
                c = k[8:]
                if keep(c):  # type: ignore[operator]
                    yield c, it.value()
                it.next()

    def _scan_key(
        self, segments: Sequence[int], key: bytes, tf: int, tt: int, backward: bool
    ) -> Entries:
        schema = self.schema
        lower, upper = schema.lower(key, tf), schema.upper(key, tt)
        size = len(key) + schema.suffix
        matches = schema.matches

        def keep(c: bytes) -> bool:
            return len(c) == size and matches(c, tf, tt)

        return self._track(self._segments_scan(segments, lower, upper, keep, backward))

    def _scan_range(
        self,
        segments: Sequence[int],
        key_from: bytes | None,
        key_to: bytes | None,
        tf: int,
        tt: int,
        backward: bool,
    ) -> Entries:
        schema = self.schema
        suffix = schema.suffix
        matches = schema.matches
        lower = b"" if key_from is None else key_from
        upper = None if key_to is None else upper_range(key_to, schema.max_suffix(tt))

        def keep(c: bytes) -> bool:
            if not matches(c, tf, tt):
                return False
            key = c[:-suffix]
            return (key_from is None or key >= key_from) and (key_to is None or key <= key_to)

        return self._track(self._segments_scan(segments, lower, upper, keep, backward))

    def _segments_scan(
        self,
        segments: Sequence[int],
        lower: bytes,
        upper: bytes | None,
        keep: object,
        backward: bool,
    ) -> EntryGen:
        it = self._db.iter()
        pack = _SEGMENT.pack
        for segment in segments:
            prefix = pack(segment)
            lo = prefix + lower
            # no upper key bound: up to the next segment's prefix (never a key itself)
            hi = pack(segment + 1) if upper is None else prefix + upper
            yield from self._between(it, lo, hi, backward, keep)

    def approximate_num_entries(self) -> int:
        """RocksDB's estimate of the number of keys."""
        n = self._db.property_int_value("rocksdb.estimate-num-keys")
        return int(n) if n is not None else 0
