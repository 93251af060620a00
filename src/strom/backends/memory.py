"""``memory://``: an in-process log for tests, demos and the TopologyTestDriver.

Everything lives in Python lists guarded by one lock. ``memory://NAME`` backends in one process
share their log through a module-level registry (an App and a Client see the same topics);
plain ``memory://`` is private to its backend.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping

from strom.backends.api import (
    Backend,
    Membership,
    ProducerRecord,
    TopicInfo,
    TopicPartition,
    Transaction,
)
from strom.backends.common import (
    BufferedTransaction,
    bad_record,
    check_offset,
    cleanup_rules,
    fenced,
    keyless_compacted,
    now_ms,
    unknown_partition,
    unknown_topic,
    validate_topic,
)
from strom.core.errors import BackendError, TopicExistsError
from strom.core.partitioner import DefaultPartitioner, positive_hash
from strom.core.records import ConsumerRecord
from strom.core.types import Headers, normalize_headers

__all__ = ["MemoryBackend"]


#: A stored record: the fields of a ConsumerRecord, in its order, as a plain tuple. Plain
#: tuples of bytes, str and int leave the garbage collector's lists at its next pass;
#: NamedTuples (tuple subclasses) stay tracked, so that every full collection would walk the
#: whole log. :meth:`MemoryBackend.fetch` hands out ConsumerRecords made from them.
_Stored = tuple[str, int, int, int, bytes | None, bytes | None, Headers]
_TIMESTAMP, _KEY, _VALUE, _OFFSET = 3, 4, 5, 2


class _Partition:
    __slots__ = ("end", "offsets", "records", "start")

    def __init__(self) -> None:
        self.offsets: list[int] = []  # parallel to records; sorted, gaps after compaction
        self.records: list[_Stored] = []
        self.start = 0  # log start offset (advanced by retention)
        self.end = 0  # next offset to assign


class _Topic:
    __slots__ = ("compacted", "config", "name", "partitions")

    def __init__(self, name: str, partitions: int, config: dict[str, str]) -> None:
        self.name = name
        self.config = config
        self.compacted = cleanup_rules(name, config).compact
        self.partitions = [_Partition() for _ in range(partitions)]


class _Group:
    __slots__ = ("acked", "generation", "joined", "members", "offsets")

    def __init__(self) -> None:
        self.offsets: dict[TopicPartition, int] = {}
        self.members: dict[str, tuple[float, int]] = {}  # member -> (last seen, timeout ms)
        self.acked: dict[str, int] = {}  # member -> the generation it has rebalanced to
        self.joined: dict[str, int] = {}  # member -> the generation at which it joined
        self.generation = 0


class _Log:
    """The state one or more MemoryBackends share."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.topics: dict[str, _Topic] = {}
        self.groups: dict[str, _Group] = {}
        self.partitioner = DefaultPartitioner()


_SHARED: dict[str, _Log] = {}
# Validated records waiting for their offsets: the records, the partition each goes to, and
# that partition's number.
_Plan = tuple[list[ProducerRecord], list[_Partition], list[int]]
_SHARED_LOCK = threading.Lock()


class MemoryBackend(Backend):
    """An in-memory log with the full backend protocol (nothing survives the process).

    >>> from strom.backends import ProducerRecord
    >>> with MemoryBackend("memory://") as log:
    ...     log.create_topic("words", partitions=2)
    ...     log.produce([ProducerRecord("words", b"kafka", b"streams", 1000)])
    ...     log.fetch("words", 0, 0)[0].value
    [(0, 0)]
    b'streams'
    """

    def __init__(self, url: str = "memory://") -> None:
        if not url.startswith("memory://"):
            raise BackendError(f"MemoryBackend needs a memory:// URL, got {url!r}")
        self.url = url
        self.name = url[len("memory://") :] or None
        if self.name is None:
            self._log = _Log()
        else:
            with _SHARED_LOCK:
                self._log = _SHARED.setdefault(self.name, _Log())
        self._closed = False

    @staticmethod
    def reset(name: str | None = None) -> None:
        """Forget the shared log ``memory://NAME`` (all of them when ``name`` is None)."""
        with _SHARED_LOCK:
            if name is None:
                _SHARED.clear()
            else:
                _SHARED.pop(name, None)

    # ---- helpers -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise BackendError(f"backend {self.url} is closed")

    def _partition(self, topic: str, partition: int) -> _Partition:
        t = self._log.topics.get(topic)
        if t is None:
            raise unknown_topic(topic)
        if partition.__class__ is not int or not 0 <= partition < len(t.partitions):
            raise unknown_partition(topic, partition, len(t.partitions))
        return t.partitions[partition]

    def _plan(self, records: Iterable[ProducerRecord]) -> _Plan:
        """Validate and partition every record before anything is appended (all or nothing):
        the records (timestamps and headers filled in), and each one's partition."""
        topics, round_robin, hash_key = (
            self._log.topics,
            self._log.partitioner.partition,
            positive_hash,
        )
        if records.__class__ is not list:
            records = list(records)
        parts: list[_Partition] = []
        numbers: list[int] = []
        add_part, add_number = parts.append, numbers.append
        fixed: dict[int, ProducerRecord] = {}  # records whose timestamp or headers are filled in
        last: str | None = None  # runs of one topic look it up once
        t: _Topic
        for topic, key, value, ts, headers, p in records:
            if topic is not last:
                t = topics.get(topic)  # type: ignore[assignment]
                if t is None:
                    raise unknown_topic(topic)
                last, partitions, compacted = topic, t.partitions, t.compacted
                n = len(partitions)
            if key is None:
                if compacted:
                    raise keyless_compacted(topic)
            elif key.__class__ is not bytes:
                raise bad_record(topic, "key", key)
            if value is not None and value.__class__ is not bytes:
                raise bad_record(topic, "value", value)
            if p is None:
                p = hash_key(key) % n if key is not None else round_robin(topic, None, n)
            elif p.__class__ is not int or not 0 <= p < n:
                raise unknown_partition(topic, p, n)
            if headers.__class__ is not tuple or ts is None:
                fixed[len(numbers)] = ProducerRecord(
                    topic,
                    key,
                    value,
                    now_ms() if ts is None else ts,
                    headers if headers.__class__ is tuple else normalize_headers(headers),
                    p,
                )
            add_part(partitions[p])
            add_number(p)
        if fixed:
            records = list(records)  # a copy: the caller's list stays as it was
            for i, record in fixed.items():
                records[i] = record
        return records, parts, numbers  # type: ignore[return-value]

    @staticmethod
    def _append(plan: _Plan) -> list[tuple[int, int]]:
        out = []
        add = out.append
        records, parts, numbers = plan
        for (topic, key, value, ts, headers, _p), part, p in zip(records, parts, numbers):
            off = part.end
            part.end = off + 1
            part.offsets.append(off)
            part.records.append((topic, p, off, ts, key, value, headers))
            add((p, off))
        return out

    def _check_offsets(self, offsets: Mapping[TopicPartition, int]) -> None:
        for (topic, partition), off in offsets.items():
            self._partition(topic, partition)
            check_offset(topic, partition, off)

    # ---- admin ---------------------------------------------------------------------------
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> None:
        self._check_open()
        cfg = validate_topic(name, partitions, config)
        with self._log.lock:
            if name in self._log.topics:
                if exist_ok:
                    return
                raise TopicExistsError(f"topic {name!r} already exists")
            self._log.topics[name] = _Topic(name, partitions, cfg)

    def delete_topic(self, name: str) -> None:
        self._check_open()
        with self._log.lock:
            if self._log.topics.pop(name, None) is None:
                raise unknown_topic(name)
            for g in self._log.groups.values():
                for tp in [tp for tp in g.offsets if tp[0] == name]:
                    del g.offsets[tp]

    def list_topics(self) -> dict[str, TopicInfo]:
        self._check_open()
        with self._log.lock:
            return {
                n: TopicInfo(n, len(t.partitions), dict(t.config))
                for n, t in sorted(self._log.topics.items())
            }

    # ---- produce and fetch -----------------------------------------------------------------
    def produce(self, records: Iterable[ProducerRecord]) -> list[tuple[int, int]]:
        self._check_open()
        with self._log.lock:
            return self._append(self._plan(records))

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = 1000,
        *,
        wait: bool = True,  # records are always at hand here
    ) -> list[ConsumerRecord]:
        self._check_open()
        with self._log.lock:
            part = self._partition(topic, partition)
            offsets = part.offsets
            if not offsets or offset >= part.end or max_records <= 0:
                return []
            i = offset - offsets[0]  # dense (no compaction gaps) is the common case
            if i < 0:
                i = 0
            elif i >= len(offsets) or offsets[i] != offset:
                i = bisect_left(offsets, offset)
            new, cr = tuple.__new__, ConsumerRecord  # ConsumerRecord(*r), minus a Python frame
            return [new(cr, r) for r in part.records[i : i + max_records]]

    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        self._check_open()
        with self._log.lock:
            part = self._partition(topic, partition)
            return part.start, part.end

    # ---- consumer groups -------------------------------------------------------------------
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        self._check_open()
        with self._log.lock:
            g = self._log.groups.get(group)
            if g is None:
                return {}
            found = {}
            for topic, partition in partitions:
                off = g.offsets.get((topic, partition))
                if off is not None:
                    found[topic, partition] = off
            return found

    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        self._check_open()
        with self._log.lock:
            self._check_offsets(offsets)
            self._group(group).offsets.update(offsets)

    def _group(self, group: str) -> _Group:
        g = self._log.groups.get(group)
        if g is None:
            g = self._log.groups[group] = _Group()
        return g

    def delete_group(self, group: str) -> None:
        self._check_open()
        with self._log.lock:
            g = self._log.groups.get(group)
            if g is not None:
                g.offsets.clear()
                if g.members:
                    g.members.clear()
                    g.generation += 1

    def heartbeat(
        self, group: str, member: str, session_timeout_ms: int, acked_generation: int = -1
    ) -> Membership:
        self._check_open()
        if session_timeout_ms <= 0:
            raise BackendError(f"group {group!r}: session_timeout_ms must be > 0")
        now = time.monotonic()
        with self._log.lock:
            g = self._group(group)
            members = g.members
            expired = [m for m, (seen, tmo) in members.items() if now - seen > tmo / 1000]
            for m in expired:
                del members[m]
                g.acked.pop(m, None)
                g.joined.pop(m, None)
            joining = member not in members
            changed = bool(expired) or joining
            members[member] = (now, session_timeout_ms)
            if changed:
                g.generation += 1
            if joining:
                g.joined[member] = g.generation
            g.acked[member] = acked_generation
            synced = all(g.acked.get(m) == g.generation for m in members)
            return Membership(g.generation, tuple(sorted(members)), synced)

    def leave(self, group: str, member: str) -> None:
        self._check_open()
        with self._log.lock:
            g = self._log.groups.get(group)
            if g is not None and g.members.pop(member, None) is not None:
                g.acked.pop(member, None)
                g.joined.pop(member, None)
                g.generation += 1

    # ---- transactions ----------------------------------------------------------------------
    def transaction(self) -> Transaction:
        self._check_open()
        return BufferedTransaction(self._commit_transaction)

    def _commit_transaction(
        self,
        records: list[ProducerRecord],
        offsets: list[tuple[str, dict[TopicPartition, int]]],
        fence: tuple[str, str, int] | None = None,
    ) -> None:
        self._check_open()
        with self._log.lock:
            if fence is not None:
                group, member, generation = fence
                joined = self._group(group).joined.get(member)
                if joined is None or generation < joined:
                    raise fenced(group, member, generation, joined)
            for _group, offs in offsets:
                self._check_offsets(offs)
            plan = self._plan(records)
            self._append(plan)
            for group, offs in offsets:
                self._group(group).offsets.update(offs)

    # ---- lifecycle ---------------------------------------------------------------------------
    def maintain(self, now_ms: int) -> None:
        """Apply ``retention.ms`` (drop the oldest records) and compaction to every topic."""
        self._check_open()
        with self._log.lock:
            for t in self._log.topics.values():
                rules = cleanup_rules(t.name, t.config)
                for part in t.partitions:
                    if rules.retention_ms is not None:
                        _expire(part, now_ms - rules.retention_ms)
                    if rules.compact:
                        _compact(part, now_ms - rules.delete_retention_ms)

    def delete_records(self, topic: str, partition: int, before_offset: int) -> None:
        self._check_open()
        with self._log.lock:
            part = self._partition(topic, partition)
            i = bisect_left(part.offsets, before_offset)
            if i:
                del part.records[:i]
                del part.offsets[:i]
            part.start = max(part.start, min(before_offset, part.end))

    def close(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        return f"MemoryBackend({self.url!r})"


def _expire(part: _Partition, cutoff: int) -> None:
    """Drop the longest prefix of records older than ``cutoff`` (Kafka deletes old segments)."""
    recs = part.records
    i = 0
    while i < len(recs) and recs[i][_TIMESTAMP] < cutoff:
        i += 1
    if i:
        del recs[:i]
        del part.offsets[:i]
    part.start = max(part.start, part.offsets[0] if part.offsets else part.end)


def _compact(part: _Partition, tombstone_cutoff: int) -> None:
    """Keep the latest record per key; drop tombstones older than ``tombstone_cutoff``."""
    latest = {r[_KEY]: i for i, r in enumerate(part.records)}
    keep = [
        r
        for i, r in enumerate(part.records)
        if latest[r[_KEY]] == i and not (r[_VALUE] is None and r[_TIMESTAMP] < tombstone_cutoff)
    ]
    if len(keep) != len(part.records):
        part.records = keep
        part.offsets = [r[_OFFSET] for r in keep]
