"""The backend contract: every backend (memory://, local://, later kafka://) passes all of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from strom.backends import Backend, Membership, ProducerRecord, TopicInfo
from strom.core.errors import BackendError, FencedError, TopicExistsError, UnknownTopicError
from strom.core.partitioner import partition_for_key
from strom.core.records import ConsumerRecord

Topic = Callable[..., str]


def rec(topic: str, key: bytes | None, value: bytes | None, ts: int = 1000, **kw) -> ProducerRecord:
    return ProducerRecord(topic, key, value, ts, **kw)


def fetch_all(backend: Backend, topic: str, partition: int) -> list[ConsumerRecord]:
    out: list[ConsumerRecord] = []
    offset = 0
    while batch := backend.fetch(topic, partition, offset, 500):
        out.extend(batch)
        offset = batch[-1].offset + 1
    return out


# ---- admin -------------------------------------------------------------------------------------
def test_create_list_delete_topics(backend: Backend, topic: Topic) -> None:
    a, b = topic("a"), topic("b")
    backend.create_topic(a, partitions=3, config={"retention.ms": "60000"})
    backend.create_topic(b)
    topics = backend.list_topics()
    assert topics[a] == TopicInfo(a, 3, {"retention.ms": "60000"})
    assert topics[b].partitions == 1
    with pytest.raises(TopicExistsError, match=a):
        backend.create_topic(a, partitions=3)
    backend.create_topic(a, partitions=3, exist_ok=True)
    backend.delete_topic(a)
    assert a not in backend.list_topics() and b in backend.list_topics()
    with pytest.raises(UnknownTopicError, match=a):
        backend.delete_topic(a)


@pytest.mark.parametrize(
    ("name", "partitions"), [("bad name", 1), ("", 1), ("x" * 250, 1), ("ok", 0), ("ok", "2")]
)
def test_create_topic_rejects_what_kafka_rejects(
    backend: Backend, name: str, partitions: object
) -> None:
    with pytest.raises(BackendError):
        backend.create_topic(name, partitions=partitions)  # type: ignore[arg-type]


def test_create_topic_rejects_bad_cleanup_config(backend: Backend, topic: Topic) -> None:
    with pytest.raises(BackendError, match=r"cleanup\.policy"):
        backend.create_topic(topic(), config={"cleanup.policy": "shred"})
    with pytest.raises(BackendError, match=r"retention\.ms"):
        backend.create_topic(topic(), config={"retention.ms": "soon"})


def test_recreated_topic_starts_empty(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    backend.produce([rec(t, b"k", b"v")])
    backend.commit_offsets("g", {(t, 0): 1})
    backend.delete_topic(t)
    backend.create_topic(t)
    assert backend.fetch(t, 0, 0) == []
    assert backend.offsets(t, 0) == (0, 0)
    assert backend.committed("g", [(t, 0)]) == {}


# ---- produce and fetch -------------------------------------------------------------------------
def test_round_trip_keeps_every_field(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=2)
    headers = (("trace", b"abc"), ("flag", None), ("trace", b""), ("ünï", b"\x00\xff"))
    sent = [
        rec(t, b"k1", b"v1", 1_700_000_000_123, partition=1),
        rec(t, None, b"no key", 5, partition=1),
        rec(t, b"k2", None, 6, partition=1),
        rec(t, b"", b"", 1, partition=1, headers=headers),  # librdkafka turns 0 into "now"
        rec(t, b"\x00" * 3, b"x" * 100_000, 2**62, partition=1),
    ]
    assert backend.produce(sent) == [(1, i) for i in range(5)]
    got = backend.fetch(t, 1, 0)
    assert got == [
        ConsumerRecord(t, 1, i, r.timestamp, r.key, r.value, r.headers) for i, r in enumerate(sent)
    ]
    assert all(type(r.headers) is tuple for r in got)
    assert backend.fetch(t, 0, 0) == []


def test_headers_given_as_dict_or_list_are_normalized(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    backend.produce(
        [rec(t, b"k", b"v", headers={"a": "1"}), rec(t, b"k", b"v", headers=[("b", b"2")])]
    )  # type: ignore[arg-type]
    assert [r.headers for r in backend.fetch(t, 0, 0)] == [(("a", b"1"),), (("b", b"2"),)]


def test_key_partitioning_equals_kafkas_default_partitioner(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=7)
    keys = [f"key-{i}".encode() for i in range(300)] + [b"", b"kafka", b"\xff\xfe"]
    placed = backend.produce([rec(t, k, k) for k in keys])
    for key, (partition, _offset) in zip(keys, placed):
        assert partition == partition_for_key(key, 7), key
    for p in range(7):
        assert all(partition_for_key(r.key, 7) == p for r in fetch_all(backend, t, p))
    assert sum(len(fetch_all(backend, t, p)) for p in range(7)) == len(keys)


def test_null_keys_are_spread_over_partitions(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=3)
    for _ in range(10):
        backend.produce([rec(t, None, b"v") for _ in range(3)])
    assert all(fetch_all(backend, t, p) for p in range(3))


def test_explicit_partition_and_bad_partitions(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=2)
    assert backend.produce([rec(t, b"any", b"v", partition=0)]) == [(0, 0)]
    assert backend.produce([rec(t, b"any", b"v", partition=1)]) == [(1, 0)]
    for bad in (2, -1):
        with pytest.raises(UnknownTopicError, match=f"{t}.*partition {bad}"):
            backend.produce([rec(t, b"k", b"v", partition=bad)])
        with pytest.raises(UnknownTopicError, match=t):
            backend.fetch(t, bad, 0)
        with pytest.raises(UnknownTopicError, match=t):
            backend.offsets(t, bad)


def test_offsets_are_dense_and_monotonic_per_partition(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=3)
    seen: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for batch in range(5):
        for p, off in backend.produce([rec(t, f"{batch}-{i}".encode(), b"v") for i in range(40)]):
            seen[p].append(off)
    for p, offs in seen.items():
        assert offs == list(range(len(offs)))
        assert backend.offsets(t, p) == (0, len(offs))
        assert [r.offset for r in fetch_all(backend, t, p)] == offs


def test_fetch_from_the_middle_and_max_records(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    backend.produce([rec(t, b"k", str(i).encode(), ts=i) for i in range(50)])
    assert [r.offset for r in backend.fetch(t, 0, 10, max_records=5)] == [10, 11, 12, 13, 14]
    assert [r.value for r in backend.fetch(t, 0, 47)] == [b"47", b"48", b"49"]
    assert backend.fetch(t, 0, 50) == []
    assert backend.fetch(t, 0, 1000) == []
    assert len(backend.fetch(t, 0, 0, max_records=1)) == 1
    assert backend.fetch(t, 0, 0, max_records=0) == []


def test_sent_records_are_fetched_after_flush_and_bad_ones_raise_at_send(
    backend: Backend, topic: Topic
) -> None:
    """``send`` + ``flush`` (the at_least_once loop's produce in two steps): a bad record
    raises at send and sends nothing; after flush every record is there, in order, with its
    fields, and ``offsets()`` counts it."""
    t = topic()
    backend.create_topic(t, partitions=2)
    with pytest.raises(TypeError, match="value"):
        backend.send([rec(t, b"k", b"v", partition=0), rec(t, b"k", 5, partition=0)])  # type: ignore[arg-type]
    with pytest.raises(UnknownTopicError):
        backend.send([rec(topic("missing"), b"k", b"v")])
    backend.send([rec(t, b"k%d" % i, b"v%d" % i, ts=1000 + i, partition=1) for i in range(30)])
    backend.send([rec(t, None, b"h", ts=99, partition=1, headers=(("a", b"1"),))])
    backend.flush()
    got = fetch_all(backend, t, 1)
    assert [(r.key, r.value, r.timestamp) for r in got[:30]] == [
        (b"k%d" % i, b"v%d" % i, 1000 + i) for i in range(30)
    ]
    assert (got[30].value, got[30].headers) == (b"h", (("a", b"1"),))
    assert len(got) == 31 and backend.offsets(t, 1)[1] == got[-1].offset + 1
    assert fetch_all(backend, t, 0) == []  # the refused batch sent nothing
    backend.flush()  # nothing outstanding


def test_unknown_topics_raise_and_are_never_created(backend: Backend, topic: Topic) -> None:
    t = topic("missing")
    with pytest.raises(UnknownTopicError, match=t):
        backend.produce([rec(t, b"k", b"v")])
    with pytest.raises(UnknownTopicError, match=t):
        backend.fetch(t, 0, 0)
    with pytest.raises(UnknownTopicError, match=t):
        backend.offsets(t, 0)
    with pytest.raises(UnknownTopicError, match=t):
        backend.commit_offsets("g", {(t, 0): 1})
    assert t not in backend.list_topics()


def test_a_failing_batch_writes_nothing(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    with pytest.raises(UnknownTopicError):
        backend.produce([rec(t, b"k", b"v"), rec(topic("missing"), b"k", b"v")])
    with pytest.raises(TypeError, match=t):
        backend.produce([rec(t, b"k", b"v"), rec(t, "str key", b"v")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="value"):
        backend.produce([rec(t, b"k", {"not": "bytes"})])  # type: ignore[arg-type]
    assert backend.fetch(t, 0, 0) == [] and backend.offsets(t, 0) == (0, 0)


def test_handles_on_one_log_share_it(open_log: Callable[[], Backend], topic: Topic) -> None:
    first, second = open_log(), open_log()
    t = topic()
    first.create_topic(t, partitions=2)
    assert second.list_topics()[t].partitions == 2
    second.produce([rec(t, b"k", b"from second", partition=1)])
    assert first.fetch(t, 1, 0)[0].value == b"from second"
    first.commit_offsets("g", {(t, 1): 1})
    assert second.committed("g", [(t, 1)]) == {(t, 1): 1}


def test_threads_producing_concurrently_keep_offsets_dense(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=2)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for b in range(15):
                backend.produce([rec(t, f"{n}-{b}-{i}".encode(), b"v") for i in range(20)])
                backend.fetch(t, n % 2, 0, 10)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    offsets = [[r.offset for r in fetch_all(backend, t, p)] for p in range(2)]
    assert [o == list(range(len(o))) for o in offsets] == [True, True]
    assert sum(map(len, offsets)) == 4 * 15 * 20


def test_closed_backend_refuses_work(open_log: Callable[[], Backend], topic: Topic) -> None:
    backend = open_log()
    backend.create_topic(t := topic())
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.produce([rec(t, b"k", b"v")])
    with pytest.raises(BackendError, match="closed"):
        backend.fetch(t, 0, 0)


# ---- consumer groups -----------------------------------------------------------------------------
def test_committed_offsets_per_group(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, partitions=3)
    backend.commit_offsets("g1", {(t, 0): 5, (t, 1): 7})
    backend.commit_offsets("g2", {(t, 0): 1})
    assert backend.committed("g1", [(t, 0), (t, 1), (t, 2)]) == {(t, 0): 5, (t, 1): 7}
    assert backend.committed("g2", [(t, 0), (t, 1)]) == {(t, 0): 1}
    assert backend.committed("nobody", [(t, 0)]) == {}
    backend.commit_offsets("g1", {(t, 0): 9})
    assert backend.committed("g1", [(t, 0)]) == {(t, 0): 9}
    with pytest.raises(BackendError, match=f"{t}.*partition 0"):
        backend.commit_offsets("g1", {(t, 0): -1})
    with pytest.raises(UnknownTopicError, match=f"{t}.*partition 3"):
        backend.commit_offsets("g1", {(t, 3): 1})
    backend.delete_group("g1")
    assert backend.committed("g1", [(t, 0), (t, 1)]) == {}
    assert backend.committed("g2", [(t, 0)]) == {(t, 0): 1}


def test_membership_generations(backend: Backend) -> None:
    first = backend.heartbeat("grp", "a", 30_000)
    assert first.members == ("a",)
    second = backend.heartbeat("grp", "b", 30_000)
    assert second.members == ("a", "b") and second.generation > first.generation
    same = backend.heartbeat("grp", "a", 30_000)
    assert same == Membership(second.generation, ("a", "b"), synced=False)
    backend.leave("grp", "b")
    after_leave = backend.heartbeat("grp", "a", 30_000)
    assert after_leave.members == ("a",) and after_leave.generation > second.generation
    backend.leave("grp", "nobody")  # unknown members leave quietly
    assert backend.heartbeat("grp", "a", 30_000) == after_leave
    assert backend.heartbeat("other", "a", 30_000).members == ("a",)


def test_synced_once_every_member_acknowledged_the_generation(backend: Backend) -> None:
    a = backend.heartbeat("grp", "a", 30_000)
    assert not a.synced
    a = backend.heartbeat("grp", "a", 30_000, a.generation)
    assert a.synced and a.members == ("a",)
    b = backend.heartbeat("grp", "b", 30_000)  # b joins: a new generation nobody acked yet
    assert b.generation > a.generation and not b.synced
    assert not backend.heartbeat("grp", "b", 30_000, b.generation).synced  # a has not
    assert backend.heartbeat("grp", "a", 30_000, b.generation).synced
    assert backend.heartbeat("grp", "b", 30_000, b.generation).synced


def test_fenced_transactions_write_nothing(backend: Backend, topic, short_session_ms: int) -> None:
    topic = topic("fenced")
    backend.create_topic(topic)
    gen = backend.heartbeat("grp", "a", short_session_ms).generation
    with backend.transaction() as tx:
        tx.fence("grp", "a", gen)
        tx.produce([ProducerRecord(topic, b"k", b"1", 1)])
        tx.commit_offsets("grp", {(topic, 0): 1})
    backend.heartbeat("grp", "b", 30_000)  # a live member may still commit after b joined
    with backend.transaction() as tx:
        tx.fence("grp", "a", gen)
        tx.produce([ProducerRecord(topic, b"k", b"2", 2)])
    time.sleep(short_session_ms / 1000 + 0.25)
    backend.heartbeat("grp", "b", 30_000)  # a's session expired: a is a zombie

    def zombie_commit(value: bytes) -> None:
        tx = backend.transaction()
        tx.fence("grp", "a", gen)
        tx.produce([ProducerRecord(topic, b"k", value, 3)])
        tx.commit_offsets("grp", {(topic, 0): 9})
        tx.commit()

    with pytest.raises(FencedError, match="no longer in the group"):
        zombie_commit(b"3")
    backend.heartbeat("grp", "a", 30_000)  # it joins again: its old work stays fenced
    with pytest.raises(FencedError, match="joined again at generation"):
        zombie_commit(b"4")
    assert [r.value for r in backend.fetch(topic, 0, 0)] == [b"1", b"2"]
    assert backend.committed("grp", [(topic, 0)]) == {(topic, 0): 1}


def test_silent_members_expire_after_their_session_timeout(
    backend: Backend, short_session_ms: int
) -> None:
    backend.heartbeat("grp", "stays", 30_000)
    joined = backend.heartbeat("grp", "dies", short_session_ms)
    assert joined.members == ("dies", "stays")
    time.sleep(short_session_ms / 1000 + 0.25)
    after = backend.heartbeat("grp", "stays", 30_000)
    assert after.members == ("stays",) and after.generation > joined.generation
    back = backend.heartbeat("grp", "dies", short_session_ms)  # a zombie back is a new join
    assert back.members == ("dies", "stays") and back.generation > after.generation


def test_delete_group_forgets_members(backend: Backend) -> None:
    joined = backend.heartbeat("grp", "a", 30_000)
    backend.delete_group("grp")
    again = backend.heartbeat("grp", "b", 30_000)
    assert again.members == ("b",) and again.generation > joined.generation


# ---- transactions --------------------------------------------------------------------------------
def test_transaction_commit_makes_records_and_offsets_visible_together(
    backend: Backend, topic: Topic
) -> None:
    src, out = topic("in"), topic("out")
    backend.create_topic(src)
    backend.create_topic(out, partitions=2)
    txn = backend.transaction()
    txn.produce([rec(out, b"a", b"1"), rec(out, None, b"2", partition=1)])
    txn.commit_offsets("app", {(src, 0): 42})
    txn.produce([rec(out, b"b", b"3", partition=0)])
    assert backend.fetch(out, 0, 0) == [] and backend.fetch(out, 1, 0) == []
    assert backend.offsets(out, 1) == (0, 0)
    assert backend.committed("app", [(src, 0)]) == {}
    txn.commit()
    values = sorted(r.value for p in range(2) for r in backend.fetch(out, p, 0))
    assert values == [b"1", b"2", b"3"]
    assert backend.committed("app", [(src, 0)]) == {(src, 0): 42}
    with pytest.raises(BackendError, match="committed"):
        txn.produce([rec(out, b"late", b"x")])


def test_transaction_abort_leaves_nothing(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    txn = backend.transaction()
    txn.produce([rec(t, b"k", b"v")])
    txn.commit_offsets("app", {(t, 0): 1})
    txn.abort()
    assert backend.fetch(t, 0, 0) == [] and backend.offsets(t, 0) == (0, 0)
    assert backend.committed("app", [(t, 0)]) == {}
    backend.produce([rec(t, b"k", b"after")])
    assert [r.offset for r in backend.fetch(t, 0, 0)] == [0]


def test_transaction_as_context_manager(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    with backend.transaction() as txn:
        txn.produce([rec(t, b"k", b"kept")])
    with pytest.raises(RuntimeError), backend.transaction() as txn:
        txn.produce([rec(t, b"k", b"dropped")])
        raise RuntimeError("boom")
    assert [r.value for r in backend.fetch(t, 0, 0)] == [b"kept"]


def test_a_failing_transaction_commits_nothing(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t)
    txn = backend.transaction()
    txn.produce([rec(t, b"k", b"v")])
    txn.commit_offsets("app", {(t, 0): 1})
    txn.produce([rec(topic("missing"), b"k", b"v")])
    with pytest.raises(UnknownTopicError):
        txn.commit()
    assert backend.fetch(t, 0, 0) == [] and backend.committed("app", [(t, 0)]) == {}
    txn.abort()  # harmless after a failed commit


# ---- retention and compaction ----------------------------------------------------------------
@pytest.mark.maintain
def test_retention_deletes_old_records_and_advances_the_beginning(
    backend: Backend, topic: Topic
) -> None:
    t, forever = topic("short"), topic("forever")
    backend.create_topic(t, partitions=2, config={"retention.ms": "1000"})
    backend.create_topic(forever)
    backend.produce(
        [rec(t, b"k", str(ts).encode(), ts, partition=0) for ts in (1000, 2000, 3000, 4000)]
    )
    backend.produce([rec(t, b"k", b"old", 10, partition=1)])
    backend.produce([rec(forever, b"k", b"v", 1)])
    backend.maintain(now_ms=4500)
    assert backend.offsets(t, 0) == (3, 4)
    assert [(r.offset, r.value) for r in backend.fetch(t, 0, 0)] == [(3, b"4000")]
    assert backend.offsets(t, 1) == (1, 1) and backend.fetch(t, 1, 0) == []
    assert backend.offsets(forever, 0) == (0, 1)
    assert backend.produce([rec(t, b"k", b"new", 5000, partition=0)]) == [(0, 4)]


@pytest.mark.maintain
def test_compaction_keeps_the_latest_record_per_key(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, config={"cleanup.policy": "compact", "delete.retention.ms": "1000"})
    sent = [
        (b"k1", b"a"),
        (b"k2", b"a"),
        (b"k1", b"b"),
        (b"k3", b"a"),
        (b"k2", None),
        (b"k1", b"c"),
    ]
    backend.produce([rec(t, k, v, 100 + i) for i, (k, v) in enumerate(sent)])
    backend.maintain(now_ms=200)  # the tombstone is younger than delete.retention.ms
    got = [(r.offset, r.key, r.value) for r in backend.fetch(t, 0, 0)]
    assert got == [(3, b"k3", b"a"), (4, b"k2", None), (5, b"k1", b"c")]
    assert backend.offsets(t, 0) == (0, 6)
    assert [r.offset for r in backend.fetch(t, 0, 4)] == [4, 5]
    assert [r.offset for r in backend.fetch(t, 0, 1, max_records=1)] == [3]
    backend.maintain(now_ms=5000)  # now the tombstone goes too
    assert [(r.offset, r.key) for r in backend.fetch(t, 0, 0)] == [(3, b"k3"), (5, b"k1")]
    assert backend.produce([rec(t, b"k3", b"d", 6000)]) == [(0, 6)]
    backend.maintain(now_ms=7000)
    assert [(r.offset, r.value) for r in backend.fetch(t, 0, 0)] == [(5, b"c"), (6, b"d")]


def test_compacted_topics_need_keys(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, config={"cleanup.policy": "compact"})
    with pytest.raises(BackendError, match=f"{t}.*key"):
        backend.produce([rec(t, None, b"v")])


@pytest.mark.maintain
def test_compact_and_delete_apply_both(backend: Backend, topic: Topic) -> None:
    t = topic()
    backend.create_topic(t, config={"cleanup.policy": "compact,delete", "retention.ms": "100"})
    backend.produce([rec(t, b"a", b"1", 10), rec(t, b"b", b"1", 500), rec(t, b"b", b"2", 600)])
    backend.maintain(now_ms=650)
    assert [(r.offset, r.value) for r in backend.fetch(t, 0, 0)] == [(2, b"2")]
    assert backend.offsets(t, 0) == (2, 3)


def test_delete_records_moves_the_log_start(backend: Backend, topic) -> None:
    name = topic("purged")
    backend.create_topic(name)
    backend.produce([ProducerRecord(name, b"k", str(i).encode(), i) for i in range(5)])
    backend.delete_records(name, 0, 3)
    assert backend.offsets(name, 0) == (3, 5)
    assert [r.value for r in backend.fetch(name, 0, 0)] == [b"3", b"4"]
    backend.delete_records(name, 0, 99)  # past the end: everything, the start stops at the end
    assert backend.offsets(name, 0) == (5, 5)
