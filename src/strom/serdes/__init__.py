"""Serdes: turn keys and values into bytes and back, byte-compatible with Kafka's."""

from strom.serdes.base import Serde
from strom.serdes.primitives import (
    UUID,
    Boolean,
    Bytes,
    Double,
    Float,
    Integer,
    Long,
    Short,
    String,
    Void,
)

__all__ = [
    "UUID",
    "Boolean",
    "Bytes",
    "Double",
    "Float",
    "Integer",
    "Long",
    "Serde",
    "Short",
    "String",
    "Void",
]
