"""The Serde protocol: ``serialize(topic, obj) -> bytes | None``, ``deserialize(topic, data)``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Serde(ABC, Generic[T]):
    """Turns values into bytes and back, like Kafka's Serializer/Deserializer pair.

    None stays None both ways (a tombstone stays a tombstone).
    """

    @abstractmethod
    def serialize(self, topic: str, obj: T | None) -> bytes | None: ...

    @abstractmethod
    def deserialize(self, topic: str, data: bytes | None) -> T | None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(type(self))


def type_error(serde: Serde[Any], expected: str, obj: object) -> TypeError:
    """The error a serializer raises for a value of the wrong type."""
    return TypeError(
        f"{type(serde).__name__} cannot serialize {type(obj).__name__} {obj!r}: expected {expected}"
    )
