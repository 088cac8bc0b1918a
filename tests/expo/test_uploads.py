"""Upload checks with crafted files: the type comes from the content, and a name or a content
type that disagrees with it is a lie that is refused; huge images are refused from their
header; path tricks in names are refused; images are re-encoded without their metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from rooms.expo.errors import BadUpload, UploadTooLarge
from server.expo_uploads import Storage, UploadLimits, process, safe_name, sniff
from tests.expo import crafted

LIMITS = UploadLimits()


def reason_of(data: bytes, name: str, ctype: str, purpose: str,
              limits: UploadLimits = LIMITS) -> str:
    with pytest.raises((BadUpload, UploadTooLarge)) as info:
        process(data, name, ctype, purpose, limits)
    return str(info.value.details["reason"])


def test_magic_bytes_decide_the_type() -> None:
    assert sniff(crafted.png()) == "png"
    assert sniff(crafted.jpeg_with_exif()) == "jpeg"
    assert sniff(crafted.gif()) == "gif"
    assert sniff(crafted.pdf()) == "pdf"
    assert sniff(b"PK\x03\x04zipfile") is None


def test_a_png_renamed_pdf_is_refused_as_a_brochure_and_as_a_picture() -> None:
    data = crafted.png()
    assert reason_of(data, "brochure.pdf", "application/pdf", "brochure") == "type_mismatch"
    assert reason_of(data, "brochure.pdf", "", "image") == "type_mismatch"
    assert reason_of(data, "photo.png", "image/png", "brochure") == "wrong_purpose"


def test_a_pdf_sent_with_an_image_content_type_is_refused() -> None:
    data = crafted.pdf()
    assert reason_of(data, "leaflet.pdf", "image/png", "brochure") == "type_mismatch"
    assert reason_of(data, "leaflet.png", "image/png", "image") == "type_mismatch"
    assert reason_of(data, "leaflet", "image/jpeg", "image") == "type_mismatch"


def test_huge_image_dimensions_are_refused_before_decoding() -> None:
    bomb = crafted.png_header_only(30_000, 30_000)  # 900 Mpx in ~100 bytes
    assert len(bomb) < 200
    assert reason_of(bomb, "bomb.png", "image/png", "image") == "image_too_big"
    wide = crafted.png_header_only(8_000, 8_000)  # 64 Mpx: over our limit, under Pillow's
    assert reason_of(wide, "wide.png", "image/png", "image") == "image_too_big"
    assert reason_of(crafted.png_header_only(20_000, 10), "strip.png", "", "image") == "image_too_big"


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "..\\boot.ini.png", "a/b.png",
                                  ".hidden.png", "x\x00.png", "con:.png", "", "  ",
                                  "x" * 130 + ".png", "a\u202egnp.exe"])
def test_path_tricks_and_control_characters_in_names_are_refused(name: str) -> None:
    assert reason_of(crafted.png(), name, "image/png", "image") == "bad_filename"
    with pytest.raises(BadUpload):
        safe_name(name)


def test_broken_and_unknown_content_is_refused() -> None:
    assert reason_of(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "x.png", "", "image") == "corrupt_image"
    assert reason_of(b"PK\x03\x04" + b"\x00" * 50, "x.zip", "", "image") == "unknown_type"
    assert reason_of(b"", "x.png", "", "image") == "unknown_type"
    assert reason_of(b"%PDF-1.4\nno end", "x.pdf", "", "brochure") == "bad_pdf"
    assert reason_of(crafted.pdf_with_javascript(), "x.pdf", "application/pdf",
                     "brochure") == "pdf_active_content"
    assert reason_of(crafted.png(), "x.png", "", "avatar") == "wrong_purpose"


def test_images_over_the_byte_limit_are_refused() -> None:
    small = UploadLimits(max_bytes=10_000, max_image_bytes=100)
    assert reason_of(crafted.png(), "x.png", "", "image", small) == "too_large"


def test_images_are_re_encoded_without_metadata_and_get_a_thumbnail() -> None:
    done = process(crafted.jpeg_with_exif(80, 60), "photo.JPG", "image/jpeg", "image", LIMITS)
    assert done.kind == "image" and done.content_type == "image/jpeg" and done.ext == ".jpg"
    assert done.name == "photo.jpg"
    with Image.open(io.BytesIO(done.data)) as im:
        assert im.format == "JPEG"
        assert im.size == (60, 80)  # turned upright by its EXIF orientation
        assert not im.getexif()     # and the EXIF (camera make...) is gone
    with Image.open(io.BytesIO(done.thumb or b"")) as th:
        assert th.format == "JPEG" and max(th.size) <= 320
    big = process(crafted.png(3000, 1000, alpha=True), "logo.png", "image/png", "image", LIMITS)
    assert big.content_type == "image/png" and (big.width, big.height) == (2048, 683)


def test_pdfs_are_kept_as_they_are() -> None:
    data = crafted.pdf()
    done = process(data, "产品手册.pdf", "application/pdf", "brochure", LIMITS)
    assert done.kind == "pdf" and done.data == data and done.thumb is None
    assert done.name == "产品手册.pdf" and len(done.sha256) == 64


def test_storage_uses_generated_names_and_stays_inside_its_root(tmp_path) -> None:  # type: ignore[no-untyped-def]
    st = Storage(tmp_path / "uploads")
    fid = st.new_id()
    rel, thumb = st.write(fid, ".jpg", b"abc", b"t")
    assert rel == f"{fid[:2]}/{fid}.jpg" and thumb == f"{fid[:2]}/{fid}.thumb.jpg"
    assert (tmp_path / "uploads" / rel).read_bytes() == b"abc"
    with pytest.raises(ValueError):
        st.write("../../evil", ".jpg", b"x", None)
    with pytest.raises(ValueError):
        st.path("../../../etc/passwd")
    assert not [p for p in (tmp_path / "uploads").rglob("*.tmp")]
