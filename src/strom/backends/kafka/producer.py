"""Producing batches: validate and partition everything first, then send all and flush.

Records are partitioned by strom (murmur2 for keys, exactly as Kafka's Java client and the
other backends; round-robin for null keys) and always handed to librdkafka with an explicit
partition, so a key lands where Kafka Streams would put it.

Every successful produce also notes the end it reached in :data:`VISIBLE_ENDS`, which lets a
fetch in this process wait for records it knows exist ("visible once produce returns").
:class:`Outstanding` is the same in two steps (``Backend.send`` hands records over, the next
``Backend.flush`` waits for them): the at_least_once loop overlaps that wait with processing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, Producer

from strom.backends.api import ProducerRecord
from strom.backends.common import bad_record, keyless_compacted, now_ms, unknown_partition
from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.errors import UNKNOWN_TOPIC_CODES, to_strom_error
from strom.core.errors import BackendError
from strom.core.partitioner import DefaultPartitioner, positive_hash
from strom.core.types import normalize_headers

__all__ = ["VISIBLE_ENDS", "Outstanding", "Planned", "note_ends", "plan", "send"]

#: A validated record: (topic, partition, key, value, timestamp, headers as a list or None).
Planned = tuple[str, int, bytes | None, bytes | None, int, list[tuple[str, bytes | None]] | None]


class _Ends:
    """Per process: the highest end offset some produce here is known to have reached, per
    ``(cluster, topic, partition)`` (a fetch that finds fewer records waits for them)."""

    def __init__(self) -> None:
        self._ends: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def note(self, cluster: str, ends: dict[tuple[str, int], int]) -> None:
        with self._lock:
            for (t, p), end in ends.items():
                key = (cluster, t, p)
                if end > self._ends.get(key, -1):
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


class Outstanding:
    """Records sent without waiting for them (``Backend.send``): their delivery reports until
    the next :meth:`flush`, which waits for the rest and raises the first failure."""

    __slots__ = ("ends", "errors", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.ends: dict[tuple[str, int], int] = {}
        self.errors: list[tuple[KafkaError, str, int]] = []

    def __call__(self, err: KafkaError | None, msg: Any) -> None:  # a delivery report
        if err is not None:
            self.errors.append((err, msg.topic(), msg.partition()))
        else:
            tp = (msg.topic(), msg.partition())
            end = msg.offset() + 1
            if end > self.ends.get(tp, -1):
                self.ends[tp] = end

    def send(self, producer: Producer, batch: list[Planned]) -> None:
        _hand_over(producer, batch, self)
        self.sent += len(batch)
        producer.poll(0)  # serve the reports that are in (they pile up until a flush otherwise)

    def flush(self, producer: Producer, cluster_id: str) -> None:
        sent = self.sent
        try:
            _flush(producer, sent)
        finally:
            errors, ends = self.errors, self.ends
            self.sent, self.errors, self.ends = 0, [], {}
        _raise_first(errors)
        VISIBLE_ENDS.note(cluster_id, ends)


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
