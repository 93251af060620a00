"""``strom consume TOPIC``: start positions, serdes, keys and metadata, --follow."""

from __future__ import annotations

import queue
import signal
import threading
import time

import pytest

import strom
from strom import serdes


@pytest.fixture
def topic(broker):
    """Two partitions: p0 holds a0, a1, a2; p1 holds b0 (keys k0.., timestamps 1000..)."""
    with strom.Client(broker) as client:
        client.create_topic("t", partitions=2)
        for i in range(3):
            client.produce("t", f"a{i}", key=f"k{i}", timestamp=1000 + i, partition=0)
        client.produce("t", "b0", key="k9", timestamp=2000, partition=1)
    return "t"


def test_without_follow_prints_everything_from_the_beginning(cli, broker, topic):
    assert cli("consume", topic, "--broker", broker) == (
        0,
        "a0\na1\na2\nb0\n",
        "consumed 4 records from 't'\n",
    )


def test_print_key_and_metadata(cli, broker, topic):
    assert cli("consume", topic, "--print-key", "--broker", broker).out == (
        "k0\ta0\nk1\ta1\nk2\ta2\nk9\tb0\n"
    )
    assert (
        cli(
            "consume",
            topic,
            "--print-metadata",
            "--print-key",
            "--partition",
            "1",
            "--broker",
            broker,
        ).out
        == "Partition:1\tOffset:0\tCreateTime:2000\tk9\tb0\n"
    )


def test_offsets_partitions_and_max_messages(cli, broker, topic):
    run = lambda *a: cli("consume", topic, "--broker", broker, *a).out  # noqa: E731
    assert run("--offset", "2") == "a2\n"
    assert run("--offset", "1", "--partition", "0") == "a1\na2\n"
    assert run("--offset", "-1") == "a2\nb0\n"
    assert run("--offset", "-10", "--partition", "0") == "a0\na1\na2\n"
    assert run("--from-beginning", "--partition", "1") == "b0\n"
    assert run("--max-messages", "2") == "a0\na1\n"
    assert cli("consume", topic, "--max-messages", "1", "--broker", broker).err == (
        "consumed 1 record from 't'\n"
    )


def test_serdes_by_name(cli, broker):
    with strom.Client(broker) as client:
        client.create_topic("typed")
        client.produce("typed", 42, key=7, key_serde=serdes.Integer(), value_serde=serdes.Long())
        client.produce(
            "typed",
            {"w": "x", "n": [1.5, None]},
            key="s",
            key_serde=serdes.Json(),
            value_serde=serdes.Json(),
        )
        client.produce("typed", b"\xff\xfe", key=None)
        client.create_topic("doubles")
        client.produce("doubles", 2.5, value_serde=serdes.Double())
    run = lambda *a: cli("consume", *a, "--broker", broker).out  # noqa: E731
    assert (
        run(
            "typed",
            "--max-messages",
            "1",
            "--print-key",
            "--key-serde",
            "integer",
            "--value-serde",
            "long",
        )
        == "7\t42\n"
    )
    assert (
        run(
            "typed",
            "--offset",
            "1",
            "--max-messages",
            "1",
            "--print-key",
            "--key-serde",
            "json",
            "--value-serde",
            "json",
        )
        == '"s"\t{"w":"x","n":[1.5,null]}\n'
    )
    assert run("typed", "--offset", "2", "--print-key", "--value-serde", "bytes") == (
        "null\t\\xff\\xfe\n"
    )
    assert run("doubles", "--value-serde", "double") == "2.5\n"


def test_unreadable_record_names_where_it_is(cli, broker, topic):
    code, out, err = cli("consume", topic, "--value-serde", "long", "--broker", broker)
    assert (code, out) == (1, "")
    assert err == (
        "strom consume: error: cannot read the record at topic='t' partition=0 offset=0 with "
        "--value-serde long: Size of data received by Long deserializer is not 8 but 2 "
        "(try --value-serde bytes)\n"
    )


def test_unknown_topic_and_partition(cli, broker, topic):
    assert cli("consume", "ghost", "--broker", broker) == (
        1,
        "",
        f"strom consume: error: topic 'ghost' does not exist on {broker}\n",
    )
    assert cli("consume", topic, "--partition", "5", "--broker", broker) == (
        1,
        "",
        "strom consume: error: --partition 5: topic 't' has partitions 0..1\n",
    )


def test_follow_starts_at_the_end_and_prints_new_records(cli, broker, topic, monkeypatch):
    monkeypatch.setattr("strom.cli.consume.POLL_INTERVAL", 0.01)
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "r", cli("consume", topic, "--follow", "--max-messages", "2", "--broker", broker)
        )
    )
    thread.start()
    time.sleep(0.3)
    with strom.Client(broker) as client:
        client.produce("t", "new1", partition=1)
        client.produce("t", "new2", partition=1)
    thread.join(10)
    assert result["r"] == (0, "new1\nnew2\n", "consumed 2 records from 't'\n")


def test_follow_from_beginning(cli, broker, topic):
    assert (
        cli(
            "consume",
            topic,
            "--follow",
            "--from-beginning",
            "--max-messages",
            "4",
            "--broker",
            broker,
        ).out
        == "a0\na1\na2\nb0\n"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_follow_until_interrupted_exits_0(spawn, local_broker, sig):
    with strom.Client(local_broker) as client:
        client.create_topic("live")
        child = spawn("consume", "live", "--follow", "--print-key", "--broker", local_broker)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in child.stdout], daemon=True).start()
        deadline = time.monotonic() + 20
        while lines.empty() and time.monotonic() < deadline:  # until the child is following
            client.produce("live", "v", key="k")
            time.sleep(0.1)
        assert lines.get(timeout=1) == "k\tv\n"
    child.send_signal(sig)
    assert child.wait(20) == 0
    assert child.stderr.read().endswith("from 'live'\n")
