"""Uploads over HTTP: stored and served with the right headers, or refused with a clear error
and nothing stored (no file on disk, no row, no change to the booth)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from server.expo_models import FileRow
from server.expo_uploads import UploadLimits
from tests.expo import crafted
from tests.expo.live import exhibitor, organiser
from tests.helpers import LiveServer


def stored(live: LiveServer) -> set[Path]:
    root = live.data_dir / "uploads"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def rows(live: LiveServer) -> int:
    async with live.app.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(FileRow))).scalar_one())


async def test_an_image_is_stored_re_encoded_and_served_inline(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "pics", "b10")
    status, f = await ex.upload(booth, crafted.jpeg_with_exif(), "产品.jpeg", "image/jpeg")
    assert status == 201, f
    assert f["kind"] == "image" and f["name"] == "产品.jpg" and f["content_type"] == "image/jpeg"
    status, headers, body = await ex.raw("GET", f["url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"].startswith("inline; filename=")
    assert "filename*=UTF-8''%E4%BA%A7%E5%93%81.jpg" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    with Image.open(io.BytesIO(body)) as im:
        assert not im.getexif()
    status, headers, thumb = await ex.raw("GET", f["thumb_url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and thumb[:3] == b"\xff\xd8\xff"
    # Use it as the logo; then delete it: the profile lets go of it and the bytes are gone.
    status, b = await ex.call("PUT", f"/api/expo/booths/{booth}",
                              {"name": {"en": "Pics"}, "logo": f["id"]})
    assert status == 200 and b["logo"]["id"] == f["id"]
    files = stored(server)
    status, _ = await ex.call("DELETE", f"/api/expo/booths/{booth}/files/{f['id']}")
    assert status == 200
    assert server.app.expo.booths[booth].logo is None
    assert len(stored(server)) == len(files) - 2  # the picture and its thumbnail
    assert (await ex.raw("GET", f["url"]))[0] == 404


async def test_a_pdf_brochure_is_served_as_an_attachment(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "docs", "b11")
    data = crafted.pdf()
    status, f = await ex.upload(booth, data, "手册.pdf", "application/pdf", "brochure")
    assert status == 201, f
    status, headers, body = await ex.raw("GET", f["url"])
    assert status == 200 and body == data
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment; filename=")
    path = next(p for p in stored(server) if p.name.startswith(f["id"]))
    assert path.name == f"{f['id']}.pdf" and path.parent.parent == server.data_dir / "uploads"


async def test_lies_oversize_and_path_tricks_store_nothing(server: LiveServer) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "liar", "b12")
    before_files, before_rows = stored(server), await rows(server)
    version = server.app.expo.booths[booth].version
    cases = [
        (crafted.png(), "brochure.pdf", "application/pdf", "brochure", "type_mismatch"),
        (crafted.pdf(), "leaflet.pdf", "image/png", "brochure", "type_mismatch"),
        (crafted.pdf(), "leaflet.png", "image/png", "image", "type_mismatch"),
        (crafted.png_header_only(40_000, 40_000), "bomb.png", "image/png", "image",
         "image_too_big"),
        (crafted.png(), "../../../etc/cron.d/x.png", "image/png", "image", "bad_filename"),
        (crafted.png(), "..\\..\\x.png", "image/png", "image", "bad_filename"),
        (crafted.pdf_with_javascript(), "x.pdf", "application/pdf", "brochure",
         "pdf_active_content"),
    ]
    for data, name, ctype, purpose, reason in cases:
        status, body = await ex.upload(booth, data, name, ctype, purpose)
        assert status == 422, (name, body)
        assert body["error"]["code"] == "bad_request" and body["error"]["reason"] == reason, body
    # Oversized: refused while streaming (limits made small for the test).
    server.app.expo_parts.limits = UploadLimits(max_bytes=200_000, max_image_bytes=100_000)
    big = crafted.pdf()[:-6] + b"%" * 300_000 + b"\n%%EOF\n"
    status, body = await ex.upload(booth, big, "big.pdf", "application/pdf", "brochure")
    assert status == 422 and body["error"]["reason"] == "too_large"
    noisy = Image.effect_noise((250, 250), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert 100_000 < len(out.getvalue()) < 200_000
    status, body = await ex.upload(booth, out.getvalue(), "noise.png", "image/png")
    assert status == 422 and body["error"]["reason"] == "too_large"
    assert stored(server) == before_files
    assert await rows(server) == before_rows
    assert server.app.expo.booths[booth].version == version
    leftovers = [p for p in (server.data_dir / "uploads").rglob("*") if ".tmp" in p.name]
    assert not leftovers


async def test_a_profile_cannot_point_at_another_booths_file(server: LiveServer) -> None:
    admin = await organiser(server)
    a, _, booth_a = await exhibitor(server, admin, "ann", "b13")
    b, _, booth_b = await exhibitor(server, admin, "ben", "b14")
    _, f = await b.upload(booth_b, crafted.png(), "b.png", "image/png")
    status, body = await a.call("PUT", f"/api/expo/booths/{booth_a}",
                                {"name": {"en": "A"}, "logo": f["id"]})
    assert status == 422 and body["error"]["field"] == "logo"
    _, pdf = await a.upload(booth_a, crafted.pdf(), "a.pdf", "application/pdf", "brochure")
    status, body = await a.call("PUT", f"/api/expo/booths/{booth_a}",
                                {"name": {"en": "A"}, "logo": pdf["id"]})
    assert status == 422 and "image" in body["error"]["message"]
