"""HTTP API of moderation. ``/api/mod/...`` needs a Bearer token with the moderator role (some
routes admin); ``/api/appeals`` and ``/api/me/moderation`` are for every signed-in user."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import select

from moderation.errors import TermFileError
from moderation.termfile import parse_terms
from rooms.errors import BadRequest, Forbidden, NotFound
from server.auth.service import UserInfo
from server.db.models import ModAction, ModAppeal, ModMeta, ModTerm, new_id, now_ms
from server.http_api import APP_KEY, current_user, json_body
from server.moderation_actions import APPEALABLE, appeal_dict
from server.moderation_audit import audit_entries, verify_audit
from server.moderation_roles import rank
from server.moderation_service import ModerationService
from server.moderation_store import action_dict, get_case, list_cases

__all__ = ["routes"]

routes = web.RouteTableDef()


def _svc(request: web.Request) -> ModerationService:
    return request.app[APP_KEY].mod


async def _user(request: web.Request, min_rank: int = 1) -> UserInfo:
    user = await current_user(request)
    assert user is not None
    if rank(user.roles) < min_rank:
        raise Forbidden("This needs the moderator role." if min_rank == 1
                        else "This needs the admin role.")
    return user


def _int(request: web.Request, key: str, default: int, hi: int) -> int:
    raw = request.query.get(key, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) > hi:
        raise BadRequest(f"{key} must be an integer in 0..{hi}", field=key)
    return int(raw)


# -- cases ----------------------------------------------------------------------------------
@routes.get("/api/mod/cases")
async def cases(request: web.Request) -> web.Response:
    await _user(request)
    status = request.query.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise BadRequest("status must be open, closed or all", field="status")
    found = await list_cases(_svc(request).app.db, status, _int(request, "limit", 200, 1000))
    return web.json_response(found)


@routes.get("/api/mod/cases/{case_id}")
async def case(request: web.Request) -> web.Response:
    await _user(request)
    return web.json_response(await get_case(_svc(request).app.db, request.match_info["case_id"]))


# -- actions --------------------------------------------------------------------------------
@routes.post("/api/mod/actions")
async def act(request: web.Request) -> web.Response:
    user = await _user(request)
    out = await _svc(request).desk.act(user, await json_body(request))
    return web.json_response({"action": out}, status=201)


@routes.get("/api/mod/actions")
async def actions(request: web.Request) -> web.Response:
    await _user(request)
    q = select(ModAction).order_by(ModAction.created_at.desc()).limit(
        _int(request, "limit", 100, 1000))
    if "user_id" in request.query:
        q = q.where(ModAction.target_user_id == request.query["user_id"])
    async with _svc(request).app.db.session() as s:
        rows = (await s.execute(q)).scalars().all()
    return web.json_response([action_dict(a) for a in rows])


# -- appeals --------------------------------------------------------------------------------
@routes.get("/api/mod/appeals")
async def appeals(request: web.Request) -> web.Response:
    await _user(request)
    status = request.query.get("status", "open")
    q = select(ModAppeal, ModAction).join(ModAction, ModAction.id == ModAppeal.action_id)
    if status != "all":
        q = q.where(ModAppeal.status == status)
    async with _svc(request).app.db.session() as s:
        rows = (await s.execute(q.order_by(ModAppeal.created_at).limit(500))).all()
    return web.json_response([{**appeal_dict(p), "action": action_dict(a)} for p, a in rows])


@routes.post("/api/mod/appeals/{appeal_id}")
async def decide(request: web.Request) -> web.Response:
    user = await _user(request)
    out = await _svc(request).desk.decide(user, request.match_info["appeal_id"],
                                          await json_body(request))
    return web.json_response({"appeal": out})


@routes.post("/api/appeals")
async def appeal(request: web.Request) -> web.Response:
    user = await _user(request, 0)
    out = await _svc(request).desk.appeal(user, await json_body(request))
    return web.json_response({"appeal": out}, status=201)


@routes.get("/api/me/moderation")
async def mine(request: web.Request) -> web.Response:
    """Actions taken on the signed-in user (a banned user can read why, and appeal)."""
    user = await _user(request, 0)
    async with _svc(request).app.db.session() as s:
        rows = (await s.execute(select(ModAction).where(
            ModAction.target_user_id == user.id, ModAction.action.in_(APPEALABLE))
            .order_by(ModAction.created_at.desc()).limit(100))).scalars().all()
        ids = [a.id for a in rows]
        mine = {p.action_id: p for p in (await s.execute(select(ModAppeal).where(
            ModAppeal.action_id.in_(ids)))).scalars()} if ids else {}
    out = []
    for a in rows:
        item = {k: v for k, v in action_dict(a).items() if k not in ("actor_id", "audit_seq")}
        p = mine.get(a.id)
        item["appeal"] = None if p is None else {"id": p.id, "status": p.status,
                                                 "decision_note": p.decision_note}
        out.append(item)
    return web.json_response({"actions": out})


# -- audit ----------------------------------------------------------------------------------
@routes.get("/api/mod/audit")
async def audit(request: web.Request) -> web.Response:
    await _user(request)
    entries = await audit_entries(_svc(request).app.db, _int(request, "after", 0, 2**62),
                                  _int(request, "limit", 200, 1000))
    return web.json_response([e.to_dict() for e in entries])


@routes.get("/api/mod/audit/verify")
async def audit_verify(request: web.Request) -> web.Response:
    await _user(request, 2)
    svc = _svc(request)
    res = await verify_audit(svc.app.db, svc.mdb.key)
    return web.json_response({"ok": res.ok, "checked": res.checked, "head": res.head,
                              "first_bad_seq": res.first_bad_seq, "problem": res.problem})


# -- terms ----------------------------------------------------------------------------------
def _term(t: ModTerm) -> dict[str, Any]:
    return {"id": t.id, "text": t.text, "action": t.action, "created_by": t.created_by,
            "created_at": t.created_at}


@routes.get("/api/mod/terms")
async def terms(request: web.Request) -> web.Response:
    await _user(request)
    svc = _svc(request)
    async with svc.app.db.session() as s:
        rows = (await s.execute(select(ModTerm).where(ModTerm.deleted_at.is_(None))
                                .order_by(ModTerm.created_at))).scalars().all()
    return web.json_response({"file": str(svc.gate.terms_path), "total": len(svc.gate.terms),
                              "terms": [_term(t) for t in rows]})


async def _bump(tx: Any, now: int) -> None:
    meta = await tx.session.get(ModMeta, "terms_version")
    value = json.dumps({"at": now, "n": new_id()[:8]})
    if meta is None:
        tx.session.add(ModMeta(key="terms_version", value=value))
    else:
        meta.value = value


@routes.post("/api/mod/terms")
async def add_term(request: web.Request) -> web.Response:
    """Admin: add a term ``{"text", "action": "block"|"flag"|"redact"|"allow"}``; live at once."""
    user = await _user(request, 2)
    data = await json_body(request)
    text, action = data.get("text"), data.get("action", "block")
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= 200 or "\n" in text \
            or "\t" in text:
        raise BadRequest("text must be one line of 1..200 characters", field="text")
    try:
        parsed = parse_terms([f"{text.strip()}\t{action}"], source="http")
    except TermFileError as exc:
        raise BadRequest(str(exc), field="action") from exc
    svc = _svc(request)
    now = now_ms()

    async def fn(tx: Any) -> ModTerm:
        row = ModTerm(id=new_id(), text=parsed[0].text, action=parsed[0].action,
                      created_by=user.id, created_at=now, updated_at=now)
        tx.session.add(row)
        await _bump(tx, now)
        await tx.audit(user.id, "term_add", row.id, "", {"text": row.text,
                                                         "action": row.action}, ts=now)
        return row

    row = await svc.mdb.write(fn)
    await svc.reload_terms()
    return web.json_response({"term": _term(row), "total": len(svc.gate.terms)}, status=201)


@routes.delete("/api/mod/terms/{term_id}")
async def delete_term(request: web.Request) -> web.Response:
    user = await _user(request, 2)
    svc = _svc(request)
    now = now_ms()
    term_id = request.match_info["term_id"]

    async def fn(tx: Any) -> None:
        row = await tx.session.get(ModTerm, term_id)
        if row is None or row.deleted_at is not None:
            raise NotFound("No such term.")
        row.deleted_at, row.updated_at = now, now
        await _bump(tx, now)
        await tx.audit(user.id, "term_remove", term_id, "", {"text": row.text}, ts=now)

    await svc.mdb.write(fn)
    await svc.reload_terms()
    return web.json_response({"ok": True, "total": len(svc.gate.terms)})


@routes.post("/api/mod/terms/reload")
async def reload_terms(request: web.Request) -> web.Response:
    """Admin: re-read the term file (METAHALL_MODERATION_TERMS) without a restart."""
    user = await _user(request, 2)
    svc = _svc(request)
    try:
        total = await svc.reload_terms()
    except TermFileError as exc:
        raise BadRequest(f"The term file has an error; the old list stays: {exc}") from exc

    async def fn(tx: Any) -> None:
        await _bump(tx, now_ms())
        await tx.audit(user.id, "terms_reload", "", "", {"total": total})

    await svc.mdb.write(fn)
    return web.json_response({"ok": True, "total": total})
