"""Backends: the logs strom runs on (``memory://``, ``local://PATH``, ``kafka://...``)."""

from strom.backends.api import (
    Backend,
    Membership,
    ProducerRecord,
    TopicInfo,
    TopicPartition,
    Transaction,
)
from strom.backends.local import LocalBackend
from strom.backends.memory import MemoryBackend
from strom.backends.registry import open_backend

__all__ = [
    "Backend",
    "LocalBackend",
    "Membership",
    "MemoryBackend",
    "ProducerRecord",
    "TopicInfo",
    "TopicPartition",
    "Transaction",
    "open_backend",
]
