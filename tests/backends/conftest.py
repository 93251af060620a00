"""Fixtures of the backend contract suite: one parameter per backend.

A backend joins the suite by adding a parameter to ``log_url``. ``kafka`` runs against a real
Apache Kafka broker started once per session by scripts/kafka_broker.py (skipped only when
``java`` or ``mvn`` is missing). Topic names are unique per test so that a shared broker works
too; on Kafka each test also gets its own group membership topic.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from strom.backends import Backend, MemoryBackend, open_backend

BACKENDS = ["memory", "local", "kafka"]
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "maintain: the test calls maintain() (not on Kafka)")


def kafka_bootstrap() -> str:
    """The session's Kafka broker (started on first use, shared with tests/kafka)."""
    pytest.importorskip("confluent_kafka", reason="the kafka backend needs confluent-kafka")
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    import kafka_broker

    if missing := kafka_broker.missing_tools():
        pytest.skip(f"Kafka tests need java and mvn on the PATH; missing: {', '.join(missing)}")
    return kafka_broker.shared_broker().bootstrap


@pytest.fixture
def short_session_ms(log_url: str) -> int:
    """A session timeout a test can outwait: 150 ms, 1500 ms on Kafka (where one transaction's
    round trips to the broker can take longer than 150 ms)."""
    return 1500 if log_url.startswith("kafka://") else 150


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL naming a fresh, empty log of each backend kind."""
    if request.param == "memory":
        name = f"contract-{uuid.uuid4().hex}"
        yield f"memory://{name}"
        MemoryBackend.reset(name)
    elif request.param == "kafka":
        if request.node.get_closest_marker("maintain"):
            pytest.skip("Kafka applies retention and compaction in the broker: no maintain()")
        groups = f"__strom_groups-{uuid.uuid4().hex[:12]}"
        yield f"kafka://{kafka_bootstrap()}?strom.groups.topic={groups}"
    else:
        yield f"local://{tmp_path / 'log'}"


@pytest.fixture
def open_log(log_url: str) -> Iterator[Callable[[], Backend]]:
    """Opens another handle on the same log (closed at the end of the test)."""
    opened: list[Backend] = []

    def open_() -> Backend:
        backend = open_backend(log_url)
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(open_log: Callable[[], Backend]) -> Backend:
    return open_log()


@pytest.fixture
def topic() -> Callable[[str], str]:
    """Makes a topic name unique to this test: ``topic("orders")`` -> ``orders-1a2b3c4d``."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base="t": f"{base}-{suffix}"
