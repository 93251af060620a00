"""The physical nodes a task runs: sources deserialize, processors process, sinks serialize.

A built node is per task (each task gets fresh processor instances). Nodes reach the task
only through the :class:`NodeContext` protocol, which the runtime implements.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from strom.core.errors import SerializationError, StreamsError
from strom.core.records import ConsumerRecord
from strom.core.types import Headers
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.serdes.base import Serde


def blame(error: BaseException, node: str) -> None:
    """Record on ``error`` the processor it came from, unless a processor further down
    already is (what the runtime's forward does; read back by the task's error message)."""
    if getattr(error, "_strom_node", None) is None:
        error._strom_node = node  # type: ignore[attr-defined]


class RecordContext(NamedTuple):
    """What a topic-choosing function sees: where the record being processed came from."""

    topic: str | None
    partition: int
    offset: int
    timestamp: int
    headers: Headers


#: ``fn(key, value, record_context) -> topic name``: picks a sink's topic per record.
TopicNameExtractor = Callable[[Any, Any, RecordContext], str]
#: ``fn(topic, key, value, num_partitions) -> partition``: picks a sink's partition per record.
StreamPartitioner = Callable[[str, Any, Any, int], int | None]
#: ``fn(record: Record, partition_time: int) -> timestamp`` (see strom.processor.timestamps).
TimestampExtractor = Callable[[Record[Any, Any], int], int]


class RecordCollector(Protocol):
    """Where sinks send serialized records (a producer, or the test driver's topics)."""

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers,
        partition: int | None,
        partitioner: Callable[[int], int | None] | None = None,
    ) -> None: ...


class NodeContext(ProcessorContext):
    """The processor context as nodes see it: the public one plus the record collector.

    The runtime gives each node its own; the DSL's processors rely on it.
    """

    record_collector: RecordCollector

    @abstractmethod
    def record_context(self) -> RecordContext: ...

    @property
    @abstractmethod
    def current_node(self) -> ProcessorNode: ...


class ProcessorNode:
    """A user or DSL processor, with its children in the order they were added."""

    __slots__ = ("children", "context", "name", "processor", "store_names")

    def __init__(
        self, name: str, processor: Processor[Any, Any] | None, store_names: tuple[str, ...] = ()
    ):
        self.name = name
        self.processor = processor
        self.store_names = store_names
        self.children: list[ProcessorNode] = []
        self.context: Any = None

    def init(self, context: NodeContext) -> None:
        self.context = context
        if self.processor is not None:
            self.processor.init(context)

    def process(self, record: Record[Any, Any]) -> None:
        self.processor.process(record)  # type: ignore[union-attr]

    def process_fn(self) -> Any:
        """The callable that processes a record here: the processor's own ``process``."""
        return self.processor.process if self.processor is not None else self.process

    def close(self) -> None:
        if self.processor is not None:
            self.processor.close()

    def child(self, name: str) -> ProcessorNode | None:
        for c in self.children:
            if c.name == name:
                return c
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SourceNode(ProcessorNode):
    """Reads one or more topics; turns a :class:`ConsumerRecord` into a typed :class:`Record`."""

    __slots__ = ("key_serde", "timestamp_extractor", "topics", "value_serde")

    def __init__(
        self,
        name: str,
        topics: tuple[str, ...],
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        timestamp_extractor: TimestampExtractor | None = None,
    ) -> None:
        super().__init__(name, None)
        self.topics = topics
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.timestamp_extractor = timestamp_extractor

    def process(self, record: Record[Any, Any]) -> None:
        self.context.forward(record)

    def deserialize_key(self, raw: ConsumerRecord) -> Any:
        return self.key_serde.deserialize(raw.topic, raw.key)

    def deserialize_value(self, raw: ConsumerRecord) -> Any:
        return self.value_serde.deserialize(raw.topic, raw.value)


class SinkNode(ProcessorNode):
    """Serializes records and hands them to the record collector."""

    __slots__ = ("collector", "key_serde", "partitioner", "topic", "topic_extractor", "value_serde")

    def __init__(
        self,
        name: str,
        topic: str | None,
        topic_extractor: TopicNameExtractor | None,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        partitioner: StreamPartitioner | None = None,
    ) -> None:
        super().__init__(name, None)
        self.topic = topic
        self.topic_extractor = topic_extractor
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.partitioner = partitioner
        self.collector: Any = None

    def init(self, context: NodeContext) -> None:
        self.context = context
        self.collector = context.record_collector

    def process(self, record: Record[Any, Any]) -> None:
        topic = self.topic
        if topic is None:
            topic = self._choose_topic(record)
        key, value = record.key, record.value
        try:
            kb = self.key_serde.serialize(topic, key)
        except (SerializationError, TypeError, ValueError) as e:
            raise self._serialize_error("key", topic, self.key_serde, key, e) from e
        try:
            vb = self.value_serde.serialize(topic, value)
        except (SerializationError, TypeError, ValueError) as e:
            raise self._serialize_error("value", topic, self.value_serde, value, e) from e
        if self.partitioner is None:
            self.collector.send(topic, kb, vb, record.timestamp, record.headers, None)
            return
        p = self.partitioner

        def partitioner(n: int, _t: str = topic) -> int | None:
            return p(_t, key, value, n)

        self.collector.send(topic, kb, vb, record.timestamp, record.headers, None, partitioner)

    def _choose_topic(self, record: Record[Any, Any]) -> str:
        ctx = self.context.record_context()._replace(
            timestamp=record.timestamp, headers=record.headers
        )
        topic = self.topic_extractor(record.key, record.value, ctx)  # type: ignore[misc]
        if not isinstance(topic, str) or not topic:
            raise StreamsError(
                f"sink {self.name!r}: the topic-choosing function returned {topic!r}, "
                "not a topic name"
            )
        return topic

    def _serialize_error(
        self, part: str, topic: str, serde: Serde[Any], obj: Any, e: Exception
    ) -> SerializationError:
        return SerializationError(
            f"sink {self.name!r} could not serialize the {part} for topic {topic!r} with "
            f"{serde!r}: {e}. Give {part}_serde= a serde for "
            f"{type(obj).__name__} {part}s"
        )
