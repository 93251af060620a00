"""The runtime's acceptance scenarios on a real Apache Kafka broker, under exactly_once_v2:
word count with two instances (separate processes) over three partitions, a worker killed
with SIGKILL and restarted, one of two workers killed, a worker added under load, and the
broker itself stopped and restarted while the application runs (under at_least_once too)."""

from __future__ import annotations

import kafka_broker
import pytest

from crash_scenarios import (
    WordCount,
    broker_restarted,
    kill_9_then_restart,
    one_of_two_killed,
    two_instances,
    worker_added_under_load,
)

pytestmark = pytest.mark.timeout(300)


def test_word_count_with_two_instances_over_three_partitions(kafka_url, tmp_path):
    two_instances(WordCount.unique(kafka_url, tmp_path, partitions=3, session_ms=6000))


def test_kill_9_mid_stream_then_restart_is_exactly_once(kafka_url, tmp_path):
    kill_9_then_restart(WordCount.unique(kafka_url, tmp_path, partitions=2, session_ms=3000))


@pytest.mark.parametrize("standbys", [0, 1])
def test_one_of_two_instances_killed_the_other_takes_over(kafka_url, tmp_path, standbys):
    app = WordCount.unique(kafka_url, tmp_path, partitions=3, session_ms=3000, standbys=standbys)
    one_of_two_killed(app)


def test_instance_added_under_load_is_exactly_once(kafka_url, tmp_path):
    worker_added_under_load(WordCount.unique(kafka_url, tmp_path, partitions=4, session_ms=3000))


@pytest.mark.parametrize("guarantee", ["exactly_once_v2", "at_least_once"])
def test_broker_stopped_and_restarted_while_the_app_runs(broker, tmp_path, guarantee):
    """The broker goes away for a few seconds mid-stream and comes back on the same port with
    its data: the worker recovers by itself (it is never restarted); under exactly_once_v2 the
    counts are exact and each update appears once, under at_least_once nothing is lost (the
    outputs it had sent but not confirmed are confirmed or sent again)."""
    # no controlled shutdown: on one node it takes every partition's leader away while the
    # broker still serves requests, and Kafka 4.4 then skips the marker of a transaction that
    # ends in that window on a leaderless partition yet records the transaction complete;
    # offsets it sent stay pending in __consumer_offsets for good (UNSTABLE_OFFSET_COMMIT;
    # re-initializing the transactional id finds nothing to abort). With a controlled
    # shutdown about 1 run in 7 stalled so; without it, 22 of 22 runs passed.
    own = kafka_broker.KafkaBroker(
        log_dir=tmp_path / "kafka-data", extra_config={"controlled.shutdown.enable": "false"}
    ).start()
    try:
        own.warm_up()
        app = WordCount(own.url, tmp_path, partitions=2, session_ms=3000, guarantee=guarantee)
        broker_restarted(app, own.stop, own.start)
    finally:
        own.stop()
