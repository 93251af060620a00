"""AvroSerde with strom.Model classes: generated schemas, round trips, evolution, topologies.

Without a schema registry (see test_avro.py for how the registry is injected); the same
through a real registry is in test_avro_registry.py.
"""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

pytest.importorskip("fastavro", reason="the avro extra (fastavro) is not installed")

import strom
from avro_kit import POINT, StubRegistry, T
from strom.core.errors import SerializationError
from strom.model import Model
from strom.serdes import String
from strom.serdes.avro import AvroSerde, avro_schema
from strom.serdes.schema_registry import MockSchemaRegistryClient
from strom.testing import TopologyTestDriver

# --------------------------------------------------------------------------- strom.Model


class Color(enum.Enum):
    RED = "RED"
    GREEN = "GREEN"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Customer(Model):
    name: str
    vip: bool = False


class Order(Model, namespace="com.acme"):
    order_id: str
    amount: float
    quantity: int = 1
    customer: Customer | None = None
    placed_at: datetime | None = None
    tags: list[str] = []
    extras: dict[str, float] = {}
    color: Color = Color.RED
    level: Level = Level.LOW
    note: str = None  # Faust's optional
    backup: Customer | None = None
    paid: bool = False
    due: date | None = None
    ref: uuid.UUID | None = None
    blob: bytes = b""


ORDER_SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "quantity", "type": "long", "default": 1},
        {
            "name": "customer",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Customer",
                    "fields": [
                        {"name": "name", "type": "string"},
                        {"name": "vip", "type": "boolean", "default": False},
                    ],
                },
            ],
            "default": None,
        },
        {
            "name": "placed_at",
            "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
            "default": None,
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "extras", "type": {"type": "map", "values": "double"}, "default": {}},
        {
            "name": "color",
            "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]},
            "default": "RED",
        },
        {"name": "level", "type": "long", "default": 1},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "backup", "type": ["null", "com.acme.Customer"], "default": None},
        {"name": "paid", "type": "boolean", "default": False},
        {"name": "due", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
        {
            "name": "ref",
            "type": ["null", {"type": "string", "logicalType": "uuid"}],
            "default": None,
        },
        {"name": "blob", "type": "bytes", "default": ""},
    ],
}


def test_model_schema_is_generated_exactly():
    assert avro_schema(Order) == ORDER_SCHEMA
    assert AvroSerde(model=Order).schema == ORDER_SCHEMA
    assert AvroSerde(Order).model is Order


def test_generated_schema_of_optionals_unions_and_sequences():
    class Shape(Model):
        sides: int | None
        size: int | None = 3
        either: int | str = "x"
        points: tuple[float, ...] = ()
        names: set[str] = set()
        grid: list[list[int]] = []

    assert avro_schema(Shape)["fields"] == [
        {"name": "sides", "type": ["null", "long"], "default": None},
        {"name": "size", "type": ["long", "null"], "default": 3},
        {"name": "either", "type": ["string", "long"], "default": "x"},
        {"name": "points", "type": {"type": "array", "items": "double"}, "default": []},
        {"name": "names", "type": {"type": "array", "items": "string"}, "default": []},
        {
            "name": "grid",
            "type": {"type": "array", "items": {"type": "array", "items": "long"}},
            "default": [],
        },
    ]


def test_a_recursive_model_refers_to_itself_by_name():
    class Node(Model):
        value: int
        children: list[Node] = []

    schema = avro_schema(Node)
    assert schema["fields"][1] == {
        "name": "children",
        "type": {"type": "array", "items": "Node"},
        "default": [],
    }
    serde = AvroSerde(Node, registry=StubRegistry())
    tree = Node(1, [Node(2), Node(3, [Node(4)])])
    assert serde.deserialize(T, serde.serialize(T, tree)) == tree


def test_fields_avro_cannot_express_are_refused_with_a_hint():
    class Bad(Model):
        amount: Decimal

    with pytest.raises(TypeError, match=r"avro_schema: Bad\.amount: no Avro type for"):
        avro_schema(Bad)

    class BadKeys(Model):
        counts: dict[int, int]

    with pytest.raises(TypeError, match="Avro maps have string keys"):
        avro_schema(BadKeys)


def test_model_round_trip():
    serde = AvroSerde(Order, registry=StubRegistry())
    order = Order(
        "o-1",
        9.5,
        2,
        Customer("ann", True),
        datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        ["a", "b"],
        {"tip": 1.5},
        Color.GREEN,
        Level.HIGH,
        "hi",
        Customer("bob"),
        True,
        date(2024, 3, 1),
        uuid.UUID(int=7),
        b"\x00\x01",
    )
    data = serde.serialize(T, order)
    back = serde.deserialize(T, data)
    assert back == order
    assert isinstance(back, Order) and back.color is Color.GREEN and back.level is Level.HIGH
    minimal = Order("o-2", 1.0)
    assert serde.deserialize(T, serde.serialize(T, minimal)) == minimal


def test_model_serde_takes_dicts_and_checks_them():
    serde = AvroSerde(Order, registry=StubRegistry())
    data = serde.serialize(T, {"order_id": "o-1", "amount": 2})
    assert serde.deserialize(T, data) == Order("o-1", 2.0)
    with pytest.raises(SerializationError) as info:
        serde.serialize(T, {"order_id": 1, "amount": 2})
    assert str(info.value) == (
        "AvroSerde: cannot serialize dict for topic 'orders': Order.order_id: expected str, "
        "got int 1"
    )
    with pytest.raises(TypeError, match="AvroSerde cannot serialize str 'x': expected Order"):
        serde.serialize(T, "x")


def test_a_model_with_a_bad_field_value_names_the_field():
    serde = AvroSerde(Order, registry=StubRegistry())
    with pytest.raises(SerializationError) as info:
        serde.serialize(T, Order("o-1", "lots"))
    assert str(info.value) == (
        "AvroSerde: cannot serialize Order for topic 'orders', subject 'orders-value', schema "
        "id 1: field com.acme.Order.amount: expected double, got str 'lots'"
    )


def test_a_model_reads_what_an_older_writer_wrote():
    v1 = {
        "type": "record",
        "name": "Order",
        "namespace": "com.acme",
        "fields": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "float"}],
    }
    registry = StubRegistry()
    registry.register("elsewhere", json.dumps(POINT))
    data = AvroSerde(v1, registry=registry).serialize(T, {"order_id": "o-1", "amount": 3.0})
    assert data[1:5] == b"\x00\x00\x00\x02"
    assert AvroSerde(Order, registry=registry).deserialize(T, data) == Order("o-1", 3.0)


def test_a_model_cannot_read_a_record_of_another_name():
    registry = StubRegistry()
    data = AvroSerde(POINT, registry=registry).serialize(T, {"x": 1})
    with pytest.raises(SerializationError) as info:
        AvroSerde(Order, registry=registry).deserialize(T, data)
    assert str(info.value) == (
        "AvroSerde: cannot read Avro data from topic 'orders', schema id 1 (schema Point read "
        "as com.acme.Order): the writer's schema does not resolve to the reader's: the "
        "schema: the writer's record Point is not the reader's com.acme.Order"
    )


def test_a_model_with_an_explicit_schema():
    schema = {
        "type": "record",
        "name": "Customer",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "vip", "type": "boolean", "default": False},
            {"name": "since", "type": "int", "default": 2020},  # not in the model: ignored
        ],
    }
    serde = AvroSerde(schema, model=Customer, registry=StubRegistry())
    assert serde.deserialize(T, serde.serialize(T, Customer("ann"))) == Customer("ann")


def test_a_model_reading_a_non_record():
    registry = StubRegistry()
    data = AvroSerde('"string"', registry=registry).serialize(T, "text")
    with pytest.raises(SerializationError) as info:
        AvroSerde(Customer, registry=registry).deserialize(T, data)
    assert str(info.value).endswith(
        "(schema string read as Customer): the writer's schema does not resolve to the "
        "reader's: the schema: the writer's string cannot be read as record Customer"
    )
    with pytest.raises(SerializationError, match="Customer needs a record, but topic 'orders'"):
        AvroSerde(model=Customer, registry=registry, schema='"string"').deserialize(T, data)


def test_plain_model_instances_are_written_by_a_schema_serde():
    serde = AvroSerde(avro_schema(Customer))
    assert serde.deserialize(T, serde.serialize(T, Customer("ann", True))) == {
        "name": "ann",
        "vip": True,
    }


def test_in_a_topology():
    b = strom.StreamsBuilder()
    serde = AvroSerde(Order, registry=StubRegistry())
    b.stream("in", key_serde=String(), value_serde=serde).filter(lambda k, v: v.amount > 1).to(
        "out", key_serde=String(), value_serde=serde
    )
    with TopologyTestDriver(b.build()) as driver:
        source = driver.create_input_topic("in", String(), serde)
        source.pipe_input("a", Order("o-1", 0.5))
        source.pipe_input("b", Order("o-2", 5.0))
        out = driver.create_output_topic("out", String(), serde).read_key_values_to_list()
    assert out == [("b", Order("o-2", 5.0))]


def test_equality_and_repr():
    stub = StubRegistry()
    assert AvroSerde(POINT, registry=stub) == AvroSerde(json.dumps(POINT), registry=stub)
    assert AvroSerde(POINT, registry=stub) != AvroSerde(POINT, registry=stub, is_key=True)
    assert AvroSerde(POINT, registry=stub) != AvroSerde(POINT)
    assert AvroSerde(POINT, registry=stub) != AvroSerde(POINT, registry=StubRegistry())
    url = "http://registry:8081"
    assert AvroSerde(POINT, registry=url) == AvroSerde(POINT, registry=url)  # two clients
    assert hash(AvroSerde(POINT, registry=url)) == hash(AvroSerde(POINT))
    assert repr(AvroSerde(Order)) == "AvroSerde(Order, registry=None)"
    assert repr(AvroSerde(POINT, registry="mock://r", is_key=True)) == (
        "AvroSerde(Point, registry=MockSchemaRegistryClient('r'), is_key=True)"
    )
    MockSchemaRegistryClient.reset("r")
