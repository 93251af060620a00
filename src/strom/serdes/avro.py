"""``AvroSerde``: Avro on fastavro, in Confluent's schema-registry wire format.

An optional extra: ``pip install 'strom[avro]'`` (fastavro). ``from strom.serdes import
AvroSerde`` imports this module on first use, so ``import strom`` never needs fastavro.

With a registry, a message is Confluent's wire format, what ``KafkaAvroSerializer`` writes and
``KafkaAvroDeserializer`` reads: a magic byte 0, the writer schema's registry id as a 4-byte
big-endian int, then the Avro binary encoding of the value. Without a registry
(``registry=None``) a message is the bare Avro binary encoding, which only a reader with the
same schema can read.
"""

from __future__ import annotations

import enum
import io
import json
import struct
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from strom.core.errors import SerializationError
from strom.model import Model
from strom.serdes.base import Serde, type_error
from strom.serdes.schema_registry import (
    SchemaRegistry,
    SchemaRegistryError,
    reader_problem,
    registry_client,
)

try:
    import fastavro
    from fastavro.validation import validate as _validate
except ImportError as _e:  # pragma: no cover - the extra is installed in the test environment
    raise ImportError(
        "strom.serdes.avro needs fastavro: pip install 'strom[avro]' (or 'fastavro>=1.9')"
    ) from _e

__all__ = ["AvroSerde", "avro_schema"]

MAGIC = 0
_HEADER = struct.Struct(">bI")
_STRATEGIES = ("topic", "record", "topic_record")
#: Registry answers that mean "this data or schema is wrong" (an error of the record), not
#: "the registry is unavailable" (an error of the app, never skipped by an exception handler).
_DATA_ERRORS = frozenset({404, 409, 422})

SubjectNameStrategy = Callable[[str, bool, "str | None"], str]


class AvroSerde(Serde[Any]):
    """Avro values (or keys), with a Confluent-compatible schema registry or without one.

    Args:
        schema: the Avro schema (JSON text, or a dict or list as parsed from it), or a
            ``strom.Model`` class (the same as ``model=``). None: with ``model=`` the schema is
            generated from the model's fields (see :func:`avro_schema`); without a model the
            serde reads any registered schema (giving dicts) and writes with the subject's
            latest schema (``use_latest_version=True``).
        registry: None (bare Avro, no framing), a registry URL (``http://...``, several
            comma-separated, or ``mock://scope`` for a registry in this process), a dict of
            Confluent settings (``schema.registry.url``, ``basic.auth.user.info``, ...), or a
            client object (:class:`~strom.serdes.schema_registry.SchemaRegistryClient`, or any
            object with its ``register``, ``lookup``, ``get_schema`` and ``latest`` methods).
        is_key: a key serde: the subject is ``<topic>-key`` (with the ``topic`` strategy).
        subject_name_strategy: ``"topic"`` (``<topic>-value``, Confluent's
            TopicNameStrategy), ``"record"`` (the record's full name, RecordNameStrategy),
            ``"topic_record"`` (``<topic>-<full name>``, TopicRecordNameStrategy), or a
            function ``(topic, is_key, record_full_name) -> subject``.
        auto_register_schemas: register the schema under its subject on first use; if False
            it must already be registered there (it is looked up).
        use_latest_version: write with the subject's latest registered schema (fetched once
            per subject), never registering; as in Confluent's Python client this wins over
            ``auto_register_schemas``.
        model: a ``strom.Model`` class: values are instances of it (dicts are accepted too)
            and reading gives instances of it.

    Reading uses the writer's schema, fetched by the id in the message (and cached); when
    the serde has a schema of its own the data is resolved to it (schema evolution: fields
    the writer did not have take their defaults, promotions such as int to long apply).

    Errors: data that cannot be read (a wrong magic byte, too short, an unknown schema id, a
    schema that does not resolve) and values that do not match the schema raise
    :class:`~strom.core.errors.SerializationError` naming the topic, subject, schema id and
    field; a registry that cannot be reached raises
    :class:`~strom.serdes.schema_registry.SchemaRegistryError`, which deserialization
    exception handlers do not skip.

    >>> serde = AvroSerde({"type": "record", "name": "Point",
    ...                    "fields": [{"name": "x", "type": "long"}]}, registry="mock://avro-doctest")
    >>> data = serde.serialize("points", {"x": 1})
    >>> data
    b'\\x00\\x00\\x00\\x00\\x01\\x02'
    >>> serde.deserialize("points", data)
    {'x': 1}
    """

    def __init__(
        self,
        schema: str | Mapping[str, Any] | list[Any] | type[Model] | None = None,
        *,
        registry: Any = None,
        is_key: bool = False,
        subject_name_strategy: str | SubjectNameStrategy = "topic",
        auto_register_schemas: bool = True,
        use_latest_version: bool = False,
        model: type[Model] | None = None,
    ) -> None:
        if isinstance(schema, type) and issubclass(schema, Model):
            if model is not None and model is not schema:
                raise TypeError(f"AvroSerde: two models given, {schema!r} and {model!r}")
            schema, model = None, schema
        if model is not None and not (isinstance(model, type) and issubclass(model, Model)):
            raise TypeError(f"AvroSerde: model= must be a strom.Model subclass, got {model!r}")
        if isinstance(subject_name_strategy, str):
            if subject_name_strategy not in _STRATEGIES:
                raise ValueError(
                    f"AvroSerde: unknown subject_name_strategy {subject_name_strategy!r}: "
                    f"one of {', '.join(map(repr, _STRATEGIES))} or a function"
                )
        elif not callable(subject_name_strategy):
            raise TypeError(
                "AvroSerde: subject_name_strategy must be 'topic', 'record', 'topic_record' or "
                f"a function (topic, is_key, record_name) -> subject, got {subject_name_strategy!r}"
            )
        self.model = model
        self.registry: SchemaRegistry | None = registry_client(registry)
        self.is_key = bool(is_key)
        self.subject_name_strategy = subject_name_strategy
        self.auto_register_schemas = bool(auto_register_schemas)
        self.use_latest_version = bool(use_latest_version)
        if schema is None and model is not None:
            schema = avro_schema(model)
        self.schema: Any = _load_schema(schema) if schema is not None else None
        self.schema_str: str | None = (
            json.dumps(self.schema, separators=(",", ":")) if self.schema is not None else None
        )
        self._parsed = _parse(self.schema, "the serde's") if self.schema is not None else None
        if self.registry is None and self.schema is None:
            raise ValueError(
                "AvroSerde needs a schema (schema= or model=) when it has no registry: "
                "bare Avro data carries no schema id to look one up by"
            )
        # topic -> (header, parsed writer schema, schema id, subject), found on first use;
        # schema id -> (parsed writer schema, parsed reader schema or None)
        self._writers: dict[str, tuple[bytes, Any, int, str]] = {}
        self._readers: dict[int, tuple[Any, Any]] = {}

    # -- subjects -------------------------------------------------------------------------------

    @property
    def record_name(self) -> str | None:
        """The full name of the serde's schema (a record, enum or fixed), or None."""
        schema = self.schema
        if isinstance(schema, dict) and schema.get("type") in ("record", "error", "enum", "fixed"):
            return str(fastavro.schema.fullname(schema))
        return None

    def subject(self, topic: str) -> str:
        """The registry subject this serde writes under for ``topic``.

        >>> AvroSerde('"string"', registry="mock://avro-doctest", is_key=True).subject("orders")
        'orders-key'
        """
        strategy = self.subject_name_strategy
        if strategy == "topic":
            return f"{topic}-key" if self.is_key else f"{topic}-value"
        name = self.record_name
        if callable(strategy):
            return str(strategy(topic, self.is_key, name))
        if name is None:
            raise SerializationError(
                f"AvroSerde: subject_name_strategy={strategy!r} needs a named schema (a record) "
                f"of the serde's own, got {self.schema_str or 'none'}"
            )
        return name if strategy == "record" else f"{topic}-{name}"

    # -- writing --------------------------------------------------------------------------------

    def serialize(self, topic: str, obj: Any) -> bytes | None:
        if obj is None:
            return None
        if self.model is not None:
            if isinstance(obj, dict):
                try:
                    obj = self.model.from_dict(obj)
                except SerializationError as e:
                    raise SerializationError(
                        f"AvroSerde: cannot serialize dict for topic {topic!r}: {e}"
                    ) from None
            elif not isinstance(obj, self.model):
                raise type_error(self, f"{self.model.__name__} or dict", obj)
            datum = _plain(obj)
        elif isinstance(obj, Model):
            datum = _plain(obj)
        else:
            datum = obj
        if self.registry is None:
            header, parsed, schema_id, subject = b"", self._parsed, None, None
        else:
            writer = self._writers.get(topic)
            if writer is None:
                writer = self._writer(topic, self.subject(topic))
            header, parsed, schema_id, subject = writer
        out = io.BytesIO()
        out.write(header)
        try:
            fastavro.schemaless_writer(out, parsed, datum)
        except Exception as e:
            where = _where(topic, subject, schema_id)
            raise SerializationError(
                f"AvroSerde: cannot serialize {type(obj).__name__} for {where}: "
                f"{_invalid(datum, parsed, e)}"
            ) from None
        return out.getvalue()

    def _writer(self, topic: str, subject: str) -> tuple[bytes, Any, int, str]:
        registry = self.registry
        assert registry is not None
        try:
            if self.use_latest_version:
                schema_id, _version, schema_str = registry.latest(subject)
                parsed = (
                    self._parsed
                    if self.schema is not None and json.loads(schema_str) == self.schema
                    else _parse(_load_schema(schema_str), f"the latest schema of {subject!r}")
                )
            elif self.schema_str is None:
                raise SerializationError(
                    f"AvroSerde: no schema to write {_where(topic, subject, None)} with: give "
                    "schema= or model=, or use_latest_version=True"
                )
            else:
                if self.auto_register_schemas:
                    schema_id = registry.register(subject, self.schema_str)
                else:
                    schema_id = registry.lookup(subject, self.schema_str)
                parsed = self._parsed
        except SchemaRegistryError as e:
            if e.status not in _DATA_ERRORS:
                raise
            if self.use_latest_version:
                what = "no latest schema"
            elif self.auto_register_schemas:
                what = "cannot register the schema"
            else:
                what = (
                    "the schema is not registered (auto_register_schemas=False; register it first)"
                )
            raise SerializationError(
                f"AvroSerde: {what} for {_where(topic, subject, None)}: {e}"
            ) from e
        writer = (_HEADER.pack(MAGIC, schema_id), parsed, schema_id, subject)
        self._writers[topic] = writer
        return writer

    # -- reading --------------------------------------------------------------------------------

    def deserialize(self, topic: str, data: bytes | None) -> Any:
        if data is None:
            return None
        source = io.BytesIO(data)
        if self.registry is None:
            schema_id, writer, reader = None, self._parsed, None
        else:
            if len(data) < 5:
                raise SerializationError(
                    f"AvroSerde: {len(data)} bytes from topic {topic!r} are too short for "
                    "Confluent's wire format (a magic byte 0, a 4-byte schema id, the Avro "
                    f"data): {_preview(data)}"
                )
            magic, schema_id = _HEADER.unpack_from(data)
            if magic != MAGIC:
                raise SerializationError(
                    f"AvroSerde: unknown magic byte {data[0]:#04x} in data from topic "
                    f"{topic!r} (expected 0x00: Confluent's wire format): not written by a "
                    f"schema-registry serializer? {_preview(data)}"
                )
            found = self._readers.get(schema_id)
            writer, reader = found if found is not None else self._reader(topic, schema_id)
            source.seek(5)
        try:
            value = fastavro.schemaless_reader(source, writer, reader)
        except Exception as e:
            names = _name(writer)
            if reader is not None:
                names += f" read as {_name(reader)}"
            raise SerializationError(
                f"AvroSerde: cannot read Avro data from {_where(topic, None, schema_id)} "
                f"(schema {names}): {_read_problem(e, data, writer, reader)}"
            ) from None
        if self.model is None:
            return value
        if not isinstance(value, dict):
            raise SerializationError(
                f"AvroSerde: {self.model.__name__} needs a record, but "
                f"{_where(topic, None, schema_id)} holds {_describe(value)}"
            )
        try:
            return self.model.from_dict(value)
        except SerializationError as e:
            raise SerializationError(
                f"AvroSerde: data from {_where(topic, None, schema_id)}: {e}"
            ) from None
        except Exception as e:  # a __post_init__ that raised
            raise SerializationError(
                f"AvroSerde: {self.model.__name__} from {_where(topic, None, schema_id)}: "
                f"{type(e).__name__}: {e}"
            ) from e

    def _reader(self, topic: str, schema_id: int) -> tuple[Any, Any]:
        registry = self.registry
        assert registry is not None
        try:
            schema_str = registry.get_schema(schema_id)
        except SchemaRegistryError as e:
            if e.status not in _DATA_ERRORS:
                raise
            raise SerializationError(
                f"AvroSerde: unknown schema id {schema_id} in data from topic {topic!r}: {e}"
            ) from e
        written = _load_schema(schema_str)
        if self.schema is not None and written == self.schema:
            pair = (self._parsed, None)  # the serde's own schema: nothing to resolve
        else:
            writer = _parse(written, f"schema id {schema_id}'s")
            reader = _parse(self.schema, "the serde's") if self.schema is not None else None
            pair = (writer, reader)
        self._readers[schema_id] = pair
        return pair

    # -- object protocol ------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, AvroSerde)
        return (
            self.schema == other.schema
            and self.model is other.model
            and _registry_key(self.registry) == _registry_key(other.registry)
            and self.is_key == other.is_key
            and self.subject_name_strategy == other.subject_name_strategy
            and self.auto_register_schemas == other.auto_register_schemas
            and self.use_latest_version == other.use_latest_version
        )

    def __hash__(self) -> int:
        return hash((type(self), self.schema_str))

    def __repr__(self) -> str:
        what = (
            self.model.__name__ if self.model is not None else (self.record_name or self.schema_str)
        )
        parts = [what] if what else []
        parts.append(f"registry={self.registry!r}")
        if self.is_key:
            parts.append("is_key=True")
        return f"AvroSerde({', '.join(parts)})"


# ---------------------------------------------------------------------------------- helpers


def _registry_key(registry: Any) -> Any:
    """Registry clients are the same registry if they have the same URLs."""
    urls = getattr(registry, "urls", None)
    return ("urls", tuple(urls)) if isinstance(urls, tuple | list) else ("id", id(registry))


def _load_schema(schema: Any) -> Any:
    """The schema as parsed JSON (a str, dict or list); checks it is JSON-able."""
    if isinstance(schema, str):
        text = schema.strip()
        try:
            return json.loads(text)
        except ValueError:
            if text.replace(".", "_").isidentifier():  # a bare type name: long, com.acme.T
                return text
            raise ValueError(f"AvroSerde: the schema is not valid JSON: {schema[:200]!r}") from None
    if isinstance(schema, Mapping | list):
        try:
            return json.loads(json.dumps(schema))
        except (TypeError, ValueError) as e:
            raise ValueError(f"AvroSerde: the schema is not JSON-able: {e}") from None
    raise TypeError(
        f"AvroSerde: schema must be Avro JSON text, a dict or list, or a strom.Model class, "
        f"got {type(schema).__name__}"
    )


def _parse(schema: Any, whose: str) -> Any:
    try:
        return fastavro.parse_schema(schema, named_schemas={})
    except Exception as e:
        raise ValueError(f"AvroSerde: {whose} schema is not valid Avro: {e}") from None


def _where(topic: str, subject: str | None, schema_id: int | None) -> str:
    text = f"topic {topic!r}"
    if subject is not None:
        text += f", subject {subject!r}"
    if schema_id is not None:
        text += f", schema id {schema_id}"
    return text


def _name(parsed: Any) -> str:
    if isinstance(parsed, dict):
        return str(parsed.get("name") or parsed.get("type"))
    return str(parsed) if isinstance(parsed, str) else "union"


def _invalid(datum: Any, parsed: Any, error: Exception) -> str:
    """What is wrong with ``datum``: the field fastavro's validator names, or the writer's
    own error."""
    try:
        _validate(datum, parsed, raise_errors=True)
    except Exception as e:
        found = getattr(e, "errors", None)
        if found:
            first = found[0]
            field = getattr(first, "field", None)
            expected = getattr(first, "schema", None)
            if isinstance(expected, dict):
                expected = expected.get("name") or expected.get("type")
            got = getattr(first, "datum", None)
            text = f"expected {_type_text(expected)}, got {_describe(got)}"
            return f"field {field}: {text}" if field else text
    return f"{type(error).__name__}: {error}"


def _read_problem(error: Exception, data: bytes, writer: Any, reader: Any) -> str:
    """What went wrong reading: the data ended early, or the schemas do not resolve (said
    the way Avro's resolution rules say it, naming the field), or fastavro's own error."""
    if isinstance(error, EOFError) or (
        isinstance(error, IndexError) and "string index" in str(error)  # a varint cut short
    ):
        return f"the data ends early (truncated? {len(data)} bytes in all)"
    if reader is not None and type(error).__name__ == "SchemaResolutionError":
        try:
            problem = reader_problem(reader, writer)
        except ValueError:
            problem = None
        if problem:
            return f"the writer's schema does not resolve to the reader's: {problem}"
    text = str(error)
    return f"{type(error).__name__}: {text if len(text) <= 300 else text[:297] + '...'}"


def _type_text(schema: Any) -> str:
    if isinstance(schema, list):
        return " | ".join(_type_text(s) for s in schema)
    return str(schema)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _preview(data: bytes) -> str:
    text = repr(bytes(data[:20]))
    return text if len(data) <= 20 else text + "..."


def _plain(value: Any) -> Any:
    """A Model (or what is in one) as fastavro writes it: dicts, lists, enum values."""
    if isinstance(value, Model):
        return {name: _plain(v) for name, v in value._shallow_dict().items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


# ----------------------------------------------------------------------- schemas from Models


def avro_schema(model: type[Model]) -> dict[str, Any]:
    """The Avro schema of a ``strom.Model`` class, from its field annotations.

    ``int`` is ``long``, ``float`` ``double``, ``str`` ``string``, ``bool`` ``boolean``,
    ``bytes`` ``bytes``; ``datetime`` a ``timestamp-millis`` long, ``date`` a ``date`` int,
    ``uuid.UUID`` a ``uuid`` string; ``X | None`` is ``["null", X]`` with default null (unless
    the field has another default); ``list[X]``, ``set[X]`` and ``tuple[X, ...]`` are arrays,
    ``dict[str, X]`` maps; nested models are records; an ``Enum`` of name-like strings is an
    Avro enum, one of ints a long. Field defaults become Avro defaults. The record is named
    after the class, in the model's ``namespace=`` class option if it has one.

    >>> class Point(Model, namespace="geo"):
    ...     x: int
    ...     label: str | None = None
    >>> avro_schema(Point)  # doctest: +NORMALIZE_WHITESPACE
    {'type': 'record', 'name': 'Point', 'namespace': 'geo',
     'fields': [{'name': 'x', 'type': 'long'},
                {'name': 'label', 'type': ['null', 'string'], 'default': None}]}
    """
    if not (isinstance(model, type) and issubclass(model, Model)):
        raise TypeError(f"avro_schema needs a strom.Model subclass, got {model!r}")
    return _SchemaMaker().record(model, "")


_MISSING: Any = object()
_SIMPLE: dict[Any, Any] = {
    str: "string",
    int: "long",
    float: "double",
    bool: "boolean",
    bytes: "bytes",
    datetime: {"type": "long", "logicalType": "timestamp-millis"},
    date: {"type": "int", "logicalType": "date"},
    uuid.UUID: {"type": "string", "logicalType": "uuid"},
}


class _SchemaMaker:
    def __init__(self) -> None:
        self.defined: dict[Any, str] = {}  # class -> full name
        self.names: dict[str, Any] = {}  # full name -> class

    def _name(self, cls: type, enclosing_ns: str) -> tuple[str, str | None, str]:
        """``(name, explicit namespace or None, full name)``."""
        options = getattr(cls, "_strom_options", {}) or {}
        ns = options.get("namespace") if isinstance(options.get("namespace"), str) else None
        full_ns = ns if ns is not None else enclosing_ns
        full = f"{full_ns}.{cls.__name__}" if full_ns else cls.__name__
        clash = self.names.get(full)
        if clash is not None and clash is not cls:
            raise TypeError(
                f"avro_schema: two different types are both named {full!r} "
                f"({clash.__module__}.{clash.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__}): give one a namespace= class option"
            )
        self.names[full] = cls
        return cls.__name__, ns, full

    def record(self, model: type[Model], enclosing_ns: str) -> Any:
        name, ns, full = self._name(model, enclosing_ns)
        self.defined[model] = full
        model._strom_ready()
        localns = {**model._strom_localns, model.__name__: model}
        hints = typing.get_type_hints(model, localns=localns, include_extras=True)
        inner_ns = full.rpartition(".")[0]
        fields = []
        for field in model._strom_fields:
            default = model._strom_defaults.get(field, _MISSING)
            where = f"{model.__name__}.{field}"
            tp = hints.get(field, Any)
            if default is None and not _is_optional(tp):
                tp = tp | None  # `x: str = None` means Optional[str], as in Faust
            avro = self.type(tp, inner_ns, where)
            entry: dict[str, Any] = {"name": field, "type": avro}
            if isinstance(avro, list) and "null" in avro and default is _MISSING:
                default = None  # an optional field defaults to null in Avro
            if default is not _MISSING:
                avro_default = _default(default)
                if avro_default is not _MISSING:
                    if isinstance(avro, list):  # a union's default matches its first branch
                        first = _branch_for(avro, avro_default)
                        if first is None:
                            avro_default = _MISSING
                        else:
                            entry["type"] = [first] + [b for b in avro if b is not first]
                    if avro_default is not _MISSING:
                        entry["default"] = avro_default
            fields.append(entry)
        schema: dict[str, Any] = {"type": "record", "name": name}
        if ns is not None:
            schema["namespace"] = ns
        schema["fields"] = fields
        return schema

    def type(self, tp: Any, ns: str, where: str) -> Any:
        try:
            simple = _SIMPLE.get(tp)
        except TypeError:
            simple = None
        if simple is not None:
            return dict(simple) if isinstance(simple, dict) else simple
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Annotated:
            return self.type(args[0], ns, where)
        if origin is typing.Union or origin is types.UnionType:
            branches = []
            if type(None) in args:
                branches.append("null")
            for arg in args:
                if arg is not type(None):
                    branch = self.type(arg, ns, where)
                    if isinstance(branch, list):
                        branches.extend(b for b in branch if b not in branches)
                    else:
                        branches.append(branch)
            return branches
        if origin is typing.Literal:
            if all(isinstance(a, str) for a in args):
                return "string"
            if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                return "long"
        sequence = origin in (list, set, frozenset) or (origin is tuple and _homogeneous(args))
        if sequence and args:
            return {"type": "array", "items": self.type(args[0], ns, f"{where}[]")}
        if origin in (dict, Mapping) and len(args) == 2:
            if args[0] is not str:
                raise TypeError(
                    f"avro_schema: {where}: Avro maps have string keys, not {args[0]!r}"
                )
            return {"type": "map", "values": self.type(args[1], ns, f"{where}[]")}
        if isinstance(tp, type) and issubclass(tp, Model):
            if tp in self.defined:
                return self.defined[tp]
            return self.record(tp, ns)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self._enum(tp, ns, where)
        raise TypeError(
            f"avro_schema: {where}: no Avro type for {tp!r}: use str, int, float, bool, bytes, "
            "datetime, date, UUID, Enum, a Model, X | None, list[X] or dict[str, X], or give "
            "AvroSerde a schema="
        )

    def _enum(self, cls: type[enum.Enum], ns: str, where: str) -> Any:
        values = [m.value for m in cls]
        if values and all(isinstance(v, str) and v.isidentifier() and v.isascii() for v in values):
            if cls in self.defined:
                return self.defined[cls]
            name, explicit_ns, full = self._name(cls, ns)
            self.defined[cls] = full
            schema: dict[str, Any] = {"type": "enum", "name": name}
            if explicit_ns is not None:
                schema["namespace"] = explicit_ns
            schema["symbols"] = values
            return schema
        if values and all(isinstance(v, str) for v in values):
            return "string"
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "long"
        raise TypeError(
            f"avro_schema: {where}: enum {cls.__name__} needs all-str or all-int values for Avro"
        )


def _homogeneous(args: tuple[Any, ...]) -> bool:
    return len(args) == 2 and args[1] is Ellipsis


def _is_optional(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return (origin is typing.Union or origin is types.UnionType) and type(None) in typing.get_args(
        tp
    )


def _default(value: Any) -> Any:
    """A field default as Avro JSON (``_MISSING`` if it has none)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("latin-1")  # Avro's JSON form of bytes: one code point per byte
    if isinstance(value, datetime):
        epoch = datetime(1970, 1, 1, tzinfo=value.tzinfo)
        return int((value - epoch).total_seconds() * 1000)
    if isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_default(v) for v in value]
        return _MISSING if any(i is _MISSING for i in items) else items
    if isinstance(value, dict):
        out = {k: _default(v) for k, v in value.items()}
        return _MISSING if any(v is _MISSING for v in out.values()) else out
    if isinstance(value, Model):
        return _default(value._shallow_dict())
    return _MISSING


def _branch_for(branches: list[Any], default: Any) -> Any:
    """The union branch a default belongs to (Avro: a union's default is of its first)."""
    for branch in branches:
        kind = branch.get("type") if isinstance(branch, dict) else branch
        if default is None:
            if kind == "null":
                return branch
        elif isinstance(default, bool):
            if kind == "boolean":
                return branch
        elif isinstance(default, int):
            if kind in ("long", "int", "double", "float"):
                return branch
        elif isinstance(default, float):
            if kind in ("double", "float"):
                return branch
        elif isinstance(default, str):
            if kind in ("string", "bytes", "enum"):
                return branch
        elif isinstance(default, list):
            if kind == "array":
                return branch
        elif isinstance(default, dict) and kind in ("map", "record"):
            return branch
    return None
