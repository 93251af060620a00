"""``strom run`` and ``strom describe``: finding the App in a file or module, overrides,
running until SIGTERM, and one-line errors."""

from __future__ import annotations

import signal
import textwrap
import time

import pytest

import strom
from strom import serdes
from strom.app import DEFAULT_BROKER
from strom.cli.target import apply_overrides, load_app
from strom.topology.draw import to_dot, to_mermaid

WORD_COUNT = """\
import strom
from strom import serdes

S = serdes.String()
app = strom.App("wc", commit_interval_ms=50)
(app.stream("lines", value_serde=S, name="source")
    .flat_map_values(str.split, name="split")
    .group_by(lambda _, w: w, key_serde=S, name="by-word")
    .count(store="counts", name="count")
    .to_stream(name="changes")
    .to("counts-out", key_serde=S, value_serde=serdes.Long(), name="sink"))

if __name__ == "__main__":
    raise SystemExit("the __main__ block must not run")
"""


@pytest.fixture
def app_file(tmp_path, clean_imports):
    path = tmp_path / "wordcount.py"
    path.write_text(WORD_COUNT)
    return path


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_describe_text_mermaid_dot(cli, app_file):
    app = load_app(str(app_file))
    description = app.topology.describe()
    text, mermaid, dot = str(description), to_mermaid(description), to_dot(description)
    assert text.startswith("Topologies:\n   Sub-topology: 0\n    Source: source (topics: [lines])")
    assert cli("describe", str(app_file)) == (0, text, "")
    assert cli("describe", f"{app_file}:app", "--format", "mermaid") == (0, mermaid, "")
    assert cli("describe", str(app_file), "--format", "dot") == (0, dot, "")


def test_module_target(cli, tmp_path, monkeypatch, clean_imports):
    pkg = tmp_path / "clipkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "streams.py").write_text(WORD_COUNT)
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("describe", "clipkg.streams:app")
    assert code == 0 and "Sink: sink (topic: counts-out)" in out
    assert cli("describe", "clipkg.streams").out == out


def test_target_without_an_app(cli, tmp_path, clean_imports):
    path = write(tmp_path, "noapp.py", "x = 1\n")
    assert cli("describe", path) == (
        1,
        "",
        f"strom describe: error: no strom.App found in {path}: create one at module level "
        "(app = strom.App(...)), or name it as TARGET:ATTRIBUTE\n",
    )
    assert cli("run", f"{path}:x") == (
        1,
        "",
        f"strom run: error: {path}:x is a int, not a strom.App\n",
    )
    assert cli("run", f"{path}:nope") == (
        1,
        "",
        f"strom run: error: {path} has no attribute 'nope'\n",
    )


def test_target_with_several_apps(cli, tmp_path, clean_imports):
    path = write(
        tmp_path,
        "two.py",
        """\
        import strom
        b = strom.App("b")
        a = strom.App("a")
        same_as_a = a
    """,
    )
    assert cli("run", path) == (
        1,
        "",
        f"strom run: error: several strom.App instances in {path} (a, b): "
        f"pick one, e.g. {path}:a\n",
    )
    assert cli("describe", f"{path}:b").code == 0


def test_missing_file_and_module(cli, clean_imports):
    assert cli("run", "missing.py") == (1, "", "strom run: error: missing.py: no such file\n")
    assert cli("run", "no_such_module_xyz") == (
        1,
        "",
        "strom run: error: no module named 'no_such_module_xyz' (TARGET is a .py file "
        "or an importable module, optionally followed by :ATTRIBUTE)\n",
    )


def test_overrides(monkeypatch):
    monkeypatch.delenv("STROM_BROKER", raising=False)
    app = strom.App("o")
    apply_overrides(app, None, [("commit.interval.ms", "10")])
    assert app.broker == DEFAULT_BROKER and app.config["commit.interval.ms"] == "10"
    monkeypatch.setenv("STROM_BROKER", "memory://env")
    apply_overrides(app, None, [])
    assert app.broker == "memory://env"  # the env var replaces the default broker...
    named = strom.App("n", broker="memory://mine")
    apply_overrides(named, None, [])
    assert named.broker == "memory://mine"  # ...not one the App names
    apply_overrides(named, "memory://flag", [])
    assert named.broker == "memory://flag"  # --broker always wins
    with pytest.raises(strom.cli.common.CliError, match="cannot be overridden"):
        apply_overrides(named, None, [("application.id", "other")])


def test_run_error_is_one_line(cli, broker, app_file):
    """A missing input topic: exit 1 with the runtime's message, no traceback."""
    code, out, err = cli("run", str(app_file), "--broker", broker)
    assert (code, out) == (1, "")
    assert err == (
        f"starting 'wc' on {broker} (Ctrl-C to stop)\n"
        "strom run: error: the topology reads topics that do not exist: ['lines']; create them "
        "first (strom topics create NAME --partitions N, or strom.Client(url).create_topic)\n"
    )
    code, _, err = cli("run", str(app_file), "--broker", broker, "--debug")
    assert code == 1 and "Traceback (most recent call last)" in err


def test_run_bad_config_is_one_line(cli, broker, app_file):
    with strom.Client(broker) as client:
        client.create_topic("lines")
        client.create_topic("counts-out")
    code, _, err = cli("run", str(app_file), "--broker", broker, "--config", "comit.interval.ms=5")
    assert code == 1
    assert err.endswith(
        "strom run: error: unknown config key 'comit.interval.ms'; "
        "did you mean 'commit.interval.ms'?\n"
    )


def test_run_until_sigterm(spawn, app_file, tmp_path, local_broker):
    with strom.Client(local_broker) as client:
        client.create_topic("lines", partitions=2)
        client.create_topic("counts-out")
        for line in ["a b a", "c a"]:
            client.produce("lines", line)
        child = spawn(
            "run",
            str(app_file),
            "--broker",
            local_broker,
            "--config",
            f"state.dir={tmp_path / 'state'}",
            cwd=tmp_path,
        )
        S, L = serdes.String(), serdes.Long()
        deadline = time.monotonic() + 30
        counts: dict[str, int] = {}
        while counts != {"a": 3, "b": 1, "c": 1} and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.05)
            counts = {r.key: r.value for r in client.read("counts-out", S, L)}
        assert counts == {"a": 3, "b": 1, "c": 1}
    child.send_signal(signal.SIGTERM)
    assert child.wait(30) == 0
    assert child.stderr.read() == (
        f"starting 'wc' on {local_broker} (Ctrl-C to stop)\nstopped 'wc'\n"
    )
    assert (tmp_path / "state" / "wc").is_dir()
