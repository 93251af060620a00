"""The fetch hot path: one long-lived read_committed Consumer per thread, reused across calls.

``Backend.fetch(topic, partition, offset, n)`` is a random-access read, while a Kafka consumer
streams: it prefetches every assigned partition in the background from its current position.
A :class:`Fetcher` bridges the two without seeking on every call:

- a partition is assigned (``incremental_assign``) the first time it is fetched, at the asked
  offset, and stays assigned; librdkafka keeps prefetching it;
- the fetcher remembers, per partition, the offset the caller will ask for next (one past the
  last record it returned). A fetch at that offset is served from what was prefetched; any
  other offset is a seek, which drops what was buffered for that partition;
- records of other partitions that arrive meanwhile are kept for their own fetches; a
  partition with many buffered records is paused until its fetches catch up (a resume seeks to
  where the partition stopped: librdkafka does not fetch a resumed partition until its broker
  thread next wakes, up to a second later, and a seek wakes it);
- a fetch returns at once with what is there. When nothing is there, it waits (up to
  ``strom.fetch.wait.ms``) while it cannot know that it is at the end: until librdkafka reports
  end-of-partition at the fetch's position (after an assign, a seek, or records that did not
  reach the end, more are on the way), and while a produce or transaction in this process is
  known to have written records past what it has (so records are visible to fetches in this
  process once produce returns). So an empty answer means the partition's committed end (as
  of the last fetch round trip); when the broker does not answer in time, the fetch raises
  RetriableError rather than answer empty (a restore would take that for the end). Records
  another process writes arrive within the consumer's next fetch round trip
  (``fetch.wait.max.ms``, 50 ms by default, bounds how long an assign or
  a seek waits behind an outstanding long poll);
- a fetch with ``wait=False`` (the worker's loop, which fetches again soon) never waits: it
  returns what librdkafka has delivered so far, so the loop processes other records meanwhile
  instead of waiting for the round trip of what it just produced.

Only committed records are returned (``isolation.level=read_committed``): records of open or
aborted transactions, and transaction markers, are skipped (their offsets are gaps).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from strom.backends.kafka.admin import Cluster
from strom.backends.kafka.config import KafkaSettings, kafka_logger
from strom.backends.kafka.errors import UNKNOWN_TOPIC_CODES, make_client, to_strom_error
from strom.backends.kafka.producer import VISIBLE_ENDS, visible_end
from strom.core.errors import RetriableError
from strom.core.records import ConsumerRecord
from strom.core.types import EMPTY_HEADERS

__all__ = ["Fetcher"]

log = logging.getLogger("strom.kafka")

#: Records pulled from librdkafka per call.
PUMP_BATCH = 2_000
#: A partition with this many buffered records is paused (resumed below half of it).
PAUSE_AT = 20_000

_EOF = KafkaError._PARTITION_EOF
_OUT_OF_RANGE = frozenset({KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE})

TP = tuple[str, int]

#: Consumer settings the fetcher needs whatever the user configured.
FORCED = {
    "enable.partition.eof": "true",
    "enable.auto.commit": "false",
    "enable.auto.offset.store": "false",
    "auto.offset.reset": "error",
}


class Fetcher:
    """Random-access fetches over one streaming consumer (used by one thread at a time)."""

    def __init__(self, settings: KafkaSettings, cluster: Cluster, name: str = "fetch") -> None:
        self.cluster = cluster
        self.cluster_id = settings.bootstrap
        self.wait_s = settings.int_option("strom.fetch.wait.ms") / 1000
        conf = settings.client(
            "consumer",
            logger=kafka_logger(),
        )
        conf.setdefault("group.id", f"strom-{name}")
        conf.update(FORCED)  # the fetch logic relies on these
        self.consumer = make_client(Consumer, conf)
        self.assigned: set[TP] = set()
        self.cursor: dict[TP, int] = {}  # the offset the caller will ask for next
        self.expected: dict[TP, int] = {}  # the next offset the consumer will deliver
        self.buffers: dict[TP, list[ConsumerRecord]] = {}
        self.eof: dict[TP, int] = {}
        self.errors: dict[TP, KafkaError] = {}
        self.out_of_range: set[TP] = set()
        self.paused: set[TP] = set()
        self.closed = False

    # ---- the fetch ---------------------------------------------------------------------------
    def fetch(
        self, topic: str, partition: int, offset: int, max_records: int, wait: bool = True
    ) -> list[ConsumerRecord]:
        tp = (topic, partition)
        if tp not in self.assigned:
            self._assign(tp, offset)
        elif self.cursor[tp] != offset or tp in self.out_of_range:
            self._seek(tp, offset)
        buf = self.buffers[tp]
        for _attempt in range(2):
            if len(buf) < max_records:
                self._pump(0)
                if wait and self._want_more(tp, buf, max_records):
                    deadline = time.monotonic() + self.wait_s
                    while self._want_more(tp, buf, max_records):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            if not buf and self.eof.get(tp) != self.expected[tp]:
                                # no answer: an empty result would claim the end of the log
                                raise RetriableError(
                                    f"fetching {topic}[{partition}] at offset {offset}: no "
                                    f"answer from the broker within {self.wait_s:g}s"
                                )
                            # what a produce here wrote is not readable (yet)
                            VISIBLE_ENDS.forget(self.cluster_id, topic, partition)
                            break
                        self._pump(min(left, 0.1))
            if buf or not self._recover(tp, offset):
                break
        if not buf:
            return []
        if max_records <= 0:
            return []
        if len(buf) <= max_records:
            out = buf[:]
            buf.clear()
        else:
            out = buf[:max_records]
            del buf[:max_records]
        self.cursor[tp] = out[-1].offset + 1
        if tp in self.paused and len(buf) < PAUSE_AT // 2:
            self._resume(tp)
        return out

    def _want_more(self, tp: TP, buf: list[ConsumerRecord], max_records: int) -> bool:
        """Whether waiting can give this fetch records it should return (see module doc)."""
        if len(buf) >= max_records or tp in self.errors or tp in self.out_of_range:
            return False
        if not buf and self.eof.get(tp) != self.expected[tp]:
            return True  # no end-of-partition at our position yet: records may be on the way
        return visible_end(self.cluster, *tp) > self.expected[tp]

    def _recover(self, tp: TP, offset: int) -> bool:
        """After a fetch found nothing: raise what the broker reported; True if the partition
        was repositioned (its records start past ``offset``) and is worth reading again."""
        err = self.errors.pop(tp, None)
        if err is not None:
            self._drop(tp)
            self.cluster.forget(tp[0])
            if err.code() in UNKNOWN_TOPIC_CODES:
                self.cluster.partition(*tp)  # raises UnknownTopicError if it is really gone
            raise to_strom_error(err, f"fetching {tp[0]}[{tp[1]}] at offset {offset}", tp[0])
        if tp in self.out_of_range:
            begin, end = self.cluster.offsets(*tp)
            if offset < begin:  # deleted by retention: read from the first record left
                log.warning(
                    "%s[%s]: offsets %s..%s were deleted (retention or delete_records) before "
                    "they were read; going on from %s",
                    tp[0],
                    tp[1],
                    offset,
                    begin - 1,
                    begin,
                )
                self._seek(tp, begin)
                self.cursor[tp] = offset  # the caller still asks for ``offset``
                return True
            if offset > end:  # past the end: nothing there (yet)
                return False
            # within the log, yet refused: a restarted broker not caught up (say); the next
            # fetch seeks again (an empty answer would read as the end of the log)
            raise RetriableError(
                f"fetching {tp[0]}[{tp[1]}] at offset {offset}: out of range on the broker "
                f"(its log holds offsets {begin}..{end})"
            )
        return False

    # ---- positioning -------------------------------------------------------------------------
    def _assign(self, tp: TP, offset: int) -> None:
        self.consumer.incremental_assign([TopicPartition(tp[0], tp[1], offset)])
        self.assigned.add(tp)
        self.buffers[tp] = []
        self._positioned(tp, offset)

    def _seek(self, tp: TP, offset: int) -> None:
        buf = self.buffers[tp]
        if buf and buf[0].offset <= offset <= buf[-1].offset:  # skipping ahead in the buffer
            i = 0
            while buf[i].offset < offset:
                i += 1
            del buf[:i]
            self.cursor[tp] = offset
            return
        buf.clear()
        self._unpause(tp)  # the buffer is empty now
        target = TopicPartition(tp[0], tp[1], offset)
        try:
            self.consumer.seek(target)
        except Exception:  # not fetching yet (or in an error state): assign afresh
            self.consumer.incremental_unassign([TopicPartition(tp[0], tp[1])])
            self.consumer.incremental_assign([target])
        self._positioned(tp, offset)

    def _positioned(self, tp: TP, offset: int) -> None:
        self.cursor[tp] = offset
        self.expected[tp] = offset
        self.eof.pop(tp, None)
        self.errors.pop(tp, None)
        self.out_of_range.discard(tp)

    def _drop(self, tp: TP) -> None:
        if tp in self.assigned:
            try:
                # librdkafka keeps a partition paused across an unassign: assigned again, it
                # would never be fetched
                self._unpause(tp)
                self.consumer.incremental_unassign([TopicPartition(tp[0], tp[1])])
            except Exception as e:  # pragma: no cover - best effort
                log.debug("unassigning %s failed: %s", tp, e)
            self.assigned.discard(tp)
        for d in (self.cursor, self.expected, self.buffers, self.eof):
            d.pop(tp, None)
        self.paused.discard(tp)
        self.out_of_range.discard(tp)

    def _unpause(self, tp: TP) -> None:
        if tp in self.paused:
            self.consumer.resume([TopicPartition(tp[0], tp[1])])
            self.paused.discard(tp)

    def forget_topics(self, topics: set[str]) -> None:
        """Unassign the partitions of deleted topics (a new topic of that name starts over)."""
        for tp in [tp for tp in self.assigned if tp[0] in topics]:
            self._drop(tp)
            self.errors.pop(tp, None)

    def _resume(self, tp: TP) -> None:
        """Fetch a paused partition again, from where its records stopped."""
        target = TopicPartition(tp[0], tp[1], self.expected[tp])
        self._unpause(tp)
        try:
            # a resume alone is acted on at the broker thread's next wake-up (up to 1 s); a
            # seek wakes it (librdkafka restarts a resumed partition at this offset anyway)
            self.consumer.seek(target)
        except Exception as e:  # pragma: no cover - the resume stands; it is only slower
            log.debug("seeking %s after a resume failed: %s", tp, e)

    # ---- pulling from librdkafka -----------------------------------------------------------
    def _pump(self, timeout: float) -> None:
        """Move what librdkafka has (waiting up to ``timeout`` for the first) into buffers."""
        consumer = self.consumer
        if timeout > 0:
            first = consumer.poll(timeout)
            if first is None:
                return
            self._take([first])
        msgs = consumer.consume(PUMP_BATCH, 0)
        while msgs:
            self._take(msgs)
            if len(msgs) < PUMP_BATCH:
                break
            msgs = consumer.consume(PUMP_BATCH, 0)

    def _take(self, msgs: list[Any]) -> None:
        buffers, expected = self.buffers, self.expected
        new, record = tuple.__new__, ConsumerRecord  # a NamedTuple's __new__ is a Python call
        for m in msgs:
            err = m.error()
            if err is not None:
                self._event(m, err)
                continue
            topic = m.topic()
            partition = m.partition()
            tp = (topic, partition)
            buf = buffers.get(tp)
            if buf is None:
                continue  # no longer assigned
            off = m.offset()
            if off < expected[tp]:
                continue  # from before a seek
            headers = m.headers()
            buf.append(
                new(
                    record,
                    (
                        topic,
                        partition,
                        off,
                        m.timestamp()[1],
                        m.key(),
                        m.value(),
                        tuple(headers) if headers else EMPTY_HEADERS,
                    ),
                )
            )
            expected[tp] = off + 1
        for tp, buf in buffers.items():
            if len(buf) >= PAUSE_AT and tp not in self.paused:
                self.consumer.pause([TopicPartition(tp[0], tp[1])])
                self.paused.add(tp)

    def _event(self, m: Any, err: KafkaError) -> None:
        code = err.code()
        topic, partition = m.topic(), m.partition()
        tp = (topic, partition) if topic is not None and partition is not None else None
        if code == _EOF and tp in self.buffers:
            end = m.offset()
            self.eof[tp] = end
            if end >= self.expected[tp]:
                self.expected[tp] = end
        elif tp in self.buffers and code in _OUT_OF_RANGE:
            self.out_of_range.add(tp)
        elif tp in self.buffers and (code in UNKNOWN_TOPIC_CODES or err.fatal()):
            self.errors[tp] = err
        else:  # transport hiccups and the like: librdkafka retries by itself
            log.debug("consumer event: %s", err)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.consumer.close()
            except Exception as e:  # pragma: no cover - best effort
                log.debug("closing a consumer failed: %s", e)
