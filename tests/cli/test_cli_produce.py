"""``strom produce TOPIC``: stdin lines as strings or JSON, keys, errors with line numbers."""

from __future__ import annotations

import pytest

import strom
from strom.cli import produce as produce_module


def records(broker, topic):
    with strom.Client(broker) as client:
        return [(r.partition, r.key, r.value) for r in client.read(topic)]


@pytest.fixture
def topic(broker):
    with strom.Client(broker) as client:
        client.create_topic("in", partitions=1)
    return "in"


def test_lines_become_string_values_and_blank_lines_are_skipped(cli, broker, topic):
    assert cli("produce", topic, "--broker", broker, stdin="hello\n\nwörld\r\nlast") == (
        0,
        "",
        "produced 3 records to 'in'\n",
    )
    assert records(broker, topic) == [
        (0, None, b"hello"),
        (0, None, "wörld".encode()),
        (0, None, b"last"),
    ]


def test_key_separator(cli, broker, topic):
    assert (
        cli(
            "produce", topic, "--key-separator", ":", "--broker", broker, stdin="k1:v1\nk2:a:b\n"
        ).code
        == 0
    )
    assert records(broker, topic) == [(0, b"k1", b"v1"), (0, b"k2", b"a:b")]


def test_json_keys_and_values_are_written_with_the_json_serde(cli, broker, topic):
    stdin = '{"id": 1}\t{"word": "hi", "n": [1, 2]}\n"k"\tnull\n'
    assert (
        cli(
            "produce", topic, "--json", "--key-separator", "\t", "--broker", broker, stdin=stdin
        ).code
        == 0
    )
    assert records(broker, topic) == [
        (0, b'{"id":1}', b'{"word":"hi","n":[1,2]}'),
        (0, b'"k"', None),
    ]


def test_bad_json_line_names_its_number_and_nothing_after_it_is_written(cli, broker, topic):
    stdin = '1\n{"a": 2}\n{"a": \n4\n'
    assert cli("produce", topic, "--json", "--broker", broker, stdin=stdin) == (
        1,
        "",
        "strom produce: error: line 3: value is not valid JSON (unexpected end of data at "
        "column 7): '{\"a\": '; 2 records before it were written to 'in', nothing after it\n",
    )
    assert records(broker, topic) == [(0, None, b"1"), (0, None, b'{"a":2}')]


def test_missing_key_separator_names_the_line(cli, broker, topic):
    code, _, err = cli(
        "produce", topic, "--key-separator", "=", "--broker", broker, stdin="a=1\nb\n"
    )
    assert code == 1
    assert err == (
        "strom produce: error: line 2: no key separator '=' (expected KEY=VALUE); "
        "1 record before it was written to 'in', nothing after it\n"
    )


def test_invalid_utf8_names_the_line(cli, broker, topic):
    code, _, err = cli("produce", topic, "--broker", broker, stdin=b"ok\n\xff\xfe\n")
    assert code == 1
    assert err.startswith("strom produce: error: line 2: not valid UTF-8 (")
    assert records(broker, topic) == [(0, None, b"ok")]


def test_null_marker_writes_tombstones(cli, broker, topic):
    cli(
        "produce",
        topic,
        "--key-separator",
        ",",
        "--null-marker",
        "NULL",
        "--broker",
        broker,
        stdin="a,1\na,NULL\n",
    )
    assert records(broker, topic) == [(0, b"a", b"1"), (0, b"a", None)]


def test_partition(cli, broker):
    with strom.Client(broker) as client:
        client.create_topic("p3", partitions=3)
    assert cli("produce", "p3", "--partition", "2", "--broker", broker, stdin="x\ny\n").code == 0
    assert records(broker, "p3") == [(2, None, b"x"), (2, None, b"y")]
    assert cli("produce", "p3", "--partition", "3", "--broker", broker, stdin="x\n") == (
        1,
        "",
        "strom produce: error: --partition 3: topic 'p3' has partitions 0..2\n",
    )


def test_keys_are_partitioned_like_kafka(cli, broker):
    with strom.Client(broker) as client:
        client.create_topic("p4", partitions=4)
        cli("produce", "p4", "--key-separator", "=", "--broker", broker, stdin="a=1\nb=2\n")
        client.produce("p4", "3", key="a")
        client.produce("p4", "4", key="b")
        by_key = {}
        for r in client.read("p4"):
            by_key.setdefault(r.key, set()).add(r.partition)
    assert all(len(parts) == 1 for parts in by_key.values())


def test_unknown_topic(cli, broker):
    assert cli("produce", "ghost", "--broker", broker, stdin="x\n") == (
        1,
        "",
        f"strom produce: error: topic 'ghost' does not exist on {broker} "
        "(create it: strom topics create ghost --partitions N)\n",
    )


def test_progress_every_10k_records(cli, broker, topic, monkeypatch):
    monkeypatch.setattr(produce_module, "PROGRESS_EVERY", 4)
    monkeypatch.setattr(produce_module, "BATCH", 3)
    code, _, err = cli(
        "produce", topic, "--broker", broker, stdin="".join(f"{i}\n" for i in range(9))
    )
    assert code == 0
    assert err == (
        "4 records written to 'in' ...\n8 records written to 'in' ...\nproduced 9 records to 'in'\n"
    )
    assert len(records(broker, topic)) == 9


def test_default_progress_interval(cli, broker, topic):
    code, _, err = cli(
        "produce", topic, "--broker", broker, stdin="".join(f"{i}\n" for i in range(25_000))
    )
    assert code == 0
    assert err == (
        "10000 records written to 'in' ...\n20000 records written to 'in' ...\n"
        "produced 25000 records to 'in'\n"
    )


def test_lines_are_written_as_they_arrive(spawn, local_broker):
    """Typing into ``strom produce``: each line is readable before stdin is closed."""
    import subprocess

    with strom.Client(local_broker) as client:
        client.create_topic("live")
        child = spawn("produce", "live", "--broker", local_broker, stdin=subprocess.PIPE)
        for i, line in enumerate(["first", "second"], 1):
            child.stdin.write(line + "\n")
            child.stdin.flush()
            got = client.read("live", value_serde=str, timeout=20, min_records=i)
            assert [r.value for r in got][-1] == line
        child.stdin.close()
        assert child.wait(20) == 0
        assert child.stderr.read() == "produced 2 records to 'live'\n"
