"""Producing batches: validate and partition everything first, then send all and flush.

Records are partitioned by strom (murmur2 for keys, exactly as Kafka's Java client and the
other backends; round-robin for null keys) and always handed to librdkafka with an explicit
partition, so a key lands where Kafka Streams would put it.

Every successful produce also notes the end it reached in :data:`VISIBLE_ENDS`, which lets a
fetch in this process wait for records it knows exist ("visible once produce returns").
:class:`Outstanding` is the same in two steps (``Backend.send`` hands records over, the next
``Backend.flush`` waits for them): the at_least_once loop overlaps that wait with processing.
Its records go through a producer that reports failed deliveries only (no Python call per
record); a flush notes their partitions' ends as unknown, and a fetch or ``offsets()`` that
needs one asks the broker (:func:`visible_end`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from confluent_kafka import KafkaError, Producer

from strom.backends.api import ProducerRecord
from strom.backends.common import bad_record, keyless_compacted, now_ms, unknown_partition
from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.errors import UNKNOWN_TOPIC_CODES, to_strom_error
from strom.core.errors import BackendError
from strom.core.partitioner import DefaultPartitioner, positive_hash
from strom.core.types import normalize_headers

__all__ = [
    "UNKNOWN_END",
    "VISIBLE_ENDS",
    "Failures",
    "Outstanding",
    "Planned",
    "note_ends",
    "plan",
    "send",
    "visible_end",
]

#: A validated record: (topic, partition, key, value, timestamp, headers as a list or None).
Planned = tuple[str, int, bytes | None, bytes | None, int, list[tuple[str, bytes | None]] | None]


#: The end of a partition that records were sent to without learning their offsets.
UNKNOWN_END = 1 << 62


class _Ends:
    """Per process: the highest end offset some produce here is known to have reached, per
    ``(cluster, topic, partition)`` (a fetch that finds fewer records waits for them), or
    :data:`UNKNOWN_END` where :func:`visible_end` must ask the broker."""

    def __init__(self) -> None:
        self._ends: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self.unknown_epoch = 0  # counts note_unknown calls (see settle)

    def note(self, cluster: str, ends: dict[tuple[str, int], int]) -> None:
        with self._lock:
            for (t, p), end in ends.items():
                key = (cluster, t, p)
                if end > self._ends.get(key, -1):
                    self._ends[key] = end

    def note_unknown(self, cluster: str, partitions: Iterable[tuple[str, int]]) -> None:
        with self._lock:
            self.unknown_epoch += 1
            for t, p in partitions:
                self._ends[cluster, t, p] = UNKNOWN_END

    def settle(self, cluster: str, topic: str, partition: int, end: int, epoch: int) -> None:
        """Replace an unknown end by what the broker said, unless records were sent without
        offsets since ``epoch`` (then it stays unknown: the answer may predate them)."""
        with self._lock:
            key = (cluster, topic, partition)
            if self._ends.get(key) == UNKNOWN_END and self.unknown_epoch == epoch:
                self._ends[key] = end

    def get(self, cluster: str, topic: str, partition: int) -> int:
        return self._ends.get((cluster, topic, partition), -1)

    def forget(self, cluster: str, topic: str, partition: int) -> None:
        with self._lock:
            self._ends.pop((cluster, topic, partition), None)

    def forget_topic(self, cluster: str, topic: str) -> None:
        with self._lock:
            for key in [k for k in self._ends if k[0] == cluster and k[1] == topic]:
                del self._ends[key]


VISIBLE_ENDS = _Ends()


def visible_end(cluster: Cluster, topic: str, partition: int) -> int:
    """The end some produce in this process reached (-1: none), asking the broker for the
    last stable offset when the records were sent without learning their offsets."""
    cluster_id = cluster.settings.bootstrap
    end = VISIBLE_ENDS.get(cluster_id, topic, partition)
    if end == UNKNOWN_END:
        epoch = VISIBLE_ENDS.unknown_epoch
        end = cluster.stable_ends([(topic, partition)])[topic, partition]
        VISIBLE_ENDS.settle(cluster_id, topic, partition, end, epoch)
    return end


def note_ends(cluster: str, placed: Iterable[tuple[str, int, int]]) -> None:
    """Record that offsets ``(topic, partition, offset)`` are written and committed."""
    ends: dict[tuple[str, int], int] = {}
    for t, p, off in placed:
        if off + 1 > ends.get((t, p), -1):
            ends[t, p] = off + 1
    VISIBLE_ENDS.note(cluster, ends)


def plan(
    records: Iterable[ProducerRecord], cluster: Cluster, partitioner: DefaultPartitioner
) -> list[Planned]:
    """Validate and partition a whole batch before anything is sent (all or nothing)."""
    out: list[Planned] = []
    add = out.append
    topic_meta = cluster.topic
    round_robin = partitioner.partition
    metas: dict[str, Any] = {}
    for topic, key, value, ts, headers, p in records:
        meta = metas.get(topic)
        if meta is None:
            meta = metas[topic] = topic_meta(topic)
        if key is None:
            if meta.compacted:
                raise keyless_compacted(topic)
        elif key.__class__ is not bytes:
            raise bad_record(topic, "key", key)
        if value is not None and value.__class__ is not bytes:
            raise bad_record(topic, "value", value)
        n = meta.partitions
        if p is None:
            p = positive_hash(key) % n if key is not None else round_robin(topic, None, n)
        elif p.__class__ is not int or not 0 <= p < n:
            meta = metas[topic] = cluster.partition(topic, p)  # raises unless partitions grew
            if not 0 <= p < meta.partitions:
                raise unknown_partition(topic, p, meta.partitions)
        if headers:
            if headers.__class__ is not tuple:
                headers = normalize_headers(headers)
            hs = list(headers)
        else:
            hs = None
        add((topic, p, key, value, now_ms() if ts is None else ts, hs))
    return out


class _Delivery:
    """Collects the delivery reports of one batch: offsets in order per partition."""

    __slots__ = ("errors", "offsets")

    def __init__(self) -> None:
        self.offsets: dict[tuple[str, int], list[int]] = {}
        self.errors: list[tuple[KafkaError, str, int]] = []

    def __call__(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.errors.append((err, msg.topic(), msg.partition()))
        else:
            tp = (msg.topic(), msg.partition())
            lst = self.offsets.get(tp)
            if lst is None:
                self.offsets[tp] = [msg.offset()]
            else:
                lst.append(msg.offset())


_TOPIC_PARTITION = itemgetter(0, 1)


class Failures:
    """The delivery reports of a producer made with ``delivery.report.only.error``: only the
    failed records call it (its ``on_delivery``)."""

    def __init__(self) -> None:
        self.errors: list[tuple[KafkaError, str, int]] = []

    def __call__(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.errors.append((err, msg.topic(), msg.partition()))

    def take(self) -> list[tuple[KafkaError, str, int]]:
        errors, self.errors = self.errors, []
        return errors


class Outstanding:
    """One thread's records sent without waiting (``Backend.send``) through a producer that
    reports failures only (:class:`Failures`); the next :meth:`flush` waits for them, raises
    the first failure, and notes their partitions' ends as unknown (see :func:`visible_end`)."""

    __slots__ = ("partitions", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.partitions: set[tuple[str, int]] = set()

    def send(self, producer: Producer, batch: list[Planned]) -> None:
        _hand_over(producer, batch, None)
        self.sent += len(batch)
        self.partitions.update(map(_TOPIC_PARTITION, batch))
        producer.poll(0)  # serve the failure reports that are in

    def flush(self, producer: Producer, failures: Failures, cluster_id: str) -> None:
        sent, partitions = self.sent, self.partitions
        self.sent, self.partitions = 0, set()
        try:
            _flush(producer, sent)
        finally:
            errors = failures.take()
            VISIBLE_ENDS.note_unknown(cluster_id, partitions)
        _raise_first(errors)


def _hand_over(producer: Producer, batch: list[Planned], report: Any) -> None:
    """Give librdkafka every record of a planned batch (waiting while its queue is full)."""
    produce = producer.produce
    for topic, p, key, value, ts, headers in batch:
        while True:
            try:
                # positional (topic, value, key, partition, callback, on_delivery, timestamp,
                # headers): keyword parsing made each call 2.7 us instead of 1.5 us
                produce(topic, value, key, p, report, None, ts, headers)
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.05)
            except Exception as e:
                raise to_strom_error(e, f"producing to {topic}[{p}]", topic) from e


def _flush(producer: Producer, n: int) -> None:
    """Wait for every delivery report (60 s at most)."""
    try:
        remaining = producer.flush(60)
    except Exception as e:  # a fatal producer error (fenced, say) surfaces here
        raise to_strom_error(e, f"producing {n} records") from e
    if remaining:
        raise BackendError(f"{remaining} records were not delivered within 60s")


def _raise_first(errors: list[tuple[KafkaError, str, int]]) -> None:
    """Raise the first failed delivery as a strom error (UnknownTopicError for a topic
    deleted meanwhile)."""
    if errors:
        err, topic, p = errors[0]
        if err.code() in UNKNOWN_TOPIC_CODES:
            raise to_strom_error(err, f"producing to {topic}[{p}]", topic)
        raise to_strom_error(err, f"producing {len(errors)} records to {topic}[{p}]")


def send(producer: Producer, batch: list[Planned]) -> list[tuple[int, int]]:
    """Send a planned batch, wait for every delivery report, return (partition, offset) each.

    Raises the first delivery error as a strom error (UnknownTopicError for a topic deleted
    meanwhile). Records of one partition are delivered in order (idempotent producer), which
    maps the reports back to the batch.
    """
    if not batch:
        return []
    report = _Delivery()
    _hand_over(producer, batch, report)
    _flush(producer, len(batch))
    _raise_first(report.errors)
    taken: dict[tuple[str, int], int] = {}
    out = []
    for topic, p, *_ in batch:
        tp = (topic, p)
        i = taken.get(tp, 0)
        taken[tp] = i + 1
        out.append((p, report.offsets[tp][i]))
    return out
