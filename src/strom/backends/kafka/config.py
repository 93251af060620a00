"""``kafka://`` URLs and the librdkafka settings of each client the backend makes.

A URL names the bootstrap servers and, as query parameters, any librdkafka setting:

    kafka://broker1:9092,broker2:9092?security.protocol=SASL_SSL&sasl.mechanism=PLAIN

Settings pass through to librdkafka unchanged, whether they come from the URL or from the
``config`` dict given to :class:`~strom.backends.kafka.KafkaBackend` (the dict wins). As in
Kafka Streams, a ``producer.``, ``consumer.`` or ``admin.`` prefix scopes a setting to that one
kind of client (``producer.linger.ms=20``; ``main.consumer.``, ``restore.consumer.`` and
``global.consumer.`` scope to the one consumer kind strom has). Keys starting with ``strom.``
are the backend's own options (:data:`STROM_OPTIONS`) and never reach librdkafka.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from strom.core.errors import BackendError

__all__ = ["STROM_OPTIONS", "KafkaSettings", "parse_kafka_url", "redact"]

#: The backend's own options (URL query parameters or config keys), with their defaults.
STROM_OPTIONS: dict[str, str] = {
    # The compacted topic holding group membership (see membership.py).
    "strom.groups.topic": "__strom_groups",
    # Prefix of the transactional.id of every transactional producer the backend makes.
    "strom.transactional.id.prefix": "strom",
    # How long a fetch waits for records it knows exist (or for the first answer after a seek).
    "strom.fetch.wait.ms": "2000",
    # Timeout of admin requests and transaction steps.
    "strom.request.timeout.ms": "30000",
}

#: Setting names whose values never appear in a repr or an error message.
SECRET_WORDS = ("password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "token")

#: What every client gets unless the user says otherwise.
COMMON_DEFAULTS = {"socket.nagle.disable": "true"}
PRODUCER_DEFAULTS = {
    "enable.idempotence": "true",
    "acks": "all",
    "linger.ms": "5",
}
CONSUMER_DEFAULTS = {
    "enable.auto.commit": "false",
    "enable.auto.offset.store": "false",
    "isolation.level": "read_committed",
    "enable.partition.eof": "true",
    "auto.offset.reset": "error",
    "fetch.wait.max.ms": "50",
    "fetch.error.backoff.ms": "50",
}
SCOPES = (
    "producer.",
    "consumer.",
    "admin.",
    "main.consumer.",
    "restore.consumer.",
    "global.consumer.",
)


class KafkaSettings(NamedTuple):
    """Where the cluster is, librdkafka settings shared and per client kind, strom options."""

    bootstrap: str
    common: dict[str, str]
    scoped: dict[str, dict[str, str]]  # "producer" | "consumer" | "admin" -> settings
    options: dict[str, str]

    def client(self, kind: str, **overrides: Any) -> dict[str, Any]:
        """The librdkafka config of one ``kind`` of client (``producer``/``consumer``/``admin``)."""
        conf: dict[str, Any] = dict(COMMON_DEFAULTS)
        if kind == "producer":
            conf.update(PRODUCER_DEFAULTS)
        elif kind == "consumer":
            conf.update(CONSUMER_DEFAULTS)
        conf.update(self.common)
        conf.update(self.scoped.get(kind, {}))
        conf.update(overrides)
        conf["bootstrap.servers"] = self.bootstrap
        return conf

    def option(self, name: str) -> str:
        return self.options[name]

    def int_option(self, name: str) -> int:
        raw = self.options[name]
        try:
            return int(raw)
        except ValueError:
            raise BackendError(f"{name} must be an integer, got {raw!r}") from None


def parse_kafka_url(url: str, config: Mapping[str, object] | None = None) -> KafkaSettings:
    """Split a ``kafka://`` URL (and an optional config dict) into :class:`KafkaSettings`.

    >>> s = parse_kafka_url("kafka://b1:9092,b2:9092?security.protocol=SSL&strom.fetch.wait.ms=50")
    >>> s.bootstrap, s.common, s.options["strom.fetch.wait.ms"]
    ('b1:9092,b2:9092', {'security.protocol': 'SSL'}, '50')
    >>> parse_kafka_url("kafka://", {"bootstrap.servers": "b:9092"}).bootstrap
    'b:9092'
    """
    if not isinstance(url, str) or not url.startswith("kafka://"):
        raise BackendError(f"the Kafka backend needs a kafka://host:port URL, got {url!r}")
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.fragment:
        raise BackendError(
            f"{redact(url)}: a Kafka URL is kafka://host:port[,host:port][?setting=value&...]"
        )
    settings: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        settings[key] = value
    for key, value in (config or {}).items():
        if not isinstance(key, str):
            raise BackendError(f"Kafka setting names must be str, got {key!r}")
        settings[key] = _as_setting(key, value)
    hosts = parts.netloc
    bootstrap = settings.pop("bootstrap.servers", None) or hosts
    if not bootstrap:
        raise BackendError(
            f"{redact(url)}: name the bootstrap servers (kafka://host:port[,host:port])"
        )
    options = dict(STROM_OPTIONS)
    common: dict[str, str] = {}
    scoped: dict[str, dict[str, str]] = {"producer": {}, "consumer": {}, "admin": {}}
    for key, value in settings.items():
        if key.startswith("strom."):
            if key not in STROM_OPTIONS:
                known = ", ".join(sorted(STROM_OPTIONS))
                raise BackendError(f"unknown strom option {key!r} for Kafka (known: {known})")
            options[key] = value
        elif key.startswith(SCOPES):
            scope, _, name = key.partition(".")
            if scope in ("main", "restore", "global"):  # Kafka Streams' consumer kinds
                scope, _, name = name.partition(".")
            scoped[scope][name] = value
        else:
            common[key] = value
    return KafkaSettings(bootstrap, common, scoped, options)


def _as_setting(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BackendError(
        f"Kafka setting {key!r} must be a str, int, float or bool, got {type(value).__name__}"
    )


def is_secret(key: str) -> bool:
    return any(word in key for word in SECRET_WORDS)


def redact(url: str) -> str:
    """The URL with secret settings (passwords, keys) replaced by ``***``.

    >>> redact("kafka://b:9092?sasl.username=me&sasl.password=hunter2")
    'kafka://b:9092?sasl.username=me&sasl.password=***'
    """
    head, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for item in query.split("&"):
        key, eq, _value = item.partition("=")
        parts.append(f"{key}=***" if eq and is_secret(key) else item)
    return head + "?" + "&".join(parts)


class RepeatFilter(logging.Filter):
    """Lets the first of a kind of log line through, then one per ``every_s`` seconds that
    says how many like it were held back.

    librdkafka logs every failed reconnect of every client: while a broker is down that is
    many lines a second (and a client that was not polled meanwhile delivers them all at
    once). Lines are alike when they differ only in numbers (ports, client ids, timings).

    >>> f = RepeatFilter(every_s=60, clock=lambda: 0.0)
    >>> rec = lambda n: logging.LogRecord("x", 30, "", 0, "connect to :%d refused", (n,), None)
    >>> [f.filter(rec(n)) for n in (9092, 9093, 9094)]
    [True, False, False]
    """

    def __init__(self, every_s: float = 60.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.every_s = every_s
        self.clock = clock
        self.seen: dict[str, list[float]] = {}  # kind -> [last shown at, held back since]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        kind = _NUMBERS.sub("#", message)
        now = self.clock()
        entry = self.seen.get(kind)
        if entry is not None and now - entry[0] < self.every_s:
            entry[1] += 1
            return False
        if entry is not None and entry[1]:
            record.msg = (
                f"{message} ({int(entry[1])} more like it in the last {self.every_s:.0f} s)"
            )
            record.args = None
        if len(self.seen) > 1000:
            self.seen.clear()
        self.seen[kind] = [now, 0]
        return True


_NUMBERS = re.compile(r"\d+")
_LIBRDKAFKA = logging.getLogger("strom.kafka.librdkafka")
_LIBRDKAFKA.addFilter(RepeatFilter())


def kafka_logger() -> logging.Logger:
    """Where librdkafka's own log lines go (through Python logging, not raw stderr), with
    repeats held back (:class:`RepeatFilter`)."""
    return _LIBRDKAFKA
