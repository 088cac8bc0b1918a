"""Metric math, kept free of I/O so it can be tested on synthetic scenarios.

* :func:`percentile` is the nearest-rank percentile (a value that was observed).
* :func:`true_neighbours` picks an observer's true area of interest: the ``k``
  nearest others within ``radius`` metres (the server's default AOI: 64 within 30 m).
* :func:`score_view` scores one observer at one instant against that truth:
  for every true neighbour the age of the newest position held
  (``now - send time of that position``), whether it was heard from in the last
  ``window_ms`` (coverage), and the latency of that newest update
  (``receive time - send time``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "Held",
    "SampleSet",
    "ViewScore",
    "parse_prometheus",
    "percentile",
    "score_view",
    "summarize",
    "true_neighbours",
]

Held = tuple[float, float, float]
"""What an observer holds for one entity: (x metres, z metres, receive time ms)."""


def percentile(values: Sequence[float] | npt.NDArray[np.floating], q: float) -> float | None:
    """Nearest-rank ``q``-th percentile (0 < q <= 100); None for no values."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return None
    a = np.sort(a)
    rank = max(math.ceil(q / 100.0 * a.size), 1)
    return float(a[rank - 1])


def summarize(values: Sequence[float] | npt.NDArray[np.floating]) -> dict[str, float | None]:
    """``{"n", "p50", "p95", "p99", "max"}`` of a sample (values rounded to 0.1)."""
    a = np.asarray(values, dtype=np.float64)
    out: dict[str, float | None] = {"n": float(a.size)}
    for q in (50, 95, 99):
        v = percentile(a, q)
        out[f"p{q}"] = None if v is None else round(v, 1)
    out["max"] = None if a.size == 0 else round(float(a.max()), 1)
    return out


def true_neighbours(
    me: tuple[float, float],
    others_xz: npt.NDArray[np.float64],
    radius: float,
    k: int,
) -> npt.NDArray[np.intp]:
    """Row indices into ``others_xz`` (shape (n, 2)) of the ``k`` nearest within ``radius``."""
    if others_xz.shape[0] == 0:
        return np.empty(0, dtype=np.intp)
    d2 = (others_xz[:, 0] - me[0]) ** 2 + (others_xz[:, 1] - me[1]) ** 2
    inside = np.flatnonzero(d2 <= radius * radius)
    if inside.size > k:
        inside = inside[np.argpartition(d2[inside], k - 1)[:k]]
    return inside


@dataclass(slots=True)
class ViewScore:
    """One observer scored at one instant."""

    total: int = 0
    """True neighbours."""
    heard: int = 0
    """True neighbours with an update received within the window."""
    ages_ms: list[float] = field(default_factory=list)
    """Age of the newest position held, per true neighbour that was ever heard from."""
    latencies_ms: list[float] = field(default_factory=list)
    """Send-to-receive time of that newest update, if it arrived within the window."""
    unmatched: int = 0
    """Held positions that do not lie on the neighbour's walked path."""


def score_view(
    now_ms: float,
    neighbours: Iterable[int],
    held: Mapping[int, Held],
    send_time_of: Callable[[int, float, float, float], float | None],
    window_ms: float = 1000.0,
) -> ViewScore:
    """Score an observer's view at ``now_ms``.

    ``neighbours`` are ids of its true neighbours, ``held`` maps an id to the newest
    update received for it, and ``send_time_of(id, x, z, received_ms)`` returns when
    that position was sent (None if it cannot be matched).
    """
    s = ViewScore()
    for nid in neighbours:
        s.total += 1
        h = held.get(nid)
        if h is None:
            continue
        x, z, recv_ms = h
        fresh = now_ms - recv_ms <= window_ms
        if fresh:
            s.heard += 1
        sent = send_time_of(nid, x, z, recv_ms)
        if sent is None:
            s.unmatched += 1
            continue
        s.ages_ms.append(now_ms - sent)
        if fresh:
            s.latencies_ms.append(recv_ms - sent)
    return s


@dataclass(slots=True)
class SampleSet:
    """Samples gathered over an interval, mergeable across processes."""

    latency_ms: list[float] = field(default_factory=list)
    age_ms: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    """Per observer-instant share of true neighbours heard from."""
    heard: int = 0
    total: int = 0
    unmatched: int = 0

    def add(self, s: ViewScore) -> None:
        self.latency_ms.extend(s.latencies_ms)
        self.age_ms.extend(s.ages_ms)
        if s.total:
            self.coverage.append(s.heard / s.total)
        self.heard += s.heard
        self.total += s.total
        self.unmatched += s.unmatched


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEnaNinf]+)$")


def parse_prometheus(text: str) -> dict[str, float]:
    """``name{labels}`` → value for every sample line of a Prometheus text exposition."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line.strip())
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out
