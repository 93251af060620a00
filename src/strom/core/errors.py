"""One exception hierarchy for strom; every error names what was wrong and where."""

from __future__ import annotations


class StromError(Exception):
    """Base of every error strom raises."""


class TopologyError(StromError):
    """A topology that cannot work, found while building it (Kafka's TopologyException)."""


class ConfigError(StromError):
    """An unknown, mistyped or invalid configuration value."""


class SerializationError(StromError):
    """A value could not be turned into bytes (or bytes into a value)."""


class DeserializationError(SerializationError):
    """Bytes read from a topic could not be deserialized.

    Carries where the bytes came from so the message can name topic, partition and offset.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        field: str | None = None,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.field = field
        where = []
        if topic is not None:
            where.append(f"topic={topic!r}")
        if partition is not None:
            where.append(f"partition={partition}")
        if offset is not None:
            where.append(f"offset={offset}")
        if field is not None:
            where.append(f"field={field!r}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class StoreError(StromError):
    """A state store was used wrongly (closed, unknown, read-only) or failed."""


class StreamsError(StromError):
    """An error while processing records (Kafka's StreamsException)."""


class ProcessorError(StreamsError):
    """A user function raised while processing a record; names the node and the record."""


class BackendError(StromError):
    """The log (memory://, local://, kafka://) failed or was used wrongly."""


class UnknownTopicError(BackendError, LookupError):
    """A topic that does not exist (topics are never created implicitly)."""


class TopicExistsError(BackendError):
    """Creating a topic that already exists."""


class FencedError(BackendError):
    """A zombie: this member's generation or transaction was superseded."""


class RetriableError(BackendError):
    """A transient failure of the log (broker unreachable, a request timed out): nothing of
    the operation was committed, and trying again later can succeed."""
