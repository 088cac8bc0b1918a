"""Area of interest: the K nearest others within a radius, for every avatar at once.

Everything works on integer centimetres (the quantised state a client sees),
so distances are exact and ties are decided by a caller-given rank (the eid
order): observer ``o`` sees ``c != o`` iff ``d²(o, c) <= R²`` in the XZ plane
and fewer than K others are closer by ``(d², rank)``.

The cost is O(observers × candidates), where the candidates are bounded by a
per-observer *search radius* rather than R: a summed-area table of per-cell
counts finds, for each observer, the smallest square of cells around it that
holds K+1 avatars; the farthest corner of that square bounds the distance of
its K-th nearest. Candidates are then read row by row (each row of cells is
one contiguous run of the cell-sorted order) only inside that disc. Two grids
are used: a fixed coarse one (radius / grid_divisions) over the bounds, and,
when some observers stand in a crowd (search radius under 4 cells), finer ones
built for this tick over just their bounding box, with cells of about 1/8 of
their median search radius (up to three levels). A crowd of any density so costs ~2-3·K pairs per
observer instead of N. Only avatars on exactly the same spot (more than K of
them) still cost N per observer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .models import Bounds

__all__ = ["Grid", "k_nearest"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Grid:
    """Uniform XZ grid, in integer centimetres; avatars outside it are not indexed."""

    ox: int
    """x of the first cell's low edge."""
    oz: int
    """z of the first cell's low edge."""
    cell: int
    """Cell edge."""
    gx: int
    """Cells along x."""
    gz: int
    """Cells along z."""

    @classmethod
    def around(cls, x0: int, x1: int, z0: int, z1: int, cell: int, max_cells: int) -> Grid:
        """Grid covering ``[x0, x1] × [z0, z1]``, cells coarser than ``cell`` if > max_cells."""
        wx, wz = x1 - x0 + 1, z1 - z0 + 1
        cell = max(1, cell, math.ceil(math.sqrt(wx * wz / max_cells)))
        while -(-wx // cell) * -(-wz // cell) > max_cells:
            cell += 1
        return cls(x0, z0, cell, -(-wx // cell), -(-wz // cell))

    @classmethod
    def over(cls, bounds: Bounds, radius: float, divisions: int) -> Grid:
        """The coarse grid of a world: cells of ``radius / divisions`` over the bounds."""
        x0, z0 = round(bounds.min_x * 100), round(bounds.min_z * 100)
        x1, z1 = round(bounds.max_x * 100), round(bounds.max_z * 100)
        return cls.around(x0, x1, z0, z1, int(radius * 100 / divisions), _COARSE_CELLS)


_COARSE_CELLS = 1 << 16
_FINE_CELLS = 1 << 18
_MIN_FINE_CELL = 4  # cm


class _Index(NamedTuple):
    """Avatars bucketed into one grid's cells."""

    g: Grid
    cx: I64
    cz: I64
    order: I64
    """Avatar indices sorted by cell (row-major), so a row of cells is one run."""
    start: I64
    """``order[start[c]:start[c + 1]]`` are the avatars in cell ``c``."""
    counts: I64


def _index(g: Grid, qx: I64, qz: I64) -> _Index:
    cx, cz = (qx - g.ox) // g.cell, (qz - g.oz) // g.cell
    cell = cz * g.gx + cx
    outside = (cx < 0) | (cx >= g.gx) | (cz < 0) | (cz >= g.gz)
    if outside.any():
        cell[outside] = g.gx * g.gz  # sorts last, beyond every run
    counts = np.bincount(cell, minlength=g.gx * g.gz + 1)[: g.gx * g.gz]
    start = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=start[1:])
    return _Index(g, cx, cz, np.argsort(cell, kind="stable"), start, counts)


def _tighten(ix: _Index, qx: I64, qz: I64, who: I64, thr: I64, need: int) -> None:
    """Lower ``thr[who]`` to a squared distance within which ``need`` avatars surely lie.

    Binary-searches each observer's smallest square window of cells around its
    own cell holding ``need`` indexed avatars; they are all within the distance
    of the window's farthest corner. (``who`` must be inside the grid.)
    """
    g, s = ix.g, ix.g.cell
    sat = np.zeros((g.gz + 1, g.gx + 1), np.int64)
    sat[1:, 1:] = ix.counts.reshape(g.gz, g.gx).cumsum(0).cumsum(1)
    flat, w = sat.ravel(), g.gx + 1
    cx, cz = ix.cx[who], ix.cz[who]

    def window(v: I64) -> tuple[I64, I64, I64, I64, I64]:
        x0, x1 = np.maximum(cx - v, 0), np.minimum(cx + v, g.gx - 1) + 1
        z0, z1 = np.maximum(cz - v, 0), np.minimum(cz + v, g.gz - 1) + 1
        cnt = flat[z1 * w + x1] - flat[z0 * w + x1] - flat[z1 * w + x0] + flat[z0 * w + x0]
        return cnt, x0, x1, z0, z1

    # Past half-width `top` every window's corner is beyond the current bound (one
    # side of each axis is unclipped, or the window spans that axis entirely).
    top = min(math.isqrt(int(thr[who].max())) // s + 1, max(g.gx, g.gz))
    lo, hi = np.zeros(who.shape[0], np.int64), np.full(who.shape[0], top)
    found = window(hi)[0] >= need
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        ok = window(mid)[0] >= need
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid + 1, lo)
    _, x0, x1, z0, z1 = window(hi)
    q, r = qx[who], qz[who]
    # farthest integer point of the box [x0, x1) × [z0, z1) cells from the observer
    dx = np.maximum(q - (g.ox + x0 * s), g.ox + x1 * s - 1 - q)
    dz = np.maximum(r - (g.oz + z0 * s), g.oz + z1 * s - 1 - r)
    thr[who] = np.where(found, np.minimum(dx * dx + dz * dz, thr[who]), thr[who])


def _fine_grid(coarser: Grid, qx: I64, qz: I64, who: I64, thr: I64) -> Grid | None:
    """A grid for crowded observers ``who``: their discs' box, cells ~1/8 of their reach.

    None unless its cells are at most half as wide as ``coarser``'s.
    """
    reach = np.sqrt(thr[who]).astype(np.int64) + 1
    cell = max(_MIN_FINE_CELL, int(np.median(reach)) // 8)
    x_end, z_end = coarser.ox + coarser.gx * coarser.cell, coarser.oz + coarser.gz * coarser.cell
    x0, x1 = max(int((qx[who] - reach).min()), coarser.ox), min(int((qx[who] + reach).max()), x_end)
    z0, z1 = max(int((qz[who] - reach).min()), coarser.oz), min(int((qz[who] + reach).max()), z_end)
    fine = Grid.around(x0, x1, z0, z1, cell, _FINE_CELLS)
    return fine if fine.cell * 2 <= coarser.cell else None


def _candidates(ixs: Sequence[_Index], level: I64, qx: I64, qz: I64, thr: I64) -> tuple[I64, I64]:
    """(observer, candidate) pairs from the cells meeting each observer's disc, by observer.

    Observer ``o`` reads grid ``ixs[level[o]]``.
    """
    n = qx.shape[0]
    s_l, gx_l, gz_l, ox_l, oz_l = (
        np.array([getattr(ix.g, f) for ix in ixs]) for f in ("cell", "gx", "gz", "ox", "oz")
    )
    base_l = np.cumsum([0] + [ix.start.shape[0] for ix in ixs[:-1]])
    if len(ixs) == 1:
        order, start = ixs[0].order, ixs[0].start
    else:
        order = np.concatenate([ix.order for ix in ixs])
        start = np.concatenate([ix.start + i * n for i, ix in enumerate(ixs)])
    s, gz, oz = s_l[level], gz_l[level], oz_l[level]
    reach = np.sqrt(thr) + 1.0  # +1 cm: the window may only be too wide, never too narrow
    z0 = np.clip(np.floor((qz - reach - oz) / s), 0, gz - 1).astype(np.int64)
    z1 = np.clip(np.floor((qz + reach - oz) / s), 0, gz - 1).astype(np.int64)
    rows = z1 - z0 + 1
    ro = np.repeat(np.arange(n), rows)
    rz = np.repeat(z0 - (np.cumsum(rows) - rows), rows) + np.arange(ro.shape[0])
    lvl = level[ro]
    sr, gxr = s_l[lvl], gx_l[lvl]
    lo = oz_l[lvl] + rz * sr
    qzr = qz[ro]
    gap = np.maximum(np.maximum(lo - qzr, qzr - (lo + sr - 1)), 0)
    half = np.sqrt(np.maximum(thr[ro] - gap * gap, 0)) + 1.0
    qxr = qx[ro] - ox_l[lvl]
    xa = np.clip(np.floor((qxr - half) / sr), 0, gxr - 1).astype(np.int64)
    xb = np.clip(np.floor((qxr + half) / sr), 0, gxr - 1).astype(np.int64)
    row0 = base_l[lvl] + rz * gxr
    a = start[row0 + xa]
    runs = start[row0 + xb + 1] - a
    pobs = np.repeat(ro, runs)
    first = np.repeat(a - (np.cumsum(runs) - runs), runs)
    return pobs, order[first + np.arange(pobs.shape[0])]


def _pairs(qx: I64, qz: I64, grid: Grid, r2: int, need: int) -> tuple[I64, I64, I64]:
    """Candidate pairs grouped by observer, and each observer's squared search radius."""
    n = qx.shape[0]
    ixs = [_index(grid, qx, qz)]
    thr = np.full(n, r2, np.int64)
    _tighten(ixs[0], qx, qz, np.arange(n), thr, need)
    level = np.zeros(n, np.int64)
    while len(ixs) < 4:  # ever finer grids while the cells are what bounds the radius
        crowded = np.flatnonzero(thr < (4 * ixs[-1].g.cell) ** 2)
        fine = _fine_grid(ixs[-1].g, qx, qz, crowded, thr) if crowded.shape[0] else None
        if fine is None:
            break
        ixs.append(_index(fine, qx, qz))
        _tighten(ixs[-1], qx, qz, crowded, thr, need)
        # read the finest grid that needs at most ~33 rows of cells
        level[crowded[thr[crowded] <= (16 * fine.cell) ** 2]] = len(ixs) - 1
    return (*_candidates(ixs, level, qx, qz, thr), thr)


def _kth_keys(key: I64, group: I64, pos: I64, size: I64, k: int) -> I64:
    """Per group, the k-th smallest key (the max int64 where the group has at most k).

    Groups over k are padded into matrices of equal row width (sizes rounded up
    by at most 1/8) that share one buffer; each matrix is row-partitioned once.
    The other groups' keys are scattered into a scratch tail nobody reads, which
    is cheaper than filtering them out first.
    """
    big = np.iinfo(np.int64).max
    over = size > k
    step = np.maximum(8, np.left_shift(1, np.log2(np.maximum(size, 1)).astype(np.int64) - 3))
    width = np.where(over, -(-size // step) * step, 0)
    by_width = np.argsort(width, kind="stable")
    sorted_width = width[by_width]
    offset = np.cumsum(sorted_width) - sorted_width
    total = int(sorted_width.sum())
    first = np.full(size.shape[0], total, np.int64)  # groups within k: the scratch tail
    first[by_width] = np.where(sorted_width > 0, offset, total)
    buf = np.full(total + k, big, np.int64)
    buf[first[group] + pos] = key
    kth = np.full(size.shape[0], big, np.int64)
    lead = int(np.searchsorted(sorted_width, 1))  # the zero-width groups sort first
    cuts = [lead, *(np.flatnonzero(np.diff(sorted_width[lead:])) + 1 + lead).tolist()]
    for a, b in zip(cuts, [*cuts[1:], size.shape[0]], strict=True):
        if a == b:
            continue
        w, o = int(sorted_width[a]), int(offset[a])
        mat = buf[o : o + (b - a) * w].reshape(b - a, w)
        mat.partition(k - 1, axis=1)
        kth[by_width[a:b]] = mat[:, k - 1]
    return kth


def k_nearest(qx: I64, qz: I64, rank: I64, grid: Grid, r2: int, k: int) -> tuple[I64, I64, I64]:
    """Visible pairs ``(obs, cand, d²)``, indices into ``qx``/``qz``, grouped by ``obs`` ascending.

    ``rank`` breaks distance ties (lower first) and must be a permutation of 0..n-1.
    """
    n = qx.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    pobs, cand, thr = _pairs(qx, qz, grid, r2, k + 1)
    dx, dz = qx[cand] - qx[pobs], qz[cand] - qz[pobs]
    d2 = dx * dx + dz * dz
    keep = np.flatnonzero((d2 <= thr[pobs]) & (cand != pobs))
    pobs, cand, d2 = pobs[keep], cand[keep], d2[keep]
    size = np.bincount(pobs, minlength=n)
    if not (size > k).any():
        return pobs, cand, d2
    # Keep the k best by (d², rank) of each observer.
    key = d2 * n + rank[cand]
    pos = np.arange(key.shape[0]) - np.repeat(np.cumsum(size) - size, size)
    sel = key <= _kth_keys(key, pobs, pos, size, k)[pobs]
    return pobs[sel], cand[sel], d2[sel]
