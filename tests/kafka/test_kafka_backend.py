"""What only Kafka has: read_committed against raw transactions, zombie fencing by
transactional.id, membership from snapshots, client settings (SASL) passed to librdkafka.

The backend contract (tests/backends) runs against the same broker too.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer

import strom
from strom import serdes
from strom.backends import Membership, ProducerRecord
from strom.backends.kafka import KafkaBackend
from strom.core.errors import BackendError, FencedError

Open = Callable[..., KafkaBackend]


def values(backend: KafkaBackend, topic: str, partition: int = 0) -> list[bytes | None]:
    out, offset = [], 0
    while batch := backend.fetch(topic, partition, offset, 500):
        out.extend(r.value for r in batch)
        offset = batch[-1].offset + 1
    return out


def eventually(read: Callable[[], object], expected: object, timeout: float = 5.0) -> object:
    """What another producer committed reaches a consumer within milliseconds, not at once."""
    deadline = time.monotonic() + timeout
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return got


def raw_transactional_producer(bootstrap: str) -> Producer:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": f"raw-{uuid.uuid4().hex}"}
    )
    producer.init_transactions(30)
    return producer


def test_open_and_aborted_transactions_stay_invisible(open_kafka: Open, topic, broker) -> None:
    url = f"kafka://{broker.bootstrap}?strom.fetch.wait.ms=300"
    backend = open_kafka(url)
    t = topic("txn")
    backend.create_topic(t)
    raw = raw_transactional_producer(broker.bootstrap)
    raw.begin_transaction()
    for v in (b"a", b"b", b"c"):
        raw.produce(t, v, b"k", partition=0)
    raw.flush(30)
    assert backend.fetch(t, 0, 0) == []  # written, not committed: read_committed skips it
    assert backend.offsets(t, 0) == (0, 0)  # the end is the last stable offset
    assert backend.produce([ProducerRecord(t, b"k", b"d", 1)]) == [(0, 3)]
    assert backend.fetch(t, 0, 0) == []  # behind the open transaction
    raw.commit_transaction(30)
    expected = [b"a", b"b", b"c", b"d"]
    assert eventually(lambda: values(backend, t), expected) == expected
    assert backend.offsets(t, 0)[1] == 5  # 4 records and the commit marker
    raw.begin_transaction()
    raw.produce(t, b"aborted", b"k", partition=0)
    raw.flush(30)
    raw.abort_transaction(30)
    [(_p, offset)] = backend.produce([ProducerRecord(t, b"k", b"e", 1)])
    assert offset > 5  # the aborted transaction's marker (at least) keeps its offset
    assert values(backend, t) == [b"a", b"b", b"c", b"d", b"e"]


def test_strom_transactions_commit_atomically_across_partitions(open_kafka: Open, topic) -> None:
    backend = open_kafka()
    src, out = topic("src"), topic("out")
    backend.create_topic(src)
    backend.create_topic(out, partitions=3)
    with backend.transaction() as tx:
        tx.produce([ProducerRecord(out, f"k{i}".encode(), b"v", i) for i in range(30)])
        tx.commit_offsets("app", {(src, 0): 7})
    assert sum(len(values(backend, out, p)) for p in range(3)) == 30
    assert backend.committed("app", [(src, 0)]) == {(src, 0): 7}
    other = open_kafka()  # another handle sees them too
    assert sum(len(values(other, out, p)) for p in range(3)) == 30
    with backend.transaction() as tx:  # offsets alone (a commit with no output)
        tx.commit_offsets("app", {(src, 0): 9})
    assert other.committed("app", [(src, 0)]) == {(src, 0): 9}


def test_a_second_producer_with_the_same_transactional_id_fences_the_first(
    open_kafka: Open, topic
) -> None:
    first, second = open_kafka(), open_kafka()
    t = topic("zombie")
    grp = t  # a group of its own: its transactional id is strom-<group>-<member>
    first.create_topic(t)
    gen = first.heartbeat(grp, "a", 30_000).generation

    def commit(backend: KafkaBackend, value: bytes) -> None:
        with backend.transaction() as tx:
            tx.fence(grp, "a", gen)
            tx.produce([ProducerRecord(t, b"k", value, 1)])
            tx.commit_offsets(grp, {(t, 0): len(value)})

    commit(first, b"1")
    commit(second, b"2")  # same member, so the same transactional.id: the first is fenced
    with pytest.raises(FencedError, match="fenced"):
        commit(first, b"zombie")
    assert values(open_kafka(), t) == [b"1", b"2"]  # a fresh reader
    assert second.committed(grp, [(t, 0)]) == {(t, 0): 1}
    commit(first, b"3")  # a new producer fences the other one in turn
    with pytest.raises(FencedError):
        commit(second, b"zombie")
    assert values(first, t) == [b"1", b"2", b"3"]


def test_every_handle_computes_the_same_membership(open_kafka: Open) -> None:
    a, b = open_kafka(), open_kafka()
    m1 = a.heartbeat("grp", "a", 30_000)
    m2 = b.heartbeat("grp", "b", 30_000)
    assert m2.members == ("a", "b") and m2.generation == m1.generation + 1
    assert a.heartbeat("grp", "a", 30_000, m2.generation).generation == m2.generation
    fresh = open_kafka()  # reads the whole topic from the beginning
    m3 = fresh.heartbeat("grp", "b", 30_000, m2.generation)
    assert m3 == Membership(m2.generation, ("a", "b"), synced=True)
    a.leave("grp", "a")
    assert b.heartbeat("grp", "b", 30_000).members == ("b",)
    assert fresh.heartbeat("grp", "b", 30_000).generation == m2.generation + 1


def test_a_fresh_reader_starts_from_the_latest_snapshot(open_kafka: Open, broker) -> None:
    """What compaction leaves: a snapshot and the records after it (older ones are gone)."""
    groups = f"__strom_groups-{uuid.uuid4().hex[:12]}"
    url = f"kafka://{broker.bootstrap}?strom.groups.topic={groups}"
    writer = open_kafka(url)
    writer.heartbeat("setup", "m", 30_000)  # creates the topic
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    offsets: list[int] = []
    stale = orjson.dumps(["m", "grp", "stale"]), orjson.dumps({"t": 60_000, "a": -1})
    delivered = lambda _err, msg: offsets.append(msg.offset())  # noqa: E731
    producer.produce(groups, stale[1], stale[0], partition=0, on_delivery=delivered)
    producer.flush(30)
    now = int(time.time() * 1000)
    snapshot = {
        "as_of": offsets[0],  # covers the stale record
        "gen": 41,
        "clock": now,
        "change": 0,
        "members": {"x": [now, 60_000, 40, 41], "y": [now, 60_000, 41, 41]},
    }
    producer.produce(groups, orjson.dumps(snapshot), orjson.dumps(["s", "grp"]), partition=0)
    producer.flush(30)
    # a record before the snapshot was compacted away: the snapshot stands for all of it
    reader = open_kafka(url)
    joined = reader.heartbeat("grp", "z", 30_000)
    assert joined.members == ("x", "y", "z") and joined.generation == 42


def test_a_first_read_from_a_snapshot_newer_than_our_heartbeat(open_kafka: Open, broker) -> None:
    """Another process snapshots the group between our append and our first read: the
    snapshot already holds our heartbeat, and the heartbeat answers from it."""
    groups = f"__strom_groups-{uuid.uuid4().hex[:12]}"
    url = f"kafka://{broker.bootstrap}?strom.groups.topic={groups}"
    open_kafka(url).heartbeat("setup", "m", 30_000)  # creates the topic
    reader = open_kafka(url)
    log = reader._groups
    append = log._append
    producer = Producer({"bootstrap.servers": broker.bootstrap})

    def append_then_someone_snapshots(key: bytes, value: bytes | None) -> int:
        offset = append(key, value)
        now = int(time.time() * 1000)
        snapshot = {
            "as_of": offset,  # covers our heartbeat
            "gen": 7,
            "clock": now,
            "change": offset,
            "members": {"x": [now, 60_000, 6, 7], "z": [now, 30_000, 7, -1]},
        }
        producer.produce(groups, orjson.dumps(snapshot), orjson.dumps(["s", "grp"]), partition=0)
        producer.flush(30)
        return offset

    log._append = append_then_someone_snapshots  # type: ignore[method-assign]
    joined = reader.heartbeat("grp", "z", 30_000)
    assert joined.members == ("x", "z") and joined.generation == 7


def test_client_settings_pass_through_to_librdkafka(open_kafka: Open, broker, topic) -> None:
    backend = open_kafka(
        f"kafka://{broker.bootstrap}?client.id=from-url&producer.linger.ms=7",
        {"socket.timeout.ms": 12_345, "consumer.fetch.wait.max.ms": 20, "client.id": "dict"},
    )
    producer = backend.settings.client("producer")
    consumer = backend.settings.client("consumer")
    assert producer["client.id"] == "dict" and producer["socket.timeout.ms"] == "12345"
    assert producer["linger.ms"] == "7" and "fetch.wait.max.ms" not in producer
    assert consumer["fetch.wait.max.ms"] == "20" and consumer["isolation.level"] == "read_committed"
    t = topic()
    backend.create_topic(t)
    backend.produce([ProducerRecord(t, b"k", b"v", 1)])
    assert values(backend, t) == [b"v"]
    with pytest.raises(BackendError, match=r"no\.such\.setting"):
        KafkaBackend(f"kafka://{broker.bootstrap}?no.such.setting=1").list_topics()


def test_a_sasl_listener_with_settings_from_the_url(open_kafka: Open, broker, topic) -> None:
    base = (
        f"kafka://{broker.sasl_bootstrap}?security.protocol=SASL_PLAINTEXT"
        "&sasl.mechanism=PLAIN&sasl.username=strom"
    )
    secure = open_kafka(base + "&sasl.password=strom-secret")
    assert "strom-secret" not in repr(secure)
    t = topic("sasl")
    secure.create_topic(t)
    secure.produce([ProducerRecord(t, b"k", b"authenticated", 1)])
    assert values(secure, t) == [b"authenticated"]
    wrong = open_kafka(base + "&strom.request.timeout.ms=1500", {"sasl.password": "wrong"})
    with pytest.raises(BackendError):
        wrong.list_topics()


def test_the_client_reads_and_writes_kafka(kafka_url: str, topic) -> None:
    t = topic("client")
    with strom.Client(kafka_url) as client:
        client.create_topic(t, partitions=2)
        for i in range(10):
            client.produce(t, f"v{i}", key=f"k{i % 3}")
        client.flush()
        got = client.read(t, timeout=5, min_records=10)
    assert sorted(r.value for r in got) == sorted(f"v{i}".encode() for i in range(10))


def test_fetching_to_an_empty_answer_reads_everything_another_process_committed(
    open_kafka: Open, topic, broker
) -> None:
    """An empty fetch means the committed end, even when librdkafka delivers a partition in
    many small fetch responses (a regression: reads after a seek stopped after the first one,
    which made the two-instance word count look stalled)."""
    t = topic("chunks")
    open_kafka().create_topic(t)
    raw = raw_transactional_producer(broker.bootstrap)
    expected = []
    for txn in range(8):  # separate transactions: commit markers between them
        raw.begin_transaction()
        for i in range(25):
            value = f"{txn}-{i}-".encode() + b"x" * 200
            raw.produce(t, value, b"k", partition=0)
            expected.append(value)
        raw.commit_transaction(30)
    # another handle; tiny fetch responses: a few records each
    reader = open_kafka(
        f"kafka://{broker.bootstrap}?consumer.max.partition.fetch.bytes=600"
        "&consumer.message.max.bytes=1000"
        "&consumer.fetch.max.bytes=1000"
    )
    assert eventually(lambda: values(reader, t), expected) == expected
    for _ in range(3):  # reading again from the start (a seek back) also reads it all
        assert values(reader, t) == expected


def test_internal_topics_take_replication_factor_and_topic_settings(
    kafka_url: str, topic, tmp_path: Path
) -> None:
    """``replication.factor`` and ``topic.*`` reach the internal topics the app creates; a
    factor the cluster cannot meet is a clear error at start."""
    S = serdes.String()
    lines, out = topic("lines"), topic("out")
    app_id = topic("rf")

    def make(**options: object) -> strom.App:
        app = strom.App(app_id, broker=kafka_url, **options)
        (
            app.stream(lines, key_serde=S, value_serde=S)
            .group_by(lambda _, v: v, key_serde=S)
            .count(store="c")
            .to_stream()
            .to(out, key_serde=S, value_serde=serdes.Long())
        )
        return app

    with strom.Client(kafka_url) as client:
        client.create_topic(lines)
        client.create_topic(out)
        app = make(replication_factor=2, state_dir=str(tmp_path / "a"))
        with pytest.raises(BackendError, match=r"(?i)replication"):
            app.start()
        app = make(
            replication_factor=1,
            topic_min_insync_replicas=1,
            topic_retention_ms=123_456,
            state_dir=str(tmp_path / "b"),
        )
        app.start()
        app.close()
        topics = client.list_topics()
        changelog = topics[f"{app_id}-c-changelog"].config
        repartition = topics[f"{app_id}-c-repartition"].config
        assert changelog["min.insync.replicas"] == "1"
        assert changelog["cleanup.policy"] == "compact"
        assert repartition["retention.ms"] == "123456"  # topic.* overrides the -1 default
        assert "replication.factor" not in changelog  # not a topic config on Kafka


def test_a_paused_partition_is_read_again_after_a_seek(open_kafka: Open, topic) -> None:
    """The fetcher pauses a partition whose buffered records pile up while another partition
    is read. A fetch elsewhere in it (a seek: a task reopened from its committed offset) must
    read it again: librdkafka keeps a partition paused across a seek or a re-assign, and the
    fetch used to wait for ever (RetriableError) - a worker stalled on that partition."""
    backend = open_kafka(config={"strom.fetch.wait.ms": "3000"})
    t = topic("paused")
    backend.create_topic(t, 2)
    n = 25_000  # more than the fetcher buffers before it pauses a partition
    for p in range(2):
        backend.produce([ProducerRecord(t, None, b"x" * 20, 1, (), p) for _ in range(n)])
    assert [r.offset for r in backend.fetch(t, 1, 0, 10)] == list(range(10))
    offset = 0
    while offset < n:  # partition 0 read to its end while partition 1 piles up
        offset = backend.fetch(t, 0, offset, 1000)[-1].offset + 1
    fetcher = backend._fetcher()
    assert (t, 1) in fetcher.paused  # the situation this test is about
    started = time.monotonic()
    assert [r.offset for r in backend.fetch(t, 1, 0, 5)] == list(range(5))  # a seek back
    assert time.monotonic() - started < 2.5
    offset, seen = 5, 5
    while offset < n:
        batch = backend.fetch(t, 1, offset, 5000)
        assert batch[0].offset == offset
        offset, seen = batch[-1].offset + 1, seen + len(batch)
    assert seen == n


def test_a_fetch_without_waiting_answers_at_once_and_the_records_follow(
    open_kafka: Open, topic
) -> None:
    """``wait=False`` (the worker's loop) answers with what librdkafka has delivered so far,
    even right after a produce in this process (a waiting fetch would wait for those records);
    fetching again soon reads them all."""
    backend = open_kafka(config={"strom.fetch.wait.ms": "5000"})
    t = topic("nowait")
    backend.create_topic(t)
    backend.produce([ProducerRecord(t, None, b"a", 1, (), 0)])
    assert [r.value for r in backend.fetch(t, 0, 0)] == [b"a"]  # waits for what it knows of
    backend.produce([ProducerRecord(t, None, b"b%d" % i, 1, (), 0) for i in range(100)])
    started = time.monotonic()
    first = backend.fetch(t, 0, 1, wait=False)
    assert time.monotonic() - started < 0.5  # never the wait of a waiting fetch
    got, offset = list(first), 1 + len(first)
    deadline = time.monotonic() + 5
    while len(got) < 100 and time.monotonic() < deadline:
        batch = backend.fetch(t, 0, offset, wait=False)
        got += batch
        offset += len(batch)
        time.sleep(0.005)
    assert [r.value for r in got] == [b"b%d" % i for i in range(100)]
    assert [r.offset for r in got] == list(range(1, 101))


def test_records_deleted_before_they_are_read_are_skipped_with_a_warning(
    open_kafka: Open, topic, caplog
) -> None:
    """A fetch below the log start (retention or delete_records removed the records) goes on
    from the first record left, as Kafka Streams' default reset policy does, and says which
    offsets were lost."""
    backend = open_kafka()
    t = topic("deleted")
    backend.create_topic(t)
    backend.produce([ProducerRecord(t, None, b"%d" % i, 1, (), 0) for i in range(10)])
    assert len(backend.fetch(t, 0, 0, 3)) == 3  # assigned and read up to offset 3
    backend.delete_records(t, 0, 6)
    with caplog.at_level("WARNING", logger="strom.kafka"):
        got = backend.fetch(t, 0, 0)  # a seek back to where the records are gone
    assert [r.offset for r in got] == [6, 7, 8, 9]
    assert f"{t}[0]: offsets 0..5 were deleted" in caplog.text


def test_sent_records_are_visible_after_flush_and_a_failed_delivery_raises_there(
    open_kafka: Open, topic
) -> None:
    """``send`` hands records over without waiting (the at_least_once loop); ``flush`` waits for
    them, makes them visible to fetches, and raises a delivery the broker refused."""
    backend = open_kafka(config={"strom.fetch.wait.ms": "5000"})
    t, small = topic("sent"), topic("small")
    backend.create_topic(t, 2)
    backend.create_topic(small, 1, {"max.message.bytes": "2000"})
    backend.send([ProducerRecord(t, b"k%d" % i, b"v%d" % i, 5, ()) for i in range(50)])
    backend.send([ProducerRecord(t, None, b"last", 6, (("h", b"1"),), 1)])
    backend.flush()
    got = [r for p in (0, 1) for r in backend.fetch(t, p, 0, 500)]  # no waiting needed
    assert sorted(r.value for r in got) == sorted([b"v%d" % i for i in range(50)] + [b"last"])
    last = next(r for r in got if r.value == b"last")
    assert (last.partition, last.timestamp, last.headers) == (1, 6, (("h", b"1"),))
    backend.flush()  # nothing outstanding: returns at once
    # the fetcher has seen the end of partition 1; records sent there since are read at once
    # (the send learns no offsets: the fetch asks the broker where the end is now)
    end = max(r.offset for r in got if r.partition == 1) + 1
    assert backend.fetch(t, 1, end) == []
    backend.send([ProducerRecord(t, None, b"more%d" % i, 7, (), 1) for i in range(10)])
    backend.flush()
    assert [r.value for r in backend.fetch(t, 1, end)] == [b"more%d" % i for i in range(10)]
    backend.send([ProducerRecord(small, None, b"x" * 5000, 1, (), 0)])  # the broker refuses it
    with pytest.raises(BackendError, match=f"{small}\\[0\\]"):
        backend.flush()
    backend.send([ProducerRecord(small, None, b"ok", 1, (), 0)])
    backend.flush()  # the failure was reported once
    assert [r.value for r in backend.fetch(small, 0, 0)] == [b"ok"]


def test_offsets_that_stay_pending_raise_and_are_explained_once(
    open_kafka: Open, topic, broker, caplog, monkeypatch
) -> None:
    """A group's offsets sent in a transaction that stays open are not read (they could still
    commit): ``committed`` raises PendingTransactionError (a RetriableError: the worker waits),
    and after STUCK_PENDING_S the backend says once what that usually means."""
    from confluent_kafka import Consumer
    from confluent_kafka import TopicPartition as KTP

    from strom.backends.kafka import backend as kafka_backend
    from strom.backends.kafka.errors import PendingTransactionError

    monkeypatch.setattr(kafka_backend, "STUCK_PENDING_S", 0.0)
    backend = open_kafka()
    t, group = topic("pending"), f"g-{uuid.uuid4().hex[:8]}"
    backend.create_topic(t)
    raw = raw_transactional_producer(broker.bootstrap)
    meta = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    raw.begin_transaction()
    raw.send_offsets_to_transaction([KTP(t, 0, 5)], meta.consumer_group_metadata(), 30)
    try:
        with caplog.at_level("WARNING", logger="strom.kafka"):
            for _ in range(2):
                with pytest.raises(PendingTransactionError):
                    backend.committed(group, [(t, 0)])
        assert caplog.text.count(f"group {group!r}: its committed offsets have been pending") == 1
    finally:
        raw.abort_transaction(30)
        meta.close()
    assert backend.committed(group, [(t, 0)]) == {}  # aborted: nothing was committed
