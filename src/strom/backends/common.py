"""Rules every backend applies the same way: topic names, topic configs, partitions, records.

Kept in one place so that ``memory://`` and ``local://`` reject the same things with the same
messages, and accept exactly what Apache Kafka accepts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from strom.backends.api import ProducerRecord, TopicPartition, Transaction
from strom.core.errors import BackendError, FencedError, UnknownTopicError

#: Kafka's legal topic names: ASCII letters, digits, ``.``, ``_`` and ``-``, at most 249.
_LEGAL_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")

#: Kafka's default ``delete.retention.ms``: how long tombstones outlive compaction (1 day).
DEFAULT_DELETE_RETENTION_MS = 86_400_000


class CleanupRules(NamedTuple):
    """What ``maintain()`` does to a topic, read from its config.

    ``retention_ms`` is None when records are kept forever: strom's embedded logs apply time
    retention only when ``retention.ms`` is set (Kafka defaults to 7 days; a laptop log replaying
    old event times should not silently lose them).
    """

    retention_ms: int | None
    compact: bool
    delete_retention_ms: int


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds (Kafka's default record timestamp)."""
    return time.time_ns() // 1_000_000


def validate_topic(
    name: object, partitions: object, config: Mapping[str, object] | None
) -> dict[str, str]:
    """Check a new topic the way Kafka's admin client does; return its config as strings.

    >>> validate_topic("orders", 3, {"retention.ms": 60000})
    {'retention.ms': '60000'}
    """
    if not isinstance(name, str) or not _LEGAL_NAME.fullmatch(name) or name in (".", ".."):
        raise BackendError(
            f"illegal topic name {name!r}: use 1-249 ASCII letters, digits, '.', '_' or '-'"
        )
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise BackendError(f"topic {name!r}: partitions must be an int >= 1, got {partitions!r}")
    out = {str(k): str(v) for k, v in (config or {}).items()}
    cleanup_rules(name, out)  # validates the values maintain() relies on
    return out


def cleanup_rules(topic: str, config: Mapping[str, str]) -> CleanupRules:
    """Parse ``cleanup.policy``, ``retention.ms`` and ``delete.retention.ms`` of a topic."""
    policy = {p.strip() for p in config.get("cleanup.policy", "delete").split(",") if p.strip()}
    if not policy or policy - {"delete", "compact"}:
        raise BackendError(
            f"topic {topic!r}: cleanup.policy must be 'delete', 'compact' or 'compact,delete', "
            f"got {config.get('cleanup.policy')!r}"
        )
    retention = _int_config(topic, config, "retention.ms", None, minimum=-1)
    if retention is not None and (retention < 0 or "delete" not in policy):
        retention = None
    delete_retention = _int_config(
        topic, config, "delete.retention.ms", DEFAULT_DELETE_RETENTION_MS, minimum=0
    )
    assert delete_retention is not None
    return CleanupRules(retention, "compact" in policy, delete_retention)


def _int_config(
    topic: str, config: Mapping[str, str], key: str, default: int | None, minimum: int
) -> int | None:
    raw = config.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BackendError(f"topic {topic!r}: {key} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise BackendError(f"topic {topic!r}: {key} must be >= {minimum}, got {value}")
    return value


def unknown_topic(topic: str) -> UnknownTopicError:
    return UnknownTopicError(f"unknown topic {topic!r} (topics are never created implicitly)")


def unknown_partition(topic: str, partition: object, partitions: int) -> UnknownTopicError:
    return UnknownTopicError(
        f"topic {topic!r} has no partition {partition!r} (it has partitions 0..{partitions - 1})"
    )


def bad_record(topic: str, what: str, value: object) -> TypeError:
    return TypeError(
        f"record for topic {topic!r}: {what} must be bytes or None, got {type(value).__name__}"
        " (serialize before producing)"
    )


def keyless_compacted(topic: str) -> BackendError:
    return BackendError(
        f"topic {topic!r} is compacted (cleanup.policy=compact): records need a non-null key"
    )


def fenced(group: str, member: str, generation: int, joined: int | None) -> FencedError:
    why = (
        "it is no longer in the group (its session expired or it left)"
        if joined is None
        else f"it joined again at generation {joined}"
    )
    return FencedError(
        f"member {member!r} of group {group!r} is fenced: its transaction belongs to "
        f"generation {generation}, but {why}"
    )


def check_offset(topic: str, partition: int, offset: object) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise BackendError(
            f"offset for topic {topic!r} partition {partition} must be an int >= 0, got {offset!r}"
        )


class BufferedTransaction(Transaction):
    """A transaction that buffers records and offsets until ``commit`` hands them to ``apply``.

    ``apply(records, offsets)`` must write everything atomically (or raise having written
    nothing); records of an open transaction are therefore invisible to every fetch.
    """

    def __init__(
        self,
        apply: Callable[..., None],
    ) -> None:
        self._apply = apply
        self._records: list[ProducerRecord] = []
        self._offsets: list[tuple[str, dict[TopicPartition, int]]] = []
        self._state = "open"

    def _check(self) -> None:
        if self._state != "open":
            raise BackendError(f"transaction already {self._state}")

    def produce(self, records: Iterable[ProducerRecord]) -> None:
        self._check()
        self._records.extend(records)

    def commit_offsets(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        self._check()
        self._offsets.append((group, dict(offsets)))

    def commit(self) -> None:
        self._check()
        self._state = "aborted"  # if applying fails, nothing was applied
        self._apply(self._records, self._offsets, self.fenced_by)
        self._state = "committed"

    def abort(self) -> None:
        if self._state == "committed":
            raise BackendError("transaction already committed; it cannot be aborted")
        self._state = "aborted"
        self._records.clear()
        self._offsets.clear()
