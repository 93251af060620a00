"""The ``strom`` command itself: version, usage errors, --debug, STROM_BROKER."""

from __future__ import annotations

import strom
from strom.cli import main


def test_version(cli):
    assert cli("--version") == (0, f"strom {strom.__version__}\n", "")


def test_a_command_is_required(cli):
    code, out, err = cli()
    assert code == 2 and out == ""
    assert "the following arguments are required: COMMAND" in err


def test_every_command_is_registered_and_bench_is_not(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for command in ("run", "describe", "topics", "produce", "consume", "reset"):
        assert f"    {command} " in out
    code, _, err = cli("bench")
    assert code == 2 and "invalid choice: 'bench'" in err


def test_errors_are_one_line_without_traceback(cli, broker):
    assert cli("topics", "delete", "nope", "--broker", broker) == (
        1,
        "",
        "strom topics: error: unknown topic 'nope' (topics are never created implicitly)\n",
    )


def test_debug_shows_the_traceback_before_or_after_the_command(cli, broker):
    for argv in (
        ("--debug", "topics", "delete", "nope", "--broker", broker),
        ("topics", "delete", "nope", "--broker", broker, "--debug"),
    ):
        code, _, err = cli(*argv)
        assert code == 1
        assert err.startswith("Traceback (most recent call last):")
        assert err.endswith(
            "strom topics: error: unknown topic 'nope' (topics are never created implicitly)\n"
        )


def test_strom_broker_environment_variable_is_the_default(cli, broker, monkeypatch):
    monkeypatch.setenv("STROM_BROKER", broker)
    assert main(["topics", "create", "from-env"]) == 0
    with strom.Client(broker) as client:
        assert list(client.list_topics()) == ["from-env"]


def test_bad_broker_url(cli):
    code, out, err = cli("topics", "list", "--broker", "redis://x")
    assert code == 1 and out == ""
    assert err.startswith("strom topics: error: unsupported broker URL 'redis://x': use one of ")


def test_bad_key_value_option_is_a_usage_error(cli, broker):
    code, _, err = cli("topics", "create", "t", "--config", "novalue", "--broker", broker)
    assert code == 2 and "expected KEY=VALUE, got 'novalue'" in err
