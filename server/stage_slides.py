"""Slide images of a talk: checked by content, re-encoded with Pillow, stored under
``<data dir>/uploads/stage/<talk id>/<n>.jpg``.

Only what Pillow recognises as PNG, JPEG, WebP or GIF is accepted (the file name and the
declared type are not trusted); images are decoded with a pixel limit (no decompression
bombs), converted to RGB, fitted into 1920×1080 and written as fresh JPEG files, so nothing the
uploader wrote (metadata, trailing bytes) is ever served. A new upload replaces the whole set
atomically (written to a temporary directory, then renamed into place).
"""

from __future__ import annotations

import io
import re
import shutil
import uuid
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from rooms.stage.errors import BadSlide

__all__ = ["SlideStore", "MAX_SLIDE_BYTES", "MAX_PIXELS", "SLIDE_SIZE", "normalise_slide"]

MAX_SLIDE_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
SLIDE_SIZE = (1920, 1080)
FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
_TALK_ID = re.compile(r"^[0-9a-f]{32}$")


def normalise_slide(data: bytes, name: str = "slide") -> bytes:
    """The slide as a clean JPEG, or ``BadSlide`` naming what is wrong."""
    if not data:
        raise BadSlide(f"{name} is empty", field="slides")
    if len(data) > MAX_SLIDE_BYTES:
        raise BadSlide(f"{name} is larger than {MAX_SLIDE_BYTES // (1024 * 1024)} MB",
                       field="slides")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            w, h = probe.size
            if fmt not in FORMATS:
                raise BadSlide(f"{name} is not a PNG, JPEG, WebP or GIF image", field="slides")
            if w * h > MAX_PIXELS or w < 1 or h < 1:
                raise BadSlide(f"{name} has too many pixels ({w}×{h})", field="slides")
            probe.seek(0)
            img = probe.convert("RGB")
    except BadSlide:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadSlide(f"{name} is not an image that can be read", field="slides") from exc
    img.thumbnail(SLIDE_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


class SlideStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, talk_id: str) -> Path:
        if not _TALK_ID.match(talk_id):
            raise BadSlide("not a talk id", field="talk_id")
        return self.root / talk_id

    def path(self, talk_id: str, index: int) -> Path | None:
        p = self._dir(talk_id) / f"{index}.jpg"
        return p if p.is_file() else None

    def replace(self, talk_id: str, slides: list[bytes]) -> int:
        """Store ``slides`` (already normalised) as the talk's whole set; returns the count."""
        final = self._dir(talk_id)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{talk_id}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            for i, data in enumerate(slides):
                (tmp / f"{i}.jpg").write_bytes(data)
            old = None
            if final.exists():
                old = self.root / f".{talk_id}.old.{uuid.uuid4().hex[:8]}"
                final.rename(old)
            tmp.rename(final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return len(slides)

    def remove(self, talk_id: str) -> None:
        shutil.rmtree(self._dir(talk_id), ignore_errors=True)
