"""``kafka://host:port[,host:port][?setting=value&...]``: Apache Kafka through confluent-kafka.

The only place in strom that imports ``confluent_kafka`` (the import-linter keeps it so).
Install it with ``pip install 'strom[kafka]'``.
"""

from strom.backends.kafka.backend import KafkaBackend
from strom.backends.kafka.config import STROM_OPTIONS, parse_kafka_url

__all__ = ["STROM_OPTIONS", "KafkaBackend", "parse_kafka_url"]
