"""``strom reset APP_ID``: committed offsets, internal topics and local state go; nothing else."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

import strom
from strom.cli.reset import default_state_dir
from strom.runtime.config import DEFAULTS

TOPICS = [
    "wc-counts-changelog",
    "wc-by-word-repartition",
    "wc-input",  # a user topic that merely starts with the id
    "other-counts-changelog",  # another application's
    "lines",
]


@pytest.fixture
def app_state(broker, tmp_path):
    """Topics, committed offsets of group ``wc`` and a state directory tmp_path/state/wc."""
    with strom.Client(broker) as client:
        for t in TOPICS:
            client.create_topic(t)
        client.produce("lines", "x")
        client.backend.commit_offsets("wc", {("lines", 0): 1})
        client.backend.commit_offsets("other", {("lines", 0): 1})
    (tmp_path / "state" / "wc" / "0_0").mkdir(parents=True)
    (tmp_path / "state" / "wc" / "0_0" / "checkpoint").write_text("1")
    (tmp_path / "state" / "other").mkdir()
    return tmp_path / "state"


def committed(broker, group):
    with strom.Client(broker) as client:
        return client.backend.committed(group, [("lines", 0)])


def test_reset(cli, broker, app_state):
    code, out, err = cli("reset", "wc", "--broker", broker, "--state-dir", str(app_state), "--yes")
    assert (code, err) == (0, "")
    assert out == (
        f"Resetting application 'wc' on {broker}:\n"
        "  - committed offsets of consumer group 'wc': 1 partition(s)\n"
        "  - internal topics: wc-by-word-repartition, wc-counts-changelog\n"
        f"  - local state: {app_state / 'wc'}\n"
        "deleted the committed offsets of group 'wc'\n"
        "deleted topic 'wc-by-word-repartition'\n"
        "deleted topic 'wc-counts-changelog'\n"
        f"removed local state {app_state / 'wc'}\n"
        "done: the next run of 'wc' reads its input topics from the beginning "
        "(auto.offset.reset=earliest, the default)\n"
    )
    with strom.Client(broker) as client:
        assert sorted(client.list_topics()) == ["lines", "other-counts-changelog", "wc-input"]
    assert committed(broker, "wc") == {}
    assert committed(broker, "other") == {("lines", 0): 1}
    assert not (app_state / "wc").exists() and (app_state / "other").is_dir()

    # a second reset finds nothing to do
    code, out, _ = cli("reset", "wc", "--broker", broker, "--state-dir", str(app_state))
    assert code == 0
    assert "  - internal topics: none\n" in out
    assert f"  - local state: {app_state / 'wc'} (none)\n" in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_asks_on_a_terminal(cli, broker, app_state, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, _ = cli("reset", "wc", "--broker", broker, "--state-dir", str(app_state))
    assert code == 1
    assert out.endswith("Reset application 'wc'? [y/N] aborted: nothing changed\n")
    assert committed(broker, "wc") == {("lines", 0): 1}
    assert (app_state / "wc").is_dir()

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    code, out, _ = cli("reset", "wc", "--broker", broker, "--state-dir", str(app_state))
    assert code == 0 and "removed local state" in out
    assert committed(broker, "wc") == {}


def test_does_not_ask_when_stdin_is_not_a_terminal(cli, broker, app_state, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, _ = cli("reset", "wc", "--broker", broker, "--state-dir", str(app_state))
    assert code == 0 and "[y/N]" not in out


def test_default_state_dir_is_the_apps():
    assert default_state_dir("local://data/log") == Path("data/log/state")
    assert str(default_state_dir("memory://x")) == DEFAULTS["state.dir"]


def test_illegal_app_id(cli, broker):
    assert cli("reset", "../etc", "--broker", broker, "--yes") == (
        1,
        "",
        "strom reset: error: illegal application id '../etc': use ASCII letters, digits, "
        "'.', '_' or '-'\n",
    )


def test_reset_after_a_real_run(cli, local_broker, tmp_path):
    """Run word count in-process, reset it on the default state dir, and run it again."""
    from strom import serdes

    S, L = serdes.String(), serdes.Long()

    def make() -> strom.App:
        app = strom.App(
            "wc", broker=local_broker, commit_interval_ms=20, statestore_cache_max_bytes=0
        )
        (
            app.stream("lines", value_serde=S)
            .flat_map_values(str.split)
            .group_by(lambda _, w: w, key_serde=S)
            .count(store="counts")
            .to_stream()
            .to("out", key_serde=S, value_serde=L)
        )
        return app

    with strom.Client(local_broker) as client:
        client.create_topic("lines")
        client.create_topic("out")
        client.produce("lines", "a a b")
        app = make()
        app.start()
        client.read("out", timeout=20, min_records=3)
        app.close()
        assert sorted(t for t in client.list_topics() if t.startswith("wc-")) == [
            "wc-counts-changelog",
            "wc-counts-repartition",
        ]
    state = tmp_path / "log" / "state" / "wc"
    assert state.is_dir()
    code, out, _ = cli("reset", "wc", "--broker", local_broker, "--yes")
    assert code == 0 and f"removed local state {state}\n" in out
    with strom.Client(local_broker) as client:
        assert not [t for t in client.list_topics() if t.startswith("wc-")]
        app = make()
        app.start()  # reprocesses "a a b" from the beginning, with fresh state
        got = client.read("out", S, L, timeout=20, min_records=6)
        app.close()
    assert [(r.key, r.value) for r in got][3:] == [("a", 1), ("a", 2), ("b", 1)]
