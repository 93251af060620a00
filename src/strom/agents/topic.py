"""``app.topic(...)``: a named topic with its serdes, to consume from agents and to send to."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from strom.backends.api import ProducerRecord
from strom.core.types import normalize_headers
from strom.serdes import Json, Serde, serde_for


class Outbox:
    """Records sent through topics, queued until the app's agent runtime produces them (at
    start, every ``poll.ms`` while running, and before every commit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[ProducerRecord] = []

    def put(self, record: ProducerRecord) -> None:
        with self._lock:
            self._records.append(record)

    def drain(self) -> list[ProducerRecord]:
        with self._lock:
            out, self._records = self._records, []
        return out


class Topic:
    """A topic as Faust declares it: a name, serdes, and a partition count for creation.

    The app creates it when it starts if it does not exist (``partitions`` defaults to 1; an
    existing topic keeps its own count). ``value_type``/``key_type`` pick the serde: a
    ``strom.Model`` class -> ModelSerde, ``str`` -> String, ``bytes`` -> Bytes, ``int`` -> Long,
    ``None`` -> Json; or give ``key_serde``/``value_serde`` directly.

    >>> import strom
    >>> class Order(strom.Record):
    ...     order_id: str
    ...     amount: float
    >>> app = strom.App("shop", broker="memory://")
    >>> orders = app.topic("orders", value_type=Order)
    >>> orders.value_serde.serialize("orders", Order(order_id="o-1", amount=5.0))
    b'{"order_id":"o-1","amount":5.0}'
    >>> orders.send_soon(key="o-1", value=Order(order_id="o-1", amount=5.0))  # sent at start
    """

    def __init__(
        self,
        name: str,
        outbox: Outbox,
        key_type: Any = None,
        value_type: Any = None,
        partitions: int | None = None,
        key_serde: Serde[Any] | None = None,
        value_serde: Serde[Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a topic name must be a non-empty string, got {name!r}")
        if partitions is not None and (not isinstance(partitions, int) or partitions < 1):
            raise ValueError(f"partitions must be a positive int, got {partitions!r}")
        self.name = name
        self.partitions = partitions
        self.key_serde: Serde[Any] = serde_for(key_type if key_serde is None else key_serde, Json())  # type: ignore[assignment]
        self.value_serde: Serde[Any] = serde_for(
            value_type if value_serde is None else value_serde, Json()
        )  # type: ignore[assignment]
        self._outbox = outbox

    def send_soon(
        self,
        key: Any = None,
        value: Any = None,
        *,
        partition: int | None = None,
        timestamp: int | None = None,
        headers: Mapping[str, bytes | str | None] | None = None,
    ) -> None:
        """Serialize now and queue the record; the running app produces it within ``poll.ms``
        (before the app starts, it is produced at start). Without a ``partition``, the key
        picks it (murmur2, as Kafka's producer)."""
        self._outbox.put(
            ProducerRecord(
                self.name,
                self.key_serde.serialize(self.name, key),
                self.value_serde.serialize(self.name, value),
                time.time_ns() // 1_000_000 if timestamp is None else int(timestamp),
                normalize_headers(headers),
                partition,
            )
        )

    async def send(
        self,
        key: Any = None,
        value: Any = None,
        *,
        partition: int | None = None,
        timestamp: int | None = None,
        headers: Mapping[str, bytes | str | None] | None = None,
    ) -> None:
        """Send a record (as in Faust, awaiting it queues it for the producer; see
        :meth:`send_soon`). From an agent, what it sends is produced before the offsets of
        the events it has processed are committed."""
        self.send_soon(key, value, partition=partition, timestamp=timestamp, headers=headers)

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"
