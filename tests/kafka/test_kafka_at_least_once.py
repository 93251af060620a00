"""at_least_once on a real broker: the worker hands each loop's outputs to the producer without
waiting and confirms them before it commits input offsets; a broker that goes away and comes
back mid-stream loses nothing."""

from __future__ import annotations

import kafka_broker
import pytest

from crash_scenarios import WordCount, broker_restarted

pytestmark = pytest.mark.timeout(300)


def test_broker_stopped_and_restarted_under_at_least_once_loses_nothing(broker, tmp_path):
    own = kafka_broker.KafkaBroker(log_dir=tmp_path / "kafka-data").start()
    try:
        own.warm_up()
        app = WordCount(own.url, tmp_path, partitions=2, session_ms=3000, guarantee="at_least_once")
        broker_restarted(app, own.stop, own.start)
    finally:
        own.stop()
