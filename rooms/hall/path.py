"""Walking paths on the hall floor: a shortest polyline that keeps clear of the furniture.

A visibility graph over the corners of the obstacles (seating blocks, desks, counters...),
each grown by a clearance; edges between corners are precomputed once per floor plan, and a
query only links its two end points in and runs Dijkstra over ~150 nodes (well under 5 ms).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FloorPlanner", "Rect", "rects_from_features"]

Rect = tuple[float, float, float, float]
"""x0, x1, z0, z1"""
Point = tuple[float, float]
_EPS = 1e-6
PATH_CACHE = 4096
"""Paths remembered (start rounded to 10 cm): most calls start from the same few places."""
OBSTACLE_TYPES = frozenset({"seating", "desk", "counter", "wall", "plant", "booth", "stage",
                            "sign"})


def rects_from_features(features: Iterable[Mapping[str, Any]]) -> list[Rect]:
    """Axis-aligned footprints of the floor plan's features that one cannot walk through."""
    out: list[Rect] = []
    for f in features:
        if f.get("type") not in OBSTACLE_TYPES:
            continue
        x, z, w, d = float(f["x"]), float(f["z"]), float(f["w"]), float(f["d"])
        yaw = float(f.get("yaw", 0.0) or 0.0)
        if abs(math.sin(yaw)) > 0.5:  # turned by about 90°: swap the footprint
            w, d = d, w
        out.append((x - w / 2, x + w / 2, z - d / 2, z + d / 2))
    return out


class FloorPlanner:
    def __init__(self, bounds: Rect, obstacles: Iterable[Rect], clearance: float = 0.6) -> None:
        self.bounds = bounds
        self._cache: dict[tuple[float, float, float, float], list[list[float]]] = {}
        bx0, bx1, bz0, bz1 = bounds
        c = clearance
        self.rects = np.array([(x0 - c, x1 + c, z0 - c, z1 + c) for x0, x1, z0, z1 in obstacles],
                              dtype=np.float64).reshape(-1, 4)
        nodes: list[Point] = []
        m = 0.05  # corners sit just outside their grown rectangle
        for x0, x1, z0, z1 in self.rects:
            for px, pz in ((x0 - m, z0 - m), (x0 - m, z1 + m), (x1 + m, z0 - m), (x1 + m, z1 + m)):
                if bx0 < px < bx1 and bz0 < pz < bz1 and not self._inside(px, pz):
                    nodes.append((float(px), float(pz)))
        self.nodes = np.array(nodes, dtype=np.float64).reshape(-1, 2)
        n = len(nodes)
        self.adj: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        if n:
            ii, jj = np.triu_indices(n, k=1)
            ok = self._clear(self.nodes[ii], self.nodes[jj])
            dist = np.hypot(*(self.nodes[jj] - self.nodes[ii]).T)
            for i, j, dd in zip(ii[ok].tolist(), jj[ok].tolist(), dist[ok].tolist(), strict=True):
                self.adj[i].append((j, dd))
                self.adj[j].append((i, dd))

    def _inside(self, x: float, z: float) -> bool:
        r = self.rects
        return bool(np.any((r[:, 0] < x) & (x < r[:, 1]) & (r[:, 2] < z) & (z < r[:, 3])))

    def _clear(self, a: npt.NDArray[np.float64],
               b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """For each segment a[i]→b[i]: True when it crosses no obstacle's interior."""
        if len(self.rects) == 0 or len(a) == 0:
            return np.ones(len(a), dtype=bool)
        r = self.rects[None, :, :]
        p0x, p0z = a[:, 0:1], a[:, 1:2]
        dx, dz = (b[:, 0] - a[:, 0])[:, None], (b[:, 1] - a[:, 1])[:, None]
        t0 = np.zeros((len(a), len(self.rects)))
        t1 = np.ones_like(t0)
        for p, d, lo, hi in ((p0x, dx, r[..., 0], r[..., 1]), (p0z, dz, r[..., 2], r[..., 3])):
            with np.errstate(divide="ignore", invalid="ignore"):
                ta = (lo - p) / d
                tb = (hi - p) / d
            tmin = np.where(d == 0, np.where((lo < p) & (p < hi), -np.inf, np.inf),
                            np.minimum(ta, tb))
            tmax = np.where(d == 0, np.where((lo < p) & (p < hi), np.inf, -np.inf),
                            np.maximum(ta, tb))
            t0 = np.maximum(t0, tmin)
            t1 = np.minimum(t1, tmax)
        hit: npt.NDArray[np.bool_] = np.asarray(t0 < t1 - _EPS)
        return np.asarray(~hit.any(axis=1))

    def free_point(self, x: float, z: float) -> Point:
        """The point itself, or the nearest point outside every grown obstacle, within bounds."""
        bx0, bx1, bz0, bz1 = self.bounds
        x, z = min(max(x, bx0 + 0.3), bx1 - 0.3), min(max(z, bz0 + 0.3), bz1 - 0.3)
        for _ in range(4):
            hits = [r for r in self.rects if r[0] < x < r[1] and r[2] < z < r[3]]
            if not hits:
                break
            x0, x1, z0, z1 = hits[0]
            options = ((x0 - 0.05, z), (x1 + 0.05, z), (x, z0 - 0.05), (x, z1 + 0.05))
            x, z = min(options, key=lambda p: math.hypot(p[0] - x, p[1] - z))
        return (round(float(x), 2), round(float(z), 2))

    def path(self, start: Point, goal: Point) -> list[list[float]]:
        """Shortest clear polyline ``[[x, z], ...]`` from ``start`` to ``goal``."""
        key = (round(start[0], 1), round(start[1], 1), round(goal[0], 1), round(goal[1], 1))
        hit = self._cache.get(key)
        if hit is None:
            hit = self._path(start, goal)
            if len(self._cache) >= PATH_CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = hit
        return [list(p) for p in hit]

    def _path(self, start: Point, goal: Point) -> list[list[float]]:
        s, g = self.free_point(*start), self.free_point(*goal)
        sg = np.array([s], dtype=np.float64)
        gg = np.array([g], dtype=np.float64)
        if bool(self._clear(sg, gg)[0]) or len(self.nodes) == 0:
            return [list(s), list(g)]
        n = len(self.nodes)
        from_s = self._clear(np.repeat(sg, n, axis=0), self.nodes)
        to_g = self._clear(self.nodes, np.repeat(gg, n, axis=0))
        d_s = np.hypot(self.nodes[:, 0] - s[0], self.nodes[:, 1] - s[1])
        d_g = np.hypot(self.nodes[:, 0] - g[0], self.nodes[:, 1] - g[1])
        best = [math.inf] * (n + 1)
        prev = [-1] * (n + 1)
        heap: list[tuple[float, int]] = []
        for i in np.flatnonzero(from_s).tolist():
            best[i] = float(d_s[i])
            prev[i] = -2  # from start
            heapq.heappush(heap, (best[i], i))
        goal_ix = n
        to_g_list = to_g.tolist()
        while heap:
            dist, i = heapq.heappop(heap)
            if dist > best[i]:
                continue
            if i == goal_ix:
                break
            if to_g_list[i] and dist + float(d_g[i]) < best[goal_ix]:
                best[goal_ix] = dist + float(d_g[i])
                prev[goal_ix] = i
                heapq.heappush(heap, (best[goal_ix], goal_ix))
            for j, w in self.adj[i]:
                nd = dist + w
                if nd < best[j]:
                    best[j], prev[j] = nd, i
                    heapq.heappush(heap, (nd, j))
        if prev[goal_ix] == -1:
            return [list(s), list(g)]  # walled in: give the straight line rather than nothing
        out: list[list[float]] = [list(g)]
        i = prev[goal_ix]
        while i >= 0:
            x, z = self.nodes[i]
            out.append([round(float(x), 2), round(float(z), 2)])
            i = prev[i]
        out.append(list(s))
        out.reverse()
        return out
