"""The runtime's acceptance scenarios on a real Apache Kafka broker, under exactly_once_v2:
word count with two instances (separate processes) over three partitions, a worker killed
with SIGKILL and restarted, one of two workers killed, a worker added under load, and the
broker itself stopped and restarted while the application runs."""

from __future__ import annotations

import time

import kafka_broker
import pytest

import strom
from crash_scenarios import (
    WordCount,
    kill_9_then_restart,
    lines,
    one_of_two_killed,
    two_instances,
    wait_for,
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


KNOWN_RESTART_STALL = pytest.mark.xfail(
    reason="open (issue 6 note): in about 1 run in 7, the restarted single-node broker keeps "
    "the group's committed offsets 'unstable' (UNSTABLE_OFFSET_COMMIT) for minutes although "
    "strom re-initializes its transactional id (the broker log shows each new epoch); the "
    "worker waits for them rather than risk reprocessing under exactly-once",
    strict=False,
)


def test_instance_added_under_load_is_exactly_once(kafka_url, tmp_path):
    worker_added_under_load(WordCount.unique(kafka_url, tmp_path, partitions=4, session_ms=3000))


@KNOWN_RESTART_STALL
def test_broker_stopped_and_restarted_while_the_app_runs(broker, tmp_path):
    """The broker goes away for a few seconds mid-stream and comes back on the same port with
    its data: the worker recovers by itself (it is never restarted) and the counts are exact,
    each update once."""
    own = kafka_broker.KafkaBroker(log_dir=tmp_path / "kafka-data").start()
    try:
        own.warm_up()
        app = WordCount(own.url, tmp_path, partitions=2, session_ms=3000)
        with strom.Client(own.url) as client:
            app.create_topics(client)
            app.produce(client, lines(2000, 5))
        worker = app.start("a")
        try:
            with strom.Client(own.url) as client:
                wait_for(lambda: app.n_updates(client) > 20, procs=[worker], what="updates")
            own.stop()
            time.sleep(5)
            assert worker.poll() is None, worker.stderr.read()
            own.start()
            with strom.Client(own.url) as client:
                app.produce(client, lines(2000, 6), key="x", ts=10_000)
                app.wait_done(client, [worker], timeout=120)
                assert worker.poll() is None
                app.stop_all()
                app.assert_exactly_once(client)
        finally:
            app.stop_all()
    finally:
        own.stop()
