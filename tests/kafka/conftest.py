"""A real Apache Kafka broker for the Kafka tests, started once per session.

scripts/kafka_broker.py fetches Kafka from Maven Central (cached under ~/.m2 and
~/.cache/strom), formats KRaft storage and runs one broker + controller on 127.0.0.1; the
backend contract suite (tests/backends) shares the same broker. The tests are skipped only when
``java`` or ``mvn`` is missing.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("confluent_kafka", reason="the kafka backend needs confluent-kafka")

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import kafka_broker  # noqa: E402

from strom.backends.kafka import KafkaBackend  # noqa: E402


@pytest.fixture(scope="session")
def broker() -> kafka_broker.KafkaBroker:
    """The session's broker (shared with the backend contract suite)."""
    if missing := kafka_broker.missing_tools():
        pytest.skip(f"Kafka tests need java and mvn on the PATH; missing: {', '.join(missing)}")
    return kafka_broker.shared_broker()


@pytest.fixture
def kafka_url(broker: kafka_broker.KafkaBroker) -> str:
    """A URL on the session broker with a membership topic of this test's own."""
    return f"kafka://{broker.bootstrap}?strom.groups.topic=__strom_groups-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def open_kafka(kafka_url: str) -> Iterator[Callable[..., KafkaBackend]]:
    """Opens KafkaBackends (on ``kafka_url`` unless given another URL); closed after the test."""
    opened: list[KafkaBackend] = []

    def open_(url: str | None = None, config: dict[str, Any] | None = None) -> KafkaBackend:
        backend = KafkaBackend(url or kafka_url, config)
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def topic() -> Callable[[str], str]:
    """Makes a topic name unique to this test."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base="t": f"{base}-{suffix}"
