"""librdkafka errors as strom errors: every message names the topic, group or client involved."""

from __future__ import annotations

from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException

from strom.backends.common import unknown_topic
from strom.core.errors import BackendError, FencedError, RetriableError, TopicExistsError

__all__ = ["UNKNOWN_TOPIC_CODES", "kafka_error", "kafka_error_in", "make_client", "to_strom_error"]

T = TypeVar("T")

UNKNOWN_TOPIC_CODES = frozenset(
    {
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError.UNKNOWN_TOPIC_ID,
    }
)
FENCED_CODES = frozenset(
    {
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.INVALID_PRODUCER_EPOCH,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    }
)

#: Errors of an unreachable or busy cluster that librdkafka does not flag as retriable.
TRANSIENT_CODES = frozenset(
    {
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
        KafkaError._MSG_TIMED_OUT,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.CONCURRENT_TRANSACTIONS,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.OFFSET_NOT_AVAILABLE,
        KafkaError.UNSTABLE_OFFSET_COMMIT,  # a transaction's offsets are still pending
        # a transaction hit an abortable error (after a broker restart, say: the producer's
        # sequence numbers no longer match): librdkafka purges its queued records; once it is
        # aborted, the work is redone from the last commit
        KafkaError._PURGE_QUEUE,
        KafkaError._PURGE_INFLIGHT,
        KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
    }
)


def kafka_error(exc: BaseException) -> KafkaError | None:
    """The KafkaError a confluent-kafka exception carries (None for other exceptions)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    if isinstance(exc, KafkaError):
        return exc
    return None


def kafka_error_in(exc: BaseException | None) -> KafkaError | None:
    """The KafkaError of ``exc`` or of what caused it (strom errors chain the original)."""
    seen = 0
    while exc is not None and seen < 10:
        err = kafka_error(exc)
        if err is not None:
            return err
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


class PendingTransactionError(RetriableError):
    """Committed offsets cannot be read while a transaction that commits offsets of the group
    is open (UNSTABLE_OFFSET_COMMIT); it ends when its producer's transactional.id is
    initialized again, or when the transaction times out."""


def to_strom_error(
    exc: BaseException | KafkaError, what: str, topic: str | None = None
) -> Exception:
    """A strom error for a failed Kafka operation ``what`` (e.g. "creating topic 'x'")."""
    err = exc if isinstance(exc, KafkaError) else kafka_error_in(exc)
    if err is None:
        return BackendError(f"{what} failed: {exc}")
    code = err.code()
    if topic is not None and code in UNKNOWN_TOPIC_CODES:
        return unknown_topic(topic)
    if topic is not None and code == KafkaError.TOPIC_ALREADY_EXISTS:
        return TopicExistsError(f"topic {topic!r} already exists")
    if code in FENCED_CODES or (err.fatal() and "fenced" in err.str().lower()):
        return FencedError(f"{what} failed: this producer was fenced by a newer one ({err.str()})")
    if code == KafkaError.UNSTABLE_OFFSET_COMMIT:
        return PendingTransactionError(f"{what} failed: {err.name()}: {err.str()}")
    if err.retriable() or code in TRANSIENT_CODES or err.txn_requires_abort():
        return RetriableError(f"{what} failed: {err.name()}: {err.str()}")
    if code == KafkaError._NOENT and "leader" in err.str().lower():  # a broker is down
        return RetriableError(f"{what} failed: {err.name()}: {err.str()}")
    return BackendError(f"{what} failed: {err.name()}: {err.str()}")


def make_client(cls: type[T], conf: dict[str, Any]) -> T:
    """Create a librdkafka client; a setting it rejects becomes a BackendError naming it."""
    try:
        return cls(conf)
    except (KafkaException, ValueError, TypeError) as e:
        err = kafka_error(e)
        detail = err.str() if err is not None else str(e)
        raise BackendError(f"invalid Kafka client settings: {detail}") from None
