"""Error handlers, as in Kafka Streams: what happens to a record that cannot be read
(deserialization), processed (a user function raised) or written (serialization at a sink).

Each handler fails (the default: the app stops with an error naming topic, partition and
offset) or continues (the record is logged, counted as dropped and skipped). With
``errors.dead.letter.queue.topic.name`` set, a skipped record also goes to that topic with its
raw key and value and headers naming the error and where the record came from (KIP-1034), in
the same commit as the rest: a poison pill never loses the records around it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from strom.core.errors import ConfigError
from strom.core.records import ConsumerRecord
from strom.topology.nodes import RecordCollector

log = logging.getLogger("strom.errors")

FAIL, CONTINUE = "fail", "continue"
DLQ_TOPIC = "errors.dead.letter.queue.topic.name"
_CHOICES = {
    "deserialization.exception.handler": {"log_and_fail": FAIL, "log_and_continue": CONTINUE},
    "processing.exception.handler": {"log_and_fail": FAIL, "log_and_continue": CONTINUE},
    "production.exception.handler": {
        "fail": FAIL,
        "continue": CONTINUE,
        "log_and_fail": FAIL,
        "log_and_continue": CONTINUE,
    },
}
_DEFAULTS = {
    "deserialization.exception.handler": "log_and_fail",
    "processing.exception.handler": "log_and_fail",
    "production.exception.handler": "fail",
}


def handler_choice(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key) or _DEFAULTS[key]
    choice = _CHOICES[key].get(str(value))
    if choice is None:
        raise ConfigError(f"{key} must be one of {sorted(_CHOICES[key])}, got {value!r}")
    return choice


class ErrorHandlers:
    """The three handlers of one task, and where they send dead letters."""

    def __init__(
        self, config: Mapping[str, Any], collector: RecordCollector, metrics: Any, task_id: Any
    ) -> None:
        self.deserialization = handler_choice(config, "deserialization.exception.handler")
        self.processing = handler_choice(config, "processing.exception.handler")
        self.production = handler_choice(config, "production.exception.handler")
        self.dlq: str | None = config.get(DLQ_TOPIC) or None
        self.collector = collector
        self.metrics = metrics
        self.task_id = task_id

    def handle(self, kind: str, raw: ConsumerRecord, error: BaseException, where: str) -> bool:
        """True if processing continues past ``raw`` (the caller then skips it)."""
        choice = getattr(self, kind)
        if choice == FAIL:
            return False
        self.metrics.dropped_records += 1
        log.warning(
            "%s error (%s) on the record topic=%s partition=%s offset=%s: %s: %s; skipping it%s",
            kind,
            where,
            raw.topic,
            raw.partition,
            raw.offset,
            type(error).__name__,
            error,
            f" (sent to {self.dlq})" if self.dlq else "",
        )
        if self.dlq:
            self.dead_letter(raw, error)
        return True

    def dead_letter(self, raw: ConsumerRecord, error: BaseException) -> None:
        headers = (
            *raw.headers,
            ("__streams.errors.exception", type(error).__name__.encode()),
            ("__streams.errors.message", str(error).encode()),
            ("__streams.errors.stacktrace", "".join(traceback.format_exception(error)).encode()),
            ("__streams.errors.topic", raw.topic.encode()),
            ("__streams.errors.partition", str(raw.partition).encode()),
            ("__streams.errors.offset", str(raw.offset).encode()),
        )
        assert self.dlq is not None
        self.collector.send(self.dlq, raw.key, raw.value, raw.timestamp, headers, None)
