"""Transactions (exactly_once_v2) with Kafka's transactional producer.

A strom transaction buffers its records and offsets until ``commit`` (like the other backends),
then runs one Kafka transaction: ``begin_transaction``, produce everything and flush,
``send_offsets_to_transaction`` for each group, the strom fence check, ``commit_transaction``.
Any failure aborts it, so read_committed readers see all of it or nothing; a transaction that
is aborted before ``commit`` never reaches the broker at all. ``commit`` returns once the
commit markers are written (the partitions' last stable offsets are past the records), so the
records are visible to fetches and ``offsets()`` when it returns.

Fencing maps onto Kafka's two ways:

- Kafka fences by ``transactional.id``: a producer that calls ``init_transactions`` with an id
  fences every earlier producer with that id (its next commit fails with PRODUCER_FENCED).
  A transaction fenced for ``(group, member)`` runs on the producer with id
  ``<prefix>-<group>-<member>``, so a newer incarnation of the same member id (a restarted
  instance with a stable member id, a duplicate) fences the older one; strom reports that as
  FencedError. Unfenced transactions use one id per backend instance, ``<prefix>-<uuid>``.
- strom fences by group generation (``Transaction.fence``): after the outputs and offsets are
  sent, but before ``commit_transaction``, the membership topic is read to its end and the
  transaction is aborted with FencedError unless the member is live and joined at or before
  the generation. Between that check and the commit there is one round trip, in which a
  session could expire unnoticed; Kafka Streams closes that gap with the consumer-group
  generation in ``TxnOffsetCommit`` (KIP-447), which needs Kafka's own group protocol.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from strom.backends.api import ProducerRecord
from strom.backends.api import TopicPartition as TP
from strom.backends.common import check_offset
from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.config import KafkaSettings, kafka_logger
from strom.backends.kafka.errors import (
    FENCED_CODES,
    kafka_error,
    kafka_error_in,
    make_client,
    to_strom_error,
)
from strom.backends.kafka.producer import note_ends, plan, send
from strom.core.errors import BackendError, FencedError, RetriableError
from strom.core.partitioner import DefaultPartitioner

__all__ = ["Transactions"]

log = logging.getLogger("strom.kafka")

#: ``transaction.timeout.ms`` of strom's transactional producers unless configured.
TRANSACTION_TIMEOUT_MS = "10000"
#: How long ``send_offsets_to_transaction`` may take before its producer is given up (it
#: answers in milliseconds, or in seconds while a restarted coordinator loads; a producer stuck
#: on a stale coordinator never answers).
SEND_OFFSETS_S = 10.0


def _is_fenced(err: KafkaError | None) -> bool:
    return err is not None and err.code() in FENCED_CODES


class _TxnProducer:
    __slots__ = ("lock", "producer", "stuck", "transactional_id")

    def __init__(self, transactional_id: str, producer: Producer) -> None:
        self.transactional_id = transactional_id
        self.producer = producer
        self.lock = threading.Lock()
        self.stuck = False  # a call into it never returned: it is given up


class Transactions:
    """The transactional producers of one backend and the commit of one transaction."""

    def __init__(
        self,
        settings: KafkaSettings,
        cluster: Cluster,
        check_fence: Callable[[str, str, int], None],
    ) -> None:
        self.settings = settings
        self.cluster = cluster
        self.check_fence = check_fence
        self.timeout = settings.int_option("strom.request.timeout.ms") / 1000
        self.prefix = settings.option("strom.transactional.id.prefix")
        self.instance_id = f"{self.prefix}-{uuid.uuid4().hex}"
        self._producers: dict[str, _TxnProducer] = {}
        self._used: set[str] = set()  # every transactional.id a producer was made for
        self._group_metadata: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._partitioner = DefaultPartitioner()

    # ---- producers -----------------------------------------------------------------------------
    def producer_for(self, fence: tuple[str, str, int] | None) -> _TxnProducer:
        tid = self.instance_id if fence is None else f"{self.prefix}-{fence[0]}-{fence[1]}"
        with self._lock:
            tp = self._producers.get(tid)
        return tp if tp is not None else self._new_producer(tid)

    def _new_producer(self, tid: str) -> _TxnProducer:
        conf = self.settings.client(
            "producer", **{"transactional.id": tid, "logger": kafka_logger()}
        )
        # as Kafka Streams under EOS: a dead instance's open transaction holds back its
        # partitions' readers for at most 10 s, not librdkafka's 60 s
        conf.setdefault("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
        producer = make_client(Producer, conf)
        with self._lock:
            self._used.add(tid)
        try:
            producer.init_transactions(self.timeout)
        except Exception as e:
            raise to_strom_error(e, f"initializing transactional id {tid!r}") from e
        tp = _TxnProducer(tid, producer)
        with self._lock:
            self._producers[tid] = tp
        return tp

    def reinitialize(self) -> None:
        """Initialize every transactional.id this backend used again, with new producers: a
        transaction one of them left open is aborted at once (not after its timeout)."""
        with self._lock:
            ids = set(self._used)
            old = list(self._producers.values())
            self._producers.clear()
        for tp in old:
            tp.stuck = True  # never used again
        for tid in sorted(ids):
            try:
                self._new_producer(tid)
            except BackendError as e:  # unreachable still: the next commit tries again
                log.info("re-initializing transactional id %r failed: %s", tid, e)

    def _discard(self, tp: _TxnProducer) -> None:
        with self._lock:
            if self._producers.get(tp.transactional_id) is tp:
                del self._producers[tp.transactional_id]
        try:
            tp.producer.flush(0)
        except Exception:  # pragma: no cover - it is unusable anyway
            pass

    def group_metadata(self, group: str) -> Any:
        """The consumer-group metadata ``send_offsets_to_transaction`` takes for ``group``.

        strom commits offsets for groups with no Kafka members, so the metadata is that of a
        standalone consumer of the group (generation -1), taken once from a short-lived
        consumer and cached.
        """
        md = self._group_metadata.get(group)
        if md is None:
            conf = self.settings.client("consumer", **{"group.id": group})
            consumer = make_client(Consumer, conf)
            try:
                md = consumer.consumer_group_metadata()
            finally:
                consumer.close()
            self._group_metadata[group] = md
        return md

    # ---- commit ----------------------------------------------------------------------------------
    def commit(
        self,
        records: list[ProducerRecord],
        offsets: list[tuple[str, dict[TP, int]]],
        fence: tuple[str, str, int] | None,
    ) -> None:
        """Commit a buffered transaction atomically (see the module doc)."""
        batch = plan(records, self.cluster, self._partitioner)
        by_group: dict[str, dict[TP, int]] = {}
        for group, offs in offsets:
            for (topic, partition), off in offs.items():
                self.cluster.partition(topic, partition)
                check_offset(topic, partition, off)
            by_group.setdefault(group, {}).update(offs)
        if not batch and not any(by_group.values()):
            if fence is not None:
                self.check_fence(*fence)
            return
        metadata = {g: self.group_metadata(g) for g in by_group}
        txp = self.producer_for(fence)
        with txp.lock:
            placed = self._run(txp, batch, by_group, metadata, fence)
        if placed:
            self._await_visible(placed)

    def _run(
        self,
        txp: _TxnProducer,
        batch: list[Any],
        by_group: dict[str, dict[TP, int]],
        metadata: dict[str, Any],
        fence: tuple[str, str, int] | None,
    ) -> list[tuple[str, int, int]]:
        producer = txp.producer
        what = f"transaction of {txp.transactional_id!r}"
        try:
            producer.begin_transaction()
        except Exception as e:
            self._discard(txp)
            raise to_strom_error(e, f"beginning the {what}") from e
        try:
            positions = send(producer, batch)
            for group, offs in by_group.items():
                tps = [TopicPartition(t, p, o) for (t, p), o in offs.items()]
                self._send_offsets(txp, tps, metadata[group], group)
            if fence is not None:
                self.check_fence(*fence)
            self._commit_with_retries(producer)
        except BaseException as e:
            aborted = self._abort(txp, e)
            if isinstance(e, FencedError):
                raise
            fenced = [x for x in (kafka_error_in(e), aborted) if _is_fenced(x)]
            if fenced:  # a fatal error may first show as purged records, say
                raise FencedError(
                    f"the {what} was fenced: a newer producer took transactional id "
                    f"{txp.transactional_id!r} ({fenced[0].str()})"
                ) from e
            if isinstance(e, BackendError) or kafka_error_in(e) is None:
                raise
            raise to_strom_error(e, f"committing the {what}") from e
        return [(rec[0], p, off) for rec, (p, off) in zip(batch, positions)]

    def _send_offsets(self, txp: _TxnProducer, tps: list[Any], metadata: Any, group: str) -> None:
        """``send_offsets_to_transaction`` with a timeout that holds.

        librdkafka can block in it for ever, past its own timeout, when the group coordinator
        went away and came back (librdkafka issues 5456 and 5511: a broker restart does it).
        So it runs on a helper thread; if it has not returned in time, the producer is given
        up (the next transaction starts a new one with the same transactional.id, which
        fences this one and aborts its transaction) and a RetriableError is raised.
        """
        done = threading.Event()
        failure: list[BaseException] = []
        wait = min(self.timeout, SEND_OFFSETS_S)

        def call() -> None:
            try:
                txp.producer.send_offsets_to_transaction(tps, metadata, wait)
            except BaseException as e:
                failure.append(e)
            finally:
                done.set()

        threading.Thread(target=call, name="strom-send-offsets", daemon=True).start()
        if not done.wait(wait + 2):
            txp.stuck = True
            raise RetriableError(
                f"sending the offsets of group {group!r} to the transaction of "
                f"{txp.transactional_id!r} did not return within {wait + 2:.0f}s "
                "(the group coordinator was unreachable); the producer is replaced"
            )
        if failure:
            raise failure[0]

    def _commit_with_retries(self, producer: Producer) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                producer.commit_transaction(self.timeout)
                return
            except Exception as e:
                err = kafka_error(e)
                if err is None or not err.retriable() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _abort(self, txp: _TxnProducer, cause: BaseException) -> KafkaError | None:
        """Abort the open transaction; returns the error that stopped the abort, if any."""
        err = kafka_error_in(cause)
        if txp.stuck:  # a call is still blocked in it: only a new producer can abort
            self._discard(txp)
            return None
        if err is not None and (err.fatal() or err.code() in FENCED_CODES):
            self._discard(txp)  # fenced or broken: a new transaction starts a new producer
            return err
        try:
            txp.producer.abort_transaction(self.timeout)
        except Exception as e:
            if not _is_fenced(kafka_error(e)):
                log.warning("aborting the transaction of %r failed: %s", txp.transactional_id, e)
            self._discard(txp)
            return kafka_error(e)
        if isinstance(cause, RetriableError) or isinstance(
            to_strom_error(cause, ""), RetriableError
        ):
            # the broker was unreachable or restarted: a new producer looks the coordinators
            # up afresh (this one may keep a stale one: librdkafka issue 5511)
            self._discard(txp)
        return None

    def _await_visible(self, placed: list[tuple[str, int, int]]) -> None:
        """Wait until the commit markers make the records readable (last stable offsets).

        The coordinator writes them a moment after ``commit_transaction`` returns. Waiting here
        costs no time overall: the next transaction on these partitions would wait for them
        anyway (the broker answers CONCURRENT_TRANSACTIONS until they are written).
        """
        need: dict[TP, int] = {}
        for t, p, off in placed:
            if off + 1 > need.get((t, p), -1):
                need[t, p] = off + 1
        deadline = time.monotonic() + self.timeout
        pending = dict(need)
        while pending:
            ends = self.cluster.stable_ends(pending)
            pending = {tp: n for tp, n in pending.items() if ends.get(tp, -1) < n}
            if pending:
                if time.monotonic() > deadline:
                    raise BackendError(
                        f"committed, but the records are not readable after "
                        f"{self.timeout:.0f}s: {sorted(pending)}"
                    )
                time.sleep(0.002)
        note_ends(self.cluster.settings.bootstrap, placed)

    def close(self) -> None:
        with self._lock:
            producers = list(self._producers.values())
            self._producers.clear()
        for tp in producers:
            try:
                tp.producer.flush(5)
            except Exception as e:  # pragma: no cover - best effort
                log.debug("closing %r: %s", tp.transactional_id, e)
