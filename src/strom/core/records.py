"""The raw record every backend fetches: bytes plus where they came from."""

from __future__ import annotations

from typing import NamedTuple

from strom.core.types import EMPTY_HEADERS, Headers


class ConsumerRecord(NamedTuple):
    """A record as stored in a topic partition: serialized key and value, not yet typed."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Headers = EMPTY_HEADERS
