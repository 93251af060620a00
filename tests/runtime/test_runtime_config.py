"""Config keys at start: Kafka Streams' names, defaults, clear errors for mistakes."""

from __future__ import annotations

import pytest

from strom import App
from strom.core.errors import ConfigError
from strom.runtime.config import streams_config


def test_defaults_and_eos_commit_interval():
    cfg = streams_config({"application.id": "a"})
    assert cfg["processing.guarantee"] == "at_least_once"
    assert cfg["commit.interval.ms"] == 30_000
    assert cfg["statestore.cache.max.bytes"] == 10 * 1024 * 1024
    eos = streams_config({"application.id": "a", "processing.guarantee": "exactly_once_v2"})
    assert eos["commit.interval.ms"] == 100


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"comit.interval.ms": 5},
            "unknown config key 'comit.interval.ms'; did you mean 'commit.interval.ms'",
        ),
        ({"processing.guarantee": "exactly_once"}, "removed in Kafka Streams 4.0"),
        ({"processing.guarantee": "twice"}, "processing.guarantee must be one of"),
        ({"commit.interval.ms": -1}, "commit.interval.ms must be an integer >= 0"),
        ({"commit.interval.ms": "soon"}, "commit.interval.ms must be an integer"),
        ({"deserialization.exception.handler": "ignore"}, "deserialization.exception.handler"),
        ({"frobnicate": 1}, "unknown config key 'frobnicate'"),
    ],
)
def test_bad_config_is_a_clear_error(config, message):
    with pytest.raises(ConfigError, match=message):
        streams_config({"application.id": "a", **config})


def test_client_keys_pass_through_and_app_options_use_underscores():
    cfg = streams_config(
        {
            "application.id": "a",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "ssl.ca.location": "/x",
        }
    )
    assert cfg["security.protocol"] == "SASL_SSL"
    app = App(
        "a", broker="memory://", commit_interval_ms=100, processing_guarantee="exactly_once_v2"
    )
    assert app.config["commit.interval.ms"] == 100
    assert app.config["processing.guarantee"] == "exactly_once_v2"


def test_client_settings_reach_the_backend():
    from strom.runtime.config import client_config

    cfg = streams_config(
        {
            "application.id": "a",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "bootstrap.servers": "h:9092",
            "topic.min.insync.replicas": "2",
        }
    )
    assert client_config(cfg) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "bootstrap.servers": "h:9092",
    }


def test_internal_topic_overrides_come_from_topic_prefix_and_replication_factor():
    from strom.runtime.topics import internal_topic_overrides

    assert internal_topic_overrides({"replication.factor": -1, "commit.interval.ms": 5}) == {}
    assert internal_topic_overrides(
        {"replication.factor": 3, "topic.min.insync.replicas": 2, "topic.retention.ms": "9"}
    ) == {"replication.factor": "3", "min.insync.replicas": "2", "retention.ms": "9"}
