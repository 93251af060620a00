"""Serdes byte-compatible with Kafka's built-in ones (fixed-width numbers are big-endian)."""

from __future__ import annotations

import struct
import uuid as _uuid

from strom.core.errors import SerializationError
from strom.serdes.base import Serde, type_error

_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_SHORT = struct.Struct(">h")
_DOUBLE = struct.Struct(">d")
_FLOAT = struct.Struct(">f")


class Bytes(Serde[bytes]):
    """Raw bytes, passed through (Kafka's ``Serdes.ByteArray()``/``Bytes()``)."""

    def serialize(self, topic: str, obj: bytes | None) -> bytes | None:
        if obj is None or obj.__class__ is bytes:
            return obj
        if isinstance(obj, bytearray | memoryview):
            return bytes(obj)
        raise type_error(self, "bytes", obj)

    def deserialize(self, topic: str, data: bytes | None) -> bytes | None:
        return data


class String(Serde[str]):
    """UTF-8 text (Kafka's ``Serdes.String()``).

    >>> String().serialize("t", "hé")
    b'h\\xc3\\xa9'
    """

    def __init__(self, encoding: str = "utf-8") -> None:
        self.encoding = encoding

    def serialize(self, topic: str, obj: str | None) -> bytes | None:
        if obj is None:
            return None
        if obj.__class__ is not str and not isinstance(obj, str):
            raise type_error(self, "str", obj)
        return obj.encode(self.encoding)

    def deserialize(self, topic: str, data: bytes | None) -> str | None:
        if data is None:
            return None
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as e:
            raise SerializationError(
                f"String deserializer: bytes are not valid {self.encoding}: {e}"
            ) from None


class _Fixed(Serde[int]):
    _struct: struct.Struct
    _kind: str
    _py: tuple[type, ...] = (int,)

    def serialize(self, topic: str, obj: int | None) -> bytes | None:
        if obj is None:
            return None
        if obj.__class__ not in self._py and (
            isinstance(obj, bool) or not isinstance(obj, self._py)
        ):
            raise type_error(self, " or ".join(t.__name__ for t in self._py), obj)
        try:
            return self._struct.pack(obj)
        except struct.error:
            raise SerializationError(
                f"{type(self).__name__}: {obj!r} does not fit in a {self._kind}"
            ) from None

    def deserialize(self, topic: str, data: bytes | None) -> int | None:
        if data is None:
            return None
        if len(data) != self._struct.size:
            raise SerializationError(
                f"Size of data received by {type(self).__name__} deserializer is not "
                f"{self._struct.size} but {len(data)}"
            )
        return self._struct.unpack(data)[0]


class Integer(_Fixed):
    """32-bit signed big-endian int (Kafka's ``Serdes.Integer()``)."""

    _struct, _kind = _INT, "32-bit int"


class Long(_Fixed):
    """64-bit signed big-endian int (Kafka's ``Serdes.Long()``).

    >>> Long().serialize("t", 1)
    b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'
    """

    _struct, _kind = _LONG, "64-bit long"


class Short(_Fixed):
    """16-bit signed big-endian int (Kafka's ``Serdes.Short()``)."""

    _struct, _kind = _SHORT, "16-bit short"


class Double(_Fixed):
    """IEEE 754 64-bit big-endian float (Kafka's ``Serdes.Double()``)."""

    _struct, _kind, _py = _DOUBLE, "double", (float, int)


class Float(_Fixed):
    """IEEE 754 32-bit big-endian float (Kafka's ``Serdes.Float()``)."""

    _struct, _kind, _py = _FLOAT, "float", (float, int)


class Boolean(Serde[bool]):
    """One byte, 1 or 0 (Kafka's ``Serdes.Boolean()``)."""

    def serialize(self, topic: str, obj: bool | None) -> bytes | None:
        if obj is None:
            return None
        if not isinstance(obj, bool):
            raise type_error(self, "bool", obj)
        return b"\x01" if obj else b"\x00"

    def deserialize(self, topic: str, data: bytes | None) -> bool | None:
        if data is None:
            return None
        if data == b"\x01":
            return True
        if data == b"\x00":
            return False
        raise SerializationError(f"Boolean deserializer expects one byte 0 or 1, got {data!r}")


class UUID(Serde[_uuid.UUID]):
    """A UUID as its 36-character string (Kafka's ``Serdes.UUID()``)."""

    def serialize(self, topic: str, obj: _uuid.UUID | None) -> bytes | None:
        if obj is None:
            return None
        if not isinstance(obj, _uuid.UUID):
            raise type_error(self, "uuid.UUID", obj)
        return str(obj).encode()

    def deserialize(self, topic: str, data: bytes | None) -> _uuid.UUID | None:
        if data is None:
            return None
        try:
            return _uuid.UUID(data.decode())
        except (ValueError, UnicodeDecodeError):
            raise SerializationError(f"UUID deserializer: not a UUID: {data!r}") from None


class Void(Serde[None]):
    """Always None (Kafka's ``Serdes.Void()``); serializing anything else is an error."""

    def serialize(self, topic: str, obj: None) -> bytes | None:
        if obj is not None:
            raise type_error(self, "None", obj)
        return None

    def deserialize(self, topic: str, data: bytes | None) -> None:
        if data is not None:
            raise SerializationError(f"Void deserializer expects no data, got {len(data)} bytes")
        return None


#: Serdes whose values of these exact types come back from ``deserialize(serialize(v))`` as
#: an equal object of the same type, and are immutable: a store may keep such a value beside
#: its bytes and hand it out again instead of deserializing the bytes.
_SHAREABLE: dict[type, frozenset[type]] = {
    Bytes: frozenset({bytes}),
    String: frozenset({str}),
    Integer: frozenset({int}),
    Long: frozenset({int}),
    Short: frozenset({int}),
    Double: frozenset({float}),
    Boolean: frozenset({bool}),
}


def fixed_format(serde: object) -> str | None:
    """The ``struct`` format (without its byte order) of a fixed-width number serde: for
    values of its :func:`shareable_types`, ``serialize`` is ``struct.pack(">" + format, v)``.
    None for any other serde.

    >>> fixed_format(Long()), fixed_format(String())
    ('q', None)
    """
    if type(serde) in (Integer, Long, Short, Double):
        return serde._struct.format[1:]  # type: ignore[attr-defined,no-any-return]
    return None


def shareable_types(serde: object) -> frozenset[type]:
    """The value types that ``serde`` round-trips exactly into immutable objects (empty for
    any other serde, subclasses of these included, as they may serialize differently).

    >>> sorted(t.__name__ for t in shareable_types(Long()))
    ['int']
    >>> shareable_types(Float())
    frozenset()
    """
    return _SHAREABLE.get(type(serde), frozenset())
