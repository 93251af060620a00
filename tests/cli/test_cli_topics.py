"""``strom topics list|create|delete``."""

from __future__ import annotations

import strom


def test_create_list_delete(cli, broker):
    assert cli("topics", "list", "--broker", broker) == (0, "", f"no topics on {broker}\n")
    assert cli("topics", "create", "orders", "--partitions", "3", "--broker", broker) == (
        0,
        f"created topic 'orders' with 3 partitions on {broker}\n",
        "",
    )
    assert cli(
        "topics",
        "create",
        "customers",
        "--config",
        "cleanup.policy=compact",
        "--config",
        "retention.ms=1000",
        "--broker",
        broker,
    ) == (0, f"created topic 'customers' with 1 partition on {broker}\n", "")
    assert cli("topics", "list", "--broker", broker) == (
        0,
        "NAME       PARTITIONS  CONFIG\n"
        "customers           1  cleanup.policy=compact,retention.ms=1000\n"
        "orders              3  -\n",
        "",
    )
    assert cli("topics", "delete", "orders", "--broker", broker) == (
        0,
        f"deleted topic 'orders' on {broker}\n",
        "",
    )
    with strom.Client(broker) as client:
        assert list(client.list_topics()) == ["customers"]


def test_create_existing(cli, broker):
    cli("topics", "create", "t", "--broker", broker)
    assert cli("topics", "create", "t", "--broker", broker) == (
        1,
        "",
        "strom topics: error: topic 't' already exists\n",
    )
    assert cli("topics", "create", "t", "--if-not-exists", "--broker", broker) == (
        0,
        f"topic 't' already exists on {broker}\n",
        "",
    )


def test_delete_unknown(cli, broker):
    code, _, err = cli("topics", "delete", "ghost", "--broker", broker)
    assert code == 1 and "unknown topic 'ghost'" in err
    assert cli("topics", "delete", "ghost", "--if-exists", "--broker", broker) == (
        0,
        f"topic 'ghost' does not exist on {broker}\n",
        "",
    )


def test_invalid_topic_settings_are_clear_errors(cli, broker):
    assert cli("topics", "create", "t", "--partitions", "0", "--broker", broker) == (
        1,
        "",
        "strom topics: error: topic 't': partitions must be an int >= 1, got 0\n",
    )
    code, _, err = cli("topics", "create", "bad name", "--broker", broker)
    assert code == 1 and "illegal topic name 'bad name'" in err


def test_local_broker_is_durable(cli, local_broker):
    cli("topics", "create", "kept", "--partitions", "2", "--broker", local_broker)
    assert cli("topics", "list", "--broker", local_broker).out == (
        "NAME  PARTITIONS  CONFIG\nkept           2  -\n"
    )
