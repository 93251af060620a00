"""Test topologies deterministically, without a broker."""

from strom.testing.driver import TopologyTestDriver
from strom.testing.topics import NoSuchElementError, TestInputTopic, TestOutputTopic, TestRecord

__all__ = [
    "NoSuchElementError",
    "TestInputTopic",
    "TestOutputTopic",
    "TestRecord",
    "TopologyTestDriver",
]
