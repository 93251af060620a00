"""librdkafka's log lines reach Python logging with repeats held back (a broker outage makes
every client log each failed reconnect)."""

from __future__ import annotations

import logging

from strom.backends.kafka.config import RepeatFilter, kafka_logger


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("strom.kafka.librdkafka", logging.WARNING, "", 0, msg, args, None)


def test_alike_lines_are_held_back_then_counted():
    now = [0.0]
    f = RepeatFilter(every_s=60, clock=lambda: now[0])
    refused = "FAIL [rdkafka#consumer-%d] 127.0.0.1:%d: Connect failed: refused (after %dms)"
    assert f.filter(record(refused, 3, 9092, 0))
    assert not f.filter(record(refused, 4, 9092, 1))  # another client, another timing: alike
    assert not f.filter(record(refused, 3, 9093, 0))
    assert f.filter(record("FAIL [rdkafka#consumer-3] Disconnected"))  # another kind
    now[0] = 61.0
    shown = record(refused, 3, 9092, 0)
    assert f.filter(shown)
    assert shown.getMessage().endswith("(2 more like it in the last 60 s)")
    assert not f.filter(record(refused, 3, 9092, 0))


def test_the_librdkafka_logger_has_the_filter():
    assert any(isinstance(f, RepeatFilter) for f in kafka_logger().filters)
