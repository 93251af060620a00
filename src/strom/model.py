"""``Model``: typed records declared with class annotations, JSON on the wire, validated on read.

What Faust calls a ``Record`` (``strom.Record`` is an alias)::

    class Order(Model):
        order_id: str
        amount: float
        tags: list[str] = []
"""

from __future__ import annotations

import base64
import binascii
import copy
import enum
import inspect
import re
import sys
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

import orjson

from strom.core.errors import SerializationError

M = TypeVar("M", bound="Model")

_MISSING: Any = object()
_CLASSVAR_STR = re.compile(r"^\s*(typing\.|t\.)?ClassVar\b")
_MUTABLE = (list, dict, set, bytearray)
_JSON_OPTS = orjson.OPT_NON_STR_KEYS
_new = object.__new__

#: A converter checks one value (and converts JSON forms such as ISO strings), or raises _Bad.
Converter = Callable[[Any, str], Any]


class _Bad(Exception):
    """A value of the wrong type; ``path`` is relative to the model being read."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message


def _describe(value: Any) -> str:
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


def _wrong(expected: str, value: Any, path: str) -> _Bad:
    return _Bad(path, f"expected {expected}, got {_describe(value)}")


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


def _converter(tp: Any) -> Converter:
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
        return _converter(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return _union(tp, args)
    if origin is typing.Literal:
        return _literal(args)
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        return _sequence(origin or tp, args)
    if origin is dict or tp is dict or origin is Mapping or tp is Mapping:
        return _mapping(args)
    if isinstance(tp, type):
        if issubclass(tp, Model):
            return _model(tp)
        if issubclass(tp, enum.Enum):
            return _enum(tp)
        return _instance(tp)
    return _any  # TypeVars, NewType and other forms we do not check


def _union(tp: Any, args: tuple[Any, ...]) -> Converter:
    optional = type(None) in args
    convs = [_converter(a) for a in args if a is not type(None)]
    expected = " | ".join(_type_name(a) for a in args)
    if optional and len(convs) == 1:
        inner = convs[0]

        def convert_optional(value: Any, path: str) -> Any:
            return None if value is None else inner(value, path)

        return convert_optional

    def convert_union(value: Any, path: str) -> Any:
        if value is None and optional:
            return None
        for conv in convs:
            try:
                return conv(value, path)
            except _Bad as e:
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
        convs = [_converter(a) for a in args]

        def convert_tuple(value: Any, path: str) -> Any:
            if not isinstance(value, list | tuple) or len(value) != len(convs):
                raise _wrong(f"{name} of {len(convs)} items", value, path)
            return tuple(c(v, f"{path}[{i}]") for i, (c, v) in enumerate(zip(convs, value)))

        return convert_tuple
    item = _converter(args[0]) if args else _any
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
        return kind(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return convert


def _mapping(args: tuple[Any, ...]) -> Converter:
    key_tp = args[0] if args else Any
    key = _converter(key_tp)
    value_conv = _converter(args[1]) if len(args) > 1 else _any
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
            if numeric_keys and isinstance(k, str):  # JSON object keys are always strings
                try:
                    k = key_tp(k)
                except ValueError:
                    pass
            k = key(k, f"{path}[{k!r}]")
            out[k] = value_conv(v, f"{path}[{k!r}]")
        return out

    return convert


def _model(cls: type[Model]) -> Converter:
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


# ------------------------------------------------------------------------------------- model


def _make_init(cls: type, fields: dict[str, Any]) -> Callable[..., None]:
    """Generate ``__init__`` like dataclasses do: one direct assignment per field."""
    ns: dict[str, Any] = {"_MISSING": _MISSING, "_copy": copy.copy, "_required": _required}
    params, body = [], []
    seen_default = False
    for name, default in fields.items():
        if default is _MISSING and not seen_default:
            params.append(name)
        else:
            seen_default = True
            if default is _MISSING:
                params.append(f"{name}=_MISSING")
                body.append(f"    if {name} is _MISSING: raise _required(_cls, {name!r})")
            else:
                ns[f"_d_{name}"] = default
                params.append(f"{name}=_d_{name}")
                if isinstance(default, _MUTABLE):  # fresh copy per instance
                    body.append(f"    if {name} is _d_{name}: {name} = _copy({name})")
        body.append(f"    __model_self__.{name} = {name}")
    if cls._strom_options.get("validation"):
        ns["_validate"] = _validate
        body.append("    _validate(__model_self__)")
    if getattr(cls, "__post_init__", None) is not None:
        body.append("    __model_self__.__post_init__()")
    signature = ", ".join(["__model_self__", *params])
    src = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    ns["_cls"] = cls
    exec(src, ns)
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _required(cls: type, name: str) -> TypeError:
    return TypeError(f"{cls.__name__}() missing required argument: {name!r}")


def json_default(obj: Any) -> Any:
    """orjson ``default=`` hook: Models as objects, bytes as base64, sets as lists.

    >>> orjson.dumps({"b": b"hi", "s": {1}}, default=json_default)
    b'{"b":"aGk=","s":[1]}'
    """
    if isinstance(obj, Model):
        return obj._shallow_dict()
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(f"cannot serialize {type(obj).__name__} to JSON: {obj!r}")


class Model:
    """A record with typed fields declared as class annotations (Faust's ``Record``).

    Construct with keywords or positionally; read fields as attributes; :meth:`from_dict` and
    :meth:`loads` validate. Class keywords (``validation=True``, Faust's ``serializer=``,
    ``namespace=``...) are accepted; ``validation=True`` also validates in ``__init__``.

    >>> class Order(Model):
    ...     order_id: str
    ...     amount: float = 0.0
    >>> o = Order("o-1", amount=3)
    >>> o
    Order(order_id='o-1', amount=3)
    >>> o.dumps()
    b'{"order_id":"o-1","amount":3}'
    >>> Order.loads(b'{"order_id":"o-1","amount":3}')
    Order(order_id='o-1', amount=3.0)
    >>> Order.from_dict({"order_id": "o-2", "amount": "abc"})
    Traceback (most recent call last):
    ...
    strom.core.errors.SerializationError: Order.amount: expected float, got str 'abc'
    """

    _strom_fields: ClassVar[tuple[str, ...]] = ()
    _strom_defaults: ClassVar[dict[str, Any]] = {}
    _strom_options: ClassVar[dict[str, Any]] = {}
    _strom_converters: ClassVar[tuple[tuple[str, Converter, Any], ...] | None] = ()
    _strom_own_options: ClassVar[dict[str, Any]] = {}
    _strom_localns: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__()  # class keywords are ours, never passed on
        merged: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            if not issubclass(klass, Model) or klass is Model:
                continue
            merged.update(klass.__dict__.get("_strom_own_options", {}))
            for name, annotation in inspect.get_annotations(klass).items():
                if not _is_classvar(annotation):
                    fields[name] = klass.__dict__.get(name, _MISSING)
        merged.update(options)
        cls._strom_own_options = options
        cls._strom_options = merged
        cls._strom_fields = tuple(fields)
        cls._strom_defaults = {n: d for n, d in fields.items() if d is not _MISSING}
        # a class defined in a function may refer to the function's other local classes
        frame = sys._getframe(1)
        cls._strom_localns = {} if frame.f_locals is frame.f_globals else dict(frame.f_locals)
        if "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls, fields)  # type: ignore[method-assign]
        cls._strom_converters = None
        try:
            cls._strom_resolve()
        except NameError:
            pass  # a forward reference to a class defined later: resolved on first use

    @classmethod
    def _strom_resolve(cls) -> tuple[tuple[str, Converter, Any], ...]:
        localns = {**cls._strom_localns, cls.__name__: cls}
        hints = typing.get_type_hints(cls, localns=localns, include_extras=True)
        converters = []
        for name in cls._strom_fields:
            conv = _converter(hints.get(name, Any))
            default = cls._strom_defaults.get(name, _MISSING)
            if default is None:  # `x: str = None` means Optional[str], as in Faust
                conv = _nullable(conv)
            converters.append((name, conv, default))
        cls._strom_converters = tuple(converters)
        return cls._strom_converters

    @classmethod
    def _strom_converters_or_resolve(cls) -> tuple[tuple[str, Converter, Any], ...]:
        converters = cls._strom_converters
        if converters is not None:
            return converters
        try:
            return cls._strom_resolve()
        except NameError as e:
            raise TypeError(f"{cls.__name__}: cannot resolve field annotations: {e}") from None

    # -- reading -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """Build from a dict, validating field types; unknown keys are ignored.

        Nested models may be given as dicts, ``datetime`` fields as ISO 8601 strings and
        ``float`` fields as ints. Errors raise :class:`~strom.core.errors.SerializationError`
        naming the model and the field.
        """
        if not isinstance(data, Mapping):
            raise SerializationError(
                f"{cls.__name__}: expected a JSON object (dict), got {_describe(data)}"
            )
        return cls._build(data, "")

    from_data = from_dict  # Faust's name

    @classmethod
    def _build(cls: type[M], data: Mapping[str, Any], prefix: str) -> M:
        converters = cls._strom_converters
        if converters is None:
            converters = cls._strom_converters_or_resolve()
        values: dict[str, Any] = {}
        for name, conv, default in converters:
            value = data.get(name, _MISSING)
            if value is _MISSING:
                if default is _MISSING:
                    if prefix:
                        raise _Bad(prefix + name, "required field missing")
                    raise _error(cls.__name__, "required field missing", name)
                value = copy.copy(default) if isinstance(default, _MUTABLE) else default
            else:
                try:
                    value = conv(value, name)
                except _Bad as e:
                    if prefix:  # nested: the outermost model reports the whole path
                        raise _Bad(prefix + e.path, e.message) from None
                    raise _error(cls.__name__, e.message, e.path) from None
            values[name] = value
        obj = _new(cls)
        obj.__dict__.update(values)
        post_init = getattr(obj, "__post_init__", None)
        if post_init is not None:
            post_init()
        return obj

    @classmethod
    def loads(cls: type[M], data: bytes | bytearray | memoryview | str) -> M:
        """Parse JSON and validate (see :meth:`from_dict`)."""
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise SerializationError(f"{cls.__name__}: invalid JSON: {e}") from None
        return cls.from_dict(parsed)

    def validate(self) -> None:
        """Check (and convert, like :meth:`from_dict`) every field in place."""
        _validate(self)

    # -- writing -------------------------------------------------------------------------------

    def _shallow_dict(self) -> dict[str, Any]:
        d = self.__dict__
        if len(d) == len(self._strom_fields):
            return d
        return {name: d[name] for name in self._strom_fields}

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict; nested models become dicts too (values are not copied)."""
        return {name: _plain(value) for name, value in self._shallow_dict().items()}

    asdict = to_dict
    to_representation = to_dict  # Faust's name

    def dumps(self) -> bytes:
        """JSON bytes (orjson): datetimes as ISO 8601, bytes as base64, nested models as objects."""
        try:
            return orjson.dumps(self._shallow_dict(), default=json_default, option=_JSON_OPTS)
        except TypeError as e:
            raise SerializationError(f"{type(self).__name__}: cannot serialize: {e}") from None

    # -- object protocol -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        a, b = self.__dict__, other.__dict__
        return all(a.get(n, _MISSING) == b.get(n, _MISSING) for n in self._strom_fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, like Faust records

    def __repr__(self) -> str:
        d = self.__dict__
        parts = ", ".join(f"{n}={d.get(n, _MISSING)!r}" for n in self._strom_fields)
        return f"{type(self).__name__}({parts})"


def _validate(obj: Model) -> None:
    d = obj.__dict__
    model = type(obj).__name__
    for name, conv, _default in type(obj)._strom_converters_or_resolve():
        if name not in d:
            raise _error(model, "required field missing", name)
        try:
            d[name] = conv(d[name], name)
        except _Bad as e:
            raise _error(model, e.message, e.path) from None


def _nullable(conv: Converter) -> Converter:
    def convert(value: Any, path: str) -> Any:
        return None if value is None else conv(value, path)

    return convert


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return bool(_CLASSVAR_STR.match(annotation))
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


def _error(model: str, message: str, path: str) -> SerializationError:
    return SerializationError(f"{model}.{path}: {message}" if path else f"{model}: {message}")
