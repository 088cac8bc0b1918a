"""The role table: who may act on whom, and who may read cases, audit and terms."""

from __future__ import annotations

from tests.helpers import LiveServer, connect
from tests.moderation_server.conftest import account, api

DAY = 86400

# (actor, action, target, extra body, expected HTTP status)
TABLE = [
    ("citizen", "warn", "citizen2", {}, 403),
    ("staff", "mute", "citizen", {"duration_s": 600}, 403),
    ("exhibitor", "kick", "citizen", {}, 403),
    ("moderator", "warn", "citizen", {}, 201),
    ("moderator", "mute", "staff", {"duration_s": 600}, 201),
    ("moderator", "mute", "moderator2", {"duration_s": 600}, 403),
    ("moderator", "ban", "admin", {"duration_s": DAY}, 403),
    ("moderator", "ban", "citizen", {}, 403),  # permanent: admins only
    ("moderator", "ban", "citizen", {"duration_s": 60 * DAY}, 403),  # longer than 30 days
    ("moderator", "ban", "citizen", {"duration_s": 7 * DAY}, 201),
    ("moderator", "warn", "moderator", {}, 403),  # themselves
    ("admin", "ban", "moderator2", {}, 201),
    ("admin", "warn", "admin2", {}, 403),
    ("admin", "ban", "citizen2", {}, 201),
    ("moderator", "unban", "citizen2", {}, 201),
]


async def test_who_may_act_on_whom(server: LiveServer) -> None:
    people = {}
    for name in ("citizen", "citizen2", "staff", "exhibitor", "moderator", "moderator2",
                 "admin", "admin2"):
        people[name] = await account(server, name.rstrip("2"), name)
    for actor, action, target, extra, expected in TABLE:
        body = {"action": action, "user_id": people[target][1].id, "note": "role table",
                **extra}
        code, out = await api(server, "POST", "/api/mod/actions", people[actor][0], body)
        assert code == expected, (actor, action, target, extra, out)
        if code == 403:
            assert out["error"]["code"] == "forbidden"


async def test_messages_rooms_and_reading_follow_the_roles_too(server: LiveServer) -> None:
    ct, _ = await account(server, "citizen")
    mt, _ = await account(server, "moderator")
    at, _ = await account(server, "admin")
    boss = await connect(server.url, at)
    try:
        await boss.call("join", {"room": "hall:main"})
        said = await boss.call("chat", {"channel": "room", "text": "official notice"})
        code, _ = await api(server, "POST", "/api/mod/actions", mt, {
            "action": "redact", "message_id": said["id"], "note": "no"})
        assert code == 403  # the author outranks the moderator
        code, _ = await api(server, "POST", "/api/mod/actions", ct, {
            "action": "lock", "room_id": "hall:main", "note": "mine now"})
        assert code == 403
        code, _ = await api(server, "POST", "/api/mod/actions", ct, {
            "action": "warn", "user_id": "x", "note": "n", "actor_id": "admin", "roles": ["admin"]})
        assert code == 403  # the body cannot claim a role
        for path in ("/api/mod/cases", "/api/mod/audit", "/api/mod/appeals", "/api/mod/terms",
                     "/api/mod/actions"):
            assert (await api(server, "GET", path, ct))[0] == 403, path
            assert (await api(server, "GET", path))[0] == 401, path
            assert (await api(server, "GET", path, mt))[0] == 200, path
        assert (await api(server, "GET", "/api/mod/audit/verify", mt))[0] == 403
        code, res = await api(server, "GET", "/api/mod/audit/verify", at)
        assert code == 200 and res["ok"] is True
        assert (await api(server, "POST", "/api/mod/terms", mt, {"text": "zzz"}))[0] == 403
        assert (await api(server, "POST", "/api/mod/terms/reload", mt))[0] == 403
    finally:
        await boss.close()
