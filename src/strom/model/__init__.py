"""``Model``: typed records declared with class annotations, JSON on the wire, validated on read.

What Faust calls a ``Record`` (``strom.Record`` is an alias):

>>> class Order(Model):
...     order_id: str
...     amount: float
...     tags: list[str] = []
>>> Order.loads(b'{"order_id": "o-1", "amount": 5}')
Order(order_id='o-1', amount=5.0, tags=[])
"""

from strom.model._base import Model, json_default, json_dumps

__all__ = ["Model", "json_default", "json_dumps"]
