"""Kafka's default partitioner, byte-exact with the Java client.

A keyed record goes to ``toPositive(murmur2(key)) % partitions``, so a key lands on the same
partition number whether a Java producer, librdkafka (``murmur2_random``) or strom wrote it.
Records without a key (and without an explicit partition) are spread round-robin per topic.

>>> murmur2(b"foobar")
-790332482
>>> partition_for_key(b"foobar", 3)
0
"""

from __future__ import annotations

from functools import lru_cache
from struct import Struct

__all__ = ["DefaultPartitioner", "murmur2", "partition_for_key", "positive_hash"]

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF

# One precompiled little-endian "n unsigned ints" unpacker per word count (keys are short).
_WORDS = [Struct(f"<{n}I").unpack_from for n in range(64)]


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2``: 32-bit MurmurHash2, seed ``0x9747b28c``, as a signed int.

    Java's wrapping ``int`` arithmetic is emulated with masks; the result equals Java's.

    >>> murmur2(b"21")
    -973932308
    """
    length = len(data)
    m, mask = _M, _MASK
    h = _SEED ^ length
    n = length >> 2
    words = _WORDS[n](data) if n < 64 else Struct(f"<{n}I").unpack_from(data)
    for k in words:
        k = (k * m) & mask
        k ^= k >> 24
        h = ((h * m) & mask) ^ ((k * m) & mask)
    rest = length & 3
    if rest:
        i = length - rest
        if rest == 3:
            h ^= data[i + 2] << 16
        if rest >= 2:
            h ^= data[i + 1] << 8
        h = ((h ^ data[i]) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - 0x100000000 if h & 0x80000000 else h


@lru_cache(maxsize=1 << 16)
def positive_hash(key: bytes) -> int:
    """``Utils.toPositive(murmur2(key))``: the sign bit cleared (not ``abs``); cached, as keys
    repeat a lot. ``positive_hash(key) % partitions`` is the key's partition."""
    return murmur2(key) & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``.

    >>> partition_for_key(b"kafka", 6)
    4
    """
    return positive_hash(key) % num_partitions


class DefaultPartitioner:
    """Partitions records as Kafka's producer does: murmur2 for keys, round-robin otherwise.

    >>> p = DefaultPartitioner()
    >>> p.partition("t", b"foobar", 3), p.partition("t", None, 3), p.partition("t", None, 3)
    (0, 0, 1)
    """

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def partition(self, topic: str, key: bytes | None, num_partitions: int) -> int:
        if key is not None:
            return positive_hash(key) % num_partitions
        n = self._next.get(topic, 0)
        self._next[topic] = n + 1
        return n % num_partitions
