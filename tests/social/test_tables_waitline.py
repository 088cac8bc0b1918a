"""Tables (private rooms inside a space) and the waiting line of a full space."""

from __future__ import annotations

import pytest

from rooms.social.errors import NotHost, TableFull, TableLocked, TableUnknown, TooFar
from rooms.social.tables import Tables, TableSpec
from rooms.social.waitline import WaitLine

SPECS = (TableSpec("A", {"zh-CN": "A 桌", "en": "Table A"}, 0.0, 0.0, seats=3),
         TableSpec("B", {"zh-CN": "B 桌", "en": "Table B"}, 20.0, 0.0))


def test_sit_down_near_a_table_and_move_between_tables() -> None:
    t = Tables(SPECS)
    assert t.join(1, "A", 1.0, 1.0) == ("A", None)
    assert t.zone_of(1) == "A" and t.members["A"] == [1]
    assert t.join(1, "A", 1.0, 1.0) == ("A", None)  # already there: nothing changes
    assert t.join(1, "B", 19.0, 0.0) == ("B", "A")
    assert t.zone_of(1) == "B" and t.members["A"] == []


def test_too_far_unknown_and_full_tables_are_refused() -> None:
    t = Tables(SPECS)
    with pytest.raises(TooFar) as err:
        t.join(1, "A", 5.0, 0.0)
    assert err.value.to_wire()["reason"] == "too_far"
    for bad in ("Z", None, 3):
        with pytest.raises(TableUnknown):
            t.join(1, bad, 0.0, 0.0)
    for eid in (1, 2, 3):
        t.join(eid, "A", 0.0, 0.0)
    with pytest.raises(TableFull):
        t.join(4, "A", 0.0, 0.0)


def test_the_first_at_a_table_or_a_host_may_close_it_and_an_empty_table_reopens() -> None:
    t = Tables(SPECS)
    t.join(1, "A", 0.0, 0.0)
    t.join(2, "A", 0.0, 0.0)
    with pytest.raises(NotHost):
        t.lock(2, True)
    assert t.lock(1, True) == "A"
    with pytest.raises(TableLocked):
        t.join(3, "A", 0.0, 0.0)
    t.join(3, "A", 0.0, 0.0, host=True)  # a space host sits down anyway
    assert t.lock(3, False, host=True) == "A" and not t.locked["A"]
    t.lock(1, True)
    for eid in (1, 2, 3):
        t.leave(eid)
    assert not t.locked["A"]
    with pytest.raises(TableUnknown):
        t.lock(1, True)


def test_walking_away_stands_you_up() -> None:
    t = Tables(SPECS)
    t.join(1, "A", 0.0, 0.0)
    t.join(2, "A", 0.0, 0.0)
    where = {1: (6.9, 0.0), 2: (7.1, 0.0)}
    assert t.sweep(lambda e: where[e]) == {"A"}
    assert t.members["A"] == [1] and t.zone_of(2) is None


def test_the_waiting_line_holds_a_place_for_the_first_then_passes_it_on() -> None:
    w = WaitLine(hold_s=30)
    assert w.join("s", "a") == 1 and w.join("s", "b") == 2 and w.join("s", "a") == 1
    assert w.waiting("s") == 2
    assert w.admit("s", free=1, now_ms=0) == [("a", 30_000)]
    assert w.position("s", "a") == 0 and w.position("s", "b") == 1
    assert w.held("s", 10_000) == 1 and w.holds("s", "a", 10_000)
    # Nothing more is free while the place is held.
    assert w.admit("s", free=1, now_ms=10_000) == []
    # a lets the turn lapse: the place goes to b.
    assert w.admit("s", free=1, now_ms=30_000) == [("b", 60_000)]
    assert not w.holds("s", "a", 30_000) and w.position("s", "a") is None
    w.consume("s", "b")
    assert w.held("s", 30_001) == 0 and list(w.rooms()) == []


def test_leaving_the_line() -> None:
    w = WaitLine()
    w.join("s", "a")
    w.join("s", "b")
    assert w.leave("s", "a") and not w.leave("s", "a")
    assert w.position("s", "b") == 1 and w.line("s") == ["b"]
