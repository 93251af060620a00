"""Binary keys of window and session stores, laid out as Kafka's ``WindowKeySchema`` and
``SessionKeySchema`` (the same bytes go into the stores and their changelogs).

- window: key bytes + 8-byte big-endian window start + 4-byte big-endian sequence number
  (0 unless the store retains duplicates);
- session: key bytes + 8-byte big-endian session end + 8-byte big-endian session start.

A :class:`KeySchema` tells a segmented store how to read these keys: which timestamp picks the
segment, how a time range bounds a key's entries, and which entries a query matches.

>>> window_store_key(b"a", 5, 0).hex()
'61000000000000000500000000'
>>> WINDOW_KEYS.split(window_store_key(b"a", 5, 1))
(b'a', 5, 1)
>>> SESSION_KEYS.split(session_store_key(b"a", 1, 2))
(b'a', 1, 2)
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from strom.windows.window import MAX_TIMESTAMP

_WINDOW = struct.Struct(">qi")
_SESSION = struct.Struct(">qq")
_LONG = struct.Struct(">q")

#: The largest sequence number (Java's ``Integer.MAX_VALUE``); sequence numbers wrap to 0.
MAX_SEQ = 0x7FFFFFFF
WINDOW_SUFFIX = _WINDOW.size
SESSION_SUFFIX = _SESSION.size


def window_store_key(key: bytes, window_start: int, seq: int = 0) -> bytes:
    """``key + start + seq``: Kafka's ``WindowKeySchema.toStoreKeyBinary``."""
    return key + _WINDOW.pack(window_start, seq)


def session_store_key(key: bytes, start: int, end: int) -> bytes:
    """``key + end + start``: Kafka's ``SessionKeySchema.toBinary``."""
    return key + _SESSION.pack(end, start)


def upper_range(key_to: bytes, max_suffix: bytes) -> bytes:
    """The least upper bound of the binary keys of every key ``<= key_to`` whose suffix is at
    most ``max_suffix``: a key that is a prefix of ``key_to`` sorts by its suffix against the
    rest of ``key_to``, so each prefix is a candidate (Kafka's ``OrderedBytes.upperRange``
    approximates this; stores filter what the range lets through).

    >>> upper_range(b"b", b"\\x00\\x09")
    b'b\\x00\\t'
    >>> upper_range(b"a\\x00\\x00", b"\\x00\\x09")  # b"a" + suffix sorts after b"a\\x00\\x00..."
    b'a\\x00\\t'
    """
    return max(key_to[:i] + max_suffix for i in range(len(key_to) + 1))


class KeySchema:
    """How a segmented store reads one layout of binary keys.

    ``segment_time(c)`` is the timestamp that picks the segment (window start, session end);
    ``matches(c, time_from, time_to)`` is the time condition of a query (window: start within
    the bounds; session: ``end >= time_from and start <= time_to``); ``lower``/``upper`` bound
    one key's entries for a query, ``max_suffix`` the entries of keys up to a key.
    ``bounded``: the query's ``time_to`` bounds the segment time too (window keys).
    """

    __slots__ = (
        "bounded",
        "lower",
        "matches",
        "max_suffix",
        "name",
        "segment_time",
        "split",
        "suffix",
        "upper",
    )

    def __init__(
        self,
        name: str,
        suffix: int,
        segment_time: Callable[[bytes], int],
        matches: Callable[[bytes, int, int], bool],
        lower: Callable[[bytes, int], bytes],
        upper: Callable[[bytes, int], bytes],
        max_suffix: Callable[[int], bytes],
        bounded: bool,
        split: Callable[[bytes], tuple[bytes, int, int]],
    ) -> None:
        self.name = name
        self.suffix = suffix
        self.segment_time = segment_time
        self.matches = matches
        self.lower = lower
        self.upper = upper
        self.max_suffix = max_suffix
        self.bounded = bounded
        self.split = split

    def __repr__(self) -> str:
        return f"KeySchema({self.name!r})"


def _window_time(c: bytes) -> int:
    return _LONG.unpack_from(c, len(c) - 12)[0]


def _window_matches(c: bytes, time_from: int, time_to: int) -> bool:
    return time_from <= _LONG.unpack_from(c, len(c) - 12)[0] <= time_to


def _window_split(c: bytes) -> tuple[bytes, int, int]:
    """``(key, window start, seq)``."""
    start, seq = _WINDOW.unpack_from(c, len(c) - 12)
    return c[:-12], start, seq


def _session_end(c: bytes) -> int:
    return _LONG.unpack_from(c, len(c) - 16)[0]


def _session_matches(c: bytes, earliest_end: int, latest_start: int) -> bool:
    end, start = _SESSION.unpack_from(c, len(c) - 16)
    return end >= earliest_end and start <= latest_start


def _session_split(c: bytes) -> tuple[bytes, int, int]:
    """``(key, start, end)``."""
    end, start = _SESSION.unpack_from(c, len(c) - 16)
    return c[:-16], start, end


#: Window keys: segments by window start; queries bound the start.
WINDOW_KEYS = KeySchema(
    "window",
    WINDOW_SUFFIX,
    _window_time,
    _window_matches,
    lambda key, time_from: key + _WINDOW.pack(max(time_from, 0), 0),
    lambda key, time_to: key + _WINDOW.pack(time_to, MAX_SEQ),
    lambda time_to: _WINDOW.pack(time_to, MAX_SEQ),
    True,
    _window_split,
)

#: Session keys: segments by session end; queries take sessions ending at or after
#: ``time_from`` (earliest end) and starting at or before ``time_to`` (latest start).
SESSION_KEYS = KeySchema(
    "session",
    SESSION_SUFFIX,
    _session_end,
    _session_matches,
    lambda key, earliest_end: key + _SESSION.pack(max(earliest_end, 0), 0),
    lambda key, latest_start: key + _SESSION.pack(MAX_TIMESTAMP, latest_start),
    lambda latest_start: _SESSION.pack(MAX_TIMESTAMP, latest_start),
    False,  # a session that starts early may end at any time
    _session_split,
)
