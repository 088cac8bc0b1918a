"""The moderation service of one server process: verdicts to cases, reports, checks, sync.

* ``record`` is the sink of every non-allow verdict (``ModerationGate``). Verdicts are queued
  and written in batches by a background writer, so a flood of blocked messages never waits
  on the database; a ``Flag`` first copies the room's evidence (chat, trail snapshot) at that
  moment. Chat verdicts are held until the message has an id and sits in the room's chat log.
* ``report`` (the ``report`` event) is written - report, case, evidence, audit entry - before
  it is acknowledged.
* ``join_check`` / ``connect_refusal`` / the chat wrapper enforce bans, locks and mutes from an
  in-memory cache; ``check_text`` / ``check_upload`` are the gates later features call.
* Actions and appeals live in :mod:`server.moderation_actions`; retention, export and erasure
  in :mod:`server.moderation_privacy`.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from moderation import (
    ALLOW,
    ChatContext,
    FlagContext,
    JoinContext,
    ReportContext,
    TokenBucketLimiter,
    UploadContext,
)
from moderation.termfile import Term, read_terms
from moderation.verdicts import Block, Flag, Redact, Severity, Verdict, user_message
from rooms.base import Room
from rooms.client import Client
from rooms.errors import (
    BadRequest,
    Banned,
    Blocked,
    Forbidden,
    Muted,
    NotFound,
    RateLimited,
)
from rooms.payloads import clean_text, get_str, require_mapping
from server.auth.service import UserInfo
from server.db.models import ModAction, ModMeta, ModTerm, Report, new_id
from server.moderation_actions import ActionDesk
from server.moderation_audit import ModerationDb, audit_key
from server.moderation_config import ModerationConfig
from server.moderation_evidence import Capture, capture, materialise
from server.moderation_privacy import sweep
from server.moderation_roles import Sanction, SanctionCache
from server.moderation_store import (
    VerdictItem,
    add_evidence,
    case_summary,
    insert_verdict,
    open_or_extend,
)
from server.moderation_texts import banned_message, lang_of, muted_message

if TYPE_CHECKING:
    from server.app import App

__all__ = ["ModerationService"]

log = logging.getLogger("metahall.moderation")
_PENDING: contextvars.ContextVar[list[VerdictItem] | None] = contextvars.ContextVar(
    "metahall_pending_chat_verdicts", default=None)
BATCH = 200
LINGER_S = 0.05
DEDUPE_MS = 10 * 60 * 1000
_REPORT_LIMITED = {"zh-CN": "举报过于频繁，请稍后再试。",
                   "en": "You have sent many reports; please wait before sending more."}


def _now() -> int:
    return int(time.time() * 1000)


def _weight(roles: tuple[str, ...], is_guest: bool) -> float:
    if "moderator" in roles or "admin" in roles:
        return 2.0
    return 0.5 if is_guest else 1.0


def _severity(weight: float) -> int:
    return int(Severity.HIGH if weight >= 3 else Severity.MEDIUM if weight >= 1.5
               else Severity.LOW)


class ModerationService:
    def __init__(self, app: App, config: ModerationConfig | None = None) -> None:
        self.app = app
        self.config = cfg = config or ModerationConfig.from_env()
        self.gate = app.moderation
        self.mdb = ModerationDb(app.db, audit_key(app.settings.load_secret()))
        self.sanctions = SanctionCache()
        self.locked_rooms: set[str] = set()
        self.origin = new_id()[:16]
        self._queue: asyncio.Queue[tuple[VerdictItem, Capture | None]] = asyncio.Queue(
            maxsize=cfg.verdict_queue)
        self._dropped = 0
        self._reports = TokenBucketLimiter(rate=cfg.reports_per_hour / 3600.0,
                                           burst=cfg.reports_burst)
        self._mark = 0
        self._seen: set[tuple[str, int]] = set()
        self._terms_version = ""
        self.desk = ActionDesk(self)
        self.gate.sink = self.record
        rt = app.realtime
        rt.on("chat", self._wrap_chat(rt.handlers["chat"]))
        rt.on("report", self.report)
        rt.on("mod.action", self.desk.socket_action)
        rt.on("room.lock", self.desk.room_lock)  # same wire shape, now audited
        app.join_checks.append(self.join_check)

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Load active sanctions, room locks and admin terms; start the background tasks."""
        now = _now()
        async with self.app.db.session() as s:
            rows = (await s.execute(select(ModAction).where(
                ModAction.action.in_(("mute", "ban", "lock", "unlock")),
                ModAction.revoked_at.is_(None)).order_by(ModAction.created_at))).scalars().all()
        for r in rows:
            if r.action in ("lock", "unlock") and r.room_id:
                (self.locked_rooms.add if r.action == "lock" else self.locked_rooms.discard)(
                    r.room_id)
            elif r.target_user_id and (r.until is None or r.until > now):
                self.sanctions.put(r.target_user_id, Sanction(
                    r.id, r.action, r.until, r.reason_code, r.note))
        self._mark = now
        await self.reload_terms(force=False)
        self.app.spawn(self._writer(), "moderation-writer")
        self.app.spawn(self._loop(self.config.sync_interval_s, self.sync_once), "moderation-sync")
        self.app.spawn(self._loop(self.config.sweep_interval_s, self.sweep_once),
                       "moderation-retention")

    async def stop(self) -> None:
        """Write what is still queued (the writer task is cancelled with the app's tasks)."""
        batch: list[tuple[VerdictItem, Capture | None]] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
            self._queue.task_done()
        if batch:
            await self._write_batch(batch)

    async def idle(self) -> None:
        """Wait until every queued verdict is written (tests, shutdown)."""
        await self._queue.join()

    async def _loop(self, every: float, fn: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("moderation task failed fn=%s", getattr(fn, "__name__", fn))

    # -- verdicts ---------------------------------------------------------------------------
    async def record(self, hook: str, verdict: Verdict, ctx: object) -> None:
        """The gate's sink: queue the verdict (chat verdicts wait for their message id)."""
        text = getattr(ctx, "text", None) if hook in ("check_chat", "check_display_name") \
            else getattr(ctx, "filename", None)
        item = VerdictItem(ts=_now(), hook=hook, verdict=verdict,
                           user_id=getattr(ctx, "user_id", None) or None,
                           room_id=getattr(ctx, "room_id", None) or None,
                           channel=getattr(ctx, "channel", None), text=text)
        pending = _PENDING.get()
        if pending is not None and hook == "check_chat":
            pending.append(item)
            return
        cap = None
        if isinstance(verdict, Flag) and item.user_id:
            room = self._room_of(item.user_id, item.room_id)
            if room is not None:
                cap = self._capture(room, [item.user_id], item.ts)
        self._enqueue(item, cap)

    def _capture(self, room: Room, involved: list[str], now: int,
                 witnesses: tuple[str, ...] = ()) -> Capture:
        cfg = self.config
        return capture(room, involved, now, int(cfg.evidence_window_s * 1000), cfg.near_radius_m,
                       witnesses)

    def _room_of(self, user_id: str, room_id: str | None) -> Room | None:
        rooms = [c.room for c in self.app.realtime.presence(user_id) if c.room is not None]
        for room in rooms:
            if room_id is None or room.id == room_id:
                return room
        return rooms[0] if rooms else None

    def _enqueue(self, item: VerdictItem, cap: Capture | None) -> None:
        try:
            self._queue.put_nowait((item, cap))
        except asyncio.QueueFull:
            self._dropped += 1

    def _wrap_chat(self, inner: Callable[[Client, object], Awaitable[dict[str, Any] | None]]
                   ) -> Callable[[Client, object], Awaitable[dict[str, Any] | None]]:
        async def chat(client: Client, payload: object) -> dict[str, Any] | None:
            self.enforce_mute(client.user.id, client.lang)
            pending: list[VerdictItem] = []
            token = _PENDING.set(pending)
            ack: dict[str, Any] | None = None
            try:
                ack = await inner(client, payload)
                return ack
            finally:
                _PENDING.reset(token)
                if pending:
                    self._after_chat(client, pending, (ack or {}).get("id"))

        return chat

    def _after_chat(self, client: Client, pending: list[VerdictItem],
                    message_id: str | None) -> None:
        room = client.room
        cap = None
        if room is not None and any(isinstance(i.verdict, Flag) for i in pending):
            cap = self._capture(room, [client.user.id], _now())  # the message is in the log
        for item in pending:
            item.message_id = message_id
            self._enqueue(item, cap if isinstance(item.verdict, Flag) else None)

    async def _writer(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(LINGER_S)  # let a burst gather: one transaction for all of it
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("writing %d moderation verdicts failed", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write_batch(self, batch: list[tuple[VerdictItem, Capture | None]]) -> None:
        docs = [await materialise(cap) if cap is not None else None for _, cap in batch]
        dropped, self._dropped = self._dropped, 0

        async def fn(tx: Any) -> list[tuple[Any, bool, VerdictItem]]:
            touched = []
            for (item, cap), doc in zip(batch, docs, strict=True):
                case_id = None
                if isinstance(item.verdict, Flag):
                    room_id = item.room_id or (cap.room_id if cap else "") or "-"
                    case, created = await open_or_extend(
                        tx, room_id=room_id, instance=cap.instance if cap else None,
                        subjects=[item.user_id] if item.user_id else [],
                        severity=int(item.verdict.severity), reason=item.verdict.reason,
                        source="flag", now=item.ts)
                    if doc is not None:
                        add_evidence(tx, case.id, doc, item.ts)
                    case_id = case.id
                    touched.append((case, created, item))
                await insert_verdict(tx, item, case_id)
            if dropped:
                await tx.audit("system", "verdicts_dropped", "", "verdict queue full",
                               {"count": dropped})
            return touched

        touched = await self.mdb.write(fn)
        for case, _created, item in touched:
            self.notify_moderators("mod.case", case_summary(case))
            assert isinstance(item.verdict, Flag)
            await self.gate.callbacks.on_flag(FlagContext(
                flag_id=case.id, room_id=case.room_id, reason=item.verdict.reason,
                severity=item.verdict.severity, user_ids=tuple(json.loads(case.subjects)),
                source=item.hook))

    def notify_moderators(self, event: str, data: Any) -> None:
        self.app.realtime.to_role("moderator", event, data)

    # -- reports ----------------------------------------------------------------------------
    def find_message(self, message_id: str, prefer: Room | None = None
                     ) -> tuple[Room, dict[str, Any]] | None:
        """A recent chat line by id, in ``prefer`` first, then in every room of this process."""
        rooms = [prefer] if prefer is not None else []
        rooms += [r for r in self.app.registry.rooms() if r is not prefer]
        for room in rooms:
            for m in reversed(room.chat_log):
                if m.get("id") == message_id:
                    return room, m
        return None

    async def report(self, client: Client, payload: object) -> dict[str, Any]:
        """``report`` {"user_id"?, "message_id"?, "reason"} → {"report_id"}; stored first."""
        data = require_mapping(payload)
        reason = clean_text(data.get("reason"), "reason", max_len=500, single_line=False)
        target_id = get_str(data, "user_id", required=False, max_len=32)
        message_id = get_str(data, "message_id", required=False, max_len=64)
        if target_id is None and message_id is None:
            raise BadRequest("Report a user_id, a message_id or both.", field="user_id")
        me = client.user
        found = self.find_message(message_id, client.room) if message_id else None
        if message_id and found is None:
            raise NotFound("That message is no longer available to report.")
        msg = found[1] if found else None
        if msg is not None:
            author = msg["from"]["user_id"]
            if target_id is not None and target_id != author:
                raise BadRequest("user_id is not the author of message_id.", field="user_id")
            target_id = author
        assert target_id is not None
        if target_id == me.id:
            raise BadRequest("You cannot report yourself.", field="user_id")
        target = await self.app.accounts.get(target_id)
        if target is None:
            raise NotFound("No such user.")
        now = _now()
        async with self.app.db.session() as s:
            q = select(Report).where(Report.reporter_id == me.id, Report.user_id == target_id,
                                     Report.created_at >= now - DEDUPE_MS)
            if message_id:
                q = q.where(Report.message_id == message_id)
            dup = (await s.execute(q.limit(1))).scalar_one_or_none()
        if dup is not None:
            return {"report_id": dup.id, "duplicate": True}
        if not self._reports.try_acquire(me.id):
            raise RateLimited(_REPORT_LIMITED[lang_of(client.lang)])
        room = client.room or (found[0] if found else self._room_of(target_id, None))
        context = self._report_context(client, target, room, msg)
        cap = self._capture(room, [target_id], now, (me.id,)) if room is not None else None
        doc = await materialise(cap) if cap is not None else None
        weight = _weight(me.roles, getattr(me, "is_guest", False))
        report_id = new_id()

        async def fn(tx: Any) -> Any:
            s = tx.session
            prior = (await s.execute(select(Report).where(
                Report.user_id == target_id, Report.status == "open",
                Report.created_at >= now - DEDUPE_MS * 3))).scalars().all()
            total = weight + sum(r.weight for r in prior if r.reporter_id != me.id)
            case, _ = await open_or_extend(
                tx, room_id=room.id if room else "-",
                instance=cap.instance if cap else None, subjects=[target_id],
                severity=_severity(total), reason=f"report: {reason[:200]}", source="report",
                now=now)
            if doc is not None:
                add_evidence(tx, case.id, doc, now)
            s.add(Report(id=report_id, reporter_id=me.id, room_id=room.id if room else None,
                         user_id=target_id, message_id=message_id, reason=reason,
                         status="open", created_at=now, weight=weight, case_id=case.id,
                         context=json.dumps(context, ensure_ascii=False)))
            await tx.audit(me.id, "report", target_id, "",
                           {"report_id": report_id, "case_id": case.id,
                            "message_id": message_id}, ts=now)
            return case

        case = await self.mdb.write(fn)
        log.info("report stored id=%s reporter=%s target=%s case=%s", report_id, me.id,
                 target_id, case.id)
        self.notify_moderators("mod.case", case_summary(case))
        cb = self.gate.callbacks
        await cb.on_report(ReportContext(report_id=report_id, reporter_id=me.id, reason=reason,
                                         room_id=room.id if room else None,
                                         target_user_id=target_id, message_id=message_id))
        await cb.on_flag(FlagContext(flag_id=case.id, room_id=case.room_id, reason=case.reason,
                                     severity=Severity(case.severity), user_ids=(target_id,),
                                     source="report"))
        return {"report_id": report_id}

    def _report_context(self, client: Client, target: UserInfo, room: Room | None,
                        msg: dict[str, Any] | None) -> dict[str, Any]:
        """What the reporter saw: where both were, how far apart, the message as it was."""
        ctx: dict[str, Any] = {"lang": client.lang, "reporter": {
            "display_name": client.user.display_name,
            "room": client.room.id if client.room else None,
            "instance": f"{client.room.id}#{client.room.instance}" if client.room else None}}
        mine = None
        here = client.room
        if here is not None and client.eid in here.world:
            x, _, z, *_ = here.world.position(client.eid)
            mine = (x, z)
            ctx["reporter"]["position"] = [round(x, 2), round(z, 2)]
        there = [c for c in self.app.realtime.presence(target.id) if c.room is not None]
        ctx["target"] = {"display_name": target.display_name, "roles": list(target.roles),
                         "online": bool(there) or bool(self.app.realtime.presence(target.id))}
        same = [c for c in there if here is not None and c.room is here and c.eid in here.world]
        if same and mine is not None and here is not None:
            x, _, z, *_ = here.world.position(same[0].eid)
            ctx["target"]["position"] = [round(x, 2), round(z, 2)]
            ctx["target"]["distance_m"] = round(((x - mine[0]) ** 2 + (z - mine[1]) ** 2) ** .5, 2)
        elif there and there[0].room is not None:
            ctx["target"]["room"] = there[0].room.id
        if msg is not None:
            ctx["message"] = {k: msg.get(k) for k in ("id", "channel", "text", "ts")}
        return ctx

    # -- checks -----------------------------------------------------------------------------
    def enforce_mute(self, user_id: str, lang: str | None) -> None:
        s = self.sanctions.active("mute", user_id, _now())
        if s is not None:
            raise Muted(muted_message(lang, s.left_s(_now())), until=s.until, action_id=s.action_id)

    def ban_of(self, user_id: str) -> Sanction | None:
        return self.sanctions.active("ban", user_id, _now())

    def connect_refusal(self, user_id: str, lang: str | None) -> dict[str, Any] | None:
        """Data of the ``connect_error`` for a banned user, else None."""
        ban = self.ban_of(user_id)
        if ban is None:
            return None
        return {"code": "banned", "message": banned_message(lang, ban.left_s(_now())),
                "until": ban.until, "action_id": ban.action_id}

    async def join_check(self, client: Client, room_id: object) -> None:
        """``App.join_checks``: bans, locked rooms, then the ``check_join`` hooks."""
        ban = self.ban_of(client.user.id)
        if ban is not None:
            raise Banned(banned_message(client.lang, ban.left_s(_now())), until=ban.until,
                         action_id=ban.action_id)
        if not isinstance(room_id, str):
            return  # the registry answers bad_request
        if room_id in self.locked_rooms:
            raise Forbidden("This room is locked." if lang_of(client.lang) == "en"
                            else "该房间已被管理员锁定。")
        verdict = await self.gate.callbacks.check_join(JoinContext(
            user_id=client.user.id, display_name=client.user.display_name,
            roles=frozenset(client.user.roles), room_id=room_id, lang=client.lang))
        if isinstance(verdict, Block):
            if verdict.code == "banned":
                raise Banned(banned_message(client.lang, None))
            raise Blocked(user_message(verdict.code, client.lang), reason=verdict.code)

    async def check_text(self, client: Client, text: str, *, channel: str,
                         room_id: str | None = None) -> str:
        """Gate any user text others will see (booth texts, titles...): the text to show
        (maybe redacted), or raise ``Muted``/``Blocked``/``RateLimited``. Uses ``check_chat``
        hooks with ``channel`` naming what it is (e.g. ``booth-text:<id>``)."""
        self.enforce_mute(client.user.id, client.lang)
        room = room_id or (client.room.id if client.room else "")
        verdict = await self.gate.callbacks.check_chat(ChatContext(
            user_id=client.user.id, display_name=client.user.display_name,
            roles=frozenset(client.user.roles), room_id=room, channel=channel, text=text,
            lang=client.lang))
        if isinstance(verdict, Block):
            raise self.gate._refuse(verdict, client.lang)
        return verdict.text if isinstance(verdict, Redact) else text

    async def check_upload(self, user: UserInfo, *, filename: str, content_type: str,
                           size: int, room_id: str | None = None, sha256: str | None = None,
                           lang: str | None = None) -> None:
        """Gate an upload before it is stored or shown; raise ``Blocked`` to refuse it."""
        if self.sanctions.active("mute", user.id, _now()) is not None:
            raise Muted(muted_message(lang, None))
        verdict = await self.gate.callbacks.check_upload(UploadContext(
            user_id=user.id, roles=frozenset(user.roles), room_id=room_id, filename=filename,
            content_type=content_type, size=size, sha256=sha256))
        if isinstance(verdict, Block):
            raise Blocked(user_message(verdict.code, lang), reason=verdict.code)
        assert verdict is ALLOW or isinstance(verdict, Flag)

    # -- terms ------------------------------------------------------------------------------
    async def reload_terms(self, force: bool = True) -> int:
        """Re-read the term file and the admin-edited terms; swap them in atomically.

        ``force=False`` (start-up) keeps the list the gate loaded when no admin terms exist."""
        async with self.app.db.session() as s:
            rows = (await s.execute(select(ModTerm).where(ModTerm.deleted_at.is_(None))
                                    .order_by(ModTerm.created_at))).scalars().all()
            meta = await s.get(ModMeta, "terms_version")
        if not force and not rows:
            self._terms_version = meta.value if meta else ""
            return len(self.gate.terms)
        file_terms = await asyncio.to_thread(read_terms, self.gate.terms_path)
        extra = [Term(r.text, r.action) for r in rows]  # type: ignore[arg-type]
        terms = file_terms + extra
        await asyncio.to_thread(self.gate.terms.replace_terms, terms)
        self._terms_version = meta.value if meta else ""
        log.info("moderation terms loaded file=%d admin=%d", len(file_terms), len(extra))
        return len(terms)

    # -- background -------------------------------------------------------------------------
    async def sync_once(self) -> None:
        """Pick up actions and term edits made by other server processes."""
        async with self.app.db.session() as s:
            rows = (await s.execute(select(ModAction).where(ModAction.updated_at >= self._mark)
                                    .order_by(ModAction.updated_at))).scalars().all()
            meta = await s.get(ModMeta, "terms_version")
        for r in rows:
            key = (r.id, r.updated_at)
            if key in self._seen:
                continue
            self._seen.add(key)
            self._mark = max(self._mark, r.updated_at)
            if r.origin != self.origin:
                self.desk.apply_remote(r)
        self._seen = {k for k in self._seen if k[1] >= self._mark}
        if meta is not None and meta.value != self._terms_version:
            await self.reload_terms()

    async def sweep_once(self, now: int | None = None) -> dict[str, int]:
        """Delete evidence, chat and reports past the retention period."""
        cutoff = (now or _now()) - self.config.retention_ms
        counts = await sweep(self.mdb, cutoff)
        for room in self.app.registry.rooms():
            while room.chat_log and room.chat_log[0].get("ts", 0) < cutoff:
                room.chat_log.popleft()
        return counts
