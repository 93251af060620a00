"""Converters: one per field annotation, built once per Model class.

A converter ``conv(value, path)`` returns the value (converted from its JSON form where needed:
ISO strings to datetimes, dicts to nested models, ints to floats) or raises :class:`Bad`.
"""

from __future__ import annotations

import base64
import binascii
import enum
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: A converter checks one value (and converts JSON forms such as ISO strings), or raises Bad.
Converter = Callable[[Any, str], Any]


class Bad(Exception):
    """A value of the wrong type; ``path`` is relative to the model being read."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message


def describe(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _wrong(expected: str, value: Any, path: str) -> Bad:
    return Bad(path, f"expected {expected}, got {describe(value)}")


# ---------------------------------------------------------------------------------- converters


def _any(value: Any, path: str) -> Any:
    return value


def _str(value: Any, path: str) -> Any:
    if value.__class__ is str or isinstance(value, str):
        return value
    raise _wrong("str", value, path)


def _int(value: Any, path: str) -> Any:
    if value.__class__ is int or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _wrong("int", value, path)


def _float(value: Any, path: str) -> Any:
    if value.__class__ is float:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _wrong("float", value, path)


def _bool(value: Any, path: str) -> Any:
    if value is True or value is False:
        return value
    raise _wrong("bool", value, path)


def _bytes(value: Any, path: str) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise _wrong("bytes (base64 string)", value, path)


def _datetime(value: Any, path: str) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _wrong("datetime (ISO 8601 string)", value, path)


def _date(value: Any, path: str) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _wrong("date (ISO 8601 string)", value, path)


def _decimal(value: Any, path: str) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            pass
    raise _wrong("Decimal", value, path)


def _uuid(value: Any, path: str) -> Any:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _wrong("UUID", value, path)


_SIMPLE: dict[Any, Converter] = {
    str: _str,
    int: _int,
    float: _float,
    bool: _bool,
    bytes: _bytes,
    datetime: _datetime,
    date: _date,
    Decimal: _decimal,
    uuid.UUID: _uuid,
    Any: _any,
    object: _any,
}


def converter(tp: Any) -> Converter:
    """Build the converter for one annotation (called once per field, at class set-up)."""
    try:
        simple = _SIMPLE.get(tp)
    except TypeError:  # an unhashable annotation
        simple = None
    if simple is not None:
        return simple
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return converter(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return _union(tp, args)
    if origin is typing.Literal:
        return _literal(args)
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        return _sequence(origin or tp, args)
    if origin is dict or tp is dict or origin is Mapping or tp is Mapping:
        return _mapping(args)
    if isinstance(tp, type):
        from strom.model._base import Model  # the base module imports this one

        if issubclass(tp, Model):
            return _model(tp)
        if issubclass(tp, enum.Enum):
            return _enum(tp)
        return _instance(tp)
    return _any  # TypeVars, NewType and other forms we do not check


def _union(tp: Any, args: tuple[Any, ...]) -> Converter:
    optional = type(None) in args
    convs = [converter(a) for a in args if a is not type(None)]
    expected = " | ".join(_type_name(a) for a in args)
    if optional and len(convs) == 1:
        inner = convs[0]

        return nullable(inner)

    def convert_union(value: Any, path: str) -> Any:
        if value is None and optional:
            return None
        for conv in convs:
            try:
                return conv(value, path)
            except Bad as e:
                if e.path != path:  # failed inside a matching container: report that
                    raise
        raise _wrong(expected, value, path)

    return convert_union


def _literal(choices: tuple[Any, ...]) -> Converter:
    expected = " | ".join(repr(c) for c in choices)

    def convert(value: Any, path: str) -> Any:
        if value in choices:
            return value
        raise _wrong(expected, value, path)

    return convert


def _sequence(kind: type, args: tuple[Any, ...]) -> Converter:
    name = kind.__name__
    if kind is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        convs = [converter(a) for a in args]

        def convert_tuple(value: Any, path: str) -> Any:
            if not isinstance(value, list | tuple) or len(value) != len(convs):
                raise _wrong(f"{name} of {len(convs)} items", value, path)
            out = []
            for i, (conv, v) in enumerate(zip(convs, value)):
                try:
                    out.append(conv(v, ""))
                except Bad as e:
                    raise Bad(f"{path}[{i}]{e.path}", e.message) from None
            return tuple(out)

        return convert_tuple
    item = converter(args[0]) if args else _any
    accepted = (list, tuple) if kind in (list, tuple) else (list, tuple, set, frozenset)

    if item is _any:

        def convert_plain(value: Any, path: str) -> Any:
            if value.__class__ is kind:
                return value
            if isinstance(value, accepted):
                return kind(value)
            raise _wrong(name, value, path)

        return convert_plain

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, accepted):
            raise _wrong(name, value, path)
        try:  # items are checked with relative paths; the index is found only on error
            items = [item(v, "") for v in value]
        except Bad:
            for i, v in enumerate(value):
                try:
                    item(v, "")
                except Bad as e:
                    raise Bad(f"{path}[{i}]{e.path}", e.message) from None
            raise  # pragma: no cover - a converter that fails only once
        return items if kind is list else kind(items)

    return convert


def _mapping(args: tuple[Any, ...]) -> Converter:
    key_tp = args[0] if args else Any
    key = converter(key_tp)
    value_conv = converter(args[1]) if len(args) > 1 else _any
    numeric_keys = key_tp in (int, float)

    if key is _any and value_conv is _any:

        def convert_plain(value: Any, path: str) -> Any:
            if isinstance(value, dict):
                return value
            raise _wrong("dict", value, path)

        return convert_plain

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _wrong("dict", value, path)
        out = {}
        for k, v in value.items():
            if numeric_keys and k.__class__ is str:  # JSON object keys are always strings
                try:
                    k = key_tp(k)
                except ValueError:
                    pass
            try:
                out[key(k, "")] = value_conv(v, "")
            except Bad as e:
                raise Bad(f"{path}[{k!r}]{e.path}", e.message) from None
        return out

    return convert


def _model(cls: Any) -> Converter:
    def convert(value: Any, path: str) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls._build(value, path + ".")
        raise _wrong(f"{cls.__name__} (a dict)", value, path)

    return convert


def _enum(cls: type[enum.Enum]) -> Converter:
    expected = f"{cls.__name__} (one of {', '.join(repr(m.value) for m in cls)})"

    def convert(value: Any, path: str) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except (ValueError, TypeError):
            raise _wrong(expected, value, path) from None

    return convert


def _instance(cls: type) -> Converter:
    def convert(value: Any, path: str) -> Any:
        if isinstance(value, cls):
            return value
        raise _wrong(cls.__name__, value, path)

    return convert


def nullable(conv: Converter) -> Converter:
    """``conv`` that also lets None through."""

    def convert_optional(value: Any, path: str) -> Any:
        return None if value is None else conv(value, path)

    convert_optional.exact = exact_type(conv)  # type: ignore[attr-defined]
    return convert_optional


_EXACT: dict[Any, type] = {_str: str, _int: int, _float: float, _bool: bool}


def exact_type(conv: Converter) -> type | None:
    """The class a value may have to skip ``conv`` entirely (None: always call it)."""
    return _EXACT.get(conv) or getattr(conv, "exact", None)
