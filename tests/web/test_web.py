"""The web endpoint: interactive queries forwarded between two instances, /api/status,
/metrics in Prometheus' format, the topology drawing, ``strom query`` and ``strom run --web``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

import strom
from strom import serdes
from strom.cli import main
from strom.web import WebServer, serve, to_svg

S, L = serdes.String(), serdes.Long()
WORDS = [
    *("the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"),
    *("and", "the", "cat", "sat", "on", "the", "mat"),
]
EXPECTED = dict(Counter(WORDS))
SRC = Path(__file__).resolve().parents[2] / "src"


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def get(server: WebServer | str, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of GET ``path``."""
    base = server if isinstance(server, str) else server.url
    try:
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read().decode()


def get_json(server: WebServer | str, path: str) -> tuple[int, dict]:
    status, _, body = get(server, path)
    return status, json.loads(body)


def word_count(broker: str, state_dir: Path) -> strom.App:
    app = strom.App(
        "web-wc",
        broker=broker,
        state_dir=str(state_dir),
        commit_interval_ms=50,
        heartbeat_interval_ms=100,
    )
    (
        app.stream("lines", key_serde=S, value_serde=S)
        .flat_map_values(str.split)
        .group_by(lambda _k, word: word, key_serde=S)
        .count(store="counts")
        .to_stream()
        .to("counts-out", key_serde=S, value_serde=L)
    )
    return app


def settled(apps: list[strom.App]) -> bool:
    """Both instances in one generation, each running its half of the tasks."""
    workers = [a._running for a in apps]
    if any(w is None or len(w.members) != 2 for w in workers):
        return False
    if len({w.generation for w in workers}) != 1:
        return False
    opened = [tid for w in workers for tid in list(w.tasks)]
    return len(opened) == 8 and len(set(opened)) == 8  # 2 sub-topologies x 4 partitions


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory):
    """Two instances of one app on one local:// log, each with its own web server, state
    directory and application.server."""
    tmp = tmp_path_factory.mktemp("web")
    broker = f"local://{tmp / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=4)
        client.create_topic("counts-out", partitions=4)
        for i in range(0, len(WORDS), 4):
            client.produce("lines", " ".join(WORDS[i : i + 4]), key=str(i), key_serde=S)
    apps, servers = [], []
    try:
        for name in ("a", "b"):
            app = word_count(broker, tmp / f"state-{name}")
            server = serve(app)  # port 0: a free port
            app.config["application.server"] = server.address
            apps.append(app)
            servers.append(server)
        for app in apps:
            app.start()
        wait_for(lambda: settled(apps), what="both instances to run their tasks")
        yield apps, servers
    finally:
        for app in apps:
            app.close()
        for server in servers:
            server.close()


def owned_by(app: strom.App, owner: strom.App) -> list[str]:
    """The words whose counts ``app`` says ``owner`` holds."""
    member = owner._running.member_id
    return [w for w in EXPECTED if app.query_metadata_for_key("counts", w).member == member]


def test_a_key_owned_by_the_other_instance_is_answered_through_the_first(two_instances):
    (a, b), (sa, sb) = two_instances
    remote, local = owned_by(a, b)[0], owned_by(a, a)[0]
    assert b.query_metadata_for_key("counts", remote).member == b._running.member_id

    def answered(word):
        status, body = get_json(sa, f"/api/stores/counts/{word}")
        return status == 200 and body["value"] == EXPECTED[word]

    wait_for(lambda: answered(remote) and answered(local), what="the counts")
    status, body = get_json(sa, f"/api/stores/counts/{remote}")
    assert status == 200
    assert body["key"] == remote and body["value"] == EXPECTED[remote]
    assert body["served_by"] == sb.address and body["forwarded_by"] == sa.address
    status, body = get_json(sa, f"/api/stores/counts/{local}")
    assert body["served_by"] == sa.address and "forwarded_by" not in body
    # and the other way round, through b
    status, body = get_json(sb, f"/api/stores/counts/{local}")
    assert (status, body["value"], body["served_by"]) == (200, EXPECTED[local], sa.address)


def test_a_missing_key_is_404_wherever_it_would_live(two_instances):
    (_a, _b), (sa, _sb) = two_instances
    for word in ("zebra", "yak", "xylophone", "walrus"):
        status, body = get_json(sa, f"/api/stores/counts/{word}")
        assert status == 404 and body["found"] is False and body["value"] is None


def test_listing_a_store_merges_every_instance(two_instances):
    (_a, _b), (sa, sb) = two_instances
    wait_for(
        lambda: (
            {i["key"]: i["value"] for i in get_json(sa, "/api/stores/counts")[1]["items"]}
            == EXPECTED
        ),
        what="the merged listing",
    )
    status, body = get_json(sa, "/api/stores/counts")
    assert status == 200 and sorted(body["served_by"]) == sorted([sa.address, sb.address])
    assert [i["key"] for i in body["items"]] == sorted(EXPECTED)
    _, local = get_json(sa, "/api/stores/counts?local=1")
    assert 0 < local["count"] < len(EXPECTED) and local["served_by"] == sa.address
    _, ranged = get_json(sa, "/api/stores/counts?from=c&to=f")
    assert [i["key"] for i in ranged["items"]] == sorted(w for w in EXPECTED if "c" <= w <= "f")
    _, limited = get_json(sa, "/api/stores/counts?limit=3")
    assert limited["count"] == 3 and limited["truncated"] is True


def test_errors_are_json(two_instances):
    (_a, _b), (sa, _sb) = two_instances
    status, body = get_json(sa, "/api/stores/nope/x")
    assert status == 404 and "no state store named 'nope'" in body["error"]
    assert body["stores"] == ["counts"]
    status, body = get_json(sa, "/api/nothing")
    assert status == 404 and "/api/status" in body["endpoints"]


def test_status_has_the_tasks(two_instances):
    (a, _b), (sa, _sb) = two_instances
    wait_for(lambda: get_json(sa, "/api/status")[1]["processed"] > 0, what="records processed by a")
    status, snap = get_json(sa, "/api/status")
    assert status == 200
    worker = a._running
    assert snap["member_id"] == worker.member_id and len(snap["members"]) == 2
    assert snap["application_server"] == sa.address and snap["state"] == "running"
    assert sorted(t["id"] for t in snap["tasks"]) == sorted(str(t) for t in worker.tasks)
    for task in snap["tasks"]:
        (p,) = task["partitions"]
        assert p["topic"] in ("lines", "web-wc-counts-repartition")
        assert p["partition"] == task["partition"]
        assert p["lag"] is not None and p["lag"] >= 0 and p["end"] >= p["processed"]
        assert task["restoration"]["state"] == "done"
        if task["subtopology"] == 1:
            (store,) = task["stores"]
            assert store["name"] == "counts" and store["type"] == "key-value"
            assert store["persistent"] is True and store["entries"] is not None
    wait_for(lambda: get_json(sa, "/api/status")[1]["commits"]["count"] > 0, what="a commit")
    commits = get_json(sa, "/api/status")[1]["commits"]
    assert commits["avg_latency_s"] > 0 and commits["last_latency_s"] > 0


def test_metrics_are_prometheus_text(two_instances):
    from prometheus_client.parser import text_string_to_metric_families

    (_a, _b), (sa, _sb) = two_instances
    wait_for(
        lambda: "strom_e2e_latency_seconds{" in get(sa, "/metrics")[2], what="a latency sample"
    )
    status, ctype, text = get(sa, "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append(s)
    for name in (
        "strom_up",
        "strom_records_processed_total",
        "strom_dropped_records_total",
        "strom_consumer_lag",
        "strom_commit_latency_seconds_sum",
        "strom_commit_latency_seconds_count",
        "strom_e2e_latency_seconds",
        "strom_state_store_entries",
    ):
        assert name in samples, f"{name} missing from /metrics"
    assert {tuple(sorted(s.labels)) for s in samples["strom_consumer_lag"]} == {
        ("application", "partition", "topic")
    }
    assert {s.labels["task"] for s in samples["strom_records_processed_total"]}
    assert all(s.value >= 0 for s in samples["strom_consumer_lag"])
    assert samples["strom_up"][0].value == 1


def test_the_page_and_topology_endpoints(two_instances):
    (a, _b), (sa, _sb) = two_instances
    status, ctype, html = get(sa, "/")
    assert status == 200 and ctype.startswith("text/html")
    assert "<svg" in html and "Sub-topology: 0" in html and "Sub-topology: 1" in html
    assert "/api/status" in html and "flowchart TD" in html and "https://" not in html
    status, ctype, mermaid = get(sa, "/api/topology")
    assert status == 200 and mermaid.startswith("flowchart TD")
    _, ctype, svg = get(sa, "/api/topology?format=svg")
    assert ctype == "image/svg+xml" and svg.startswith("<svg")
    _, _, text = get(sa, "/api/topology?format=text")
    assert text == str(a.topology.describe())


def test_strom_query_prints_the_answer(two_instances, capsys):
    (_a, _b), (sa, sb) = two_instances
    wait_for(lambda: get_json(sa, "/api/stores/counts/the")[1].get("value") == 4, what="the")
    assert main(["query", "counts", "the", "--url", sa.url]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["value"] == EXPECTED["the"] and body["served_by"] in (sa.address, sb.address)
    assert main(["query", "counts", "--url", sa.url, "--from", "a", "--to", "c"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [i["key"] for i in body["items"]] == sorted(w for w in EXPECTED if "a" <= w <= "c")
    assert main(["query", "counts", "zebra", "--url", sa.url]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["query", "nope", "--url", sa.url]) == 1
    assert "no state store named 'nope'" in capsys.readouterr().err


def test_strom_query_names_an_unreachable_url(capsys):
    assert main(["query", "counts", "x", "--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_a_window_store_is_queried_by_key_and_time(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("clicks", partitions=2)
        for user, ts in [("ann", 1_000), ("ann", 2_000), ("bob", 3_000), ("ann", 61_000)]:
            client.produce("clicks", "x", key=user, timestamp=ts, key_serde=S, value_serde=S)
    app = strom.App("web-win", broker=broker, state_dir=str(tmp_path / "s"), commit_interval_ms=50)
    (
        app.stream("clicks", key_serde=S, value_serde=S)
        .group_by_key()
        .windowed_by(strom.TimeWindows.of_size_and_grace(60_000, 3_600_000))
        .count(store="per-minute")
    )
    with serve(app) as server:
        app.config["application.server"] = server.address
        app.start()
        try:
            path = "/api/stores/per-minute/ann?from=0&to=100000"
            wait_for(lambda: len(get_json(server, path)[1].get("windows", [])) == 2, what="ann")
            _, body = get_json(server, path)
            assert body["windows"] == [{"start": 0, "value": 2}, {"start": 60_000, "value": 1}]
            _, one = get_json(server, "/api/stores/per-minute/ann?time=60000")
            assert one["value"] == 1
            _, listing = get_json(server, "/api/stores/per-minute?from=0&to=100000")
            assert {(i["key"], i["start"], i["value"]) for i in listing["items"]} == {
                ("ann", 0, 2),
                ("ann", 60_000, 1),
                ("bob", 0, 1),
            }
        finally:
            app.close()
        status, body = get_json(server, "/api/status")
        assert status == 503 and body["error"] == "not running"


def test_the_svg_draws_every_subtopology_node_and_store():
    b = strom.StreamsBuilder()
    (
        b.stream("in", name="src")
        .map(lambda k, v: (v, k), name="swap")
        .group_by_key(name="grouped")
        .count(store="totals", name="count")
        .to_stream(name="changes")
        .to("out", name="sink")
    )
    description = b.build().describe()
    svg = to_svg(description)
    assert svg.count('class="subtopology"') == len(description.subtopologies) == 2
    for sub in description.subtopologies:
        for node in sub.nodes:
            assert f">{node.name}</text>" in svg
    assert ">totals</text>" in svg and ">in</text>" in svg and ">out</text>" in svg
    assert to_svg(description) == svg  # deterministic


APP_FILE = """\
import strom
from strom import serdes

S = serdes.String()
app = strom.App("web-run", commit_interval_ms=50)
app.stream("lines", value_serde=S).group_by(lambda _k, v: v, key_serde=S).count(store="c")
"""


def test_strom_run_web_serves_the_app_while_it_runs(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=1)
        client.produce("lines", "hello", value_serde=S)
    target = tmp_path / "app.py"
    target.write_text(textwrap.dedent(APP_FILE))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "strom.cli", "run", str(target), "--broker", broker]
    proc = subprocess.Popen(
        [*cmd, "--web", "127.0.0.1:0", "--config", f"state.dir={tmp_path / 's'}"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = proc.stderr.readline()
        assert "web page, /metrics and store queries at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].strip()
        wait_for(lambda: get(url, "/api/stores/c/hello")[0] == 200, what="the query")
        _, body = get_json(url, "/api/stores/c/hello")
        assert body["value"] == 1 and body["served_by"] == url.removeprefix("http://")
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, out


def test_restoration_progress_of_a_task_not_open_yet(two_instances):
    """A task that is assigned but not open is restoring: ``total`` is what its changelog
    partition holds; ``restored`` shows once the worker exposes the task's StateManager."""
    from types import SimpleNamespace

    from strom.runtime import status

    (a, _b), _ = two_instances
    worker = a._running
    changelogs = {"counts": "web-wc-counts-changelog"}
    partition = next(t.partition for t in worker.tasks if t.subtopology == 1)
    begin, end = worker.backend.offsets("web-wc-counts-changelog", partition)
    assert end > begin
    pending = status._restoration(worker, changelogs, partition, None)
    assert pending == {"state": "pending", "restored": None, "total": end - begin, "progress": None}
    half = SimpleNamespace(restored=(end - begin) // 2)
    restoring = status._restoration(worker, changelogs, partition, half)
    assert restoring["state"] == "restoring" and restoring["restored"] == half.restored
    assert restoring["progress"] == pytest.approx(half.restored / (end - begin))
