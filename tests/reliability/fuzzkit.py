"""Shared pieces of the reliability fuzzers: hypothesis strategies for hostile values, the field
names the server reads (collected from its source), and what the running app handles."""

from __future__ import annotations

import inspect
import math
import os
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import HTTP_STATUS

ROOT = Path(__file__).resolve().parents[2]
KNOWN_CODES = frozenset(HTTP_STATUS) - {"internal"}
"""Every error code a clean refusal may carry (``internal`` means a crash)."""


def examples(default: int) -> int:
    """How many hypothesis examples: ``METAHALL_FUZZ_EXAMPLES`` scales them for ``make chaos``."""
    raw = os.environ.get("METAHALL_FUZZ_EXAMPLES", "")
    return max(default, int(raw)) if raw.isdigit() else default


def collect(strategy: Any, n: int) -> list[Any]:
    """``n`` values drawn by hypothesis (no shrinking needed: the server's answer is checked)."""
    out: list[Any] = []

    @settings(max_examples=n, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def gather(value: Any) -> None:
        out.append(value)

    gather()
    return out[:n]


def field_names() -> list[str]:
    """Every ``.get("name")`` / ``["name"]`` key read anywhere in server/ and rooms/: the payload
    fields handlers look at, so generated mappings reach past the first ``require_mapping``."""
    names: set[str] = set()
    pat = re.compile(r"""(?:\.get\(|\[)\s*["']([a-z][a-z0-9_]{0,30})["']""")
    for folder in ("server", "rooms", "moderation"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pat.findall(path.read_text(encoding="utf-8")))
    return sorted(names)


def room_events(kinds: dict[str, type]) -> dict[str, str]:
    """Events a room kind answers itself (its ``on_message``): event → kind. Read from the
    source so a new room event is fuzzed without editing this file."""
    found: dict[str, str] = {}
    for kind, cls in kinds.items():
        hook = cls.__dict__.get("on_message")
        if hook is None:
            for base in cls.__mro__[1:]:
                if base.__name__ == "Room":
                    break
                hook = base.__dict__.get("on_message")
                if hook is not None:
                    break
        if hook is None:
            continue
        src = inspect.getsource(hook)
        for name in re.findall(r"""event\s*==\s*["']([\w.]+)["']""", src):
            found[name] = kind
        for group in re.findall(r"""event\s+in\s+[(\[{]([^)\]}]*)""", src):
            for name in re.findall(r"""["']([\w.]+)["']""", group):
                found[name] = kind
    return found


# -- hostile values --------------------------------------------------------------------------
EDGE_TEXT = [
    "", " ", "\x00", "a\x00b", "\u200b\u200c\u200d\ufeff", "\u202eevil\u202c.exe",
    "\u2066rtl\u2069", "e" + "\u0301" * 300, "👩‍👩‍👧‍👦" * 40, "\U0001f600\U0010ffff", "ＡＢＣ",
    "𝕳𝖊𝖑𝖑𝖔", "\r\n\t\x1b[31m", "<script>alert(1)</script>", "../../../etc/passwd",
    "%s%n%x", "' OR 1=1 --", "9" * 400, "NaN", "-0", "1e999", "hall:main", "dm:", "booth:",
    "null", "中文" * 100,
]
EDGE_NUMBERS: list[Any] = [0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1,
                           math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, True, False]

texts = st.sampled_from(EDGE_TEXT) | st.text(max_size=120)
numbers = (st.sampled_from(EDGE_NUMBERS) | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=True, allow_infinity=True))
leaves = st.none() | st.booleans() | numbers | texts | st.binary(max_size=64)


def values(ids: list[str], keys: list[str]) -> Any:
    """Arbitrary msgpack-encodable values with known ids and field names mixed in."""
    leaf = leaves | st.sampled_from(ids)
    key = st.sampled_from(keys) | texts | st.integers(-5, 5)
    return st.recursive(
        leaf,
        lambda kids: st.lists(kids, max_size=6) | st.dictionaries(key, kids, max_size=6),
        max_leaves=24)


def payloads(ids: list[str], keys: list[str]) -> Any:
    """Mostly mappings of the fields the server reads (that is where validation lives)."""
    v = values(ids, keys)
    return (st.dictionaries(st.sampled_from(keys), v | st.sampled_from(ids), max_size=8)
            | st.dictionaries(st.sampled_from(keys), leaves, min_size=1, max_size=4) | v)


def deep(depth: int, leaf: Any = 1) -> Any:
    out: Any = leaf
    for i in range(depth):
        out = [out] if i % 2 else {"x": out}
    return out


def fixed_payloads(keys: list[str]) -> list[Any]:
    """Hand-picked extremes sent to every event (each under the 64 KiB frame limit)."""
    every = dict.fromkeys(keys[:200], "\u202e\x00👩‍👩‍👧‍👦")
    return [
        None, [], {}, "x", 0, math.nan, b"\x00" * 512, [None] * 4000,
        {"room": "x" * 60_000}, {"text": "汉" * 20_000}, "y" * 60_000,
        deep(300), {"data": deep(200)}, every, dict.fromkeys(keys[:200], 2**64 - 1),
        dict.fromkeys(keys[:200], math.inf), dict.fromkeys(keys[:200], [{}]),
        {i: i for i in range(-50, 50)}, {b"bin": b"key"},
    ]
