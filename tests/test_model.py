"""strom.Model: typed fields from annotations, JSON, validation on read."""

import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal, Optional, Union

import pytest

from strom.core.errors import SerializationError
from strom.model import Model


class Order(Model):
    order_id: str
    amount: float


class Item(Model):
    sku: str
    qty: int = 1


class Cart(Model):
    cart_id: str
    items: list[Item] = []
    by_sku: dict[str, Item] = {}
    tags: list[str] = []
    note: str = None  # Faust style: None default makes the field optional
    created: datetime | None = None


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def error(model, data):
    with pytest.raises(SerializationError) as e:
        model.from_dict(data)
    return str(e.value)


# -- construction ---------------------------------------------------------------------------


def test_keyword_and_positional_construction():
    assert Order(order_id="1", amount=3.0) == Order("1", 3.0)
    o = Order("1", amount=3.0)
    assert (o.order_id, o.amount) == ("1", 3.0)


def test_missing_and_unknown_arguments():
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'amount'"):
        Order("1")
    with pytest.raises(TypeError, match="unexpected keyword argument 'color'"):
        Order("1", 2.0, color="red")
    with pytest.raises(
        TypeError, match=r"Order.__init__\(\) takes 3 positional arguments but 4 were given"
    ):
        Order("1", 2.0, 3)


def test_defaults_and_mutable_defaults_are_not_shared():
    a, b = Cart("a"), Cart("b")
    a.tags.append("x")
    assert b.tags == []
    assert a.items is not b.items
    assert a.note is None and a.created is None
    assert Item("s").qty == 1


def test_fields_are_plain_mutable_attributes():
    o = Order("1", 1.0)
    o.amount = 2.0
    assert o == Order("1", 2.0)


def test_repr_eq_unhashable():
    assert repr(Order("1", 3.0)) == "Order(order_id='1', amount=3.0)"
    assert Order("1", 3.0) != Order("1", 4.0)
    assert Order("1", 3.0) != Item("1")
    assert Order("1", 3.0) != {"order_id": "1", "amount": 3.0}
    with pytest.raises(TypeError, match="unhashable"):
        hash(Order("1", 3.0))


def test_classvars_and_methods_are_not_fields():
    class Counter(Model):
        kind: ClassVar[str] = "counter"
        n: int = 0

        def double(self):
            return self.n * 2

    assert Counter._strom_fields == ("n",)
    assert Counter(4).double() == 8
    assert Counter.from_dict({"n": 2, "kind": "x"}).kind == "counter"


def test_class_keywords_are_accepted():
    class FaustStyle(Model, serializer="json", namespace="orders", include_metadata=False):
        x: int

    assert FaustStyle(1).x == 1


def test_validation_class_keyword_checks_in_init():
    class Strict(Model, validation=True):
        n: int
        at: datetime | None = None

    assert Strict(1, "2024-01-01T00:00:00").at == datetime(2024, 1, 1)
    with pytest.raises(SerializationError) as e:
        Strict("1")
    assert str(e.value) == "Strict.n: expected int, got str '1'"


def test_post_init_runs_after_init_and_from_dict():
    class Total(Model):
        a: int
        b: int

        def __post_init__(self):
            self.total = self.a + self.b

    assert Total(1, 2).total == 3
    assert Total.from_dict({"a": 2, "b": 2}).total == 4
    assert Total(1, 2).to_dict() == {"a": 1, "b": 2}  # extra attributes are not fields
    assert Total(1, 2).dumps() == b'{"a":1,"b":2}'


# -- inheritance ----------------------------------------------------------------------------


class Base(Model):
    id: str
    version: int = 1


class Derived(Base):
    payload: str
    version: int = 2


def test_inheritance_base_fields_first():
    assert Derived._strom_fields == ("id", "version", "payload")
    d = Derived("x", payload="p")
    assert repr(d) == "Derived(id='x', version=2, payload='p')"
    assert Derived("x", 3, "p").version == 3
    with pytest.raises(TypeError, match=r"Derived\(\) missing required argument: 'payload'"):
        Derived("x")
    assert Derived.from_dict({"id": "x", "payload": "p"}) == d
    assert error(Derived, {"id": "x"}) == "Derived.payload: required field missing"


def test_class_keywords_are_inherited():
    class StrictBase(Model, validation=True):
        n: int

    class StrictChild(StrictBase):
        m: int = 0

    with pytest.raises(SerializationError, match=r"StrictChild\.m: expected int"):
        StrictChild(1, "x")


# -- from_dict validation -------------------------------------------------------------------


def test_from_dict_converts_and_ignores_unknown_fields():
    cart = Cart.from_dict(
        {
            "cart_id": "c",
            "items": [{"sku": "a"}, {"sku": "b", "qty": 2}],
            "by_sku": {"a": {"sku": "a"}},
            "created": "2024-03-01T10:00:00Z",
            "__faust": {"ns": "cart"},
            "unknown": 1,
        }
    )
    assert cart == Cart(
        "c",
        [Item("a"), Item("b", 2)],
        {"a": Item("a")},
        created=datetime(2024, 3, 1, 10, tzinfo=UTC),
    )


def test_float_accepts_int_and_converts():
    o = Order.from_dict({"order_id": "1", "amount": 3})
    assert o.amount == 3.0 and type(o.amount) is float


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"order_id": "1", "amount": "abc"}, "Order.amount: expected float, got str 'abc'"),
        ({"order_id": 1, "amount": 1.0}, "Order.order_id: expected str, got int 1"),
        ({"order_id": "1", "amount": True}, "Order.amount: expected float, got bool True"),
        ({"order_id": "1", "amount": None}, "Order.amount: expected float, got None"),
        ({"order_id": "1"}, "Order.amount: required field missing"),
        ({}, "Order.order_id: required field missing"),
    ],
)
def test_from_dict_errors_name_model_and_field(data, message):
    assert error(Order, data) == message


def test_not_a_dict():
    assert error(Order, ["1", 2.0]) == "Order: expected a JSON object (dict), got list ['1', 2.0]"
    assert error(Order, None) == "Order: expected a JSON object (dict), got None"


def test_nested_error_paths():
    assert error(Cart, {"cart_id": "c", "items": [{"sku": "a"}, {"sku": 5}]}) == (
        "Cart.items[1].sku: expected str, got int 5"
    )
    assert error(Cart, {"cart_id": "c", "items": [{"qty": 1}]}) == (
        "Cart.items[0].sku: required field missing"
    )
    assert error(Cart, {"cart_id": "c", "by_sku": {"k": {"sku": "a", "qty": "x"}}}) == (
        "Cart.by_sku['k'].qty: expected int, got str 'x'"
    )
    assert error(Cart, {"cart_id": "c", "items": {"sku": "a"}}) == (
        "Cart.items: expected list, got dict {'sku': 'a'}"
    )
    assert error(Cart, {"cart_id": "c", "items": ["a"]}) == (
        "Cart.items[0]: expected Item (a dict), got str 'a'"
    )
    assert error(Cart, {"cart_id": "c", "tags": ["a", 1]}) == (
        "Cart.tags[1]: expected str, got int 1"
    )
    assert error(Cart, {"cart_id": "c", "created": "yesterday"}) == (
        "Cart.created: expected datetime (ISO 8601 string), got str 'yesterday'"
    )


def test_deeply_nested_paths():
    class Address(Model):
        zip: str

    class Person(Model):
        address: Address

    class Team(Model):
        members: list[Person]

    data = {"members": [{"address": {"zip": "1"}}, {"address": {"zip": 2}}]}
    assert error(Team, data) == "Team.members[1].address.zip: expected str, got int 2"


def test_optional_and_unions():
    class Opt(Model):
        a: Optional[int]  # noqa: UP045 - the spelling Faust users write
        b: int | None = None
        c: Union[int, str] = 0  # noqa: UP007
        d: Any = None

    assert Opt.from_dict({"a": None}) == Opt(None)
    assert Opt.from_dict({"a": 1, "b": 2, "c": "x", "d": [1]}) == Opt(1, 2, "x", [1])
    assert error(Opt, {}) == "Opt.a: required field missing"
    assert error(Opt, {"a": "x"}) == "Opt.a: expected int, got str 'x'"
    assert error(Opt, {"a": 1, "c": 1.5}) == "Opt.c: expected int | str, got float 1.5"


def test_none_default_makes_field_optional():
    assert Cart.from_dict({"cart_id": "c", "note": None}).note is None
    assert Cart.from_dict({"cart_id": "c", "note": "n"}).note == "n"
    assert error(Cart, {"cart_id": "c", "note": 1}) == "Cart.note: expected str, got int 1"


def test_bool_and_int_are_strict():
    class Flags(Model):
        on: bool
        n: int = 0

    assert error(Flags, {"on": 1}) == "Flags.on: expected bool, got int 1"
    assert error(Flags, {"on": True, "n": True}) == "Flags.n: expected int, got bool True"
    assert error(Flags, {"on": True, "n": 1.0}) == "Flags.n: expected int, got float 1.0"


def test_other_field_types():
    class Misc(Model):
        raw: bytes
        day: date
        price: Decimal
        uid: uuid.UUID
        color: Color
        mode: Literal["a", "b"]
        pair: tuple[int, str]
        ints: tuple[int, ...] = ()
        uniq: set[int] = set()
        counts: dict[int, int] = {}
        anything: dict = {}
        things: list = []

    m = Misc.from_dict(
        {
            "raw": "aGk=",
            "day": "2024-02-29",
            "price": "1.10",
            "uid": "12345678-1234-5678-1234-567812345678",
            "color": "red",
            "mode": "b",
            "pair": [1, "x"],
            "ints": [1, 2],
            "uniq": [1, 1, 2],
            "counts": {"1": 2},
            "anything": {"k": [1]},
            "things": [1, "a"],
        }
    )
    assert m.raw == b"hi"
    assert m.day == date(2024, 2, 29)
    assert m.price == Decimal("1.10")
    assert m.uid == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert m.color is Color.RED
    assert (m.mode, m.pair, m.ints, m.uniq) == ("b", (1, "x"), (1, 2), {1, 2})
    assert m.counts == {1: 2}
    assert (m.anything, m.things) == ({"k": [1]}, [1, "a"])
    assert Misc.loads(m.dumps()) == m
    assert m.dumps().startswith(b'{"raw":"aGk=","day":"2024-02-29","price":"1.10",')

    base = {
        "raw": "aGk=",
        "day": "2024-02-29",
        "price": "1",
        "uid": "12345678-1234-5678-1234-567812345678",
        "color": "red",
        "mode": "a",
        "pair": [1, "x"],
    }
    assert error(Misc, {**base, "color": "green"}) == (
        "Misc.color: expected Color (one of 'red', 'blue'), got str 'green'"
    )
    assert error(Misc, {**base, "mode": "c"}) == "Misc.mode: expected 'a' | 'b', got str 'c'"
    assert (
        error(Misc, {**base, "pair": [1]}) == "Misc.pair: expected tuple of 2 items, got list [1]"
    )
    assert error(Misc, {**base, "raw": "%%"}) == (
        "Misc.raw: expected bytes (base64 string), got str '%%'"
    )
    assert error(Misc, {**base, "uid": "x"}) == "Misc.uid: expected UUID, got str 'x'"
    assert (
        error(Misc, {**base, "counts": {"a": 1}}) == "Misc.counts['a']: expected int, got str 'a'"
    )


def test_long_values_are_shortened_in_errors():
    msg = error(Order, {"order_id": "1", "amount": "x" * 100})
    assert msg == "Order.amount: expected float, got str '" + "x" * 56 + "..."


def test_self_referencing_model():
    class Node(Model):
        name: str
        children: "list[Node]" = []

    tree = Node.from_dict({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    assert tree.children[0].children[0] == Node("c")
    assert error(Node, {"name": "a", "children": [{"name": 1}]}) == (
        "Node.children[0].name: expected str, got int 1"
    )


def test_forward_reference_resolved_on_first_use():
    class Holder(Model):
        inner: "LaterDefined"

    class LaterDefined(Model):
        x: int

    # a local class defined after Holder is unknown to Holder: it cannot be resolved
    with pytest.raises(TypeError, match="Holder: cannot resolve field annotations"):
        Holder.from_dict({"inner": {"x": 1}})
    assert ModuleHolder.from_dict({"inner": {"x": 1}}) == ModuleHolder(ModuleLater(1))


class ModuleHolder(Model):
    inner: "ModuleLater"


class ModuleLater(Model):
    x: int


# -- writing --------------------------------------------------------------------------------


def test_to_dict_is_deep_and_asdict_is_the_same():
    cart = Cart("c", [Item("a")], {"a": Item("a", 2)})
    expected = {
        "cart_id": "c",
        "items": [{"sku": "a", "qty": 1}],
        "by_sku": {"a": {"sku": "a", "qty": 2}},
        "tags": [],
        "note": None,
        "created": None,
    }
    assert cart.to_dict() == expected
    assert cart.asdict() == expected
    assert Cart.from_dict(cart.to_dict()) == cart


def test_dumps_and_loads():
    cart = Cart("c", [Item("a")], created=datetime(2024, 1, 1, tzinfo=UTC))
    data = cart.dumps()
    assert data == (
        b'{"cart_id":"c","items":[{"sku":"a","qty":1}],"by_sku":{},"tags":[],"note":null,'
        b'"created":"2024-01-01T00:00:00+00:00"}'
    )
    assert Cart.loads(data) == cart
    assert Cart.loads(data.decode()) == cart


def test_loads_invalid_json():
    with pytest.raises(SerializationError) as e:
        Order.loads(b"{")
    assert str(e.value).startswith("Order: invalid JSON: ")


def test_dumps_unserializable_field():
    o = Order("1", 1.0)
    o.amount = object()
    with pytest.raises(SerializationError) as e:
        o.dumps()
    assert str(e.value) == "Order: cannot serialize: Type is not JSON serializable: object"


def test_faust_aliases():
    assert Order.from_data({"order_id": "1", "amount": 1}) == Order("1", 1.0)
    assert Order("1", 1.0).to_representation() == {"order_id": "1", "amount": 1.0}


def test_validate_in_place():
    o = Order("1", 2)
    o.validate()
    assert type(o.amount) is float
    o.order_id = 5
    with pytest.raises(SerializationError, match=r"Order\.order_id: expected str, got int 5"):
        o.validate()


def test_error_paths_through_containers():
    class Deep(Model):
        groups: list[dict[str, Item]] = []
        pair: tuple[int, str] = (0, "")
        mixed: list[int | str] = []
        counts: dict[int, list[int]] = {}

    assert error(Deep, {"groups": [{}, {"k": {"sku": "a", "qty": "x"}}]}) == (
        "Deep.groups[1]['k'].qty: expected int, got str 'x'"
    )
    assert error(Deep, {"pair": [1, 2]}) == "Deep.pair[1]: expected str, got int 2"
    assert error(Deep, {"mixed": [1, "a", 1.5]}) == (
        "Deep.mixed[2]: expected int | str, got float 1.5"
    )
    assert error(Deep, {"counts": {"1": [1, "x"]}}) == (
        "Deep.counts[1][1]: expected int, got str 'x'"
    )
    ok = Deep.from_dict({"groups": [{"k": {"sku": "a"}}], "mixed": [1, "a"], "counts": {"2": []}})
    assert ok == Deep([{"k": Item("a")}], (0, ""), [1, "a"], {2: []})
