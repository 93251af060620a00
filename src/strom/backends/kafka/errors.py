"""librdkafka errors as strom errors: every message names the topic, group or client involved."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from strom.backends.common import unknown_topic
from strom.core.errors import BackendError, FencedError, TopicExistsError

__all__ = ["UNKNOWN_TOPIC_CODES", "kafka_error", "to_strom_error"]

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


def kafka_error(exc: BaseException) -> KafkaError | None:
    """The KafkaError a confluent-kafka exception carries (None for other exceptions)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    if isinstance(exc, KafkaError):
        return exc
    return None


def to_strom_error(
    exc: BaseException | KafkaError, what: str, topic: str | None = None
) -> Exception:
    """A strom error for a failed Kafka operation ``what`` (e.g. "creating topic 'x'")."""
    err = exc if isinstance(exc, KafkaError) else kafka_error(exc)
    if err is None:
        return BackendError(f"{what} failed: {exc}")
    code = err.code()
    if topic is not None and code in UNKNOWN_TOPIC_CODES:
        return unknown_topic(topic)
    if topic is not None and code == KafkaError.TOPIC_ALREADY_EXISTS:
        return TopicExistsError(f"topic {topic!r} already exists")
    if code in FENCED_CODES or (err.fatal() and "fenced" in err.str().lower()):
        return FencedError(f"{what} failed: this producer was fenced by a newer one ({err.str()})")
    return BackendError(f"{what} failed: {err.name()}: {err.str()}")
