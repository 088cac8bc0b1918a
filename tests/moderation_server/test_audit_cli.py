"""`metahall audit verify` on a real database: intact, then edited, deleted, cut and forged."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import sys
from pathlib import Path

from server.db.engine import Database
from server.moderation_audit import audit_key, verify_audit
from tests.helpers import cli_env, connect, guest, start_server
from tests.moderation_server.conftest import account, api


async def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *args,
        env=cli_env(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), (out + err).decode()


def _sql(data_dir: Path, *statements: str) -> None:
    with sqlite3.connect(data_dir / "metahall.db") as db:
        for stmt in statements:
            db.execute(stmt)


def _forge(data_dir: Path) -> None:
    """Edit entry 2 and recompute every hash after it, as someone without the key would."""
    with sqlite3.connect(data_dir / "metahall.db") as db:
        rows = db.execute("SELECT seq, ts, actor_id, action, target, reason, data, prev_hash "
                          "FROM audit_log ORDER BY seq").fetchall()
        prev = rows[0][7]
        for seq, ts, actor, action, target, reason, data, _ in rows:
            if seq == 1:
                prev = db.execute("SELECT hash FROM audit_log WHERE seq = 1").fetchone()[0]
                continue
            reason = "nothing happened" if seq == 2 else reason
            payload = {"seq": seq, "ts": ts, "actor_id": actor, "action": action,
                       "target": target, "reason": reason, "data": json.loads(data),
                       "prev_hash": prev}
            raw = b"metahall-audit-v1\n" + json.dumps(
                payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            digest = hashlib.sha256(raw).hexdigest()
            db.execute("UPDATE audit_log SET reason = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                       (reason, prev, digest, seq))
            prev = digest


async def test_audit_verify_detects_edits_deletions_and_forgery(tmp_path: Path) -> None:
    live = tmp_path / "live"
    # This test forges the SQLite file by hand, so it stays on SQLite in the PostgreSQL pass too.
    server = await start_server(live, database_url=f"sqlite+aiosqlite:///{live / 'metahall.db'}")
    try:
        mt, _ = await account(server, "moderator")
        ut, user = await guest(server.url, "Someone")
        u = await connect(server.url, ut)
        await u.call("join", {"room": "hall:main"})
        await u.call("chat", {"channel": "room", "text": "click here friends"})
        await server.app.mod.idle()  # case_open 1, verdict 2, then the actions 3..6
        for action in ("warn", "mute", "unmute", "kick"):
            body = {"action": action, "user_id": user["id"], "note": f"{action} test",
                    "duration_s": 600}
            assert (await api(server, "POST", "/api/mod/actions", mt, body))[0] == 201
        await server.app.mod.idle()
        await u.close()
    finally:
        await server.close()

    variants = {
        "edited": ("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3",),
        "cut": ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",),
        "data": ("UPDATE audit_log SET data = replace(data, 'other', 'spam') "
                 "WHERE action = 'mute'",),
        "deleted": ("DELETE FROM audit_log WHERE seq = 4",),
        "forged": (),
    }
    for name, statements in variants.items():
        shutil.copytree(live, tmp_path / name)
        if statements:
            _sql(tmp_path / name, *statements)
    _forge(tmp_path / "forged")
    # The command line on three copies at once; the other variants through the same function.
    (code, out), edited, cut = await asyncio.gather(
        _cli(live, "audit", "verify"), _cli(tmp_path / "edited", "audit", "verify"),
        _cli(tmp_path / "cut", "audit", "verify"))
    assert code == 0 and "audit log intact: 6 entries" in out, out
    assert edited[0] == 1 and "BROKEN at seq 3" in edited[1] and "edited" in edited[1], edited
    assert cut[0] == 1 and "BROKEN at seq 6" in cut[1] and "signed head" in cut[1], cut
    key = audit_key((live / "secret.key").read_text().strip())
    problems = {}
    for name in ("data", "deleted", "forged"):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / name / 'metahall.db'}")
        problems[name] = await verify_audit(db, key)
        await db.close()
    assert problems["data"].first_bad_seq == 4 and "edited" in str(problems["data"].problem)
    assert problems["deleted"].first_bad_seq == 4 and "missing" in str(problems["deleted"].problem)
    assert problems["forged"].first_bad_seq == 2  # without the key the new hashes do not match
    head = out.split("head ")[-1].strip()
    db = Database(f"sqlite+aiosqlite:///{live / 'metahall.db'}")
    assert (await verify_audit(db, key, expected_head=head)).ok
    assert not (await verify_audit(db, key, expected_head="0" * 64)).ok
    await db.close()
