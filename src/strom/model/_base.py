"""The :class:`Model` base class."""

from __future__ import annotations

import base64
import inspect
import re
import sys
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import orjson

from strom.core.errors import SerializationError
from strom.model._codegen import MISSING, error, make_build, make_init
from strom.model._convert import Bad, Converter, converter, describe, nullable

M = TypeVar("M", bound="Model")

_CLASSVAR_STR = re.compile(r"^\s*(typing\.|t\.)?ClassVar\b")
_JSON_OPTS = orjson.OPT_NON_STR_KEYS
_orjson_dumps = orjson.dumps


def json_dumps(obj: Any, **kw: Any) -> bytes:
    """orjson.dumps, trimmed: orjson's result keeps a buffer of 1-4 KiB however small the JSON
    is, which multiplies the memory of every record held in a store, a cache or a log."""
    out = _orjson_dumps(obj, **kw)
    return bytes(memoryview(out)) if len(out) < 1024 else out


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
    _strom_own_options: ClassVar[dict[str, Any]] = {}
    _strom_localns: ClassVar[dict[str, Any]] = {}
    _strom_converters: ClassVar[tuple[tuple[str, Converter, Any], ...] | None] = ()
    _strom_build_fn: ClassVar[Callable[[Mapping[str, Any], str], Any] | None] = None

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
                    fields[name] = klass.__dict__.get(name, MISSING)
        merged.update(options)
        cls._strom_own_options = options
        cls._strom_options = merged
        cls._strom_fields = tuple(fields)
        cls._strom_defaults = {n: d for n, d in fields.items() if d is not MISSING}
        # a class defined in a function may refer to the function's other local classes
        frame = sys._getframe(1)
        cls._strom_localns = {} if frame.f_locals is frame.f_globals else dict(frame.f_locals)
        if "__init__" not in cls.__dict__:
            validate = _validate if merged.get("validation") else None
            cls.__init__ = make_init(cls, fields, validate)  # type: ignore[method-assign]
        cls._strom_converters = None
        cls._strom_build_fn = None
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
            conv = converter(hints.get(name, Any))
            default = cls._strom_defaults.get(name, MISSING)
            if default is None:  # `x: str = None` means Optional[str], as in Faust
                conv = nullable(conv)
            converters.append((name, conv, default))
        cls._strom_converters = tuple(converters)
        cls._strom_build_fn = make_build(cls, cls._strom_converters)
        return cls._strom_converters

    @classmethod
    def _strom_ready(cls) -> tuple[tuple[str, Converter, Any], ...]:
        if cls._strom_converters is not None:
            return cls._strom_converters
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

        >>> class Point(Model):
        ...     x: int
        ...     y: int = 0
        >>> Point.from_dict({"x": 1, "z": "ignored"})
        Point(x=1, y=0)
        """
        if data.__class__ is not dict and not isinstance(data, Mapping):
            raise SerializationError(
                f"{cls.__name__}: expected a JSON object (dict), got {describe(data)}"
            )
        build = cls._strom_build_fn
        if build is None:
            cls._strom_ready()
            build = cls._strom_build_fn
        return build(data, "")  # type: ignore[misc]

    from_data = from_dict  # Faust's name

    @classmethod
    def _build(cls: type[M], data: Mapping[str, Any], prefix: str) -> M:
        """Build a nested model; errors carry the path inside the outermost model."""
        build = cls._strom_build_fn
        if build is None:
            cls._strom_ready()
            build = cls._strom_build_fn
        return build(data, prefix)  # type: ignore[misc]

    @classmethod
    def loads(cls: type[M], data: bytes | bytearray | memoryview | str) -> M:
        """Parse JSON and validate (see :meth:`from_dict`).

        >>> class Point(Model):
        ...     x: int
        >>> Point.loads(b'{"x": 2}')
        Point(x=2)
        """
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
        """The fields as a dict; nested models become dicts too (values are not copied).

        >>> class Point(Model):
        ...     x: int
        >>> Point(1).to_dict()
        {'x': 1}
        """
        return {name: _plain(value) for name, value in self._shallow_dict().items()}

    asdict = to_dict
    to_representation = to_dict  # Faust's name

    def dumps(self) -> bytes:
        """JSON bytes (orjson): datetimes as ISO 8601, bytes as base64, nested models as objects.

        >>> class Point(Model):
        ...     x: int
        >>> Point(1).dumps()
        b'{"x":1}'
        """
        try:
            return json_dumps(self._shallow_dict(), default=json_default, option=_JSON_OPTS)
        except TypeError as e:
            raise SerializationError(f"{type(self).__name__}: cannot serialize: {e}") from None

    # -- object protocol -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        a, b = self.__dict__, other.__dict__
        return all(a.get(n, MISSING) == b.get(n, MISSING) for n in self._strom_fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, like Faust records

    def __repr__(self) -> str:
        d = self.__dict__
        parts = ", ".join(f"{n}={d.get(n, MISSING)!r}" for n in self._strom_fields)
        return f"{type(self).__name__}({parts})"


def _validate(obj: Model) -> None:
    d = obj.__dict__
    model = type(obj).__name__
    for name, conv, _default in type(obj)._strom_ready():
        if name not in d:
            raise error(model, "required field missing", name)
        try:
            d[name] = conv(d[name], name)
        except Bad as e:
            raise error(model, e.message, e.path) from None


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
