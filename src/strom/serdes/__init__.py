"""Serdes: turn keys and values into bytes and back, byte-compatible with Kafka's.

``AvroSerde`` (the ``avro`` extra, on fastavro) is imported on first use, so ``import strom``
never needs fastavro.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from strom.serdes.avro import AvroSerde

__all__ = [
    "UUID",
    "AvroSerde",
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


def __getattr__(name: str) -> Any:
    if name == "AvroSerde":  # lazily: strom.serdes.avro needs fastavro (the avro extra)
        from strom.serdes.avro import AvroSerde

        globals()["AvroSerde"] = AvroSerde
        return AvroSerde
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
