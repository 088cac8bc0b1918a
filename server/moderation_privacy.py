"""Retention, export and erasure of personal data held for moderation.

* ``sweep(cutoff)`` deletes evidence, verdicts (with the text that triggered them), reports,
  decided appeals, closed cases and ended actions older than the cutoff. The audit log stays:
  its entries hold ids, action names, term names and moderators' notes, never chat text.
* ``export_user`` gathers everything stored about one user, in every table that has a
  ``user_id`` column (the service hall's too), plus their lines and trails in evidence.
* ``erase_user`` removes or blanks it, keeping only what accountability needs: the user's id
  (now unlinkable: name and login are wiped), actions taken on them and the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, delete, or_, select, text, update

from rooms.errors import NotFound
from server.db.engine import Database
from server.db.models import (
    AuditRow,
    Base,
    ModAction,
    ModAppeal,
    ModCase,
    ModEvidence,
    ModVerdict,
    Report,
    User,
)
from server.moderation_audit import ModerationDb, Tx
from server.social_models import SocialProfileRow  # noqa: F401  (social tables: registered for export)

__all__ = ["sweep", "export_user", "erase_user", "resolve_user", "ERASED_NAME"]

ERASED_NAME = "已注销用户 / erased"
_HANDLED = {"reports", "mod_verdicts", "mod_appeals", "mod_actions", "users"}


async def sweep(mdb: ModerationDb, cutoff: int) -> dict[str, int]:
    """Delete moderation data older than ``cutoff`` (Unix ms); audited with the counts."""

    async def fn(tx: Tx) -> dict[str, int]:
        s = tx.session
        counts: dict[str, int] = {}

        async def run(name: str, stmt: Any) -> None:
            counts[name] = _count(await s.execute(stmt))

        await run("evidence", delete(ModEvidence).where(ModEvidence.created_at < cutoff))
        await run("verdicts", delete(ModVerdict).where(ModVerdict.ts < cutoff))
        await run("reports", delete(Report).where(Report.created_at < cutoff))
        ended = select(ModAction.id).where(or_(
            ModAction.revoked_at < cutoff,
            ModAction.until < cutoff,
            ModAction.action.notin_(("mute", "ban", "lock", "unlock"))
            & (ModAction.created_at < cutoff)))  # room locks are not personal data: kept
        await run("appeals", delete(ModAppeal).where(
            or_(ModAppeal.decided_at < cutoff, ModAppeal.action_id.in_(ended))))
        await run("actions", delete(ModAction).where(ModAction.id.in_(ended)))
        await run("cases", delete(ModCase).where(ModCase.status != "open",
                                                 ModCase.closed_at < cutoff))
        if any(counts.values()):
            await tx.audit("system", "retention", "", "", {"cutoff": cutoff, **counts})
        return counts

    return await mdb.write(fn)


async def resolve_user(db: Database, ref: str) -> User:
    """A user by id or by (case-insensitive) username."""
    async with db.session() as s:
        user = await s.get(User, ref)
        if user is None:
            user = (await s.execute(select(User).where(User.username == ref.lower()))
                    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {ref!r}.")
    return user


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _report(r: Report) -> dict[str, Any]:
    return {**_row(r), "context": json.loads(r.context or "{}")}


def _user_tables() -> list[Table]:
    return [t for name, t in Base.metadata.tables.items()
            if "user_id" in t.c and name not in _HANDLED]


async def export_user(db: Database, ref: str) -> dict[str, Any]:
    """Everything stored about one user, as JSON-ready data."""
    user = await resolve_user(db, ref)
    uid = user.id
    async with db.session() as s:
        made = (await s.execute(select(Report).where(Report.reporter_id == uid))).scalars().all()
        about = (await s.execute(select(Report).where(Report.user_id == uid))).scalars().all()
        verdicts = (await s.execute(select(ModVerdict).where(ModVerdict.user_id == uid))
                    ).scalars().all()
        actions = (await s.execute(select(ModAction).where(ModAction.target_user_id == uid))
                   ).scalars().all()
        appeals = (await s.execute(select(ModAppeal).where(ModAppeal.user_id == uid))
                   ).scalars().all()
        evidence = (await s.execute(select(ModEvidence).where(ModEvidence.data.contains(uid)))
                    ).scalars().all()
        audit = (await s.execute(select(AuditRow).where(or_(
            AuditRow.actor_id == uid, AuditRow.target == uid, AuditRow.data.contains(uid)))
            .order_by(AuditRow.seq))).scalars().all()
        other: dict[str, list[dict[str, Any]]] = {}
        for table in _user_tables():
            rows = (await s.execute(select(table).where(table.c.user_id == uid))).mappings()
            found = [dict(r) for r in rows]
            if found:
                other[table.name] = found
    lines, trails = [], []
    for ev in evidence:
        doc = json.loads(ev.data)
        lines += [m for m in doc.get("chat", []) if m.get("from", {}).get("user_id") == uid]
        trails += [{"case_id": ev.case_id, "t0": doc["trails"]["t0"], **t}
                   for t in doc.get("trails", {}).get("tracks", []) if t.get("user_id") == uid]
    return {
        "user": {k: v for k, v in _row(user).items() if k != "password_hash"},
        "reports_made": [_report(r) for r in made],
        "reports_about": [{k: v for k, v in _report(r).items() if k != "reporter_id"}
                          for r in about],
        "verdicts": [_row(v) for v in verdicts],
        "actions": [_row(a) for a in actions],
        "appeals": [_row(a) for a in appeals],
        "chat_in_evidence": lines,
        "trails_in_evidence": trails,
        "audit_entries": [{**_row(a), "data": json.loads(a.data)} for a in audit],
        "other": other,
    }


async def erase_user(mdb: ModerationDb, ref: str, actor: str = "cli") -> dict[str, int]:
    """Erase one user's personal data (see the module docstring); audited."""
    user = await resolve_user(mdb.db, ref)
    uid = user.id

    async def fn(tx: Tx) -> dict[str, int]:
        s = tx.session
        if mdb.db.is_sqlite:  # overwrite freed space too, not just unlink it
            await s.execute(text("PRAGMA secure_delete = ON"))
        counts: dict[str, int] = {}
        row = await s.get(User, uid)
        assert row is not None
        row.display_name, row.username, row.password_hash = ERASED_NAME, None, None
        row.is_guest, row.token_version = True, row.token_version + 1
        counts["reports_made"] = _count(await s.execute(
            delete(Report).where(Report.reporter_id == uid)))
        counts["verdicts"] = _count(await s.execute(
            delete(ModVerdict).where(ModVerdict.user_id == uid)))
        counts["appeals"] = _count(await s.execute(
            update(ModAppeal).where(ModAppeal.user_id == uid).values(text="")))
        scrubbed = 0
        for r in (await s.execute(select(Report).where(Report.user_id == uid))).scalars():
            ctx = json.loads(r.context or "{}")
            ctx.get("message", {}).pop("text", None)
            ctx.get("target", {}).pop("display_name", None)
            r.context = json.dumps(ctx, ensure_ascii=False)
            scrubbed += 1
        counts["reports_about"] = scrubbed
        lines = tracks = 0
        for ev in (await s.execute(select(ModEvidence).where(ModEvidence.data.contains(uid)))
                   ).scalars():
            doc = json.loads(ev.data)
            for m in doc.get("chat", []):
                if m.get("from", {}).get("user_id") == uid:
                    m["text"], m["from"]["display_name"], m["erased"] = "", ERASED_NAME, True
                    lines += 1
            kept = [t for t in doc.get("trails", {}).get("tracks", []) if t["user_id"] != uid]
            tracks += len(doc.get("trails", {}).get("tracks", [])) - len(kept)
            if "trails" in doc:
                doc["trails"]["tracks"] = kept
            ev.data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        counts["chat_lines"], counts["trails"] = lines, tracks
        for table in _user_tables():
            values = {c: ERASED_NAME if c == "display_name" else ""
                      for c in ("display_name", "comment", "text") if c in table.c}
            if values:
                res = await s.execute(update(table).where(table.c.user_id == uid).values(**values))
                counts[table.name] = _count(res)
        await tx.audit(actor, "privacy_erase", uid, "", dict(counts))
        return counts

    return await mdb.write(fn)
