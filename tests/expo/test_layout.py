"""Hall floor plans from a grid spec: the demo reproduces EXPO_LAYOUT, zones never overlap,
bad grids are refused."""

from __future__ import annotations

import numpy as np
import pytest

from rooms.expo.errors import BadExpoSpec
from rooms.expo.layout import DEMO_HALL, ZONE_FRONT, plan_hall
from rooms.expo.models import HallSpec
from rooms.layouts import EXPO_LAYOUT


def test_demo_hall_is_exactly_the_expo_layout() -> None:
    plan = plan_hall(DEMO_HALL)
    assert plan.layout == EXPO_LAYOUT
    assert len(plan.slot_ids) == 60 and plan.slot_ids[0] == "b1" and plan.slot_ids[-1] == "b60"
    assert plan.stage is not None and plan.stage["z"] == -40


def test_zone_lookup_matches_a_brute_force_test_everywhere() -> None:
    rng = np.random.default_rng(7)
    for spec in (DEMO_HALL, HallSpec("h", "expo:x", {"zh-CN": "", "en": ""}, rows=3, cols=4,
                                     booth_w=6, booth_d=5, pitch_x=10, pitch_z=10.5, stage=False)):
        plan = plan_hall(spec)
        lay = plan.layout
        x = rng.uniform(lay.min_x, lay.max_x, 20_000)
        z = rng.uniform(lay.min_z, lay.max_z, 20_000)
        got = plan.zone_of(x, z)
        zn = plan.zones
        inside = ((zn[None, :, 0] <= x[:, None]) & (x[:, None] <= zn[None, :, 1])
                  & (zn[None, :, 2] <= z[:, None]) & (z[:, None] <= zn[None, :, 3]))
        assert (inside.sum(axis=1) <= 1).all()  # zones are disjoint
        want = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
        assert (got == want).all()
        assert (got >= 0).sum() > 100


def test_the_front_of_a_booth_is_in_its_zone_and_the_back_is_not() -> None:
    plan = plan_hall(DEMO_HALL)
    i = plan.slot_index("b55")
    x, z = plan.centres[i]
    assert plan.zone_of_point(x, z + 3 + ZONE_FRONT - 0.1) == i
    assert plan.zone_of_point(x, z - 3.2) == -1
    ax, az = plan.approach("b55")
    assert plan.zone_of_point(ax, az) == i


@pytest.mark.parametrize("kw", [{"pitch_x": 9.0}, {"pitch_z": 10.0}, {"rows": 0},
                                {"cols": 21}, {"booth_w": float("nan")}])
def test_grids_without_aisles_or_out_of_range_are_refused(kw: dict) -> None:
    spec = HallSpec("h", "expo:x", {"zh-CN": "", "en": ""}, rows=kw.pop("rows", 2),
                    cols=kw.pop("cols", 2), **kw)
    with pytest.raises(BadExpoSpec):
        plan_hall(spec)


def test_layout_wire_shows_booth_names_colours_and_banners() -> None:
    from rooms.expo.models import Booth

    plan = plan_hall(DEMO_HALL)
    b = Booth("bx", "demo", "expo:demo", "b7", "ACME", {"zh-CN": "极客", "en": "Acme"},
              color="#123456", banner={"zh-CN": "你好", "en": "Hello"})
    wire = plan.to_wire({"b7": b})
    f = next(f for f in wire["features"] if f.get("id") == "b7")
    assert f["booth_id"] == "bx" and f["color"] == "#123456"
    assert f["label"] == {"zh-CN": "极客", "en": "Acme"} and f["banner"]["en"] == "Hello"
    sign = next(f for f in wire["features"] if f.get("id") == "b7-banner")
    assert sign["type"] == "sign" and sign["label"]["zh-CN"] == "你好" and sign["color"] == "#123456"
    other = next(f for f in wire["features"] if f.get("id") == "b8")
    assert "booth_id" not in other and other["label"]["en"] == "Booth 8"
