"""The same contract for both inner bytes stores (in-memory and RocksDB)."""

from __future__ import annotations

import pytest

from strom.core.errors import StoreError

KEYS = [b"\xff", b"a", b"\x00", b"ab", b"b", b"\x7f", b"\x80", b""]


def fill(store, keys=KEYS):
    for k in keys:
        store.put(k, b"v" + k)


class TestInnerStore:
    def test_get_missing_is_none(self, bytes_store):
        assert bytes_store.get(b"nope") is None

    def test_put_get_overwrite(self, bytes_store):
        bytes_store.put(b"k", b"1")
        assert bytes_store.get(b"k") == b"1"
        bytes_store.put(b"k", b"2")
        assert bytes_store.get(b"k") == b"2"

    def test_empty_value_is_a_value(self, bytes_store):
        bytes_store.put(b"k", b"")
        assert bytes_store.get(b"k") == b""
        assert list(bytes_store.all()) == [(b"k", b"")]

    def test_put_none_deletes(self, bytes_store):
        bytes_store.put(b"k", b"1")
        bytes_store.put(b"k", None)
        assert bytes_store.get(b"k") is None
        assert list(bytes_store.all()) == []

    def test_put_if_absent(self, bytes_store):
        assert bytes_store.put_if_absent(b"k", b"1") is None
        assert bytes_store.put_if_absent(b"k", b"2") == b"1"
        assert bytes_store.get(b"k") == b"1"

    def test_put_all_with_deletes(self, bytes_store):
        bytes_store.put(b"x", b"0")
        bytes_store.put_all([(b"a", b"1"), (b"b", b"2"), (b"x", None)])
        assert list(bytes_store.all()) == [(b"a", b"1"), (b"b", b"2")]

    def test_delete_returns_old(self, bytes_store):
        bytes_store.put(b"k", b"1")
        assert bytes_store.delete(b"k") == b"1"
        assert bytes_store.delete(b"k") is None
        assert bytes_store.get(b"k") is None

    def test_all_in_unsigned_byte_order(self, bytes_store):
        fill(bytes_store)
        assert [k for k, _ in bytes_store.all()] == sorted(KEYS)
        assert [k for k, _ in bytes_store.all()] == [
            b"",
            b"\x00",
            b"a",
            b"ab",
            b"b",
            b"\x7f",
            b"\x80",
            b"\xff",
        ]
        assert [k for k, _ in bytes_store.reverse_all()] == sorted(KEYS, reverse=True)
        assert all(v == b"v" + k for k, v in bytes_store.all())

    def test_range_inclusive_both_ends(self, bytes_store):
        fill(bytes_store)
        # unsigned: 0x80 and 0xff sort after 0x7f (a signed comparator would put them first)
        assert [k for k, _ in bytes_store.range(b"b", b"\x80")] == [b"b", b"\x7f", b"\x80"]
        assert [k for k, _ in bytes_store.range(b"\x00", b"ab")] == [b"\x00", b"a", b"ab"]
        assert [k for k, _ in bytes_store.reverse_range(b"b", b"\xff")] == [
            b"\xff",
            b"\x80",
            b"\x7f",
            b"b",
        ]

    def test_range_bounds_between_keys(self, bytes_store):
        fill(bytes_store)
        assert [k for k, _ in bytes_store.range(b"aa", b"az")] == [b"ab"]
        assert [k for k, _ in bytes_store.reverse_range(b"aa", b"az")] == [b"ab"]
        assert list(bytes_store.range(b"c", b"d")) == []

    def test_open_bounds(self, bytes_store):
        fill(bytes_store)
        assert [k for k, _ in bytes_store.range(None, b"a")] == [b"", b"\x00", b"a"]
        assert [k for k, _ in bytes_store.range(b"\x7f", None)] == [b"\x7f", b"\x80", b"\xff"]
        assert [k for k, _ in bytes_store.reverse_range(None, b"\x00")] == [b"\x00", b""]
        assert [k for k, _ in bytes_store.reverse_range(b"\x80", None)] == [b"\xff", b"\x80"]

    def test_inverted_range_is_empty(self, bytes_store):
        fill(bytes_store)
        assert list(bytes_store.range(b"b", b"a")) == []
        assert list(bytes_store.reverse_range(b"b", b"a")) == []

    def test_prefix_scan(self, bytes_store):
        fill(bytes_store, [b"a", b"ab", b"abc", b"ac", b"b", b"a\xff", b"\xff"])
        assert [k for k, _ in bytes_store.prefix_scan(b"ab")] == [b"ab", b"abc"]
        assert [k for k, _ in bytes_store.prefix_scan(b"a")] == [
            b"a",
            b"ab",
            b"abc",
            b"ac",
            b"a\xff",
        ]
        assert list(bytes_store.prefix_scan(b"z")) == []
        assert [k for k, _ in bytes_store.prefix_scan(b"\xff")] == [b"\xff"]

    def test_approximate_num_entries(self, bytes_store, inner_kind):
        assert bytes_store.approximate_num_entries() == 0
        fill(bytes_store)
        if inner_kind == "memory":
            assert bytes_store.approximate_num_entries() == len(KEYS)
        else:
            assert bytes_store.approximate_num_entries() > 0

    def test_iterator_is_safe_under_modification(self, bytes_store):
        fill(bytes_store, [b"a", b"b", b"c", b"d"])
        it = bytes_store.all()
        assert next(it) == (b"a", b"va")
        bytes_store.put(b"bb", b"new")
        bytes_store.delete(b"c")
        bytes_store.put(b"e", b"new")
        rest = [k for k, _ in it]
        # keys written after the iterator was made are not seen; the rest is consistent
        assert b"bb" not in rest and b"e" not in rest
        assert rest[0] == b"b" and rest[-1] == b"d"
        assert [k for k, _ in bytes_store.all()] == [b"a", b"b", b"bb", b"d", b"e"]

    def test_delete_everything_while_iterating(self, bytes_store):
        fill(bytes_store, [b"a", b"b", b"c"])
        seen = []
        for k, _ in bytes_store.all():
            seen.append(k)
            bytes_store.delete(k)
        assert seen == [b"a", b"b", b"c"]
        assert list(bytes_store.all()) == []

    def test_interleaved_puts_and_deletes_keep_order(self, bytes_store):
        import random

        rnd = random.Random(7)
        model: dict[bytes, bytes] = {}
        for i in range(2000):
            k = bytes([rnd.randrange(256) for _ in range(rnd.randrange(1, 3))])
            if rnd.random() < 0.3:
                bytes_store.delete(k)
                model.pop(k, None)
            else:
                bytes_store.put(k, b"%d" % i)
                model[k] = b"%d" % i
            if i % 97 == 0:
                assert list(bytes_store.all()) == sorted(model.items())
        assert list(bytes_store.all()) == sorted(model.items())
        assert list(bytes_store.reverse_range(b"\x10", b"\x90")) == sorted(
            ((k, v) for k, v in model.items() if b"\x10" <= k <= b"\x90"), reverse=True
        )

    def test_lifecycle(self, bytes_store, inner_kind):
        assert bytes_store.is_open
        assert bytes_store.persistent is (inner_kind == "rocksdb")
        bytes_store.flush()
        bytes_store.close()
        assert not bytes_store.is_open
        with pytest.raises(StoreError, match="not open"):
            bytes_store.get(b"k")
        with pytest.raises(StoreError, match="not open"):
            bytes_store.put(b"k", b"v")
        with pytest.raises(StoreError, match="not open"):
            bytes_store.all()
        bytes_store.close()  # idempotent

    def test_restore_all(self, bytes_store):
        bytes_store.put(b"gone", b"x")
        bytes_store.restore_all([(b"a", b"1"), (b"gone", None), (b"b", b"2")])
        assert list(bytes_store.all()) == [(b"a", b"1"), (b"b", b"2")]
