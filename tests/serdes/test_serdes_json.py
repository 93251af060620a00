"""Json: generic JSON on orjson."""

import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from strom.core.errors import SerializationError
from strom.model import Model
from strom.serdes import Json

T = "topic"


class Point(Model):
    x: int
    y: int = 0


class Shape(Model):
    name: str
    points: list[Point] = []


@dataclasses.dataclass
class Pair:
    left: int
    right: str


@pytest.mark.parametrize(
    ("value", "data"),
    [
        ({"a": 1, "b": [1, 2.5, None, True]}, b'{"a":1,"b":[1,2.5,null,true]}'),
        ([1, "two"], b'[1,"two"]'),
        ("text", b'"text"'),
        (42, b"42"),
        (-1.5, b"-1.5"),
        (True, b"true"),
        ({}, b"{}"),
    ],
)
def test_round_trip_plain_values(value, data):
    assert Json().serialize(T, value) == data
    assert Json().deserialize(T, data) == value


def test_none_stays_none():
    assert Json().serialize(T, None) is None
    assert Json().deserialize(T, None) is None


def test_json_null_bytes_read_as_none():
    assert Json().deserialize(T, b"null") is None


def test_models_are_written_as_objects():
    shape = Shape("tri", [Point(1), Point(2, 3)])
    data = Json().serialize(T, shape)
    assert data == b'{"name":"tri","points":[{"x":1,"y":0},{"x":2,"y":3}]}'
    assert Json().deserialize(T, data) == {
        "name": "tri",
        "points": [{"x": 1, "y": 0}, {"x": 2, "y": 3}],
    }
    assert Json().serialize(T, {"shapes": [Point(5)]}) == b'{"shapes":[{"x":5,"y":0}]}'


def test_dataclasses_datetimes_uuids():
    assert Json().serialize(T, Pair(1, "r")) == b'{"left":1,"right":"r"}'
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert Json().serialize(T, {"at": when}) == b'{"at":"2024-05-01T12:30:00+00:00"}'
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert Json().serialize(T, [u]) == b'["12345678-1234-5678-1234-567812345678"]'


def test_bytes_sets_decimals_and_int_keys():
    assert Json().serialize(T, {"b": b"hi"}) == b'{"b":"aGk="}'
    assert Json().serialize(T, {3}) == b"[3]"
    assert Json().serialize(T, Decimal("1.10")) == b'"1.10"'
    assert Json().serialize(T, {1: "a"}) == b'{"1":"a"}'


def test_invalid_json_names_the_problem():
    with pytest.raises(SerializationError) as e:
        Json().deserialize(T, b"{not json")
    message = str(e.value)
    assert message.startswith("Json: invalid JSON: ")
    assert message.endswith(": b'{not json'")


def test_invalid_json_preview_is_truncated():
    with pytest.raises(SerializationError) as e:
        Json().deserialize(T, b"x" * 100)
    assert str(e.value).endswith("b'" + "x" * 40 + "'...")


def test_unserializable_values():
    with pytest.raises(SerializationError) as e:
        Json().serialize(T, {"o": object()})
    assert str(e.value) == "Json: cannot serialize dict: Type is not JSON serializable: object"
    with pytest.raises(SerializationError, match="Json: cannot serialize int"):
        Json().serialize(T, 2**64)


def test_deserialize_accepts_memoryview_and_is_orjson_compatible():
    data = orjson.dumps({"k": [1, 2]})
    assert Json().deserialize(T, memoryview(data)) == {"k": [1, 2]}


def test_equality_and_repr():
    assert Json() == Json()
    assert repr(Json()) == "Json()"
