"""Moderation actions and appeals: checked against the role table, audited, applied live.

An action is written (action row, case status, audit entry) before it takes effect; then this
process applies it to its own connections and rooms, and every other process applies it when
its sync loop sees the row (``apply_remote``). Users are told what happened and why in their
own language (the ``moderation`` event); a kick or ban then closes their connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from moderation import ActionContext
from rooms.client import Client
from rooms.errors import BadRequest, Conflict, Forbidden, NotFound
from rooms.payloads import clean_text, get_str, require_mapping
from server.auth.service import UserInfo
from server.db.models import ModAction, ModAppeal, ModCase, ModEvidence, new_id
from server.moderation_roles import Sanction, authorize, parse_action, rank
from server.moderation_store import action_dict, case_summary
from server.moderation_texts import appeal_message, lang_of, notice, reason_label

if TYPE_CHECKING:
    from server.moderation_service import ModerationService

__all__ = ["ActionDesk", "APPEALABLE"]

log = logging.getLogger("metahall.moderation")
APPEALABLE = ("warn", "mute", "kick", "ban", "redact")
KICK_GRACE_S = 0.2
"""Time for the ``moderation`` notice to leave before a kick or ban closes the connection."""


def _now() -> int:
    return int(time.time() * 1000)


class ActionDesk:
    def __init__(self, service: ModerationService) -> None:
        self.svc = service
        self.app = service.app

    # -- taking an action ---------------------------------------------------------------
    async def socket_action(self, client: Client, payload: object) -> dict[str, Any]:
        """``mod.action`` event: same payload and rules as ``POST /api/mod/actions``."""
        user = await self.app.accounts.get(client.user.id)
        if user is None:
            raise Forbidden("Sign in again.")
        return {"action": await self.act(user, require_mapping(payload))}

    async def room_lock(self, client: Client, payload: object) -> dict[str, Any]:
        """``room.lock`` {"locked": bool, "note"?} on the caller's room, as an audited action."""
        if not client.has_role("moderator"):
            raise Forbidden("Only moderators can lock a room.")
        data = require_mapping(payload)
        locked = data.get("locked")
        if not isinstance(locked, bool):
            raise BadRequest("locked must be true or false", field="locked")
        room = client.room
        if room is None:
            raise NotFound("You are not in a room.")
        user = await self.app.accounts.get(client.user.id)
        if user is None:
            raise Forbidden("Sign in again.")
        note = data.get("note") if isinstance(data.get("note"), str) else None
        await self.act(user, {"action": "lock" if locked else "unlock", "room_id": room.id,
                              "reason": "disruption", "note": note or "room.lock (in the room)"})
        return {"locked": locked}

    async def act(self, actor: UserInfo, data: Mapping[str, Any]) -> dict[str, Any]:
        if rank(actor.roles) < 1:
            raise Forbidden("Only moderators can take moderation actions.")
        cfg = self.svc.config
        req = parse_action(data, cfg.max_mute_s)
        case = await self._case(req.case_id) if req.case_id else None
        room_id = req.room_id
        target_id = req.user_id
        if req.action == "redact":
            assert req.message_id is not None
            author, msg_room = await self._author(req.message_id, case)
            if target_id is not None and target_id != author:
                raise BadRequest("user_id is not the author of message_id.", field="user_id")
            target_id, room_id = author, room_id or msg_room
        if req.action in ("lock", "unlock"):
            room_id = room_id or (case.room_id if case else None)
        target = await self.app.accounts.get(target_id) if target_id else None
        if target_id and target is None:
            raise NotFound("No such user.")
        authorize(actor.id, actor.roles, req, target_id, target.roles if target else None,
                  cfg.moderator_max_ban_s)
        now = _now()
        until = now + req.duration_s * 1000 if req.duration_s and req.action in (
            "mute", "ban") else None

        async def fn(tx: Any) -> tuple[ModAction, ModCase | None]:
            s = tx.session
            row = ModAction(id=new_id(), created_at=now, updated_at=now, actor_id=actor.id,
                            action=req.action, target_user_id=target_id,
                            message_id=req.message_id, room_id=room_id, case_id=req.case_id,
                            reason_code=req.reason, note=req.note, until=until,
                            origin=self.svc.origin)
            s.add(row)
            if req.action in ("unmute", "unban"):
                await s.execute(update(ModAction).where(
                    ModAction.target_user_id == target_id,
                    ModAction.action == req.action[2:], ModAction.revoked_at.is_(None)
                ).values(revoked_at=now, revoked_by=actor.id, updated_at=now))
            closed = None
            if req.case_id:
                closed = await s.get(ModCase, req.case_id)
                if closed is not None and closed.status == "open":
                    closed.status = "dismissed" if req.action == "dismiss" else "actioned"
                    closed.closed_at, closed.closed_by = now, actor.id
                    closed.resolution = req.note
                    closed.updated_at = now
            entry = await tx.audit(actor.id, req.action,
                                   target_id or room_id or req.case_id or "", req.note,
                                   {"action_id": row.id, "case_id": req.case_id,
                                    "message_id": req.message_id, "room_id": room_id,
                                    "until": until, "reason": req.reason}, ts=now)
            row.audit_seq = entry.seq
            return row, closed

        row, closed = await self.svc.mdb.write(fn)
        log.info("moderation action=%s by=%s target=%s id=%s", req.action, actor.id,
                 target_id or room_id or req.case_id, row.id)
        self.apply(row, notify=True)
        if self.app.cluster is not None:  # the other processes apply it now, not at their next poll
            await self.app.cluster.publish("mod.sync")
        if closed is not None:
            self.svc.notify_moderators("mod.case", case_summary(closed))
        await self.svc.gate.callbacks.on_action(ActionContext(
            actor_id=actor.id, action=req.action, target=target_id or room_id or "",
            reason=req.note, until=until, room_id=room_id, audit_seq=row.audit_seq))
        return action_dict(row)

    async def act_in_space(self, actor: UserInfo, action: str, *, room_id: str, target_id: str,
                           note: str, until: int | None = None,
                           reason: str = "disruption") -> ModAction:
        """A space host's action inside their social space (``space_mute``, ``space_unmute``,
        ``space_kick``): written and audited like any action, in the same table and chain.

        The caller (``server/social_service.py``) has checked who may act and applies the
        effect, which binds that space only; ``apply`` ignores these actions, so other
        processes' sync loops leave them alone. ``space_unmute`` revokes the open mutes."""
        if action not in ("space_mute", "space_unmute", "space_kick"):
            raise BadRequest(f"{action!r} is not a space action", field="action")
        now = _now()

        async def fn(tx: Any) -> ModAction:
            s = tx.session
            row = ModAction(id=new_id(), created_at=now, updated_at=now, actor_id=actor.id,
                            action=action, target_user_id=target_id, room_id=room_id,
                            reason_code=reason, note=note, until=until, origin=self.svc.origin)
            s.add(row)
            if action == "space_unmute":
                await s.execute(update(ModAction).where(
                    ModAction.target_user_id == target_id, ModAction.room_id == room_id,
                    ModAction.action == "space_mute", ModAction.revoked_at.is_(None)
                ).values(revoked_at=now, revoked_by=actor.id, updated_at=now))
            entry = await tx.audit(actor.id, action, target_id, note,
                                   {"action_id": row.id, "room_id": room_id, "until": until,
                                    "reason": reason}, ts=now)
            row.audit_seq = entry.seq
            return row

        row = await self.svc.mdb.write(fn)
        log.info("moderation action=%s by=%s target=%s room=%s id=%s", action, actor.id,
                 target_id, room_id, row.id)
        await self.svc.gate.callbacks.on_action(ActionContext(
            actor_id=actor.id, action=action, target=target_id, reason=note, until=until,
            room_id=room_id, audit_seq=row.audit_seq))
        return row

    async def _case(self, case_id: str) -> ModCase:
        async with self.app.db.session() as s:
            case = await s.get(ModCase, case_id)
        if case is None:
            raise NotFound(f"No case {case_id!r}.")
        return case

    async def _author(self, message_id: str, case: ModCase | None) -> tuple[str, str | None]:
        """Who wrote a message: from a live chat log, else from a case's evidence."""
        found = self.svc.find_message(message_id)
        if found is not None:
            return str(found[1]["from"]["user_id"]), found[0].id
        async with self.app.db.session() as s:
            q = select(ModEvidence.data)
            if case is not None:
                q = q.where(ModEvidence.case_id == case.id)
            for data in (await s.execute(q.where(ModEvidence.data.contains(message_id))
                                         .limit(20))).scalars():
                doc = json.loads(data)
                for m in doc.get("chat", []):
                    if m.get("id") == message_id:
                        return str(m["from"]["user_id"]), doc.get("room")
        raise NotFound("No such message.")

    # -- applying it -----------------------------------------------------------------------
    def apply_remote(self, row: ModAction) -> None:
        """An action another process wrote: a new row acts fully, a revocation only uncaches."""
        if row.revoked_at is not None:
            if row.target_user_id and row.action in ("mute", "ban"):
                self.svc.sanctions.drop(row.target_user_id, row.action)
            return
        self.apply(row, notify=row.created_at == row.updated_at)

    def apply(self, row: ModAction, notify: bool) -> None:
        """Make an action take effect on this process's connections and rooms."""
        a, uid = row.action, row.target_user_id
        cache = self.svc.sanctions
        if a in ("mute", "ban") and uid:
            cache.put(uid, Sanction(row.id, a, row.until, row.reason_code, row.note))
        elif a in ("unmute", "unban") and uid:
            cache.drop(uid, a[2:])
        elif a in ("lock", "unlock") and row.room_id:
            locked = a == "lock"
            (self.svc.locked_rooms.add if locked else self.svc.locked_rooms.discard)(row.room_id)
            self.app.registry.set_locked(row.room_id, locked)
            for inst in self.app.registry.instances(row.room_id):
                inst.broadcast("room.locked", {"room": row.room_id, "locked": locked,
                                               "by": row.actor_id})
        if not notify:
            return
        if a == "redact":
            self._redact(row)
        elif uid and a in ("warn", "mute", "unmute", "kick", "ban"):
            self._tell(row, self.app.realtime.presence(uid), appeal=a in APPEALABLE)
            if a in ("kick", "ban"):
                loop = asyncio.get_running_loop()
                for c in self.app.realtime.presence(uid):
                    loop.call_later(KICK_GRACE_S, self.app.realtime.outbox.disconnect, c.sid)

    def _payload(self, row: ModAction, lang: str, appeal: bool) -> dict[str, Any]:
        seconds = None if row.until is None else max(1, (row.until - row.created_at) // 1000)
        out: dict[str, Any] = {
            "action": row.action, "id": row.id, "reason": reason_label(row.reason_code, lang),
            "reason_code": row.reason_code, "note": row.note, "appeal": appeal,
            "message": notice(row.action, lang, reason_code=row.reason_code, note=row.note,
                              seconds=seconds, appeal=appeal)}
        if row.until is not None:
            out["until"] = row.until
        if row.message_id:
            out["message_id"] = row.message_id
        return out

    def _tell(self, row: ModAction, clients: list[Client], appeal: bool) -> None:
        outbox = self.app.realtime.outbox
        for c in clients:
            outbox.emit(c.sid, "moderation", self._payload(row, lang_of(c.lang), appeal))

    def _redact(self, row: ModAction) -> None:
        """Blank the message in every chat log here; everyone in those rooms is told."""
        author = row.target_user_id
        told: set[str] = set()
        for room in self.app.registry.rooms():
            hit = False
            for m in room.chat_log:
                if m.get("id") == row.message_id:
                    m["text"], m["redacted"], hit = "", True, True
            if hit or (row.room_id == room.id):
                others = [c for c in room.clients.values() if c.user.id != author]
                self._tell(row, others, appeal=False)
                told.update(c.sid for c in others)
        if author:
            self._tell(row, [c for c in self.app.realtime.presence(author)
                             if c.sid not in told], appeal=True)

    # -- appeals ---------------------------------------------------------------------------
    async def appeal(self, user: UserInfo, data: Mapping[str, Any]) -> dict[str, Any]:
        """A user's one appeal against an action taken on them."""
        action_id = get_str(data, "action_id", max_len=32)
        text = clean_text(data.get("text"), "text", min_visible=2, max_len=2000,
                          single_line=False)
        now = _now()

        async def fn(tx: Any) -> ModAppeal:
            s = tx.session
            action = await s.get(ModAction, action_id)
            if action is None or action.target_user_id != user.id:
                raise NotFound("No such action against you.")
            if action.action not in APPEALABLE:
                raise BadRequest("That action cannot be appealed.", field="action_id")
            if (await s.execute(select(ModAppeal.id).where(ModAppeal.action_id == action_id))
                    ).first() is not None:
                raise Conflict("You have already appealed this action.")
            row = ModAppeal(id=new_id(), action_id=action_id, user_id=user.id, text=text,
                            status="open", created_at=now)
            s.add(row)
            await tx.audit(user.id, "appeal", action_id, "", {"appeal_id": row.id}, ts=now)
            return row

        row = await self.svc.mdb.write(fn)
        out = appeal_dict(row)
        self.svc.notify_moderators("mod.appeal", out)
        return out

    async def decide(self, actor: UserInfo, appeal_id: str,
                     data: Mapping[str, Any]) -> dict[str, Any]:
        """Uphold or overturn an appeal; someone other than the acting moderator decides."""
        if rank(actor.roles) < 1:
            raise Forbidden("Only moderators can decide appeals.")
        decision = data.get("decision")
        if decision not in ("upheld", "overturned"):
            raise BadRequest("decision must be 'upheld' or 'overturned'", field="decision")
        note = clean_text(data.get("note"), "note", min_visible=2, max_len=1000,
                          single_line=False)
        now = _now()

        async def fn(tx: Any) -> tuple[ModAppeal, ModAction]:
            s = tx.session
            appeal = await s.get(ModAppeal, appeal_id)
            if appeal is None:
                raise NotFound("No such appeal.")
            if appeal.status != "open":
                raise Conflict("This appeal has been decided.")
            action = await s.get(ModAction, appeal.action_id)
            assert action is not None
            if action.actor_id == actor.id and rank(actor.roles) < 2:
                raise Forbidden("Another moderator must review an appeal of your own action.")
            appeal.status, appeal.decided_at = decision, now
            appeal.decided_by, appeal.decision_note = actor.id, note
            if decision == "overturned" and action.revoked_at is None:
                action.revoked_at, action.revoked_by, action.updated_at = now, actor.id, now
            await tx.audit(actor.id, "appeal_" + decision, appeal.action_id, note,
                           {"appeal_id": appeal.id}, ts=now)
            return appeal, action

        appeal, action = await self.svc.mdb.write(fn)
        if decision == "overturned" and action.target_user_id and action.action in ("mute", "ban"):
            self.svc.sanctions.drop(action.target_user_id, action.action)
        outbox = self.app.realtime.outbox
        for c in self.app.realtime.presence(appeal.user_id):
            outbox.emit(c.sid, "moderation", {
                "action": "appeal", "id": action.id, "decision": decision, "note": note,
                "message": appeal_message(decision, c.lang, note)})
        return appeal_dict(appeal)


def appeal_dict(a: ModAppeal) -> dict[str, Any]:
    return {"id": a.id, "action_id": a.action_id, "user_id": a.user_id, "text": a.text,
            "status": a.status, "created_at": a.created_at, "decided_at": a.decided_at,
            "decided_by": a.decided_by, "decision_note": a.decision_note}
