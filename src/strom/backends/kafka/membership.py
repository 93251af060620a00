"""strom's group membership on Kafka: a replicated state machine over a compacted topic.

strom's runtime assigns tasks itself from a sorted member list, a generation that changes
whenever the members change and a "synced" flag (every member acknowledged the generation);
Kafka's consumer-group protocol assigns partitions inside the group coordinator instead and
has no place for that. So the Kafka backend keeps the protocol in a topic of its own,
``__strom_groups`` (``strom.groups.topic``): one partition, ``cleanup.policy=compact``,
``message.timestamp.type=LogAppendTime``.

Records (keys and values are JSON):

- ``["m", group, member]`` -> ``{"t": session_timeout_ms, "a": acked_generation}``: a heartbeat
  (``null``: the member left);
- ``["d", group]`` -> ``{}``: ``delete_group`` (everyone is dropped);
- ``["s", group]`` -> a snapshot of the group's state as of an offset (see below).

Every reader folds the records in offset order with the same rules as the ``memory://`` and
``local://`` backends, so every process computes the same state at every offset:

- a heartbeat at broker time T first drops members silent for longer than their session
  timeout (``T - last_seen > timeout``), then adds or refreshes its member. If anyone was
  dropped or the member is new, the generation goes up by one, and a new member records that
  generation as the one it joined at;
- a leave of a live member, or a delete of a group with members, raises the generation.

The time is the broker's append time of each record, not a client's clock, so the fold is
deterministic. ``heartbeat`` appends its record, reads the topic up to it and answers with
the state right after it; ``fence`` checks read the topic to its end first.

Compaction keeps only the latest record per key, which would lose history a fresh reader
needs. So whenever a reader sees that the group changed after its latest snapshot, it writes
a snapshot ``{"as_of": offset, ...}``; a reader that starts from the beginning begins each
group from its latest snapshot and applies only the records after ``as_of``. The topic is
created with ``min.compaction.lag.ms`` of an hour, so the records a snapshot does not cover
are never compacted before some live member has written a newer one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Producer

from strom.backends.api import Membership, ProducerRecord
from strom.backends.common import fenced
from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.fetcher import Fetcher
from strom.backends.kafka.producer import VISIBLE_ENDS, note_ends, plan, send
from strom.core.errors import BackendError, RetriableError, UnknownTopicError
from strom.core.partitioner import DefaultPartitioner
from strom.core.records import ConsumerRecord

__all__ = ["GroupLog", "GroupState"]

log = logging.getLogger("strom.kafka")

TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "message.timestamp.type": "LogAppendTime",
    "min.compaction.lag.ms": "3600000",
    "segment.ms": "3600000",
}
READ_TIMEOUT_S = 30.0
#: After this long without the records a read knows exist, its consumer is replaced.
RENEW_FETCHER_S = 5.0


class GroupState:
    """One group as the fold sees it."""

    __slots__ = ("clock", "generation", "last_change", "members", "snapshot_as_of")

    def __init__(self) -> None:
        self.generation = 0
        # member -> [last seen (broker ms), session timeout ms, joined generation, acked]
        self.members: dict[str, list[int]] = {}
        self.clock = 0  # the latest broker time seen (times never go backwards)
        self.last_change = -1  # the offset of the latest record that changed the members
        self.snapshot_as_of = -1  # ``as_of`` of the latest snapshot in the log

    def membership(self) -> Membership:
        gen = self.generation
        members = self.members
        return Membership(gen, tuple(sorted(members)), all(m[3] == gen for m in members.values()))

    # ---- the fold -------------------------------------------------------------------------------
    def heartbeat(self, offset: int, ts: int, member: str, timeout: int, acked: int) -> None:
        now = max(ts, self.clock)
        self.clock = now
        members = self.members
        expired = [m for m, (seen, tmo, _j, _a) in members.items() if now - seen > tmo]
        for m in expired:
            del members[m]
        entry = members.get(member)
        if expired or entry is None:
            self.generation += 1
            self.last_change = offset
        if entry is None:
            members[member] = [now, timeout, self.generation, acked]
        else:
            entry[0], entry[1], entry[3] = now, timeout, acked

    def leave(self, offset: int, member: str) -> None:
        if self.members.pop(member, None) is not None:
            self.generation += 1
            self.last_change = offset

    def delete(self, offset: int) -> None:
        if self.members:
            self.members.clear()
            self.generation += 1
            self.last_change = offset

    # ---- snapshots --------------------------------------------------------------------------
    def snapshot(self, as_of: int) -> dict[str, Any]:
        return {
            "as_of": as_of,
            "gen": self.generation,
            "clock": self.clock,
            "change": self.last_change,
            "members": self.members,
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> GroupState:
        g = cls()
        g.generation = int(snap["gen"])
        g.clock = int(snap["clock"])
        g.last_change = int(snap["change"])
        g.members = {m: [int(x) for x in v] for m, v in snap["members"].items()}
        g.snapshot_as_of = int(snap["as_of"])
        return g


def _decode_key(rec: ConsumerRecord) -> list[str] | None:
    try:
        key = orjson.loads(rec.key) if rec.key else None
    except orjson.JSONDecodeError:
        key = None
    if not isinstance(key, list) or len(key) < 2 or not all(isinstance(k, str) for k in key):
        log.warning("ignoring a malformed record at offset %s of the groups topic", rec.offset)
        return None
    return key


class GroupLog:
    """Heartbeats, leaves, deletes and fence checks over the membership topic."""

    def __init__(
        self,
        topic: str,
        cluster: Cluster,
        producer: Callable[[], Producer],  # the backend's idempotent producer (made lazily)
        fetcher: Callable[[], Fetcher],
    ) -> None:
        self.topic = topic
        self.cluster = cluster
        self._producer = producer
        self._make_fetcher = fetcher
        self._fetcher: Fetcher | None = None
        self.groups: dict[str, GroupState] = {}
        self.position = 0  # the next offset to read
        self.loaded = False
        self.lock = threading.RLock()
        self._exists = False
        self._partitioner = DefaultPartitioner()
        self._want = -1  # the offset of this process's latest append
        self._seen_at_append: Membership | None = None

    # ---- operations ---------------------------------------------------------------------------
    def heartbeat(self, group: str, member: str, timeout_ms: int, acked: int) -> Membership:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            raise BackendError(f"group {group!r}: session_timeout_ms must be an int > 0")
        with self.lock:
            self._ensure_topic(create=True)
            value = orjson.dumps({"t": timeout_ms, "a": int(acked)})
            offset = self._append(orjson.dumps(["m", group, member]), value)
            self._read(until=offset)
            result = self._seen_at_append
            if result is None:
                # The first read started from a snapshot another process wrote after our
                # append, so it already holds our heartbeat (and perhaps a little more).
                result = self.groups[group].membership()
            self._maybe_snapshot(group, self.groups[group])
            return result

    def leave(self, group: str, member: str) -> None:
        with self.lock:
            if not self._ensure_topic(create=False):
                return
            self._read(until=None)
            g = self.groups.get(group)
            if g is None or member not in g.members:
                return  # unknown members leave quietly
            offset = self._append(orjson.dumps(["m", group, member]), None)
            self._read(until=offset)
            self._maybe_snapshot(group, self.groups[group])

    def delete_group(self, group: str) -> None:
        with self.lock:
            if not self._ensure_topic(create=False):
                return
            self._read(until=None)
            g = self.groups.get(group)
            if g is None or not g.members:
                return
            offset = self._append(orjson.dumps(["d", group]), b"{}")
            self._read(until=offset)
            self._maybe_snapshot(group, self.groups[group])

    def check_fence(self, group: str, member: str, generation: int) -> None:
        """Raise FencedError unless ``member`` is live and joined at or before ``generation``
        (as of the end of the membership topic, read now)."""
        with self.lock:
            joined = None
            if self._ensure_topic(create=False):
                self._read(until=None)
                g = self.groups.get(group)
                entry = g.members.get(member) if g is not None else None
                joined = entry[2] if entry is not None else None
            if joined is None or generation < joined:
                raise fenced(group, member, generation, joined)

    # ---- reading and writing ----------------------------------------------------------------
    def _ensure_topic(self, create: bool) -> bool:
        if self._exists:
            return True
        if create:
            self.cluster.create_topic(self.topic, 1, dict(TOPIC_CONFIG), exist_ok=True)
        else:
            try:
                self.cluster.topic(self.topic)
            except UnknownTopicError:
                return False
        self._exists = True
        return True

    def _append(self, key: bytes, value: bytes | None) -> int:
        record = ProducerRecord(self.topic, key, value, None, partition=0)  # type: ignore[arg-type]
        batch = plan([record], self.cluster, self._partitioner)
        [(_p, offset)] = send(self._producer(), batch)
        note_ends(self.cluster.settings.bootstrap, [(self.topic, 0, offset)])
        self._want = offset
        self._seen_at_append = None
        return offset

    def _read(self, until: int | None) -> None:
        """Apply records up to offset ``until`` (None: up to the current end)."""
        if until is None:
            end = self.cluster.stable_ends([(self.topic, 0)])[(self.topic, 0)]
            VISIBLE_ENDS.note(self.cluster.settings.bootstrap, {(self.topic, 0): end})
        else:
            end = until + 1
        if self.position >= end:
            return
        records: list[ConsumerRecord] = []
        start = time.monotonic()
        renewed = False
        while self.position < end:
            batch = self._get_fetcher().fetch(self.topic, 0, self.position, 10_000)
            if batch:
                records.extend(batch)
                self.position = batch[-1].offset + 1
                continue
            waited = time.monotonic() - start
            if waited > READ_TIMEOUT_S:
                self._drop_fetcher()
                raise RetriableError(
                    f"could not read the group membership topic {self.topic!r} up to offset "
                    f"{end} within {READ_TIMEOUT_S:.0f}s (read up to {self.position})"
                )
            if waited > RENEW_FETCHER_S and not renewed:
                # records known to exist do not arrive: after a broker restart a consumer can
                # stay stuck on the old connection state; a new one starts afresh
                log.warning(
                    "reading %s[0] at offset %s stalled for %.0fs; renewing its consumer",
                    self.topic,
                    self.position,
                    waited,
                )
                self._drop_fetcher()
                renewed = True
        if self.loaded:
            for rec in records:
                self._apply(rec)
        else:
            self._load(records)
            self.loaded = True

    def _load(self, records: list[ConsumerRecord]) -> None:
        """The first read: each group starts from its latest snapshot, then its later records."""
        start: dict[str, int] = {}
        for rec in records:
            key = _decode_key(rec)
            if key is not None and key[0] == "s" and rec.value is not None:
                self.groups[key[1]] = GroupState.from_snapshot(orjson.loads(rec.value))
                start[key[1]] = self.groups[key[1]].snapshot_as_of
        for rec in records:
            key = _decode_key(rec)
            if key is None or key[0] == "s" or rec.offset <= start.get(key[1], -1):
                continue
            self._apply(rec, key)

    def _apply(self, rec: ConsumerRecord, key: list[str] | None = None) -> None:
        key = key or _decode_key(rec)
        if key is None:
            return
        kind, group = key[0], key[1]
        g = self.groups.get(group)
        if g is None:
            g = self.groups[group] = GroupState()
        if kind == "m" and len(key) == 3:
            if rec.value is None:
                g.leave(rec.offset, key[2])
            else:
                v = orjson.loads(rec.value)
                g.heartbeat(rec.offset, rec.timestamp, key[2], int(v["t"]), int(v["a"]))
        elif kind == "d":
            g.delete(rec.offset)
        elif kind == "s" and rec.value is not None:
            g.snapshot_as_of = int(orjson.loads(rec.value)["as_of"])
        if rec.offset == self._want:
            self._seen_at_append = g.membership()

    def _maybe_snapshot(self, group: str, g: GroupState) -> None:
        """Write the group's state if it changed after the latest snapshot (see module doc)."""
        if g.last_change <= g.snapshot_as_of:
            return
        as_of = self.position - 1
        value = orjson.dumps(g.snapshot(as_of))
        try:
            producer = self._producer()
            producer.produce(
                self.topic,
                value,
                orjson.dumps(["s", group]),
                partition=0,
                on_delivery=_snapshot_delivered,
            )
            producer.poll(0)
        except Exception as e:  # a missed snapshot is written by the next reader
            log.warning("writing a snapshot of group %r failed: %s", group, e)
            return
        g.snapshot_as_of = as_of

    def _get_fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = self._make_fetcher()
        return self._fetcher

    def _drop_fetcher(self) -> None:
        fetcher, self._fetcher = self._fetcher, None
        if fetcher is not None:
            fetcher.close()

    def close(self) -> None:
        with self.lock:
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None


def _snapshot_delivered(err: Any, _msg: Any) -> None:
    if err is not None:
        log.warning("a snapshot of the groups topic was not written: %s", err)
