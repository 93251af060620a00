"""The backend protocol: the few operations the runtime, the client and the CLI need from a log.

Like httpx's transport, it is small on purpose; ``memory://``, ``local://PATH`` (SQLite) and
``kafka://host:port`` implement it, and one contract-test suite runs against each.
Backends see only bytes: no serdes, no stores, no topology.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from strom.core.records import ConsumerRecord
from strom.core.types import EMPTY_HEADERS, Headers

TopicPartition = tuple[str, int]

#: The log an App or Client uses when none is named: the embedded, durable local one.
DEFAULT_BROKER = "local://.strom"


class ProducerRecord(NamedTuple):
    """A record to append; ``partition=None`` lets the backend partition by key (murmur2)."""

    topic: str
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: Headers = EMPTY_HEADERS
    partition: int | None = None


class TopicInfo(NamedTuple):
    name: str
    partitions: int
    config: Mapping[str, str]


class Membership(NamedTuple):
    """A group's live members (sorted), a generation that changes whenever they change, and
    whether every member has acknowledged this generation (released what it no longer owns)."""

    generation: int
    members: tuple[str, ...]
    synced: bool = True


class Transaction(ABC):
    """Outputs and consumed offsets that become visible together, or not at all."""

    fenced_by: tuple[str, str, int] | None = None

    def fence(self, group: str, member: str, generation: int) -> None:
        """Commit only if ``member`` is live in ``group`` and joined it at or before
        ``generation``; otherwise the commit raises FencedError and writes nothing. A member
        that was dropped (session expired) cannot commit what it did before, even if it has
        joined again since: a zombie is fenced."""
        self.fenced_by = (group, member, generation)

    @abstractmethod
    def produce(self, records: Iterable[ProducerRecord]) -> None: ...

    @abstractmethod
    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def abort(self) -> None: ...

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class Backend(ABC):
    """A partitioned, durable (or in-memory) log with consumer-group offsets and groups."""

    url: str

    # ---- admin ---------------------------------------------------------------------------
    @abstractmethod
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> None:
        """Create a topic; an existing one raises TopicExistsError unless ``exist_ok``."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; an unknown one raises UnknownTopicError."""

    @abstractmethod
    def list_topics(self) -> dict[str, TopicInfo]: ...

    # ---- produce and fetch -----------------------------------------------------------------
    @abstractmethod
    def produce(self, records: Iterable[ProducerRecord]) -> list[tuple[int, int]]:
        """Append records (atomically on durable backends); returns (partition, offset) each.

        Records are visible to fetches once this returns. Unknown topics raise
        UnknownTopicError (topics are never auto-created).
        """

    def send(self, records: Iterable[ProducerRecord]) -> None:
        """Start appending records without waiting for them (Kafka's ``send``). A bad record
        raises here (and nothing is sent); whether the records were written is known at this
        thread's next :meth:`flush`, and they are visible to fetches once it returns. By
        default the same as :meth:`produce`."""
        self.produce(records)

    def flush(self) -> None:  # noqa: B027 - nothing is outstanding unless send() is overridden
        """Wait until every record this thread gave :meth:`send` is written; raise the first
        failure (then none of them counts as written: send them again)."""

    @abstractmethod
    def fetch(
        self,
        topic: str,
        partition: int,
        offset: int,
        max_records: int = 1000,
        *,
        wait: bool = True,
    ) -> list[ConsumerRecord]:
        """Committed records of one partition from ``offset`` on, in offset order (offsets may
        have gaps after compaction or retention).

        An empty answer means the end of the partition. With ``wait=False`` a backend that
        streams records in the background (Kafka) answers with what it has at hand instead of
        waiting for records on their way, so an empty answer only means "nothing yet": for a
        caller that fetches again soon (the worker's loop).
        """

    @abstractmethod
    def offsets(self, topic: str, partition: int) -> tuple[int, int]:
        """(beginning offset, end offset): the first available and one past the last."""

    # ---- consumer groups -------------------------------------------------------------------
    @abstractmethod
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Committed offsets of ``group`` (partitions without one are left out)."""

    @abstractmethod
    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None: ...

    @abstractmethod
    def delete_group(self, group: str) -> None:
        """Forget a group's committed offsets and members (application reset)."""

    @abstractmethod
    def heartbeat(
        self, group: str, member: str, session_timeout_ms: int, acked_generation: int = -1
    ) -> Membership:
        """Join or stay in ``group``; members silent for their session timeout are dropped.

        ``acked_generation`` is the generation this member has finished rebalancing to;
        ``Membership.synced`` tells whether every live member has acknowledged the current one.
        """

    @abstractmethod
    def leave(self, group: str, member: str) -> None: ...

    # ---- transactions ----------------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> Transaction:
        """A transaction: its outputs and offsets commit atomically (exactly_once_v2)."""

    def delete_records(self, topic: str, partition: int, before_offset: int) -> None:  # noqa: B027
        """Drop a partition's records below ``before_offset`` (Kafka's deleteRecords); the
        runtime purges repartition topics once their records are consumed and committed."""

    # ---- lifecycle ---------------------------------------------------------------------------
    def maintain(self, now_ms: int) -> None:  # noqa: B027 - optional
        """Apply retention (``retention.ms``) and compaction (``cleanup.policy=compact``)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
