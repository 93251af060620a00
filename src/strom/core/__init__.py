"""Core types shared by every layer: errors, task ids, headers and durations."""

from strom.core.errors import (
    ConfigError,
    DeserializationError,
    ProcessorError,
    SerializationError,
    StoreError,
    StreamsError,
    StromError,
    TopologyError,
)
from strom.core.records import ConsumerRecord
from strom.core.types import Headers, TaskId, normalize_headers, to_millis

__all__ = [
    "ConfigError",
    "ConsumerRecord",
    "DeserializationError",
    "Headers",
    "ProcessorError",
    "SerializationError",
    "StoreError",
    "StreamsError",
    "StromError",
    "TaskId",
    "TopologyError",
    "normalize_headers",
    "to_millis",
]
