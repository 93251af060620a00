"""The primitive serdes write exactly the bytes Kafka's built-in serdes write."""

import struct
import uuid

import pytest

from strom.core.errors import SerializationError
from strom.serdes import (
    UUID,
    Boolean,
    Bytes,
    Double,
    Float,
    Integer,
    Long,
    Short,
    String,
    Void,
)

T = "topic"


@pytest.mark.parametrize(
    ("serde", "value", "data"),
    [
        (Long(), 1, b"\x00\x00\x00\x00\x00\x00\x00\x01"),
        (Long(), -1, b"\xff" * 8),
        (Long(), 2**63 - 1, b"\x7f" + b"\xff" * 7),
        (Long(), -(2**63), b"\x80" + b"\x00" * 7),
        (Long(), 256, b"\x00\x00\x00\x00\x00\x00\x01\x00"),
        (Integer(), 1, b"\x00\x00\x00\x01"),
        (Integer(), -1, b"\xff\xff\xff\xff"),
        (Integer(), 2**31 - 1, b"\x7f\xff\xff\xff"),
        (Integer(), 65536, b"\x00\x01\x00\x00"),
        (Short(), 1, b"\x00\x01"),
        (Short(), -2, b"\xff\xfe"),
        (Double(), 1.5, b"\x3f\xf8\x00\x00\x00\x00\x00\x00"),
        (Double(), -2.0, b"\xc0\x00\x00\x00\x00\x00\x00\x00"),
        (Double(), 0.1, b"\x3f\xb9\x99\x99\x99\x99\x99\x9a"),
        (Float(), 1.5, b"\x3f\xc0\x00\x00"),
        (String(), "hello", b"hello"),
        (String(), "hé", b"h\xc3\xa9"),
        (String(), "", b""),
        (Boolean(), True, b"\x01"),
        (Boolean(), False, b"\x00"),
        (Bytes(), b"\x00\xffraw", b"\x00\xffraw"),
        (
            UUID(),
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            b"12345678-1234-5678-1234-567812345678",
        ),
    ],
)
def test_kafka_byte_compatibility(serde, value, data):
    assert serde.serialize(T, value) == data
    assert serde.deserialize(T, data) == value


def test_double_matches_java_double_to_raw_long_bits():
    # Java: Double.doubleToRawLongBits(1.5) == 0x3FF8000000000000
    assert Double().serialize(T, 1.5) == struct.pack(">q", 0x3FF8000000000000)


def test_double_accepts_int_and_returns_float():
    assert Double().serialize(T, 2) == b"\x40\x00\x00\x00\x00\x00\x00\x00"
    assert Double().deserialize(T, Double().serialize(T, 2)) == 2.0


@pytest.mark.parametrize(
    "serde", [Long(), Integer(), Short(), Double(), Float(), String(), Boolean(), Bytes(), UUID()]
)
def test_none_round_trips(serde):
    assert serde.serialize(T, None) is None
    assert serde.deserialize(T, None) is None


def test_void():
    assert Void().serialize(T, None) is None
    assert Void().deserialize(T, None) is None
    with pytest.raises(SerializationError, match="Void deserializer expects no data, got 1 bytes"):
        Void().deserialize(T, b"x")
    with pytest.raises(TypeError, match="Void cannot serialize int 1: expected None"):
        Void().serialize(T, 1)


@pytest.mark.parametrize(
    ("serde", "data", "message"),
    [
        (Long(), b"\x00" * 4, "Size of data received by Long deserializer is not 8 but 4"),
        (Integer(), b"\x00" * 8, "Size of data received by Integer deserializer is not 4 but 8"),
        (Short(), b"\x00", "Size of data received by Short deserializer is not 2 but 1"),
        (Double(), b"", "Size of data received by Double deserializer is not 8 but 0"),
        (Float(), b"\x00" * 5, "Size of data received by Float deserializer is not 4 but 5"),
    ],
)
def test_wrong_size_errors(serde, data, message):
    with pytest.raises(SerializationError) as e:
        serde.deserialize(T, data)
    assert str(e.value) == message


def test_out_of_range_and_wrong_type():
    with pytest.raises(
        SerializationError, match="Integer: 2147483648 does not fit in a 32-bit int"
    ):
        Integer().serialize(T, 2**31)
    with pytest.raises(TypeError, match="Long cannot serialize str '1': expected int"):
        Long().serialize(T, "1")
    with pytest.raises(TypeError, match="Long cannot serialize bool True"):
        Long().serialize(T, True)
    with pytest.raises(TypeError, match="String cannot serialize int 1: expected str"):
        String().serialize(T, 1)


def test_bad_bytes():
    with pytest.raises(SerializationError, match="String deserializer: bytes are not valid utf-8"):
        String().deserialize(T, b"\xff")
    with pytest.raises(SerializationError, match="Boolean deserializer expects one byte 0 or 1"):
        Boolean().deserialize(T, b"\x02")
    with pytest.raises(SerializationError, match="UUID deserializer: not a UUID"):
        UUID().deserialize(T, b"nope")


def test_bytes_accepts_bytearray_and_memoryview():
    assert Bytes().serialize(T, bytearray(b"ab")) == b"ab"
    assert Bytes().serialize(T, memoryview(b"ab")) == b"ab"


def test_serdes_compare_by_type_and_config():
    assert Long() == Long()
    assert Long() != Integer()
    assert String() != String("latin-1")
    assert repr(Long()) == "Long()"
