"""Snap bytes: valid msgpack for standard decoders, compact ints in the right ranges."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from avatars import AvatarWorld, Bounds, InterestConfig
from avatars.snapshot import array_header, encode_column, encode_rows

from .reference import decode_snap

int64s = st.integers(-(2**63), 2**63 - 1)


@given(
    values=st.lists(int64s, min_size=1, max_size=40)
    | st.lists(st.integers(-200, 70_000), min_size=1, max_size=40)
)
def test_encoded_columns_decode_to_the_values(values: list[int]) -> None:
    cells = encode_column(np.array(values, np.int64))
    assert cells.shape[0] == len(values)
    widest = max(len(msgpack.packb(v)) for v in values)
    assert widest <= cells.shape[1] <= 9
    for row, value in zip(cells, values, strict=True):
        assert msgpack.unpackb(row.tobytes()) == value


def test_column_widths_are_the_compact_ones() -> None:
    def width(*vals: int) -> int:
        return int(encode_column(np.array(vals, np.int64)).shape[1])

    assert width(0, 127, -32) == 1  # fixint
    assert width(0, 255) == 2 and width(0, 65535) == 3 and width(0, 65536) == 5
    assert width(-33, 127) == 2 and width(-10_000, 10_000) == 3 and width(-40_000, 1) == 5


@pytest.mark.parametrize("n", [0, 1, 15, 16, 65535, 65536])
def test_array_headers(n: int) -> None:
    assert array_header(n) == msgpack.packb([0] * n)[: len(array_header(n))]


def test_rows_are_fixed_width_msgpack_arrays() -> None:
    cols = [
        np.array(c, np.int64)
        for c in (
            [1, 300, 70_000],
            [-5000, 0, 5000],
            [0, 0, 0],
            [10, 20, 30],
            [0, 65535, 1],
            [0, 1, 255],
        )
    ]
    table = encode_rows(cols)
    assert table.itemsize == 1 + 5 + 3 + 1 + 1 + 3 + 2
    unpacker = msgpack.Unpacker()
    unpacker.feed(table.tobytes())
    assert list(unpacker) == [list(r) for r in zip(*(c.tolist() for c in cols), strict=True)]


def _busy_world(n: int = 300, seed: int = 3) -> tuple[AvatarWorld, list[bytes]]:
    rng = np.random.default_rng(seed)
    bounds = Bounds(-60.0, 40.0, 0.0, 100.0, min_y=-2.0, max_y=5.0)
    world = AvatarWorld(bounds, InterestConfig(radius=20.0, max_visible=64))
    for eid in range(n):
        x, z, yaw = rng.uniform(-60, 40), rng.uniform(0, 100), rng.uniform(-10, 10)
        world.add(eid * 37, x, 0.0, z, yaw, 0.0)
    snaps = []
    for tick in range(1, 6):
        for eid in range(n):
            x, y, z, yaw, _ = world.position(eid * 37)
            world.move(
                eid * 37,
                [
                    x + rng.normal(0, 0.3),
                    y + rng.normal(0, 0.3),
                    z + rng.normal(0, 0.3),
                    yaw + rng.normal(0, 1),
                    int(rng.integers(0, 256)),
                ],
                tick * 100.0,
            )
        snaps += [o.snap for o in world.step(tick) if o.snap is not None]
    return world, snaps


def test_snap_values_are_ints_in_their_ranges() -> None:
    _, snaps = _busy_world()
    assert snaps
    for snap in snaps:
        _, rows, _ = decode_snap(snap)
        for _eid, x, y, z, yaw, anim in rows:
            assert -6000 <= x <= 4000 and -200 <= y <= 500 and 0 <= z <= 10_000
            assert 0 <= yaw <= 65535 and 0 <= anim <= 255


def test_yaw_wraps_to_zero_just_below_two_pi() -> None:
    world = AvatarWorld(Bounds(0, 10, 0, 10), InterestConfig())
    world.add(1, 1.0, 0.0, 1.0, 0.0, 0.0)
    world.add(2, 2.0, 0.0, 1.0, 2 * math.pi - 1e-9, 0.0)
    out = {o.eid: o for o in world.step(1)}
    assert decode_snap(out[1].snap or b"")[1] == [[2, 200, 0, 100, 0, 0]]


NOTEPACK = Path(__file__).parents[2] / "webclient/node_modules/notepack.io"


@pytest.mark.skipif(
    shutil.which("node") is None or not NOTEPACK.exists(),
    reason="needs node and webclient/node_modules/notepack.io",
)
def test_notepack_decodes_snaps_like_python() -> None:
    _, snaps = _busy_world(n=120)
    script = (
        f"const n=require({json.dumps(str(NOTEPACK))});"
        "const hex=require('fs').readFileSync(0,'utf8').trim().split('\\n');"
        "console.log(JSON.stringify(hex.map(h=>n.decode(Buffer.from(h,'hex')))));"
    )
    run = subprocess.run(
        ["node", "-e", script],
        input="\n".join(s.hex() for s in snaps),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(run.stdout) == [list(decode_snap(s)) for s in snaps]
