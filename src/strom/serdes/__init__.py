"""Serdes: turn keys and values into bytes and back, byte-compatible with Kafka's."""

from strom.serdes.base import Serde
from strom.serdes.coerce import serde_for
from strom.serdes.json import Json
from strom.serdes.model import ModelSerde
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
from strom.serdes.windowed import SessionWindowedSerde, TimeWindowedSerde

__all__ = [
    "UUID",
    "Boolean",
    "Bytes",
    "Double",
    "Float",
    "Integer",
    "Json",
    "Long",
    "ModelSerde",
    "Serde",
    "SessionWindowedSerde",
    "Short",
    "String",
    "TimeWindowedSerde",
    "Void",
    "serde_for",
]
