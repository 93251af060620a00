"""Serdes for windowed keys, byte-compatible with Kafka's ``TimeWindowedSerde`` and
``SessionWindowedSerde``.

Time-windowed: inner key bytes + 8-byte big-endian window start.
Session-windowed: inner key bytes + 8-byte big-endian end + 8-byte big-endian start.
"""

from __future__ import annotations

import struct
from datetime import timedelta
from typing import Any, Generic, TypeVar

from strom.core.errors import SerializationError
from strom.core.types import to_millis
from strom.serdes.base import Serde, type_error
from strom.windows import MAX_TIMESTAMP, Window, Windowed

K = TypeVar("K")

_LONG = struct.Struct(">q")
_TWO_LONGS = struct.Struct(">qq")


def _inner_bytes(serde: Serde[Any], inner: Serde[Any], topic: str, obj: Any) -> bytes:
    if not isinstance(obj, Windowed):
        raise type_error(serde, "Windowed", obj)
    data = inner.serialize(topic, obj.key)
    if data is None:
        raise SerializationError(
            f"{type(serde).__name__}: inner serde {inner!r} gave None for key {obj.key!r}"
        )
    return data


class TimeWindowedSerde(Serde[Windowed[K]], Generic[K]):
    """Keys of time (tumbling/hopping) windows: ``Windowed(key, Window(start, start + size))``.

    The window size is not on the wire, so the reader must know it.

    >>> from strom.serdes.primitives import String
    >>> serde = TimeWindowedSerde(String(), 60_000)
    >>> data = serde.serialize("t", Windowed("a", Window(60_000, 120_000)))
    >>> data
    b'a\\x00\\x00\\x00\\x00\\x00\\x00\\xea`'
    >>> serde.deserialize("t", data)
    Windowed(key='a', window=Window(start=60000, end=120000))
    """

    def __init__(self, inner: Serde[K] | None, window_size_ms: int | timedelta) -> None:
        if inner is not None and not isinstance(inner, Serde):
            raise TypeError(f"TimeWindowedSerde needs an inner Serde, got {inner!r}")
        size = to_millis(window_size_ms, "window_size_ms")
        if size <= 0:
            raise ValueError(f"window_size_ms must be larger than zero: {size}")
        self.inner = inner  # None: the app's default key serde, filled in at build
        self.window_size_ms = size

    def with_default(self, default: Serde[Any]) -> TimeWindowedSerde[Any]:
        """This serde, with ``default`` as the inner serde if none was given."""
        return self if self.inner is not None else TimeWindowedSerde(default, self.window_size_ms)

    def serialize(self, topic: str, obj: Windowed[K] | None) -> bytes | None:
        if obj is None:
            return None
        return _inner_bytes(self, self.inner, topic, obj) + _LONG.pack(obj.window.start)

    def deserialize(self, topic: str, data: bytes | None) -> Windowed[K] | None:
        if data is None:
            return None
        if len(data) < 8:
            raise SerializationError(
                f"TimeWindowedSerde: expected at least 8 bytes (key + window start), "
                f"got {len(data)}"
            )
        (start,) = _LONG.unpack_from(data, len(data) - 8)
        if start < 0:
            raise SerializationError(f"TimeWindowedSerde: negative window start {start}")
        end = min(start + self.window_size_ms, MAX_TIMESTAMP)
        key = self.inner.deserialize(topic, bytes(data[:-8]))
        return Windowed(key, Window._of(start, end))

    def __repr__(self) -> str:
        return f"TimeWindowedSerde({self.inner!r}, {self.window_size_ms})"


class SessionWindowedSerde(Serde[Windowed[K]], Generic[K]):
    """Keys of session windows: ``Windowed(key, Window(start, end))``, both bounds on the wire.

    >>> from strom.serdes.primitives import String
    >>> serde = SessionWindowedSerde(String())
    >>> data = serde.serialize("t", Windowed("a", Window(1, 2)))
    >>> data.hex()
    '6100000000000000020000000000000001'
    >>> serde.deserialize("t", data)
    Windowed(key='a', window=Window(start=1, end=2))
    """

    def __init__(self, inner: Serde[K] | None) -> None:
        if inner is not None and not isinstance(inner, Serde):
            raise TypeError(f"SessionWindowedSerde needs an inner Serde, got {inner!r}")
        self.inner = inner  # None: the app's default key serde, filled in at build

    def with_default(self, default: Serde[Any]) -> SessionWindowedSerde[Any]:
        """This serde, with ``default`` as the inner serde if none was given."""
        return self if self.inner is not None else SessionWindowedSerde(default)

    def serialize(self, topic: str, obj: Windowed[K] | None) -> bytes | None:
        if obj is None:
            return None
        key = _inner_bytes(self, self.inner, topic, obj)
        return key + _TWO_LONGS.pack(obj.window.end, obj.window.start)

    def deserialize(self, topic: str, data: bytes | None) -> Windowed[K] | None:
        if data is None:
            return None
        if len(data) < 16:
            raise SerializationError(
                f"SessionWindowedSerde: expected at least 16 bytes (key + end + start), "
                f"got {len(data)}"
            )
        end, start = _TWO_LONGS.unpack_from(data, len(data) - 16)
        if start < 0 or end < start:
            raise SerializationError(
                f"SessionWindowedSerde: invalid session window start={start}, end={end}"
            )
        key = self.inner.deserialize(topic, bytes(data[:-16]))
        return Windowed(key, Window._of(start, end))

    def __repr__(self) -> str:
        return f"SessionWindowedSerde({self.inner!r})"
