"""ModelSerde: strom.Model classes as JSON, validated on read; and serde_for."""

from datetime import UTC, datetime

import pytest

from strom.core.errors import SerializationError
from strom.model import Model
from strom.serdes import (
    Boolean,
    Bytes,
    Double,
    Json,
    Long,
    ModelSerde,
    Serde,
    String,
    serde_for,
)

T = "orders"


class Customer(Model):
    name: str
    vip: bool = False


class Order(Model):
    order_id: str
    amount: float
    customer: Customer | None = None
    placed_at: datetime | None = None


def test_round_trip():
    serde = ModelSerde(Order)
    order = Order("o-1", 9.5, Customer("ann"), datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    data = serde.serialize(T, order)
    assert data == (
        b'{"order_id":"o-1","amount":9.5,"customer":{"name":"ann","vip":false},'
        b'"placed_at":"2024-01-02T03:04:05+00:00"}'
    )
    assert serde.deserialize(T, data) == order


def test_none_stays_none():
    serde = ModelSerde(Order)
    assert serde.serialize(T, None) is None
    assert serde.deserialize(T, None) is None


def test_reads_what_json_wrote_and_ignores_unknown_fields():
    data = Json().serialize(T, {"order_id": "o-2", "amount": 3, "__faust": {"ns": "x"}, "x": 1})
    order = ModelSerde(Order).deserialize(T, data)
    assert order == Order("o-2", 3.0)
    assert type(order.amount) is float


def test_deserialize_errors_name_model_and_field():
    serde = ModelSerde(Order)
    with pytest.raises(SerializationError) as e:
        serde.deserialize(T, b'{"order_id":"o-1","amount":"abc"}')
    assert str(e.value) == "Order.amount: expected float, got str 'abc'"
    with pytest.raises(SerializationError) as e:
        serde.deserialize(T, b'{"order_id":"o-1","amount":1,"customer":{"vip":true}}')
    assert str(e.value) == "Order.customer.name: required field missing"
    with pytest.raises(SerializationError) as e:
        serde.deserialize(T, b'{"amount":1}')
    assert str(e.value) == "Order.order_id: required field missing"
    with pytest.raises(SerializationError) as e:
        serde.deserialize(T, b"[1]")
    assert str(e.value) == "Order: expected a JSON object (dict), got list [1]"


def test_deserialize_invalid_json():
    with pytest.raises(SerializationError) as e:
        ModelSerde(Order).deserialize(T, b"{oops")
    assert str(e.value).startswith("Order: invalid JSON: ")


def test_post_init_errors_are_serialization_errors():
    class Positive(Model):
        n: int

        def __post_init__(self):
            if self.n < 0:
                raise ValueError("n must be positive")

    with pytest.raises(SerializationError) as e:
        ModelSerde(Positive).deserialize(T, b'{"n":-1}')
    assert str(e.value) == "Positive: cannot build from JSON: ValueError: n must be positive"


def test_serialize_validates_dicts_and_rejects_other_types():
    serde = ModelSerde(Order)
    assert serde.serialize(T, {"order_id": "o", "amount": 1}) == (
        b'{"order_id":"o","amount":1.0,"customer":null,"placed_at":null}'
    )
    with pytest.raises(SerializationError, match=r"Order.amount: expected float, got None"):
        serde.serialize(T, {"order_id": "o", "amount": None})
    with pytest.raises(TypeError, match="ModelSerde cannot serialize Customer"):
        serde.serialize(T, Customer("x"))


def test_needs_a_model_class():
    with pytest.raises(
        TypeError, match=r"ModelSerde needs a strom\.Model subclass, got <class 'dict'>"
    ):
        ModelSerde(dict)


def test_equality_and_repr():
    assert ModelSerde(Order) == ModelSerde(Order)
    assert ModelSerde(Order) != ModelSerde(Customer)
    assert repr(ModelSerde(Order)) == "ModelSerde(Order)"


# -- serde_for ------------------------------------------------------------------------------


def test_serde_for_none_gives_default():
    assert serde_for(None) is None
    default = Json()
    assert serde_for(None, default=default) is default


def test_serde_for_instances_and_classes():
    s = String()
    assert serde_for(s) is s
    assert serde_for(Long) == Long()
    assert serde_for(Order) == ModelSerde(Order)


@pytest.mark.parametrize(
    ("tp", "expected"),
    [(str, String()), (bytes, Bytes()), (int, Long()), (float, Double()), (bool, Boolean())],
)
def test_serde_for_builtins(tp, expected):
    serde = serde_for(tp)
    assert serde == expected
    assert isinstance(serde, Serde)


@pytest.mark.parametrize("bad", [dict, list, 42, "str", object()])
def test_serde_for_rejects_anything_else(bad):
    with pytest.raises(TypeError) as e:
        serde_for(bad)
    assert str(e.value) == (
        f"cannot make a serde from {bad!r}: expected a Serde instance or class, "
        "a strom.Model class, or one of str, bytes, int, float, bool"
    )
