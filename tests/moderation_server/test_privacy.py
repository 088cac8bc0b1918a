"""Retention deletes old evidence in the background; `metahall privacy export|erase USER`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db.engine import Database
from server.db.models import AuditRow, ModAction, ModCase, ModEvidence, ModVerdict, Report, User
from server.moderation_audit import audit_key, verify_audit
from server.moderation_privacy import ERASED_NAME, export_user
from tests.helpers import LiveServer, cli_env, connect, guest, start_server, wait_for
from tests.moderation_server.conftest import account, api


async def _count(server: LiveServer, model: type) -> int:
    async with server.app.db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_retention_task_deletes_old_evidence_and_keeps_the_audit_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METAHALL_RETENTION_DAYS", "0.00001")  # 0.864 s
    monkeypatch.setenv("METAHALL_RETENTION_SWEEP_S", "0.2")
    server = await start_server(tmp_path)
    try:
        mt, _ = await account(server, "moderator")
        ut, user = await guest(server.url, "Old")
        u = await connect(server.url, ut)
        await u.call("join", {"room": "hall:main"})
        await u.call("chat", {"channel": "room", "text": "click here now"})
        await server.app.mod.idle()
        assert await _count(server, ModEvidence) == 1 and await _count(server, ModVerdict) == 1
        await api(server, "POST", "/api/mod/actions", mt,
                  {"action": "warn", "user_id": user["id"], "note": "old news"})
        await wait_for(lambda: not server.app.registry.instances("hall:main")[0].chat_log,
                       timeout=5)
        await u.close()
        assert await _count(server, ModEvidence) == 0 and await _count(server, ModVerdict) == 0
        assert await _count(server, ModCase) == 1  # an open case stays until someone acts
        async with server.app.db.session() as s:
            actions = [r.action for r in (await s.execute(select(AuditRow))).scalars()]
        assert actions[:3] == ["case_open", "verdict", "warn"] and "retention" in actions
        assert (await verify_audit(server.app.db, server.app.mod.mdb.key)).ok
    finally:
        await server.close()


async def _cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args, stdin=asyncio.subprocess.DEVNULL,
        env=cli_env(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_export_then_erase_a_user_keeps_only_what_the_audit_needs(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        mt, _ = await account(server, "moderator")
        ut, user = await account(server, "citizen", "Erin")
        rt, other = await guest(server.url, "Witness")
        u = await connect(server.url, ut)
        r = await connect(server.url, rt)
        await u.call("join", {"room": "social:cafe"})
        await r.call("join", {"room": "social:cafe"})
        said = await u.call("chat", {"channel": "room", "text": "click here, my secret plan"})
        await r.call("report", {"message_id": said["id"], "reason": "spam from Erin"})
        await u.call("report", {"user_id": other["id"], "reason": "they stared at me"})
        _, body = await api(server, "POST", "/api/mod/actions", mt, {
            "action": "mute", "user_id": user.id, "duration_s": 600, "note": "cool off"})
        await api(server, "POST", "/api/appeals", ut,
                  {"action_id": body["action"]["id"], "text": "I was joking"})
        await server.app.mod.idle()
        for c in (u, r):
            await c.close()
    finally:
        await server.close()

    uname = (await _username(tmp_path, user.id))
    out_file = tmp_path / "export.json"
    (code, out, _), (refused, _, err) = await asyncio.gather(
        _cli(tmp_path, "privacy", "export", uname, "--out", str(out_file)),
        _cli(tmp_path, "privacy", "erase", user.id))
    assert code == 0 and user.id in out
    assert refused == 2 and "--yes" in err
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["user"]["display_name"] == "Erin" and "password_hash" not in data["user"]
    assert [m["text"] for m in data["chat_in_evidence"]][0] == "click here, my secret plan"
    assert data["trails_in_evidence"] and data["verdicts"][0]["text"].startswith("click here")
    assert [r["reason"] for r in data["reports_made"]] == ["they stared at me"]
    assert [r["reason"] for r in data["reports_about"]] == ["spam from Erin"]
    assert "reporter_id" not in data["reports_about"][0]
    assert [a["action"] for a in data["actions"]] == ["mute"]
    assert data["appeals"][0]["text"] == "I was joking"
    assert {e["action"] for e in data["audit_entries"]} >= {"mute", "appeal", "report"}

    code, out, err = await _cli(tmp_path, "privacy", "erase", uname, "--yes")
    assert code == 0 and "erased user" in out, err
    db = Database(cli_env(tmp_path).get("METAHALL_DATABASE_URL")
                  or f"sqlite+aiosqlite:///{tmp_path / 'metahall.db'}")
    try:
        after = await export_user(db, user.id)
        assert after["user"]["display_name"] == ERASED_NAME and after["user"]["username"] is None
        assert after["reports_made"] == [] and after["verdicts"] == []
        assert all(m["text"] == "" for m in after["chat_in_evidence"])
        assert after["trails_in_evidence"] == [] and after["appeals"][0]["text"] == ""
        assert "text" not in after["reports_about"][0]["context"]["message"]
        assert [a["action"] for a in after["actions"]] == ["mute"]  # the sanction stays
        assert after["audit_entries"][-1]["action"] == "privacy_erase"
        async with db.session() as s:
            assert (await s.get(User, user.id)).token_version == 1  # type: ignore[union-attr]
            n = len((await s.execute(select(Report))).scalars().all())
            assert n == 1 and (await s.execute(select(ModAction))).scalars().first() is not None
        key = audit_key((tmp_path / "secret.key").read_text().strip())
        assert (await verify_audit(db, key)).ok  # erasure never edits the audit log
        if db.is_sqlite:  # not even in freed pages of the file (PostgreSQL: the export above)
            assert b"my secret plan" not in (tmp_path / "metahall.db").read_bytes()
    finally:
        await db.close()


async def _username(data_dir: Path, user_id: str) -> str:
    db = Database(cli_env(data_dir).get("METAHALL_DATABASE_URL")
                  or f"sqlite+aiosqlite:///{data_dir / 'metahall.db'}")
    try:
        async with db.session() as s:
            user = await s.get(User, user_id)
            assert user is not None and user.username
            return user.username
    finally:
        await db.close()
