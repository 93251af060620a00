"""Topics, offsets and group offsets through one librdkafka AdminClient, plus a topic cache.

The cache holds what a produce or fetch must know before it touches the wire: a topic's
partition count and whether it is compacted. Misses ask the cluster; topics this backend
creates or deletes update it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from confluent_kafka import (
    OFFSET_END,
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaError,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    ConfigSource,
    NewTopic,
    OffsetSpec,
)

from strom.backends.api import TopicInfo
from strom.backends.common import cleanup_rules, unknown_partition, unknown_topic
from strom.backends.kafka.config import KafkaSettings
from strom.backends.kafka.errors import (
    UNKNOWN_TOPIC_CODES,
    kafka_error,
    make_client,
    to_strom_error,
)
from strom.core.errors import BackendError, RetriableError, TopicExistsError

log = logging.getLogger("strom.kafka")

__all__ = ["Cluster", "TopicMeta", "is_hidden"]

#: Topics Kafka (and strom's membership log) keep for themselves; ``list_topics`` hides them.
HIDDEN_PREFIX = "__"
TOPIC_SETTLE_S = 30.0
#: How long a request failing for a transient reason (a leader moving) is asked again.
TRANSIENT_RETRY_S = 5.0


def admin_config(settings: KafkaSettings) -> dict[str, Any]:
    """The admin client's settings. It is never polled, so its log lines cannot go through
    Python logging; they would go raw to stderr (a broker outage: one per failed reconnect).
    It logs only critical ones unless ``log_level`` is set: each failed admin request raises
    its error to the caller anyway."""
    conf = settings.client("admin")
    conf.setdefault("log_level", "2")
    return conf


#: How long one group-coordinator request may take before the admin client is renewed and
#: the request sent again (they answer in milliseconds; a stale coordinator never answers).
GROUP_ATTEMPT_S = 5.0
#: How long reading offsets waits for a pending transaction's offsets before it says so
#: (PendingTransactionError: the backend then re-initializes its transactional producers).
UNSTABLE_WAIT_S = 2.0
#: Group coordinator answers that mean "ask again shortly" (it is moving or loading).
COORDINATOR_BUSY = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.UNSTABLE_OFFSET_COMMIT,
        KafkaError.REBALANCE_IN_PROGRESS,
    }
)


def _busy(err: KafkaError | None) -> bool:
    return err is not None and (err.code() in COORDINATOR_BUSY or err.retriable())


def is_hidden(name: str) -> bool:
    return name.startswith(HIDDEN_PREFIX)


class TopicMeta(NamedTuple):
    partitions: int
    compacted: bool


class Cluster:
    """The admin side of one cluster: topics, watermarks, committed offsets."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self.timeout = settings.int_option("strom.request.timeout.ms") / 1000
        # no ``logger``: nothing polls an AdminClient, so its log lines would pile up unread
        self.admin = make_client(AdminClient, admin_config(settings))
        self._topics: dict[str, TopicMeta] = {}
        self._lock = threading.Lock()

    # ---- the topic cache ---------------------------------------------------------------------
    def topic(self, name: str, refresh: bool = False) -> TopicMeta:
        """Partition count and compaction of ``name``; UnknownTopicError if it does not exist."""
        meta = None if refresh else self._topics.get(name)
        if meta is not None:
            return meta
        partitions = self._partition_count(name)
        if partitions is None:
            self.forget(name)
            raise unknown_topic(name)
        config = self._configs([name]).get(name, {})
        meta = TopicMeta(partitions, cleanup_rules(name, config).compact)
        with self._lock:
            self._topics[name] = meta
        return meta

    def partition(self, topic: str, partition: object) -> TopicMeta:
        """Check that ``topic`` has ``partition`` (asking the cluster once if it looks wrong)."""
        meta = self.topic(topic)
        if partition.__class__ is not int or not 0 <= partition < meta.partitions:  # type: ignore[operator]
            meta = self.topic(topic, refresh=True)  # partitions may have been added
            if partition.__class__ is not int or not 0 <= partition < meta.partitions:  # type: ignore[operator]
                raise unknown_partition(topic, partition, meta.partitions)
        return meta

    def forget(self, name: str) -> None:
        with self._lock:
            self._topics.pop(name, None)

    def _partition_count(self, name: str) -> int | None:
        try:
            md = self.admin.list_topics(topic=name, timeout=self.timeout)
        except Exception as e:
            raise to_strom_error(e, f"reading the metadata of topic {name!r}", name) from e
        t = md.topics.get(name)
        if t is None or (t.error is not None and t.error.code() in UNKNOWN_TOPIC_CODES):
            return None
        if t.error is not None:
            raise to_strom_error(t.error, f"reading the metadata of topic {name!r}", name)
        return len(t.partitions)

    # ---- admin ---------------------------------------------------------------------------------
    def create_topic(
        self, name: str, partitions: int, config: dict[str, str], exist_ok: bool
    ) -> None:
        """Create a topic; a ``replication.factor`` in ``config`` is the topic's replication
        factor (-1 or none: the broker's ``default.replication.factor``)."""
        config = dict(config)
        raw = config.pop("replication.factor", -1)
        try:
            factor = int(raw)
        except ValueError:
            raise BackendError(
                f"topic {name!r}: replication.factor must be an integer, got {raw!r}"
            ) from None
        new = NewTopic(name, partitions, replication_factor=factor, config=config)
        future = self.admin.create_topics([new], request_timeout=self.timeout)[name]
        try:
            future.result()
        except Exception as e:
            err = kafka_error(e)
            if err is not None and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                if exist_ok:  # perhaps created a moment ago by another process: wait for it
                    self._await_topic(name, partitions, exact=False)
                    return
                raise TopicExistsError(f"topic {name!r} already exists") from None
            raise to_strom_error(e, f"creating topic {name!r}") from e
        self._await_topic(name, partitions)
        with self._lock:
            self._topics[name] = TopicMeta(partitions, cleanup_rules(name, config).compact)

    def delete_topic(self, name: str) -> None:
        self.forget(name)
        future = self.admin.delete_topics([name], request_timeout=self.timeout)[name]
        try:
            future.result()
        except Exception as e:
            raise to_strom_error(e, f"deleting topic {name!r}", name) from e
        self._await_topic(name, None)
        self.forget(name)

    def _await_topic(self, name: str, partitions: int | None, exact: bool = True) -> None:
        """Until the metadata shows ``name`` with a leader for every partition (or gone);
        ``exact=False`` accepts any partition count above zero."""
        deadline = time.monotonic() + TOPIC_SETTLE_S
        while True:
            md = self.admin.list_topics(topic=name, timeout=self.timeout)
            t = md.topics.get(name)
            exists = t is not None and t.error is None
            if partitions is None and not exists:
                return
            if (
                partitions is not None
                and exists
                and (len(t.partitions) == partitions or (not exact and t.partitions))
                and all(p.leader >= 0 and p.error is None for p in t.partitions.values())
            ):
                return
            if time.monotonic() > deadline:
                state = "still exists" if partitions is None else "has no leaders yet"
                raise BackendError(f"topic {name!r} {state} after {TOPIC_SETTLE_S:.0f}s")
            time.sleep(0.02)

    def list_topics(self) -> dict[str, TopicInfo]:
        try:
            md = self.admin.list_topics(timeout=self.timeout)
        except Exception as e:
            raise to_strom_error(e, "listing topics") from e
        names = sorted(n for n, t in md.topics.items() if t.error is None and not is_hidden(n))
        configs = self._configs(names)
        out = {}
        for n in names:
            config = configs.get(n)
            if config is None:  # deleted meanwhile
                continue
            out[n] = TopicInfo(n, len(md.topics[n].partitions), config)
        return out

    def _configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        """The settings given to each topic (not the broker's defaults)."""
        if not names:
            return {}
        resources = [ConfigResource("topic", n) for n in names]
        futures = self.admin.describe_configs(resources, request_timeout=self.timeout)
        out = {}
        for res, future in futures.items():
            try:
                entries = future.result()
            except Exception as e:
                err = kafka_error(e)
                if err is not None and err.code() in UNKNOWN_TOPIC_CODES:
                    continue
                raise to_strom_error(e, f"reading the config of topic {res.name!r}") from e
            out[res.name] = {
                k: e.value
                for k, e in sorted(entries.items())
                if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value and e.value is not None
            }
        return out

    # ---- offsets ---------------------------------------------------------------------------------
    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        """(log start offset, last stable offset) of one partition."""
        self.partition(topic, partition)
        tp = TopicPartition(topic, partition)
        first = self.admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=self.timeout)
        last = self.admin.list_offsets(
            {tp: OffsetSpec.latest()},
            isolation_level=IsolationLevel.READ_COMMITTED,
            request_timeout=self.timeout,
        )
        try:
            begin = next(iter(first.values())).result().offset
            end = next(iter(last.values())).result().offset
        except Exception as e:
            self.forget(topic)
            raise to_strom_error(e, f"listing offsets of {topic}[{partition}]", topic) from e
        return begin, end

    def stable_ends(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The last stable offset of each partition (one request per leader)."""
        specs = {TopicPartition(t, p): OffsetSpec.latest() for t, p in partitions}
        if not specs:
            return {}
        deadline = time.monotonic() + TRANSIENT_RETRY_S
        while True:
            futures = self.admin.list_offsets(
                specs, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=self.timeout
            )
            try:
                return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}
            except Exception as e:
                what = sorted((tp.topic, tp.partition) for tp in specs)
                err = to_strom_error(e, f"listing the stable offsets of {what}")
                if not isinstance(err, RetriableError) or time.monotonic() > deadline:
                    raise err from e
                time.sleep(0.1)  # a leader moving (a broker restart, say): ask again

    # ---- consumer group offsets ----------------------------------------------------------------
    def _group_call(self, call: Callable[[float], Any], what: str) -> Any:
        """Run a group-coordinator request (``call(timeout_s)``), again while the coordinator
        is busy or moving; an attempt that times out renews the admin client and tries again
        (see ``_renew_admin``), until ``strom.request.timeout.ms`` has passed."""
        started = time.monotonic()
        deadline = started + self.timeout
        delay = 0.01
        while True:
            attempt = max(0.5, min(GROUP_ATTEMPT_S, deadline - time.monotonic()))
            try:
                result = call(attempt)
                errors = [tp.error for tp in getattr(result, "topic_partitions", None) or ()]
                busy = [e for e in errors if _busy(e)]
                if not busy:
                    return result
                err: KafkaError | None = busy[0]
            except Exception as e:
                err = kafka_error(e)
                if err is not None and err.code() == KafkaError._TIMED_OUT:
                    self._renew_admin(what)
                    if time.monotonic() > deadline:
                        raise to_strom_error(err, what) from e
                    continue
                if not _busy(err):
                    raise
            if time.monotonic() > deadline or (
                err is not None
                and err.code() == KafkaError.UNSTABLE_OFFSET_COMMIT
                and time.monotonic() - started > UNSTABLE_WAIT_S
            ):  # a transaction left open holds the offsets: the caller can end it
                assert err is not None
                raise to_strom_error(err, what)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _renew_admin(self, what: str) -> None:
        """Replace the admin client after a group request timed out: librdkafka can keep a
        group coordinator that went away (a broker restart) cached for good and time out every
        request to it (librdkafka issue 5511); a new client looks the coordinator up afresh."""
        log.warning("%s timed out; renewing the admin client", what)
        self.admin = make_client(AdminClient, admin_config(self.settings))

    def committed(
        self, group: str, partitions: list[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in partitions])
        what = f"reading the offsets of group {group!r}"

        def call(timeout: float) -> Any:
            futures = self.admin.list_consumer_group_offsets(
                [request], require_stable=True, request_timeout=timeout
            )
            return futures[group].result()

        try:
            result = self._group_call(call, what)
        except Exception as e:
            err = kafka_error(e)
            if err is None:
                raise
            if err.code() == KafkaError.GROUP_ID_NOT_FOUND:
                return {}
            raise to_strom_error(e, what) from e
        out = {}
        for tp in result.topic_partitions:
            if tp.error is not None and tp.error.code() not in UNKNOWN_TOPIC_CODES:
                raise to_strom_error(tp.error, what)
            if tp.error is None and tp.offset >= 0:
                out[tp.topic, tp.partition] = tp.offset
        return out

    def commit_offsets(self, group: str, offsets: Mapping[tuple[str, int], int]) -> None:
        if not offsets:
            return
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        )
        what = f"committing offsets of group {group!r}"

        def call(timeout: float) -> Any:
            futures = self.admin.alter_consumer_group_offsets([request], request_timeout=timeout)
            return futures[group].result()

        try:
            result = self._group_call(call, what)
        except Exception as e:
            if kafka_error(e) is None:
                raise
            raise to_strom_error(e, what) from e
        for tp in result.topic_partitions:
            if tp.error is not None:
                raise to_strom_error(tp.error, what, tp.topic)

    def delete_group(self, group: str) -> None:
        what = f"deleting group {group!r}"

        def call(timeout: float) -> Any:
            futures = self.admin.delete_consumer_groups([group], request_timeout=timeout)
            return futures[group].result()

        try:
            self._group_call(call, what)
        except Exception as e:
            err = kafka_error(e)
            if err is None:
                raise
            if err.code() == KafkaError.GROUP_ID_NOT_FOUND:
                return
            if err.code() == KafkaError.NON_EMPTY_GROUP:
                raise BackendError(
                    f"group {group!r} still has active Kafka consumers: stop them first"
                ) from None
            raise to_strom_error(e, what) from e

    # ---- records ---------------------------------------------------------------------------------
    def delete_records(self, topic: str, partition: int, before_offset: int) -> None:
        """Move the log start of a partition up to ``before_offset`` (at most to its end)."""
        _begin, end = self.offsets(topic, partition)
        target = before_offset if before_offset < end else OFFSET_END
        futures = self.admin.delete_records(
            [TopicPartition(topic, partition, target)], request_timeout=self.timeout
        )
        try:
            for future in futures.values():
                future.result()
        except Exception as e:
            raise to_strom_error(e, f"deleting records of {topic}[{partition}]", topic) from e

    def close(self) -> None:
        with self._lock:
            self._topics.clear()
        self.admin = None  # type: ignore[assignment]  # frees the librdkafka handle now
