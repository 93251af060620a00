"""``Json``: any JSON-able value on orjson (the default serde for keys and values)."""

from __future__ import annotations

from typing import Any

import orjson

from strom.core.errors import SerializationError
from strom.model import json_default, json_dumps
from strom.serdes.base import Serde

_OPTS = orjson.OPT_NON_STR_KEYS
_loads = orjson.loads


class Json(Serde[Any]):
    """JSON via orjson: dicts, lists, str, numbers, bools, datetimes, dataclasses and
    ``strom.Model`` instances (as objects); bytes are written as base64 strings and sets as
    lists. Reading gives plain Python values (dicts, lists, ...).

    >>> Json().serialize("t", {"word": "hello", "count": 2})
    b'{"word":"hello","count":2}'
    >>> Json().deserialize("t", b'[1, 2.5, null]')
    [1, 2.5, None]
    """

    def serialize(self, topic: str, obj: Any) -> bytes | None:
        if obj is None:
            return None
        try:
            return json_dumps(obj, default=json_default, option=_OPTS)
        except TypeError as e:
            raise SerializationError(f"Json: cannot serialize {type(obj).__name__}: {e}") from None

    def deserialize(self, topic: str, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return _loads(data)
        except orjson.JSONDecodeError as e:
            raise SerializationError(f"Json: invalid JSON: {e}: {_preview(data)}") from None


def _preview(data: bytes | Any) -> str:
    text = repr(bytes(data[:40]))
    return text if len(data) <= 40 else text + "..."
