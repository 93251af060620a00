"""``strom.Client``: create, list, delete topics; produce and read records — on any backend."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from strom.backends.api import DEFAULT_BROKER, Backend, ProducerRecord, TopicInfo
from strom.backends.registry import open_backend
from strom.core.errors import UnknownTopicError
from strom.core.types import Headers, normalize_headers
from strom.serdes.base import Serde
from strom.serdes.coerce import serde_for


class ClientRecord(NamedTuple):
    """A record read by :meth:`Client.read`."""

    key: Any
    value: Any
    timestamp: int
    headers: Headers
    partition: int
    offset: int
    topic: str


def _raw(obj: Any) -> bytes | None:
    if obj is None or isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode()
    if isinstance(obj, bytearray | memoryview):
        return bytes(obj)
    raise TypeError(
        f"without a serde, keys and values must be bytes or str, got {type(obj).__name__}; "
        "pass key_serde=/value_serde="
    )


class Client:
    """Talk to a log directly: for tools, tests, and apps that feed or read topics.

    >>> import strom
    >>> with strom.Client("memory://") as c:
    ...     c.create_topic("greetings", partitions=2)
    ...     _ = c.produce("greetings", "hello", key="k")
    ...     [(r.key, r.value) for r in c.read("greetings")]
    [(b'k', b'hello')]
    """

    def __init__(self, broker: str = DEFAULT_BROKER) -> None:
        self.broker = broker
        self.backend: Backend = open_backend(broker)

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> None:
        self.backend.create_topic(name, partitions, config, exist_ok=exist_ok)

    def delete_topic(self, name: str) -> None:
        self.backend.delete_topic(name)

    def list_topics(self) -> dict[str, TopicInfo]:
        return self.backend.list_topics()

    def produce(
        self,
        topic: str,
        value: Any,
        key: Any = None,
        timestamp: int | None = None,
        headers: Any = None,
        partition: int | None = None,
        key_serde: Serde[Any] | Any = None,
        value_serde: Serde[Any] | Any = None,
    ) -> tuple[int, int]:
        """Append one record now; returns its (partition, offset)."""
        ks, vs = serde_for(key_serde), serde_for(value_serde)
        k = ks.serialize(topic, key) if ks is not None else _raw(key)
        v = vs.serialize(topic, value) if vs is not None else _raw(value)
        ts = time.time_ns() // 1_000_000 if timestamp is None else timestamp
        (where,) = self.backend.produce(
            [ProducerRecord(topic, k, v, ts, normalize_headers(headers), partition)]
        )
        return where

    def flush(self) -> None:
        """Records are written when ``produce`` returns; kept for Kafka-client familiarity."""

    def read(
        self,
        topic: str,
        key_serde: Serde[Any] | Any = None,
        value_serde: Serde[Any] | Any = None,
        timeout: float = 0.0,
        min_records: int = 0,
    ) -> list[ClientRecord]:
        """Every committed record of ``topic`` from the beginning, partition by partition.

        With ``timeout``, waits up to that many seconds for at least ``min_records``.
        """
        deadline = time.monotonic() + timeout
        while True:
            records = list(self.iter(topic, key_serde, value_serde))
            if len(records) >= min_records or time.monotonic() >= deadline:
                return records
            time.sleep(0.02)

    def iter(
        self,
        topic: str,
        key_serde: Any = None,
        value_serde: Any = None,
        offsets: Mapping[int, int] | None = None,
    ) -> Iterator[ClientRecord]:
        """Iterate the committed records of ``topic`` (from ``offsets`` per partition)."""
        info = self.backend.list_topics().get(topic)
        if info is None:
            raise UnknownTopicError(f"topic {topic!r} does not exist")
        ks, vs = serde_for(key_serde), serde_for(value_serde)
        for p in range(info.partitions):
            offset = (offsets or {}).get(p, self.backend.offsets(topic, p)[0])
            while True:
                batch = self.backend.fetch(topic, p, offset, 5000)
                if not batch:
                    break
                for r in batch:
                    yield ClientRecord(
                        ks.deserialize(topic, r.key) if ks is not None else r.key,
                        vs.deserialize(topic, r.value) if vs is not None else r.value,
                        r.timestamp,
                        r.headers,
                        r.partition,
                        r.offset,
                        topic,
                    )
                offset = batch[-1].offset + 1

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
