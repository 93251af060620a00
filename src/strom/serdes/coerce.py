"""``serde_for``: turn what users pass as ``key_serde=``/``value_serde=``/``value_type=`` into
a :class:`~strom.serdes.base.Serde`."""

from __future__ import annotations

from typing import Any

from strom.model import Model
from strom.serdes.base import Serde
from strom.serdes.model import ModelSerde
from strom.serdes.primitives import Boolean, Bytes, Double, Long, String

_BUILTINS: dict[type, type[Serde[Any]]] = {
    str: String,
    bytes: Bytes,
    int: Long,
    float: Double,
    bool: Boolean,
}


def serde_for(x: Any, default: Serde[Any] | None = None) -> Serde[Any] | None:
    """A serde from a Serde, a Serde class, a ``strom.Model`` class or a builtin type.

    ``None`` gives ``default``; ``str``, ``bytes``, ``int``, ``float`` and ``bool`` give
    ``String``, ``Bytes``, ``Long``, ``Double`` and ``Boolean``.

    >>> serde_for(int)
    Long()
    >>> serde_for(None, default=String())
    String()
    """
    if x is None:
        return default
    if isinstance(x, Serde):
        return x
    if isinstance(x, type):
        builtin = _BUILTINS.get(x)
        if builtin is not None:
            return builtin()
        if issubclass(x, Serde):
            return x()
        if issubclass(x, Model):
            return ModelSerde(x)
    raise TypeError(
        f"cannot make a serde from {x!r}: expected a Serde instance or class, a strom.Model "
        "class, or one of str, bytes, int, float, bool"
    )
