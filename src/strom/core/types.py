"""Small value types used across layers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import NamedTuple, TypeAlias

#: Record headers: an ordered tuple of ``(name, value)`` pairs; names may repeat, as in Kafka.
Headers: TypeAlias = tuple[tuple[str, bytes | None], ...]

EMPTY_HEADERS: Headers = ()


class TaskId(NamedTuple):
    """A task: one partition of one sub-topology (Kafka's ``TaskId``), printed as ``0_1``."""

    subtopology: int
    partition: int

    def __str__(self) -> str:
        return f"{self.subtopology}_{self.partition}"


def normalize_headers(
    headers: Headers
    | Mapping[str, bytes | str | None]
    | Iterable[tuple[str, bytes | str | None]]
    | None,
) -> Headers:
    """Turn a dict, a list of pairs or None into the canonical :data:`Headers` tuple.

    >>> normalize_headers({"a": "1"})
    (('a', b'1'),)
    """
    if not headers:
        return EMPTY_HEADERS
    if isinstance(headers, tuple) and all(
        isinstance(h, tuple) and len(h) == 2 and isinstance(h[1], bytes | None) for h in headers
    ):
        return headers  # already canonical
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, bytes | None]] = []
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"header names must be str, got {type(name).__name__}: {name!r}")
        if isinstance(value, str):
            value = value.encode()
        elif value is not None and not isinstance(value, bytes):
            raise TypeError(
                f"header {name!r} must be bytes, str or None, got {type(value).__name__}"
            )
        out.append((name, value))
    return tuple(out)


def to_millis(duration: int | float | timedelta, what: str = "duration") -> int:
    """Milliseconds from an int/float of milliseconds or a :class:`datetime.timedelta`.

    >>> to_millis(timedelta(seconds=2))
    2000
    """
    if isinstance(duration, timedelta):
        return int(duration.total_seconds() * 1000)
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise TypeError(
            f"{what} must be int milliseconds or datetime.timedelta, "
            f"got {type(duration).__name__}: {duration!r}"
        )
    return int(duration)
