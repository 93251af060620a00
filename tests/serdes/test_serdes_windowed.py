"""Windowed serdes, byte-compatible with Kafka's TimeWindowedSerde/SessionWindowedSerde."""

from datetime import timedelta

import pytest

from strom.core.errors import SerializationError
from strom.serdes import Json, Long, SessionWindowedSerde, String, TimeWindowedSerde
from strom.windows import MAX_TIMESTAMP, Window, Windowed

T = "topic"


def test_time_windowed_layout_is_key_then_start():
    serde = TimeWindowedSerde(String(), 60_000)
    data = serde.serialize(T, Windowed("key", Window(120_000, 180_000)))
    assert data == b"key" + b"\x00\x00\x00\x00\x00\x01\xd4\xc0"
    assert serde.deserialize(T, data) == Windowed("key", Window(120_000, 180_000))


def test_time_windowed_with_long_keys():
    serde = TimeWindowedSerde(Long(), timedelta(seconds=10))
    assert serde.window_size_ms == 10_000
    data = serde.serialize(T, Windowed(7, Window(0, 10_000)))
    assert data == bytes.fromhex("00000000000000070000000000000000")
    assert serde.deserialize(T, data) == Windowed(7, Window(0, 10_000))


def test_time_windowed_end_comes_from_size_and_is_capped():
    serde = TimeWindowedSerde(String(), 100)
    start = MAX_TIMESTAMP - 10
    data = b"k" + start.to_bytes(8, "big")
    assert serde.deserialize(T, data) == Windowed("k", Window(start, MAX_TIMESTAMP))
    # the end written on the wire is irrelevant: the reader's window size decides
    wrote = serde.serialize(T, Windowed("k", Window(5, 6)))
    assert serde.deserialize(T, wrote).window == Window(5, 105)


def test_empty_key_bytes():
    serde = TimeWindowedSerde(String(), 10)
    assert serde.deserialize(T, b"\x00" * 8) == Windowed("", Window(0, 10))


def test_session_windowed_layout_is_key_end_start():
    serde = SessionWindowedSerde(String())
    data = serde.serialize(T, Windowed("a", Window(1_000, 5_000)))
    assert data == b"a" + (5_000).to_bytes(8, "big") + (1_000).to_bytes(8, "big")
    assert serde.deserialize(T, data) == Windowed("a", Window(1_000, 5_000))


def test_session_windowed_json_keys():
    serde = SessionWindowedSerde(Json())
    key = {"user": "u1"}
    data = serde.serialize(T, Windowed(key, Window(3, 3)))
    assert data == b'{"user":"u1"}' + (3).to_bytes(8, "big") * 2
    assert serde.deserialize(T, data) == Windowed({"user": "u1"}, Window(3, 3))


@pytest.mark.parametrize("serde", [TimeWindowedSerde(String(), 10), SessionWindowedSerde(String())])
def test_none_stays_none(serde):
    assert serde.serialize(T, None) is None
    assert serde.deserialize(T, None) is None


def test_short_data_errors():
    with pytest.raises(SerializationError) as e:
        TimeWindowedSerde(String(), 10).deserialize(T, b"\x00" * 7)
    assert str(e.value) == (
        "TimeWindowedSerde: expected at least 8 bytes (key + window start), got 7"
    )
    with pytest.raises(SerializationError) as e:
        SessionWindowedSerde(String()).deserialize(T, b"\x00" * 15)
    assert str(e.value) == (
        "SessionWindowedSerde: expected at least 16 bytes (key + end + start), got 15"
    )


def test_invalid_window_bytes():
    with pytest.raises(SerializationError, match="TimeWindowedSerde: negative window start -1"):
        TimeWindowedSerde(String(), 10).deserialize(T, b"k" + b"\xff" * 8)
    bad = b"k" + (1).to_bytes(8, "big") + (2).to_bytes(8, "big")  # end 1 < start 2
    with pytest.raises(
        SerializationError, match="SessionWindowedSerde: invalid session window start=2, end=1"
    ):
        SessionWindowedSerde(String()).deserialize(T, bad)


def test_serialize_needs_windowed_and_a_key():
    serde = TimeWindowedSerde(String(), 10)
    with pytest.raises(TypeError, match="TimeWindowedSerde cannot serialize str 'a'"):
        serde.serialize(T, "a")
    with pytest.raises(SerializationError) as e:
        serde.serialize(T, Windowed(None, Window(0, 10)))
    assert str(e.value) == "TimeWindowedSerde: inner serde String() gave None for key None"


def test_constructor_validation():
    with pytest.raises(ValueError, match="window_size_ms must be larger than zero: 0"):
        TimeWindowedSerde(String(), 0)
    with pytest.raises(TypeError, match="TimeWindowedSerde needs an inner Serde"):
        TimeWindowedSerde(str, 10)
    with pytest.raises(TypeError, match="SessionWindowedSerde needs an inner Serde"):
        SessionWindowedSerde(str)
    # None means "the app's default key serde", filled in when the topology is built
    assert SessionWindowedSerde(None).with_default(String()) == SessionWindowedSerde(String())
    assert TimeWindowedSerde(None, 5).with_default(String()) == TimeWindowedSerde(String(), 5)


def test_equality_and_repr():
    assert TimeWindowedSerde(String(), 10) == TimeWindowedSerde(String(), 10)
    assert TimeWindowedSerde(String(), 10) != TimeWindowedSerde(String(), 20)
    assert repr(TimeWindowedSerde(String(), 10)) == "TimeWindowedSerde(String(), 10)"
    assert repr(SessionWindowedSerde(Long())) == "SessionWindowedSerde(Long())"
