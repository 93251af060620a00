"""The serde of :class:`Change` records on a KTable re-grouping repartition topic."""

from __future__ import annotations

import struct
from typing import Any

from strom.core.errors import SerializationError
from strom.dsl.ops.change import Change
from strom.serdes.base import Serde

_LEN = struct.Struct(">I")


class ChangeSerde(Serde[Change]):
    """``flags (1 byte: 1 new present, 2 old present) | len(new) | new | old``."""

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner = inner  # None: the app's default value serde, filled in at build

    def with_default(self, default: Serde[Any]) -> ChangeSerde:
        return self if self.inner is not None else ChangeSerde(default)

    def serialize(self, topic: str, obj: Change | None) -> bytes | None:
        if obj is None:
            return None
        new = self.inner.serialize(topic, obj.new) if obj.new is not None else None
        old = self.inner.serialize(topic, obj.old) if obj.old is not None else None
        flags = (1 if new is not None else 0) | (2 if old is not None else 0)
        n = new or b""
        return bytes((flags,)) + _LEN.pack(len(n)) + n + (old or b"")

    def deserialize(self, topic: str, data: bytes | None) -> Change | None:
        if data is None:
            return None
        if len(data) < 5:
            raise SerializationError(f"ChangeSerde: {len(data)} bytes is too short for a change")
        flags = data[0]
        (n,) = _LEN.unpack_from(data, 1)
        new = self.inner.deserialize(topic, data[5 : 5 + n]) if flags & 1 else None
        old = self.inner.deserialize(topic, data[5 + n :]) if flags & 2 else None
        return Change(new, old)
