"""``KafkaBackend``: strom's backend protocol on Apache Kafka, through confluent-kafka.

What maps to what (details in each module):

- admin -> one AdminClient (admin.py): topics are created with the given configs and the
  broker's default replication factor unless ``replication.factor`` is among them;
  ``list_topics`` shows each topic's explicitly set configs and hides Kafka's internal ``__``
  topics;
- ``produce`` -> one idempotent Producer shared by all threads (producer.py): the batch is
  validated and partitioned first, then sent and flushed; returns once every record is acked;
- ``fetch`` -> one read_committed Consumer per thread, assigned and positioned by the fetches
  themselves and reused (fetcher.py);
- ``offsets`` -> (log start offset, last stable offset): the end is what a read_committed
  consumer can reach, one past the last committed record or transaction marker;
- ``committed``/``commit_offsets``/``delete_group`` -> the group coordinator, through the admin
  client (strom's groups have no Kafka consumers, so committing for them is always allowed);
- ``heartbeat``/``leave`` -> strom's membership protocol on a compacted topic (membership.py);
- ``transaction`` -> Kafka transactions with strom's fence check before the commit
  (transaction.py);
- ``maintain`` -> nothing: the broker applies retention and compaction itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Producer

from strom.backends.api import (
    Backend,
    Membership,
    ProducerRecord,
    TopicInfo,
    TopicPartition,
    Transaction,
)
from strom.backends.common import BufferedTransaction, check_offset, validate_topic
from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.config import KafkaSettings, kafka_logger, parse_kafka_url, redact
from strom.backends.kafka.errors import PendingTransactionError, make_client
from strom.backends.kafka.fetcher import Fetcher
from strom.backends.kafka.membership import GroupLog
from strom.backends.kafka.producer import (
    VISIBLE_ENDS,
    Failures,
    Outstanding,
    note_ends,
    plan,
    send,
    visible_end,
)
from strom.backends.kafka.transaction import Transactions
from strom.core.errors import BackendError
from strom.core.partitioner import DefaultPartitioner
from strom.core.records import ConsumerRecord

__all__ = ["KafkaBackend"]

log = logging.getLogger("strom.kafka")
#: How long a group's offsets stay pending before the backend warns (see _warn_if_stuck).
STUCK_PENDING_S = 60.0


class KafkaBackend(Backend):
    """Apache Kafka as a strom log: ``kafka://host:port[,host:port][?setting=value&...]``.

    ``config`` adds librdkafka settings (``security.protocol``, ``sasl.*``, ``ssl.*``, ...),
    passed through unchanged; see :mod:`strom.backends.kafka.config`.
    """

    def __init__(
        self, url: str = "kafka://127.0.0.1:9092", config: Mapping[str, object] | None = None
    ) -> None:
        self.settings: KafkaSettings = parse_kafka_url(url, config)
        self.url = url
        self.cluster = Cluster(self.settings)
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._sender: Producer | None = None  # send()'s: reports failed deliveries only
        self._send_failures = Failures()
        self._pending_since: dict[str, float] = {}  # group -> when its offsets became pending
        self._warned_stuck: set[str] = set()
        self._local = threading.local()
        self._fetchers: list[Fetcher] = []
        self._deleted: set[str] = set()
        self._deleted_epoch = 0
        self._partitioner = DefaultPartitioner()
        self._groups = GroupLog(
            self.settings.option("strom.groups.topic"),
            self.cluster,
            self._get_producer,
            lambda: Fetcher(self.settings, self.cluster, "groups"),
        )
        self._transactions = Transactions(self.settings, self.cluster, self._groups.check_fence)
        self._closed = False

    # ---- clients -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise BackendError(f"backend {redact(self.url)} is closed")

    def _get_producer(self) -> Producer:
        return self._lazy_producer("_producer")

    def _get_sender(self) -> Producer:
        """send()'s producer: it reports failed deliveries only (no Python call per record)."""
        return self._lazy_producer(
            "_sender", **{"delivery.report.only.error": True, "on_delivery": self._send_failures}
        )

    def _lazy_producer(self, attr: str, **overrides: Any) -> Producer:
        """The producer kept in ``attr``, made on first use (once, whatever the threads)."""
        producer: Producer | None = getattr(self, attr)
        if producer is None:
            with self._lock:
                producer = getattr(self, attr)
                if producer is None:
                    conf = self.settings.client("producer", logger=kafka_logger(), **overrides)
                    producer = make_client(Producer, conf)
                    setattr(self, attr, producer)
        return producer

    def _fetcher(self) -> Fetcher:
        local = self._local
        fetcher: Fetcher | None = getattr(local, "fetcher", None)
        if fetcher is None:
            fetcher = Fetcher(self.settings, self.cluster)
            with self._lock:
                self._fetchers.append(fetcher)
            local.fetcher = fetcher
            local.epoch = self._deleted_epoch
        elif local.epoch != self._deleted_epoch:
            with self._lock:
                deleted = set(self._deleted)
            fetcher.forget_topics(deleted)
            local.epoch = self._deleted_epoch
        return fetcher

    # ---- admin ---------------------------------------------------------------------------------
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> None:
        self._check_open()
        cfg = validate_topic(name, partitions, config)
        self.cluster.create_topic(name, partitions, cfg, exist_ok)

    def delete_topic(self, name: str) -> None:
        self._check_open()
        self.cluster.delete_topic(name)
        VISIBLE_ENDS.forget_topic(self.settings.bootstrap, name)
        with self._lock:
            self._deleted.add(name)
            self._deleted_epoch += 1

    def list_topics(self) -> dict[str, TopicInfo]:
        self._check_open()
        return self.cluster.list_topics()

    # ---- produce and fetch -------------------------------------------------------------------
    def produce(self, records: Iterable[ProducerRecord]) -> list[tuple[int, int]]:
        self._check_open()
        batch = plan(records, self.cluster, self._partitioner)
        if not batch:
            return []
        placed = send(self._get_producer(), batch)
        note_ends(
            self.settings.bootstrap, [(rec[0], p, off) for rec, (p, off) in zip(batch, placed)]
        )
        return placed

    def send(self, records: Iterable[ProducerRecord]) -> None:
        self._check_open()
        batch = plan(records, self.cluster, self._partitioner)
        if batch:
            self._outstanding().send(self._get_sender(), batch)

    def flush(self) -> None:
        self._check_open()
        outstanding: Outstanding | None = getattr(self._local, "outstanding", None)
        if outstanding is not None and outstanding.sent:
            outstanding.flush(self._get_sender(), self._send_failures, self.settings.bootstrap)

    def _outstanding(self) -> Outstanding:
        outstanding: Outstanding | None = getattr(self._local, "outstanding", None)
        if outstanding is None:
            outstanding = self._local.outstanding = Outstanding()
        return outstanding

    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = 1000,
        *,
        wait: bool = True,
    ) -> list[ConsumerRecord]:
        self._check_open()
        self.cluster.partition(topic, partition)
        return self._fetcher().fetch(topic, partition, max(offset, 0), max_records, wait)

    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        """(log start offset, last stable offset); if a produce or transaction of this process
        wrote past that end, waits (up to ``strom.fetch.wait.ms``) for the broker to show it."""
        self._check_open()
        begin, end = self.cluster.offsets(topic, partition)
        known = visible_end(self.cluster, topic, partition)
        if end < known:  # commit markers on their way (or an open transaction ahead of them)
            deadline = time.monotonic() + self.settings.int_option("strom.fetch.wait.ms") / 1000
            while end < known and time.monotonic() < deadline:
                time.sleep(0.002)
                end = self.cluster.stable_ends([(topic, partition)])[topic, partition]
            if end < known:
                VISIBLE_ENDS.forget(self.settings.bootstrap, topic, partition)
        return begin, end

    # ---- consumer groups ---------------------------------------------------------------------
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        self._check_open()
        try:
            offsets = self.cluster.committed(group, [(t, p) for t, p in partitions])
        except PendingTransactionError as e:
            # most likely this backend's own transaction, left open when the broker went
            # away: initializing its transactional.id again aborts it (Kafka Streams does the
            # same when a task starts); the caller retries
            self._pending_since.setdefault(group, time.monotonic())
            self._warn_if_stuck(group, e)
            self._transactions.reinitialize()
            raise
        self._pending_since.pop(group, None)
        return offsets

    def _warn_if_stuck(self, group: str, error: PendingTransactionError) -> None:
        """Say once, after a minute, what offsets that never become stable usually mean."""
        since = self._pending_since[group]
        if time.monotonic() - since < STUCK_PENDING_S or group in self._warned_stuck:
            return
        self._warned_stuck.add(group)
        log.warning(
            "group %r: its committed offsets have been pending (%s) for %.0f s although this "
            "member's transactional id was initialized again (which aborts an open transaction "
            "of its own). A transaction of another producer may still be open (it ends within "
            "its transaction.timeout.ms), or the broker recorded a transaction complete without "
            "writing its marker to __consumer_offsets (seen with a single-node Kafka 4.4 broker "
            "stopped with a controlled shutdown while a transaction ended); then the offsets "
            "stay pending until an operator resolves them. The worker keeps waiting: reading "
            "them now could process records twice.",
            group,
            error,
            time.monotonic() - since,
        )

    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        self._check_open()
        for (topic, partition), off in offsets.items():
            self.cluster.partition(topic, partition)
            check_offset(topic, partition, off)
        self.cluster.commit_offsets(group, offsets)

    def delete_group(self, group: str) -> None:
        self._check_open()
        self.cluster.delete_group(group)
        self._groups.delete_group(group)

    def heartbeat(
        self, group: str, member: str, session_timeout_ms: int, acked_generation: int = -1
    ) -> Membership:
        self._check_open()
        return self._groups.heartbeat(group, member, session_timeout_ms, acked_generation)

    def leave(self, group: str, member: str) -> None:
        self._check_open()
        self._groups.leave(group, member)

    # ---- transactions --------------------------------------------------------------------------
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
        self._transactions.commit(records, offsets, fence)

    def delete_records(self, topic: str, partition: int, before_offset: int) -> None:
        self._check_open()
        check_offset(topic, partition, before_offset)
        self.cluster.delete_records(topic, partition, before_offset)

    # ---- lifecycle ---------------------------------------------------------------------------
    def maintain(self, now_ms: int) -> None:
        """Nothing to do: the broker applies retention and compaction itself."""
        self._check_open()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            fetchers, self._fetchers = self._fetchers, []
            producers = [self._producer, self._sender]
            self._producer = self._sender = None
        for producer in producers:
            if producer is not None:
                remaining = producer.flush(30)
                if remaining:
                    log.warning("%s records were not delivered before close", remaining)
        self._transactions.close()
        self._groups.close()
        for fetcher in fetchers:
            fetcher.close()
        self.cluster.close()

    def __repr__(self) -> str:
        return f"KafkaBackend({redact(self.url)!r})"
