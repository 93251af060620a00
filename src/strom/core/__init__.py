"""Core types shared by every layer: errors, task ids, headers and durations."""

from strom.core.errors import (
    BackendError,
    ConfigError,
    DeserializationError,
    FencedError,
    ProcessorError,
    RetriableError,
    SerializationError,
    StoreError,
    StreamsError,
    StromError,
    TopicExistsError,
    TopologyError,
    UnknownTopicError,
)
from strom.core.records import ConsumerRecord
from strom.core.types import Headers, TaskId, normalize_headers, to_millis

__all__ = [
    "BackendError",
    "ConfigError",
    "ConsumerRecord",
    "DeserializationError",
    "FencedError",
    "Headers",
    "ProcessorError",
    "RetriableError",
    "SerializationError",
    "StoreError",
    "StreamsError",
    "StromError",
    "TaskId",
    "TopicExistsError",
    "TopologyError",
    "UnknownTopicError",
    "normalize_headers",
    "to_millis",
]
