"""AvroSerde without a schema registry: Confluent's framing, every Avro type, subjects,
registration, evolution and errors.

The serde gets its registry injected: a small stub (avro_kit.StubRegistry), or ``mock://``
(strom's in-process registry, like Confluent's). strom.Model classes with Avro are in
test_avro_model.py, the registry clients (``mock://`` and HTTP) in
test_schema_registry_client.py, and the tests against a real registry in test_avro_registry.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

fastavro = pytest.importorskip("fastavro", reason="the avro extra (fastavro) is not installed")

import strom  # noqa: E402
from avro_kit import POINT, POINT_V2, StubRegistry, T, avro  # noqa: E402
from strom.core.errors import DeserializationError, SerializationError  # noqa: E402
from strom.serdes import String  # noqa: E402
from strom.serdes.avro import AvroSerde  # noqa: E402
from strom.serdes.schema_registry import SchemaRegistryError  # noqa: E402
from strom.testing import TopologyTestDriver  # noqa: E402

# ------------------------------------------------------------------------- the wire format


def test_confluent_framing_is_byte_exact():
    stub = StubRegistry(first_id=0x01020304)
    serde = AvroSerde(POINT, registry=stub)
    data = serde.serialize(T, {"x": 1})
    assert data == b"\x00" + (0x01020304).to_bytes(4, "big") + b"\x02"
    assert data == b"\x00\x01\x02\x03\x04" + avro(POINT, {"x": 1})
    assert serde.deserialize(T, data) == {"x": 1}


def test_reads_what_another_confluent_producer_wrote():
    stub = StubRegistry()
    schema_id = stub.register("other-value", json.dumps(POINT))
    data = b"\x00" + schema_id.to_bytes(4, "big") + avro(POINT, {"x": -3})
    assert AvroSerde(registry=stub).deserialize(T, data) == {"x": -3}


def test_without_a_registry_the_data_is_bare_avro():
    serde = AvroSerde(POINT)
    assert serde.registry is None
    assert serde.serialize(T, {"x": 1}) == b"\x02" == avro(POINT, {"x": 1})
    assert serde.deserialize(T, b"\x02") == {"x": 1}


def test_without_a_registry_a_schema_is_needed():
    with pytest.raises(ValueError, match="needs a schema"):
        AvroSerde()


def test_none_stays_none():
    for serde in (AvroSerde(POINT, registry=StubRegistry()), AvroSerde(POINT)):
        assert serde.serialize(T, None) is None
        assert serde.deserialize(T, None) is None


def test_the_schema_is_registered_once_and_read_once():
    stub = StubRegistry()
    writer = AvroSerde(POINT, registry=stub)
    reader = AvroSerde(registry=stub)
    for x in range(3):
        assert reader.deserialize(T, writer.serialize(T, {"x": x})) == {"x": x}
    assert stub.calls == [("register", "orders-value"), ("get_schema", 1)]


# --------------------------------------------------------------------------- every Avro type

EVERYTHING = {
    "type": "record",
    "name": "Everything",
    "namespace": "com.acme",
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "raw", "type": "bytes"},
        {"name": "s", "type": "string"},
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [{"name": "tags", "type": {"type": "array", "items": "string"}}],
            },
        },
        {"name": "inners", "type": {"type": "array", "items": "Inner"}},
        {"name": "counts", "type": {"type": "map", "values": "long"}},
        {"name": "maybe", "type": ["null", "string", "Inner"]},
        {"name": "maybe_too", "type": ["null", "string", "Inner"]},
        {"name": "suit", "type": {"type": "enum", "name": "Suit", "symbols": ["HEARTS", "SPADES"]}},
        {"name": "md5", "type": {"type": "fixed", "name": "MD5", "size": 4}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
    ],
}

EVERY_VALUE = {
    "n": None,
    "b": True,
    "i": -(2**31),
    "l": 2**63 - 1,
    "f": 1.5,
    "d": -2.25e300,
    "raw": b"\x00\xff",
    "s": "hé ✓",
    "inner": {"tags": ["a", "b"]},
    "inners": [{"tags": []}, {"tags": ["c"]}],
    "counts": {"x": 1, "y": -2},
    "maybe": "text",
    "maybe_too": {"tags": ["nested"]},
    "suit": "SPADES",
    "md5": b"\x01\x02\x03\x04",
    "day": date(2024, 2, 29),
    "at_ms": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    "at_us": datetime(2024, 1, 2, 3, 4, 5, 678912, tzinfo=UTC),
    "clock": time(12, 30, 15, 250000),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "price": Decimal("1234.50"),
}


@pytest.mark.parametrize("with_registry", [True, False], ids=["registry", "bare"])
def test_every_avro_type_round_trips(with_registry):
    serde = AvroSerde(EVERYTHING, registry=StubRegistry() if with_registry else None)
    data = serde.serialize(T, EVERY_VALUE)
    assert data.endswith(avro(EVERYTHING, EVERY_VALUE))
    assert serde.deserialize(T, data) == EVERY_VALUE


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ('"string"', "hé"),
        ("long", 2**40),
        ('"int"', -1),
        ('"boolean"', False),
        ('"double"', 0.1),
        ('"bytes"', b"\x00"),
        ('{"type": "array", "items": "long"}', [1, 2, 3]),
        ('{"type": "map", "values": "string"}', {"k": "v"}),
        ('["null", "long"]', 7),
        ('{"type": "enum", "name": "E", "symbols": ["A", "B"]}', "B"),
    ],
)
def test_top_level_schemas_of_every_kind(schema, value):
    serde = AvroSerde(schema, registry=StubRegistry())
    assert serde.deserialize(T, serde.serialize(T, value)) == value


def test_schema_may_be_json_text_a_dict_or_a_list():
    for schema in (json.dumps(POINT), POINT):
        assert AvroSerde(schema).schema == POINT
    assert AvroSerde(["null", "long"]).schema == ["null", "long"]
    assert AvroSerde(json.dumps(POINT)).schema_str == json.dumps(POINT, separators=(",", ":"))


def test_an_invalid_schema_is_refused_at_construction():
    with pytest.raises(ValueError, match="not valid JSON"):
        AvroSerde('{"type": "record"')
    with pytest.raises(ValueError, match="schema is not valid Avro"):
        AvroSerde({"type": "nope"})
    with pytest.raises(ValueError, match="Default value <x> must match schema type: long"):
        AvroSerde(
            {
                "type": "record",
                "name": "R",
                "fields": [{"name": "a", "type": "long", "default": "x"}],
            }
        )
    with pytest.raises(TypeError, match="schema must be Avro JSON text"):
        AvroSerde(42)


# ------------------------------------------------------------------------ subject strategies


def test_topic_name_strategy_for_keys_and_values():
    stub = StubRegistry()
    AvroSerde(POINT, registry=stub).serialize(T, {"x": 1})
    AvroSerde(POINT, registry=stub, is_key=True).serialize(T, {"x": 1})
    assert list(stub.subjects) == ["orders-value", "orders-key"]
    assert AvroSerde('"string"', registry=stub, is_key=True).subject("t") == "t-key"


def test_record_name_strategies_use_the_full_name():
    stub = StubRegistry()
    record = AvroSerde(EVERYTHING, registry=stub, subject_name_strategy="record")
    topic_record = AvroSerde(EVERYTHING, registry=stub, subject_name_strategy="topic_record")
    assert record.subject(T) == "com.acme.Everything"
    assert topic_record.subject(T) == "orders-com.acme.Everything"
    record.serialize(T, EVERY_VALUE)
    topic_record.serialize(T, EVERY_VALUE)
    assert list(stub.subjects) == ["com.acme.Everything", "orders-com.acme.Everything"]


def test_a_function_as_subject_strategy():
    seen = []

    def strategy(topic, is_key, name):
        seen.append((topic, is_key, name))
        return f"custom.{topic}"

    serde = AvroSerde(POINT, registry=StubRegistry(), subject_name_strategy=strategy, is_key=True)
    assert serde.subject(T) == "custom.orders"
    assert seen == [(T, True, "Point")]


def test_record_strategy_needs_a_named_schema():
    serde = AvroSerde('"string"', registry=StubRegistry(), subject_name_strategy="record")
    with pytest.raises(SerializationError, match="needs a named schema"):
        serde.serialize(T, "x")
    with pytest.raises(ValueError, match="unknown subject_name_strategy 'TopicName'"):
        AvroSerde(POINT, registry=StubRegistry(), subject_name_strategy="TopicName")


# ------------------------------------------------------------------ registration and lookup


def test_auto_register_off_looks_the_schema_up():
    stub = StubRegistry()
    serde = AvroSerde(POINT, registry=stub, auto_register_schemas=False)
    with pytest.raises(SerializationError) as info:
        serde.serialize(T, {"x": 1})
    assert "the schema is not registered (auto_register_schemas=False" in str(info.value)
    assert "subject 'orders-value'" in str(info.value)
    stub.register("orders-value", serde.schema_str)
    assert serde.serialize(T, {"x": 1}) == b"\x00\x00\x00\x00\x01\x02"
    assert stub.calls == [
        ("lookup", "orders-value"),
        ("register", "orders-value"),  # the test's own
        ("lookup", "orders-value"),
    ]


def test_use_latest_version_writes_with_the_latest_schema():
    stub = StubRegistry()
    stub.register("orders-value", json.dumps(POINT))
    v2 = stub.register("orders-value", json.dumps(POINT_V2))
    serde = AvroSerde(POINT, registry=stub, use_latest_version=True)
    data = serde.serialize(T, {"x": 1})  # label: the latest schema's default
    assert data == b"\x00" + v2.to_bytes(4, "big") + avro(POINT_V2, {"x": 1, "label": "none"})
    assert ("register", "orders-value") not in stub.calls[2:]
    assert serde.deserialize(T, data) == {"x": 1}  # read back as the serde's own schema
    schemaless = AvroSerde(registry=stub, use_latest_version=True)
    assert schemaless.deserialize(T, schemaless.serialize(T, {"x": 2, "label": "b"})) == {
        "x": 2,
        "label": "b",
    }


def test_use_latest_version_on_an_empty_subject():
    serde = AvroSerde(POINT, registry=StubRegistry(), use_latest_version=True)
    with pytest.raises(SerializationError, match="no latest schema for topic 'orders', subject"):
        serde.serialize(T, {"x": 1})


def test_a_serde_without_a_schema_cannot_write_without_use_latest_version():
    serde = AvroSerde(registry=StubRegistry())
    with pytest.raises(SerializationError, match="give schema= or model=, or use_latest_version"):
        serde.serialize(T, {"x": 1})


def test_an_unreachable_registry_is_not_a_serialization_error():
    class Down(StubRegistry):
        def register(self, subject, schema_str):
            raise SchemaRegistryError("no schema registry answered", subject=subject)

        def get_schema(self, schema_id):
            raise SchemaRegistryError("Service Unavailable", status=503)

    serde = AvroSerde(POINT, registry=Down())
    with pytest.raises(SchemaRegistryError) as info:
        serde.serialize(T, {"x": 1})
    assert not isinstance(info.value, SerializationError)
    with pytest.raises(SchemaRegistryError, match="HTTP 503"):
        serde.deserialize(T, b"\x00\x00\x00\x00\x01\x02")


# -------------------------------------------------------------------------- schema evolution


def test_schema_evolution_new_field_with_default():
    registry = StubRegistry()
    v1 = AvroSerde(POINT, registry=registry)
    v2 = AvroSerde(POINT_V2, registry=registry)
    old = v1.serialize(T, {"x": 1})
    new = v2.serialize(T, {"x": 2, "label": "two"})
    assert old[1:5] != new[1:5]  # two schema ids
    assert v2.deserialize(T, old) == {"x": 1, "label": "none"}  # writer v1 read as v2
    assert v1.deserialize(T, new) == {"x": 2}  # v2 read as v1: the new field is dropped
    assert AvroSerde(registry=registry).deserialize(T, new) == {"x": 2, "label": "two"}


def test_promotions_apply_when_reading():
    writer = {"type": "record", "name": "P", "fields": [{"name": "v", "type": "int"}]}
    reader = {"type": "record", "name": "P", "fields": [{"name": "v", "type": "double"}]}
    registry = StubRegistry()
    data = AvroSerde(writer, registry=registry).serialize(T, {"v": 3})
    value = AvroSerde(reader, registry=registry).deserialize(T, data)
    assert value == {"v": 3.0} and type(value["v"]) is float


def test_a_reader_schema_that_cannot_resolve_the_writer_names_the_field():
    registry = StubRegistry()
    data = AvroSerde(POINT, registry=registry).serialize(T, {"x": 1})
    v3 = {**POINT, "fields": [*POINT["fields"], {"name": "required", "type": "string"}]}
    with pytest.raises(SerializationError) as info:
        AvroSerde(v3, registry=registry).deserialize(T, data)
    assert str(info.value) == (
        "AvroSerde: cannot read Avro data from topic 'orders', schema id 1 (schema Point read "
        "as Point): the writer's schema does not resolve to the reader's: Point.required: the "
        "reader's field 'required' has no default and the writer has no such field"
    )


# ------------------------------------------------------------------------------------ errors


def test_bad_magic_byte():
    serde = AvroSerde(POINT, registry=StubRegistry())
    with pytest.raises(SerializationError) as info:
        serde.deserialize(T, b'{"x": 1}')
    assert str(info.value) == (
        "AvroSerde: unknown magic byte 0x7b in data from topic 'orders' (expected 0x00: "
        "Confluent's wire format): not written by a schema-registry serializer? b'{\"x\": 1}'"
    )


def test_too_short_for_the_header():
    serde = AvroSerde(POINT, registry=StubRegistry())
    with pytest.raises(SerializationError) as info:
        serde.deserialize(T, b"\x00\x00\x01")
    assert str(info.value) == (
        "AvroSerde: 3 bytes from topic 'orders' are too short for Confluent's wire format "
        "(a magic byte 0, a 4-byte schema id, the Avro data): b'\\x00\\x00\\x01'"
    )


def test_truncated_avro_data():
    serde = AvroSerde(EVERYTHING, registry=StubRegistry())
    data = serde.serialize(T, EVERY_VALUE)
    for cut in (12, 30, 100):  # inside a varint, a fixed-size value, a string
        with pytest.raises(SerializationError) as info:
            serde.deserialize(T, data[:cut])
        assert str(info.value) == (
            "AvroSerde: cannot read Avro data from topic 'orders', schema id 1 (schema "
            f"com.acme.Everything): the data ends early (truncated? {cut} bytes in all)"
        )


def test_unknown_schema_id():
    serde = AvroSerde(POINT, registry=StubRegistry())
    with pytest.raises(SerializationError) as info:
        serde.deserialize(T, b"\x00\x00\x00\x00\x63\x02")
    assert str(info.value) == (
        "AvroSerde: unknown schema id 99 in data from topic 'orders': schema registry: "
        "HTTP 404, error code 40403: Schema 99 not found"
    )
    assert isinstance(info.value.__cause__, SchemaRegistryError)


def test_a_value_of_the_wrong_type_names_the_field():
    serde = AvroSerde(EVERYTHING, registry=StubRegistry())
    bad = {**EVERY_VALUE, "inner": {"tags": ["ok", 3]}}
    with pytest.raises(SerializationError) as info:
        serde.serialize(T, bad)
    assert str(info.value) == (
        "AvroSerde: cannot serialize dict for topic 'orders', subject 'orders-value', schema "
        "id 1: field com.acme.Inner.tags: expected string, got int 3"
    )


def test_a_missing_field_names_the_field():
    with pytest.raises(SerializationError) as info:
        AvroSerde(POINT).serialize(T, {"y": 1})
    assert str(info.value) == (
        "AvroSerde: cannot serialize dict for topic 'orders': field Point.x: expected long, "
        "got None"
    )


def test_an_enum_symbol_that_does_not_exist():
    with pytest.raises(SerializationError, match=r"field com\.acme\.Everything\.suit: expected"):
        AvroSerde(EVERYTHING).serialize(T, {**EVERY_VALUE, "suit": "CLUBS"})


def test_errors_reach_the_deserialization_handler_naming_the_offset():
    b = strom.StreamsBuilder()
    b.stream("in", key_serde=String(), value_serde=AvroSerde(POINT, registry=StubRegistry())).to(
        "out", key_serde=String(), value_serde=String()
    )
    with TopologyTestDriver(b.build()) as driver, pytest.raises(DeserializationError) as info:
        driver.pipe_raw("in", b"k", b"not avro", 0, ())
    assert str(info.value).startswith("cannot deserialize the value with AvroSerde(Point, ")
    assert str(info.value).endswith(
        "AvroSerde: unknown magic byte 0x6e in data from topic 'in' (expected 0x00: Confluent's "
        "wire format): not written by a schema-registry serializer? b'not avro' (topic='in', "
        "partition=0, offset=0)"
    )


# ---------------------------------------------------------------- the extra is optional


def test_strom_imports_without_fastavro():
    code = (
        "import sys; sys.modules['fastavro'] = None\n"
        "import strom, strom.serdes, strom.serdes.schema_registry\n"
        "from strom import serdes\n"
        "assert 'AvroSerde' in serdes.__all__ and 'AvroSerde' in dir(serdes)\n"
        "assert 'strom.serdes.avro' not in sys.modules\n"
        "try:\n"
        "    serdes.AvroSerde\n"
        "except ImportError as e:\n"
        "    print(e)\n"
        "try:\n"
        "    import strom.serdes.avro\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("pip install 'strom[avro]'") == 2, done.stdout


def test_avro_serde_is_exported_lazily_from_strom_serdes():
    code = (
        "import sys, strom\n"
        "assert 'fastavro' not in sys.modules and 'strom.serdes.avro' not in sys.modules\n"
        "from strom.serdes import AvroSerde\n"
        "import strom.serdes.avro\n"
        "assert AvroSerde is strom.serdes.avro.AvroSerde is strom.serdes.AvroSerde\n"
        "try:\n"
        "    strom.serdes.NoSuchSerde\n"
        "except AttributeError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "module 'strom.serdes' has no attribute 'NoSuchSerde'\n"
