"""Files for upload tests, made here: honest ones and ones that lie."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from server.expo_setup import _pdf


def png(w: int = 64, h: int = 48, alpha: bool = False) -> bytes:
    img = Image.new("RGBA" if alpha else "RGB", (w, h), (200, 30, 30, 128) if alpha else (200, 30, 30))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif(w: int = 80, h: int = 60) -> bytes:
    img = Image.new("RGB", (w, h), (20, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"      # Make
    exif[0x0112] = 6             # Orientation: rotated 90° (the stored image is turned upright)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(w: int, h: int) -> bytes:
    """A tiny, valid-looking PNG that claims to be ``w`` × ``h`` pixels (a decompression bomb
    announces itself in its header; nothing should try to decode it)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def pdf() -> bytes:
    return _pdf(["A brochure", "Second line"])


def pdf_with_javascript() -> bytes:
    good = _pdf(["Click me"])
    return good.replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript "
                        b"/JS (app.alert(1)) >> >>")
