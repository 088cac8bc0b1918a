"""Slides: the speaker uploads images (checked by content, re-encoded), advances them live."""

from __future__ import annotations

import io
import struct
import zlib

import aiohttp
from PIL import Image

from tests.stage.conftest import StageEnv


def image(fmt: str, size: tuple[int, int] = (800, 600), color: str = "#3366aa") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's first bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


async def upload(url: str, token: str, files: list[tuple[str, bytes, str]]) -> tuple[int, dict]:
    form = aiohttp.FormData()
    for name, data, ctype in files:
        form.add_field("slide", data, filename=name, content_type=ctype)
    async with aiohttp.ClientSession() as http, http.put(
            url, data=form, headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.json()


async def test_speaker_uploads_slides_checked_by_content_and_advances_them(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    other = await stage.person("Other", "exhibitor")
    a = await stage.connect(admin)
    s = await stage.connect(speaker)
    v = await stage.connect(await stage.person("Viewer"))
    talk = await stage.talk(a, speaker.id, mode="slides")
    url = f"{stage.server.url}/api/stage/talks/{talk['id']}/slides"
    good = [("one.png", image("PNG"), "image/png"),
            ("two.jpg", image("JPEG", (3000, 2000)), "image/jpeg"),
            ("three.webp", image("WEBP"), "image/webp")]
    status, body = await upload(url, other.token, good)
    assert status == 403, body
    for bad in ([("evil.png", b"<?php system($_GET['c']); ?>", "image/png")],
                [("bomb.png", png_claiming(50_000, 50_000), "image/png")],
                [("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", "image/png")],
                [("big.png", b"\x89PNG" + b"\x00" * (9 * 1024 * 1024), "image/png")]):
        status, body = await upload(url, speaker.token, good[:1] + bad)
        assert status == 422 and body["error"]["code"] == "bad_request", (bad[0][0], body)
    status, body = await upload(url, speaker.token, [])
    assert status == 422, body
    assert (await a.call("stage.list", {}))["talks"][0]["slides"] == 0  # nothing stored

    status, body = await upload(url, speaker.token, good)
    assert status == 200, body
    assert body["talk"]["slides"] == 3 and body["talk"]["slide"] == 0
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/1") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/jpeg"
            shown = Image.open(io.BytesIO(await resp.read()))
            assert shown.format == "JPEG" and shown.size == (1620, 1080)  # fitted in 1920×1080
        for missing in (f"{url}/3", f"{url}/-1", f"{url}/x", f"{url}/../../secret.key"):
            async with http.get(missing) as resp:
                assert resp.status in (404, 422), missing

    ack = await s.call("stage.slide", {"talk_id": talk["id"], "index": 2})
    assert ack["ok"] and ack["talk"]["slide"] == 2
    moved = await v.wait("stage.slide", lambda d: d["talk_id"] == talk["id"])
    assert moved == {"talk_id": talk["id"], "index": 2, "slides": 3}
    for bad in (3, -1, "1", True):
        ack = await s.call("stage.slide", {"talk_id": talk["id"], "index": bad})
        assert ack["error"]["code"] == "bad_request", (bad, ack)
    ack = await v.call("stage.slide", {"talk_id": talk["id"], "index": 0})
    assert ack["error"]["code"] == "forbidden"
