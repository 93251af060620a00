"""``ModelSerde``: a ``strom.Model`` class as JSON on the wire, validated on read."""

from __future__ import annotations

from typing import Generic, TypeVar

from strom.core.errors import SerializationError
from strom.model import Model
from strom.serdes.base import Serde, type_error

M = TypeVar("M", bound=Model)


class ModelSerde(Serde[M], Generic[M]):
    """Serialize instances of ``model_cls`` as JSON; deserialize with validation.

    Errors name the model and the field.

    >>> from strom.model import Model
    >>> class Order(Model):
    ...     order_id: str
    ...     amount: float
    >>> serde = ModelSerde(Order)
    >>> serde.serialize("orders", Order("o-1", 9.5))
    b'{"order_id":"o-1","amount":9.5}'
    >>> serde.deserialize("orders", b'{"order_id":"o-1","amount":9.5}')
    Order(order_id='o-1', amount=9.5)
    """

    def __init__(self, model_cls: type[M]) -> None:
        if not (isinstance(model_cls, type) and issubclass(model_cls, Model)):
            raise TypeError(f"ModelSerde needs a strom.Model subclass, got {model_cls!r}")
        self.model_cls = model_cls

    def serialize(self, topic: str, obj: M | None) -> bytes | None:
        if obj is None:
            return None
        if isinstance(obj, self.model_cls):
            return obj.dumps()
        if isinstance(obj, dict):  # validate a plain dict against the model first
            return self.model_cls.from_dict(obj).dumps()
        raise type_error(self, f"{self.model_cls.__name__} or dict", obj)

    def deserialize(self, topic: str, data: bytes | None) -> M | None:
        if data is None:
            return None
        try:
            return self.model_cls.loads(data)
        except SerializationError:
            raise
        except Exception as e:  # a __post_init__ that raised
            raise SerializationError(
                f"{self.model_cls.__name__}: cannot build from JSON: {type(e).__name__}: {e}"
            ) from e

    def __repr__(self) -> str:
        return f"ModelSerde({self.model_cls.__name__})"
