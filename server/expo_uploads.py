"""Booth uploads: what a file really is, whether it may be kept, and where it is kept.

The type is decided by the content — magic bytes, then Pillow actually decoding an image —
never by the file name or the client's content type; both of those must *agree* with the
content or the upload is refused (``type_mismatch``), because a file that lies about its type
is the classic way to smuggle something in. Images are re-encoded (JPEG, or PNG when they have
transparency; metadata dropped; at most 2048 px) and get a 320 px thumbnail; an image whose
header announces more than ``MAX_PIXELS`` is refused before anything is decoded (a
decompression bomb). PDFs are kept byte for byte after a structure check and a scan for active
content. Files live under ``<data dir>/uploads/<2 hex>/<random id>.<ext>``: the id is random, the
client's name is only a display name (and is refused when it tries path tricks). Nothing is
written until every check, including the moderation ``check_upload`` hook, has passed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from rooms.errors import Unavailable
from rooms.expo.errors import BadUpload, UploadTooLarge

__all__ = ["Processed", "UploadLimits", "sniff", "safe_name", "process", "Storage",
           "StorageFull", "PURPOSES"]

PURPOSES = {"image": ("png", "jpeg", "gif", "webp"), "brochure": ("pdf",)}
"""What each upload purpose accepts (logo and product pictures are ``image``)."""
EXTENSIONS = {"png": (".png",), "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "gif": (".gif",),
              "webp": (".webp",), "pdf": (".pdf",)}
MIME = {"png": ("image/png",), "jpeg": ("image/jpeg", "image/pjpeg"), "gif": ("image/gif",),
        "webp": ("image/webp",), "pdf": ("application/pdf", "application/x-pdf")}
NEUTRAL_TYPES = ("", "application/octet-stream", "binary/octet-stream")
"""Client content types that claim nothing."""
PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)\b")
_BAD_NAME = re.compile(r"[\\/:*?\"<>|]")


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    """Refused above this (width × height from the header, before decoding)."""
    max_side: int = 12_000
    out_side: int = 2048
    thumb_side: int = 320

    @classmethod
    def from_mb(cls, mb: int) -> UploadLimits:
        return cls(max_bytes=mb * 1024 * 1024, max_image_bytes=max(1, mb // 2) * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Processed:
    kind: str
    """``image`` or ``pdf``"""
    fmt: str
    """What the content was: png, jpeg, gif, webp, pdf."""
    content_type: str
    """Of the stored bytes."""
    ext: str
    data: bytes
    thumb: bytes | None
    width: int | None
    height: int | None
    sha256: str
    """Of the bytes as uploaded (for hash block lists)."""
    name: str
    """Display name with the extension of what is stored."""


def sniff(head: bytes) -> str | None:
    """The format from the first bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def safe_name(filename: object) -> str:
    """The client's file name as a display name; path tricks and control characters refuse."""
    if not isinstance(filename, str) or not filename.strip():
        raise BadUpload("The file needs a name.", reason="bad_filename")
    name = unicodedata.normalize("NFC", filename.strip())
    if len(name) > 120 or ".." in name or name.startswith(".") or _BAD_NAME.search(name) \
            or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise BadUpload("That file name is not allowed (no paths, '..' or special characters).",
                        reason="bad_filename")
    return name


def _check_declared(fmt: str, name: str, content_type: str) -> None:
    ext = os.path.splitext(name)[1].lower()
    if ext and ext not in EXTENSIONS[fmt]:
        raise BadUpload(f"The file is {fmt.upper()} but its name says {ext}.",
                        reason="type_mismatch", detected=fmt)
    ctype = content_type.split(";")[0].strip().lower()
    if ctype not in NEUTRAL_TYPES and ctype not in MIME[fmt]:
        raise BadUpload(f"The file is {fmt.upper()} but was sent as {ctype}.",
                        reason="type_mismatch", detected=fmt)


def _display(name: str, ext: str) -> str:
    stem = os.path.splitext(name)[0] or "file"
    return f"{stem[:100]}{ext}"


def process(data: bytes, filename: object, content_type: str, purpose: str,
            limits: UploadLimits) -> Processed:
    """Check and convert one upload (CPU-bound: run it in a thread). Raises ``BadUpload`` /
    ``UploadTooLarge`` with a ``reason``: bad_filename, unknown_type, type_mismatch,
    wrong_purpose, image_too_big, corrupt_image, bad_pdf, pdf_active_content, too_large."""
    name = safe_name(filename)
    if purpose not in PURPOSES:
        raise BadUpload("purpose must be 'image' or 'brochure'.", reason="wrong_purpose")
    if not data:
        raise BadUpload("The file is empty.", reason="unknown_type")
    fmt = sniff(data[:16])
    if fmt is None:
        raise BadUpload("Only PNG, JPEG, GIF or WebP images and PDF files are accepted.",
                        reason="unknown_type")
    _check_declared(fmt, name, content_type)
    if fmt not in PURPOSES[purpose]:
        raise BadUpload("Pictures must be images; brochures must be PDF files.",
                        reason="wrong_purpose", detected=fmt)
    digest = hashlib.sha256(data).hexdigest()
    if fmt == "pdf":
        _check_pdf(data)
        return Processed("pdf", "pdf", "application/pdf", ".pdf", data, None, None, None,
                         digest, _display(name, ".pdf"))
    if len(data) > limits.max_image_bytes:
        raise UploadTooLarge(f"Images may be at most {limits.max_image_bytes // 1048576} MB.",
                             reason="too_large", max_bytes=limits.max_image_bytes)
    out, ctype, ext, thumb, w, h = _image(data, fmt, limits)
    return Processed("image", fmt, ctype, ext, out, thumb, w, h, digest, _display(name, ext))


def _check_pdf(data: bytes) -> None:
    if not re.match(rb"%PDF-[12]\.\d", data[:8]) or b"%%EOF" not in data[-2048:]:
        raise BadUpload("That is not a complete PDF file.", reason="bad_pdf")
    if PDF_ACTIVE.search(data):
        raise BadUpload("PDFs with scripts, launch actions or embedded files are not accepted.",
                        reason="pdf_active_content")


def _image(data: bytes, fmt: str,
           limits: UploadLimits) -> tuple[bytes, str, str, bytes, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != PIL_FORMAT[fmt]:
                raise BadUpload("The image does not decode as what it claims to be.",
                                reason="type_mismatch", detected=fmt)
            w, h = im.size
            if w < 1 or h < 1 or w > limits.max_side or h > limits.max_side \
                    or w * h > limits.max_pixels:
                raise BadUpload(f"The image is {w}×{h} pixels; at most "
                                f"{limits.max_pixels // 1_000_000} million pixels are accepted.",
                                reason="image_too_big", width=w, height=h)
            im.seek(0)  # the first frame of an animation
            im.load()
            pic = ImageOps.exif_transpose(im) or im
            alpha = pic.mode in ("RGBA", "LA", "PA") or (
                pic.mode == "P" and "transparency" in pic.info)
            pic = pic.convert("RGBA" if alpha else "RGB")
    except BadUpload:
        raise
    except Image.DecompressionBombError as exc:
        raise BadUpload("The image has far too many pixels.", reason="image_too_big") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadUpload("The image could not be read.", reason="corrupt_image") from exc
    pic.thumbnail((limits.out_side, limits.out_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha:
        pic.save(out, "PNG", optimize=True)
        ctype, ext = "image/png", ".png"
    else:
        pic.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        ctype, ext = "image/jpeg", ".jpg"
    small = pic.copy()
    small.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    if small.mode != "RGB":
        bg = Image.new("RGB", small.size, (255, 255, 255))
        bg.paste(small, mask=small.getchannel("A"))
        small = bg
    tb = io.BytesIO()
    small.save(tb, "JPEG", quality=80, optimize=True)
    return out.getvalue(), ctype, ext, tb.getvalue(), pic.width, pic.height


class StorageFull(Unavailable):
    """The file could not be written (disk full or another I/O error); nothing was kept."""


def _storage_full(exc: OSError) -> StorageFull:
    import errno

    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return StorageFull("The server's file storage is full; try again later." if full else
                       "The file could not be stored; try again later.",
                       reason="storage_full" if full else "storage_error",
                       text={"zh-CN": "服务器文件存储已满，请稍后再试。" if full
                             else "文件无法保存，请稍后再试。",
                             "en": "The server's file storage is full; try again later." if full
                             else "The file could not be stored; try again later."})


class Storage:
    """Files under ``root`` with generated names; writes are atomic (temp file + rename).
    A failed write (ENOSPC or any OSError) leaves no file behind and raises
    :class:`StorageFull` (wire code ``unavailable``)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def new_id(self) -> str:
        return secrets.token_hex(16)

    def write(self, file_id: str, ext: str, data: bytes, thumb: bytes | None) -> tuple[str, str | None]:
        """Store the bytes (and thumbnail); returns their paths relative to the root."""
        if not re.fullmatch(r"[0-9a-f]{32}", file_id) or ext not in (".png", ".jpg", ".pdf"):
            raise ValueError("generated names only")
        rel = f"{file_id[:2]}/{file_id}{ext}"
        try:
            self._put(rel, data)
        except OSError as exc:
            raise _storage_full(exc) from exc
        thumb_rel = None
        if thumb is not None:
            thumb_rel = f"{file_id[:2]}/{file_id}.thumb.jpg"
            try:
                self._put(thumb_rel, thumb)
            except OSError as exc:
                self.remove(rel)
                raise _storage_full(exc) from exc
        return rel, thumb_rel

    def _put(self, rel: str, data: bytes) -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no partial file stays behind (disk full)
            raise

    def path(self, rel: str) -> Path:
        """The absolute path of a stored file; never outside the root."""
        p = (self.root / rel).resolve()
        if not p.is_relative_to(self.root):
            raise ValueError("outside the uploads directory")
        return p

    def remove(self, rel: str | None) -> None:
        if rel:
            try:
                self.path(rel).unlink(missing_ok=True)
            except (OSError, ValueError):
                pass
