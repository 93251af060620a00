"""Backends: the logs strom runs on (``memory://``, ``local://PATH``, ``kafka://...``)."""

from strom.backends.api import (
    Backend,
    Membership,
    ProducerRecord,
    TopicInfo,
    TopicPartition,
    Transaction,
)

__all__ = ["Backend", "Membership", "ProducerRecord", "TopicInfo", "TopicPartition", "Transaction"]
