"""Window specs and window math, checked against Kafka Streams' semantics and messages."""

import copy
import pickle
from datetime import timedelta

import pytest

import strom.windows
from strom.windows import (
    MAX_TIMESTAMP,
    BufferConfig,
    BufferFullStrategy,
    EmitStrategy,
    JoinWindows,
    SessionWindows,
    SlidingWindows,
    Suppressed,
    TimeWindows,
    UnlimitedWindows,
    Window,
    Windowed,
)


def starts(windows: dict[int, Window]) -> list[tuple[int, int]]:
    return [(w.start, w.end) for w in windows.values()]


# -- Window / Windowed ----------------------------------------------------------------------


def test_window_basics():
    w = Window(0, 60_000)
    assert (w.start, w.end) == (0, 60_000)
    assert repr(w) == "Window(start=0, end=60000)"
    assert w == Window(0, 60_000) and w != Window(0, 60_001)
    assert hash(w) == hash(Window(0, 60_000))
    assert Window(5, 5).start == 5  # empty/instant windows are valid (sessions of one record)


def test_window_is_immutable():
    w = Window(0, 10)
    with pytest.raises(AttributeError):
        w.start = 5
    with pytest.raises(AttributeError):
        w.other = 1


def test_window_ordering():
    ws = [Window(10, 20), Window(0, 20), Window(0, 10)]
    assert sorted(ws) == [Window(0, 10), Window(0, 20), Window(10, 20)]
    assert Window(0, 10) < Window(0, 11) <= Window(0, 11)
    assert Window(1, 2) > Window(0, 100) >= Window(0, 100)


def test_window_validation():
    with pytest.raises(ValueError, match="Window startMs time cannot be negative: -1"):
        Window(-1, 10)
    with pytest.raises(ValueError, match="Window endMs time cannot be smaller than window startMs"):
        Window(10, 9)


def test_overlap_half_open_and_inclusive():
    a = Window(0, 10)
    assert a.overlap(Window(9, 20))
    assert not a.overlap(Window(10, 20))
    assert Window(10, 20).overlap(Window(0, 11))
    assert not Window(10, 20).overlap(Window(0, 10))
    assert a.overlap(Window(10, 20), inclusive_end=True)
    assert not a.overlap(Window(11, 20), inclusive_end=True)
    assert Window(5, 5).overlap(Window(5, 5), inclusive_end=True)
    assert Window(2, 3).overlap(Window(0, 10))


def test_windowed():
    w = Windowed("a", Window(0, 60_000))
    assert repr(w) == "Windowed(key='a', window=Window(start=0, end=60000))"
    assert (w.key, w.window) == ("a", Window(0, 60_000))
    assert w == Windowed("a", Window(0, 60_000))
    assert w != Windowed("b", Window(0, 60_000))
    assert w != Windowed("a", Window(0, 1))
    assert len({w, Windowed("a", Window(0, 60_000))}) == 1
    with pytest.raises(AttributeError):
        w.key = "b"
    with pytest.raises(TypeError, match="Windowed needs a Window, got tuple"):
        Windowed("a", (0, 10))


def test_copy_and_pickle():
    w = Windowed("a", Window(1, 2))
    assert copy.deepcopy(w) == w
    assert pickle.loads(pickle.dumps(w)) == w


# -- TimeWindows ----------------------------------------------------------------------------


def test_tumbling_spec():
    w = TimeWindows.of_size_with_no_grace(timedelta(minutes=1))
    assert (w.size_ms, w.advance_ms, w.grace_ms) == (60_000, 60_000, 0)
    assert (w.size(), w.grace_period_ms()) == (60_000, 0)
    assert repr(w) == "TimeWindows(size_ms=60000, advance_ms=60000, grace_ms=0)"
    g = TimeWindows.of_size_and_grace(60_000, timedelta(seconds=30))
    assert (g.size_ms, g.advance_ms, g.grace_ms) == (60_000, 60_000, 30_000)
    assert g == TimeWindows.of_size_and_grace(timedelta(minutes=1), 30_000)
    assert hash(g) == hash(TimeWindows.of_size_and_grace(60_000, 30_000))


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (0, [(0, 10)]),
        (1, [(0, 10)]),
        (9, [(0, 10)]),
        (10, [(10, 20)]),  # end exclusive: 10 belongs to the next window only
        (19, [(10, 20)]),
        (20, [(20, 30)]),
        (-1, []),
    ],
)
def test_tumbling_windows_for(timestamp, expected):
    assert starts(TimeWindows.of_size_with_no_grace(10).windows_for(timestamp)) == expected


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (0, [(0, 10)]),
        (4, [(0, 10)]),
        (5, [(0, 10), (5, 15)]),
        (9, [(0, 10), (5, 15)]),
        (10, [(5, 15), (10, 20)]),
        (14, [(5, 15), (10, 20)]),
        (15, [(10, 20), (15, 25)]),
    ],
)
def test_hopping_windows_for(timestamp, expected):
    assert starts(TimeWindows.of_size_with_no_grace(10).advance_by(5).windows_for(timestamp)) == (
        expected
    )


def test_hopping_kafka_javadoc_example():
    # size 5000, advance 3000: windows [0;5000), [3000;8000), [6000;11000) ...
    w = TimeWindows.of_size_with_no_grace(5000).advance_by(3000)
    assert starts(w.windows_for(2999)) == [(0, 5000)]
    assert starts(w.windows_for(3000)) == [(0, 5000), (3000, 8000)]
    assert starts(w.windows_for(4999)) == [(0, 5000), (3000, 8000)]
    assert starts(w.windows_for(5000)) == [(3000, 8000)]
    assert starts(w.windows_for(6000)) == [(3000, 8000), (6000, 11000)]
    assert list(w.windows_for(7999)) == [3000, 6000]


def test_hopping_many_overlaps_and_large_timestamps():
    w = TimeWindows.of_size_with_no_grace(60_000).advance_by(10_000)
    ts = 1_700_000_005_000
    got = w.windows_for(ts)
    assert list(got) == [ts - 5_000 - 50_000 + i * 10_000 for i in range(6)]
    assert all(win.start <= ts < win.end for win in got.values())
    assert len(w.windows_for(59_999)) == 6
    assert starts(w.windows_for(5_000)) == [(0, 60_000)]


def test_advance_by_keeps_size_and_grace():
    w = TimeWindows.of_size_and_grace(100, 7).advance_by(timedelta(milliseconds=25))
    assert (w.size_ms, w.advance_ms, w.grace_ms) == (100, 25, 7)


@pytest.mark.parametrize("size", [0, -1])
def test_time_windows_size_validation(size):
    with pytest.raises(ValueError) as e:
        TimeWindows.of_size_with_no_grace(size)
    assert str(e.value) == (
        f"Window size (sizeMs) must be larger than zero, but given size is: {size} ms"
    )


@pytest.mark.parametrize("advance", [0, -5, 11])
def test_time_windows_advance_validation(advance):
    with pytest.raises(ValueError) as e:
        TimeWindows.of_size_with_no_grace(10).advance_by(advance)
    assert str(e.value) == (
        "Window advancement interval should be more than zero and less than window duration "
        f"which is 10 ms, but given advancement interval is: {advance} ms"
    )


def test_time_windows_grace_validation():
    with pytest.raises(ValueError, match="Grace period must not be negative: -1 ms"):
        TimeWindows.of_size_and_grace(10, -1)


def test_durations_must_be_int_or_timedelta():
    with pytest.raises(TypeError, match=r"size must be int milliseconds or datetime\.timedelta"):
        TimeWindows.of_size_with_no_grace("10s")
    with pytest.raises(TypeError, match="afterWindowEnd must be int milliseconds"):
        SessionWindows.of_inactivity_gap_and_grace(10, None)


def test_specs_are_immutable():
    w = TimeWindows.of_size_with_no_grace(10)
    with pytest.raises(AttributeError):
        w.size_ms = 5


# -- SlidingWindows -------------------------------------------------------------------------


def test_sliding_windows():
    w = SlidingWindows.of_time_difference_with_no_grace(timedelta(seconds=5))
    assert (w.time_difference_ms, w.grace_ms, w.grace_period_ms()) == (5000, 0, 0)
    g = SlidingWindows.of_time_difference_and_grace(5000, timedelta(seconds=1))
    assert repr(g) == "SlidingWindows(time_difference_ms=5000, grace_ms=1000)"
    assert SlidingWindows.of_time_difference_with_no_grace(0).time_difference_ms == 0


def test_sliding_windows_validation():
    with pytest.raises(ValueError, match="Window time difference must not be negative: -1 ms"):
        SlidingWindows.of_time_difference_with_no_grace(-1)
    with pytest.raises(ValueError, match="Window grace period must not be negative: -1 ms"):
        SlidingWindows.of_time_difference_and_grace(10, -1)


# -- SessionWindows -------------------------------------------------------------------------


def test_session_windows():
    w = SessionWindows.of_inactivity_gap_with_no_grace(timedelta(minutes=5))
    assert (w.inactivity_gap_ms, w.grace_ms) == (300_000, 0)
    assert (w.inactivity_gap(), w.grace_period_ms()) == (300_000, 0)
    g = SessionWindows.of_inactivity_gap_and_grace(10, 2)
    assert repr(g) == "SessionWindows(inactivity_gap_ms=10, grace_ms=2)"


@pytest.mark.parametrize("gap", [0, -1])
def test_session_windows_gap_validation(gap):
    with pytest.raises(ValueError) as e:
        SessionWindows.of_inactivity_gap_with_no_grace(gap)
    assert str(e.value) == f"Gap time cannot be zero or negative, but given gap is: {gap} ms"


def test_session_windows_grace_validation():
    with pytest.raises(ValueError, match="Grace period must not be negative: -3 ms"):
        SessionWindows.of_inactivity_gap_and_grace(10, -3)


# -- JoinWindows ----------------------------------------------------------------------------


def test_join_windows():
    w = JoinWindows.of_time_difference_with_no_grace(timedelta(seconds=10))
    assert (w.before_ms, w.after_ms, w.grace_ms, w.size()) == (10_000, 10_000, 0, 20_000)
    g = JoinWindows.of_time_difference_and_grace(100, 50)
    assert repr(g) == "JoinWindows(before_ms=100, after_ms=100, grace_ms=50)"
    assert g.grace_period_ms() == 50
    assert g.before(0) == JoinWindows(0, 100, 50)
    assert g.after(timedelta(milliseconds=20)) == JoinWindows(100, 20, 50)
    assert g.after(-100).size() == 0  # negative bounds are fine while the interval is not


def test_join_windows_validation():
    with pytest.raises(ValueError) as e:
        JoinWindows.of_time_difference_with_no_grace(10).after(-11)
    assert str(e.value) == (
        "Window interval (ie, beforeMs+afterMs) must not be negative: before=10 ms, after=-11 ms"
    )
    with pytest.raises(ValueError, match="Window interval"):
        JoinWindows.of_time_difference_with_no_grace(-1)
    with pytest.raises(ValueError, match="Grace period must not be negative: -1 ms"):
        JoinWindows.of_time_difference_and_grace(10, -1)


# -- UnlimitedWindows -----------------------------------------------------------------------


def test_unlimited_windows():
    w = UnlimitedWindows.of()
    assert w.start_ms == 0
    assert w.windows_for(0) == {0: Window(0, MAX_TIMESTAMP)}
    assert w.windows_for(-1) == {}
    later = w.start_on(100)
    assert later.windows_for(99) == {}
    assert later.windows_for(100) == {100: Window(100, MAX_TIMESTAMP)}
    assert (later.size(), later.grace_period_ms()) == (MAX_TIMESTAMP, 0)
    assert MAX_TIMESTAMP == 9_223_372_036_854_775_807


def test_unlimited_windows_validation():
    with pytest.raises(ValueError, match=r"Window start time \(startMs\) cannot be negative: -1"):
        UnlimitedWindows.of().start_on(-1)
    with pytest.raises(TypeError, match="start must be int epoch milliseconds"):
        UnlimitedWindows.of().start_on(timedelta(1))


# -- Suppressed -----------------------------------------------------------------------------


def test_buffer_config_unbounded():
    b = Suppressed.BufferConfig.unbounded()
    assert b is not Suppressed.BufferConfig.unbounded()
    assert Suppressed.BufferConfig is BufferConfig
    assert (b.record_limit, b.byte_limit) == (MAX_TIMESTAMP, MAX_TIMESTAMP)
    assert b.buffer_full_strategy is BufferFullStrategy.SHUT_DOWN
    assert b.is_strict and b.is_unbounded and b.logging_enabled
    assert b.shut_down_when_full() == b
    assert repr(b) == "BufferConfig(record_limit=None, byte_limit=None, strategy='shut_down')"
    with pytest.raises(ValueError, match=r"emit_early_when_full\(\) needs a bounded buffer"):
        b.emit_early_when_full()


def test_buffer_config_max_records_and_bytes():
    r = Suppressed.BufferConfig.max_records(100)
    assert (r.record_limit, r.byte_limit) == (100, MAX_TIMESTAMP)
    assert r.buffer_full_strategy is BufferFullStrategy.EMIT and not r.is_strict
    strict = r.shut_down_when_full()
    assert strict.is_strict and strict.record_limit == 100
    assert strict.emit_early_when_full() == r
    b = Suppressed.BufferConfig.max_bytes(1024).with_max_records(10)
    assert (b.record_limit, b.byte_limit, b.is_strict) == (10, 1024, False)
    assert repr(b) == "BufferConfig(record_limit=10, byte_limit=1024, strategy='emit')"
    assert b.with_no_bound() == Suppressed.BufferConfig.unbounded()
    assert r.with_max_bytes(5).byte_limit == 5


def test_buffer_config_logging():
    b = Suppressed.BufferConfig.unbounded().with_logging_disabled()
    assert not b.logging_enabled
    assert repr(b).endswith("strategy='shut_down', logging_enabled=False)")
    on = b.with_logging_enabled({"retention.ms": "1000"})
    assert on.logging_enabled and dict(on.logging_config) == {"retention.ms": "1000"}


def test_buffer_config_validation():
    with pytest.raises(ValueError, match="max_records must not be negative: -1"):
        Suppressed.BufferConfig.max_records(-1)
    with pytest.raises(TypeError, match="max_bytes must be an int, got str"):
        Suppressed.BufferConfig.max_bytes("1MB")


def test_until_window_closes():
    s = Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded())
    assert s.final_results and s.safe_to_drop_tombstones
    assert s.time_to_wait_ms is None and s.name is None
    assert s.buffer_config == BufferConfig.unbounded()
    named = s.with_name("final-counts")
    assert named.name == "final-counts" and s.name is None
    assert repr(named) == (
        "Suppressed.until_window_closes(BufferConfig(record_limit=None, byte_limit=None, "
        "strategy='shut_down')).with_name('final-counts')"
    )
    strict = Suppressed.BufferConfig.max_records(5).shut_down_when_full()
    assert Suppressed.until_window_closes(strict).buffer_config.record_limit == 5


def test_until_window_closes_needs_a_strict_buffer():
    with pytest.raises(ValueError, match="until_window_closes\\(\\) needs a strict buffer config"):
        Suppressed.until_window_closes(Suppressed.BufferConfig.max_records(5))
    with pytest.raises(TypeError, match="buffer_config must be a BufferConfig"):
        Suppressed.until_window_closes(None)


def test_until_time_limit():
    s = Suppressed.until_time_limit(timedelta(minutes=1), Suppressed.BufferConfig.max_bytes(10))
    assert (s.time_to_wait_ms, s.final_results, s.safe_to_drop_tombstones) == (60_000, False, False)
    assert repr(s) == (
        "Suppressed.until_time_limit(60000, BufferConfig(record_limit=None, byte_limit=10, "
        "strategy='emit'))"
    )
    assert Suppressed.until_time_limit(0, BufferConfig.unbounded()).time_to_wait_ms == 0
    with pytest.raises(ValueError, match="must not be negative: -1 ms"):
        Suppressed.until_time_limit(-1, BufferConfig.unbounded())
    with pytest.raises(TypeError, match="buffer_config must be a BufferConfig"):
        Suppressed.until_time_limit(10, "unbounded")
    with pytest.raises(ValueError, match="name must be a non-empty str"):
        s.with_name("")


def test_suppressed_equality():
    a = Suppressed.until_window_closes(BufferConfig.unbounded())
    assert a == Suppressed.until_window_closes(BufferConfig.unbounded())
    assert a != a.with_name("x")
    assert a != Suppressed.until_time_limit(0, BufferConfig.unbounded())


# -- EmitStrategy ---------------------------------------------------------------------------


def test_emit_strategy():
    close, update = EmitStrategy.on_window_close(), EmitStrategy.on_window_update()
    assert close.type is EmitStrategy.StrategyType.ON_WINDOW_CLOSE
    assert update.type is EmitStrategy.StrategyType.ON_WINDOW_UPDATE
    assert close == EmitStrategy.on_window_close() and close != update
    assert (repr(close), repr(update)) == (
        "EmitStrategy.on_window_close()",
        "EmitStrategy.on_window_update()",
    )


def test_public_api_is_sorted_and_complete():
    assert strom.windows.__all__ == sorted(
        strom.windows.__all__, key=lambda n: (not n.isupper(), n)
    )
    for name in strom.windows.__all__:
        assert getattr(strom.windows, name) is not None
