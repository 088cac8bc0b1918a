"""The hall heatmap as a PNG: the floor plan (booths, stage) in grey, where visitors walked in
colour (log-scaled counts, blurred a little), the requesting exhibitor's booth outlined."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from rooms.expo.layout import HallPlan
from rooms.expo.store import Heat

__all__ = ["render_heatmap"]

PX_PER_M = 5
# A perceptual-ish ramp: transparent blue → cyan → yellow → red.
_STOPS = np.array([[0.0, 40, 90, 200, 0], [0.15, 40, 120, 220, 110], [0.4, 40, 200, 200, 170],
                   [0.7, 250, 220, 40, 210], [1.0, 220, 40, 30, 235]], dtype=np.float64)


def _colour(v: np.ndarray) -> np.ndarray:
    out = np.empty((*v.shape, 4), dtype=np.float64)
    for ch in range(4):
        out[..., ch] = np.interp(v, _STOPS[:, 0], _STOPS[:, ch + 1])
    return out.astype(np.uint8)


def render_heatmap(plan: HallPlan, heat: Heat | None, highlight: str | None = None) -> bytes:
    lay = plan.layout
    w_m, d_m = lay.max_x - lay.min_x, lay.max_z - lay.min_z
    W, H = int(round(w_m * PX_PER_M)), int(round(d_m * PX_PER_M))
    base = Image.new("RGBA", (W, H), (246, 247, 250, 255))
    draw = ImageDraw.Draw(base)

    def box(x: float, z: float, w: float, d: float) -> tuple[float, float, float, float]:
        x0 = (x - w / 2 - lay.min_x) * PX_PER_M
        z0 = (z - d / 2 - lay.min_z) * PX_PER_M
        return (x0, z0, x0 + w * PX_PER_M, z0 + d * PX_PER_M)

    for f in lay.features:
        if f["type"] == "stage":
            draw.rectangle(box(f["x"], f["z"], f["w"], f["d"]), fill=(200, 202, 215, 255))
        elif f["type"] == "booth":
            draw.rectangle(box(f["x"], f["z"], f["w"], f["d"]), fill=(222, 224, 230, 255),
                           outline=(180, 184, 194, 255))
    if heat is not None and heat.counts.size and heat.counts.max() > 0:
        counts = heat.counts.astype(np.float64)
        v = np.log1p(counts) / np.log1p(counts.max())
        layer = Image.fromarray(_colour(v), "RGBA")
        # The grid's cells → pixels (cell metres × PX_PER_M), then a soft blur.
        layer = layer.resize((int(heat.counts.shape[1] * heat.cell * PX_PER_M),
                              int(heat.counts.shape[0] * heat.cell * PX_PER_M)),
                             Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(3))
        ox = int(round((heat.min_x - lay.min_x) * PX_PER_M))
        oz = int(round((heat.min_z - lay.min_z) * PX_PER_M))
        canvas = Image.new("RGBA", base.size, (0, 0, 0, 0))
        canvas.paste(layer, (ox, oz))
        base = Image.alpha_composite(base, canvas)
        draw = ImageDraw.Draw(base)
    if highlight is not None:
        i = plan.slot_index(highlight)
        if i >= 0:
            x, z = plan.centres[i]
            draw.rectangle(box(float(x), float(z), plan.spec.booth_w, plan.spec.booth_d),
                           outline=(20, 30, 60, 255), width=3)
    out = io.BytesIO()
    base.convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()
