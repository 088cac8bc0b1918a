"""Admins edit the term list over HTTP; changes and file reloads apply without a restart."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import connect, guest, start_server
from tests.moderation_server.conftest import account, api


async def test_admin_terms_and_file_reload_apply_live(tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("badword\tblock\n", encoding="utf-8")
    server = await start_server(tmp_path / "data", moderation_terms=str(terms))
    try:
        at, _ = await account(server, "admin")
        ut, _ = await guest(server.url, "Talker")
        u = await connect(server.url, ut)
        await u.call("join", {"room": "hall:main"})

        async def says(text: str) -> str:
            ack = await u.call("chat", {"channel": "room", "text": text})
            return "ok" if ack["ok"] else str(ack["error"]["code"])

        assert await says("a badword here") == "blocked"
        assert await says("the zorblax shop") == "ok"
        code, body = await api(server, "POST", "/api/mod/terms", at,
                               {"text": "zorblax", "action": "block"})
        assert code == 201 and body["total"] == 2
        assert await says("the Ｚ o r b l a x shop") == "blocked"
        code, _ = await api(server, "POST", "/api/mod/terms", at, {"text": "x", "action": "nuke"})
        assert code == 422
        code, listed = await api(server, "GET", "/api/mod/terms", at)
        assert [t["text"] for t in listed["terms"]] == ["zorblax"]
        assert (await api(server, "DELETE", f"/api/mod/terms/{body['term']['id']}", at))[0] == 200
        assert await says("zorblax again") == "ok"

        terms.write_text("badword\tblock\nnewterm\tblock\n", encoding="utf-8")
        assert await says("a newterm") == "ok"
        code, res = await api(server, "POST", "/api/mod/terms/reload", at)
        assert code == 200 and res["total"] == 2
        assert await says("is newterm blocked now?") == "blocked"
        terms.write_text("broken\tnonsense\n", encoding="utf-8")
        code, res = await api(server, "POST", "/api/mod/terms/reload", at)
        assert code == 422 and "old list stays" in res["error"]["message"]
        assert await says("still newterm after a broken file") == "blocked"  # old list kept
        _, audit = await api(server, "GET", "/api/mod/audit", at)
        assert [e["action"] for e in audit if e["action"].startswith("term")] == [
            "term_add", "term_remove", "terms_reload"]
        await u.close()
    finally:
        await server.close()
