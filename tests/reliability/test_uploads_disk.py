"""Disk full on uploads: the client gets ``503 unavailable`` (reason ``storage_full``, zh/en
text), no partial file stays, nothing is stored in the database, and the server keeps serving.
For real on a 256 KiB tmpfs mounted over the uploads directory (root only), and with an
injected OSError everywhere."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

import server.expo_uploads as uploads_mod
from server.expo_models import FileRow
from server.expo_uploads import Storage, StorageFull
from tests.expo import crafted
from tests.expo.live import exhibitor, organiser
from tests.helpers import LiveServer, start_server


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def file_rows(live: LiveServer) -> int:
    async with live.app.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(FileRow))).scalar_one())


def padded_pdf(kib: int) -> bytes:
    """A valid, inert PDF of about ``kib`` KiB (stored byte for byte)."""
    body = crafted.pdf()
    head, tail = body[:body.rindex(b"%%EOF")], body[body.rindex(b"%%EOF"):]
    return head + (b"% padding padding padding padding padding padding padding pad\n" * (16 * kib)) + tail


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = Storage(tmp_path)
    real_fsync = os.fsync
    calls = {"n": 0}

    def full_on_second(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    # The thumbnail fails: the picture written just before it goes too.
    monkeypatch.setattr(uploads_mod.os, "fsync", full_on_second)
    with pytest.raises(StorageFull) as caught:
        store.write(store.new_id(), ".jpg", b"\xff\xd8\xff" + b"x" * 5000, b"thumb")
    wire = caught.value.to_wire()
    assert wire["code"] == "unavailable" and wire["reason"] == "storage_full"
    assert set(wire["text"]) == {"zh-CN", "en"} and "存储" in wire["text"]["zh-CN"]
    assert files_under(tmp_path) == set()

    # Any other I/O error: the same clean refusal, its own reason.
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(uploads_mod.os, "fsync", broken)
    with pytest.raises(StorageFull) as caught:
        store.write(store.new_id(), ".pdf", b"%PDF-1.4 x", None)
    assert caught.value.to_wire()["reason"] == "storage_error"
    assert files_under(tmp_path) == set()


async def test_injected_enospc_is_a_clean_503(server: LiveServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    admin = await organiser(server)
    ex, _, booth = await exhibitor(server, admin, "diskfull", "b10")
    root = server.data_dir / "uploads"
    before_files, before_rows = files_under(root), await file_rows(server)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads_mod.os, "fsync", full)
    status, body = await ex.upload(booth, crafted.png(), "logo.png", "image/png")
    assert status == 503, body
    err = body["error"]
    assert err["code"] == "unavailable" and err["reason"] == "storage_full"
    assert err["text"]["en"].startswith("The server's file storage is full")
    assert files_under(root) == before_files and await file_rows(server) == before_rows
    monkeypatch.undo()
    status, body = await ex.upload(booth, crafted.png(), "logo.png", "image/png")
    assert status == 201, body  # the server kept serving; the disk is back
    assert await file_rows(server) == before_rows + 1
    assert server.app.expo_parts.uploads.running == 0  # the failed upload gave its place back


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    return None


@pytest.mark.skipif(_can_mount() is not None and os.environ.get("CI") != "true",
                    reason="mounting a tmpfs needs root (runs in CI)")
async def test_a_real_full_disk(tmp_path: Path) -> None:
    live = await start_server(tmp_path)  # the demo's pictures are seeded on the real disk
    mount = tmp_path / "uploads"
    await asyncio.to_thread(subprocess.run, ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                                             str(mount)], check=True)
    try:
        admin = await organiser(live)
        ex, _, booth = await exhibitor(live, admin, "tinydisk", "b11")
        rows0 = await file_rows(live)
        pdf = padded_pdf(60)
        stored: list[dict[str, str]] = []
        refused = None
        for _ in range(12):  # 256 KiB holds four of them
            status, body = await ex.upload(booth, pdf, "brochure.pdf", "application/pdf",
                                           purpose="brochure")
            if status == 201:
                stored.append(body)
                continue
            refused = (status, body)
            break
        assert refused is not None, "the tmpfs never filled up"
        status, body = refused
        assert status == 503 and body["error"]["code"] == "unavailable", refused
        assert body["error"]["reason"] == "storage_full" and "zh-CN" in body["error"]["text"]
        assert 2 <= len(stored) <= 4
        print(f"\ntmpfs 256 KiB: {len(stored)} uploads of {len(pdf)} bytes stored, then {status}")
        on_disk = files_under(mount)
        assert not [p for p in on_disk if p.name.startswith(".") or p.suffix == ".tmp"], on_disk
        assert len(on_disk) == len(stored)  # exactly the acknowledged files, no partial one
        assert await file_rows(live) == rows0 + len(stored)  # no row for the refused one
        # Still serving: stored files are readable, other requests work, and freeing space
        # makes uploads work again without a restart.
        status, _h, data = await ex.raw("GET", stored[0]["url"])
        assert status == 200 and data == pdf
        assert (await ex.call("GET", "/healthz"))[0] == 200
        status, _ = await ex.call("DELETE", f"/api/expo/booths/{booth}/files/{stored[0]['id']}")
        assert status == 200
        status, body = await ex.upload(booth, crafted.png(), "logo.png", "image/png")
        assert status == 201, body
    finally:
        await live.close()
        await asyncio.to_thread(subprocess.run, ["umount", str(mount)], check=False)
