"""``StreamsConfig``: Kafka Streams' config keys, their defaults, and checks at start.

Keys are Kafka Streams' own names. Keys of the Kafka clients (``bootstrap.servers``,
``security.protocol``, ``sasl.*``, ``ssl.*``, and ``consumer.``/``producer.``/``admin.``
prefixed ones) pass through to the Kafka backend unchanged. Anything else is an error that
names the key and, for a typo, the key that was probably meant.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strom.core.errors import ConfigError

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"

#: Kafka Streams' defaults (commit.interval.ms becomes 100 under exactly_once_v2, as in Kafka).
DEFAULTS: dict[str, Any] = {
    "__emit.interval.ms.kstreams.windowed.aggregation__": 1000,
    "application.id": None,
    "application.server": "",
    "auto.offset.reset": "earliest",
    "bootstrap.servers": None,
    "cache.max.bytes.buffering": None,
    "client.id": "",
    "commit.interval.ms": 30_000,
    "default.deserialization.exception.handler": None,
    "default.dsl.store": "rocksDB",
    "default.key.serde": None,
    "default.production.exception.handler": None,
    "default.timestamp.extractor": None,
    "default.value.serde": None,
    "deserialization.exception.handler": "log_and_fail",
    "errors.dead.letter.queue.topic.name": None,
    "heartbeat.interval.ms": 500,
    "max.poll.records": 1000,
    "max.task.idle.ms": 0,
    "metrics.recording.level": "INFO",
    "num.standby.replicas": 0,
    "num.stream.threads": 1,
    "poll.ms": 100,
    "processing.exception.handler": "log_and_fail",
    "processing.guarantee": AT_LEAST_ONCE,
    "production.exception.handler": "fail",
    "replication.factor": -1,
    "retention.ms": None,
    "session.timeout.ms": 10_000,
    "state.cleanup.delay.ms": 600_000,
    "state.dir": str(Path(tempfile.gettempdir()) / "strom"),
    "statestore.cache.max.bytes": 10 * 1024 * 1024,
    "topology.optimization": "none",
    "upgrade.from": None,
    "window.size.ms": None,
    "windowstore.changelog.additional.retention.ms": 86_400_000,
}

#: Prefixes of keys that belong to the Kafka clients and pass through unchanged.
CLIENT_PREFIXES = (
    "security.",
    "sasl.",
    "ssl.",
    "consumer.",
    "producer.",
    "admin.",
    "main.consumer.",
    "restore.consumer.",
    "global.consumer.",
    "topic.",
    "socket.",
    "request.",
    "retry.",
    "reconnect.",
    "metadata.",
    "connections.",
    "client.",
    "enable.",
    "linger.",
    "batch.",
    "compression.",
    "acks",
    "fetch.",
    "receive.",
    "send.",
    "debug",
    "statistics.",
    "broker.",
    "api.",
    "log.",
    "queue.",
    "message.",
    "transaction.",
    "isolation.",
)

GUARANTEES = (AT_LEAST_ONCE, EXACTLY_ONCE_V2)


def _int(config: Mapping[str, Any], key: str, minimum: int = 0) -> int:
    value = config[key]
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {config[key]!r}")
    return value


def streams_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The full config: defaults filled in, values checked, unknown keys rejected.

    >>> streams_config({"application.id": "a", "processing.guarantee": "exactly_once_v2"})[
    ...     "commit.interval.ms"]
    100
    >>> streams_config({"application.id": "a", "comit.interval.ms": 5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    strom.core.errors.ConfigError: unknown config key 'comit.interval.ms'; did you mean ...
    """
    for key in config:
        if not isinstance(key, str):
            raise ConfigError(f"config keys are strings like 'commit.interval.ms', got {key!r}")
        if key in DEFAULTS or key.startswith(CLIENT_PREFIXES):
            continue
        close = difflib.get_close_matches(key, list(DEFAULTS), n=1, cutoff=0.75)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else (
                "; Kafka Streams keys use dots (commit.interval.ms) and App keyword options use "
                "underscores (commit_interval_ms)"
            )
        )
        raise ConfigError(f"unknown config key {key!r}{hint}")
    cfg = {**DEFAULTS, **config}
    if not cfg["application.id"] or not isinstance(cfg["application.id"], str):
        raise ConfigError("application.id must be set to a non-empty string")
    guarantee = cfg["processing.guarantee"]
    if guarantee in ("exactly_once", "exactly_once_beta"):
        raise ConfigError(
            f"processing.guarantee {guarantee!r} was removed in Kafka Streams 4.0; "
            "use 'exactly_once_v2'"
        )
    if guarantee not in GUARANTEES:
        raise ConfigError(f"processing.guarantee must be one of {GUARANTEES}, got {guarantee!r}")
    if "commit.interval.ms" not in config and guarantee == EXACTLY_ONCE_V2:
        cfg["commit.interval.ms"] = 100
    if cfg["cache.max.bytes.buffering"] is not None and "statestore.cache.max.bytes" not in config:
        cfg["statestore.cache.max.bytes"] = cfg["cache.max.bytes.buffering"]
    for key in (
        "commit.interval.ms",
        "statestore.cache.max.bytes",
        "num.standby.replicas",
        "max.task.idle.ms",
        "poll.ms",
    ):
        cfg[key] = _int(cfg, key)
    for key in (
        "max.poll.records",
        "num.stream.threads",
        "session.timeout.ms",
        "heartbeat.interval.ms",
    ):
        cfg[key] = _int(cfg, key, 1)
    from strom.runtime.errors import handler_choice

    for key in (
        "deserialization.exception.handler",
        "processing.exception.handler",
        "production.exception.handler",
    ):
        handler_choice(cfg, key)
    if cfg["auto.offset.reset"] not in ("earliest", "latest"):
        raise ConfigError(
            f"auto.offset.reset must be 'earliest' or 'latest', got {cfg['auto.offset.reset']!r}"
        )
    return cfg


def client_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The Kafka client settings in an app's config (``bootstrap.servers``, ``security.*``,
    ``sasl.*``, ``ssl.*``, ...), passed through to librdkafka unchanged; ``topic.*`` keys are
    internal-topic settings in Kafka Streams and stay out."""
    out = {
        k: v
        for k, v in config.items()
        if k.startswith(CLIENT_PREFIXES) and not k.startswith("topic.") and v not in (None, "")
    }
    if config.get("bootstrap.servers"):
        out["bootstrap.servers"] = config["bootstrap.servers"]
    return out
