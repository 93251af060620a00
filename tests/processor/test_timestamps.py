"""Timestamp extractors: the log's time, a field of the value, wall clock; invalid times."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from kit import S
from strom import StreamsBuilder
from strom.core.errors import StreamsError
from strom.processor.timestamps import (
    LogAndSkipOnInvalidTimestamp,
    UsePartitionTimeOnInvalidTimestamp,
    ValueFieldTimestampExtractor,
    WallclockTimestampExtractor,
)
from strom.serdes import Json
from strom.testing import TopologyTestDriver

J = Json()


def run(extractor, values, config=None):
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J, timestamp_extractor=extractor).to(
        "out", key_serde=S, value_serde=J
    )
    with TopologyTestDriver(b.build(), config) as d:
        t = d.create_input_topic("in", key_serde=S, value_serde=J)
        for i, v in enumerate(values):
            d.pipe_raw("in", S.serialize("in", f"k{i}"), J.serialize("in", v), v.get("log", 0), ())
        out = d.create_output_topic("out", S, J)
        return [(r.key, r.timestamp) for r in out.read_records_to_list()], d, t


def test_value_field_extractor_reads_millis_datetimes_and_iso_strings():
    iso = "2024-01-01T00:00:01+00:00"
    ms = int(datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC).timestamp() * 1000)
    out, _, _ = run(ValueFieldTimestampExtractor("at"), [{"at": 1500}, {"at": iso}])
    assert out == [("k0", 1500), ("k1", ms)]


def test_missing_field_fails_by_default_naming_the_record():
    with pytest.raises(StreamsError, match="invalid \\(negative\\) timestamp"):
        run(ValueFieldTimestampExtractor("at"), [{"other": 1}])


def test_skip_policy_drops_and_counts(caplog):
    with caplog.at_level(logging.WARNING, "strom"):
        out, d, _ = run(
            ValueFieldTimestampExtractor("at", on_invalid="skip"),
            [{"at": 5}, {"at": "soon"}, {"at": 7}],
        )
    assert out == [("k0", 5), ("k2", 7)]
    assert d.task.metrics.dropped_records == 1
    assert "negative extracted timestamp. topic=[in] partition=[0] offset=[1]" in caplog.text


def test_partition_time_policy_uses_the_highest_time_seen():
    out, _, _ = run(
        ValueFieldTimestampExtractor("at", on_invalid="partition_time"),
        [{"at": 5}, {"at": 9}, {"at": None}, {"at": 3}],
    )
    assert out == [("k0", 5), ("k1", 9), ("k2", 9), ("k3", 3)]


def test_log_timestamps_invalid_ones_fail_skip_or_take_partition_time():
    data = [{"log": 10}, {"log": -1}, {"log": 12}]
    with pytest.raises(StreamsError, match="invalid \\(negative\\) timestamp"):
        run(None, data)
    out, _, _ = run(LogAndSkipOnInvalidTimestamp(), data)
    assert out == [("k0", 10), ("k2", 12)]
    out, _, _ = run(UsePartitionTimeOnInvalidTimestamp(), data)
    assert out == [("k0", 10), ("k1", 10), ("k2", 12)]
    out, _, _ = run(
        None, data, {"default.timestamp.extractor": "log_and_skip_on_invalid_timestamp"}
    )
    assert out == [("k0", 10), ("k2", 12)]


def test_wall_clock_extractor_uses_processing_time():
    before = datetime.now(UTC).timestamp() * 1000
    out, _, _ = run(WallclockTimestampExtractor(), [{"log": 1}])
    assert out[0][1] >= before - 1


def test_partition_time_policy_with_nothing_seen_fails():
    with pytest.raises(StreamsError, match="partition time is unknown"):
        run(UsePartitionTimeOnInvalidTimestamp(), [{"log": -1}])
