"""Flagged sessions in the database: cases, their evidence, verdicts and reports.

Writers take a :class:`~server.moderation_audit.Tx` (one serialised transaction that also
appends to the audit log); readers take the :class:`~server.db.engine.Database`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from moderation.verdicts import Block, Flag, Redact, Verdict, verdict_kind
from rooms.errors import NotFound
from server.db.engine import Database
from server.db.models import (
    ModAction,
    ModAppeal,
    ModCase,
    ModEvidence,
    ModVerdict,
    Report,
    new_id,
)
from server.moderation_audit import Tx
from server.moderation_evidence import merge

__all__ = ["VerdictItem", "open_or_extend", "add_evidence", "insert_verdict", "list_cases",
           "get_case", "case_summary", "action_dict", "EXTEND_MS"]

EXTEND_MS = 30 * 60 * 1000
"""A new flag or report about the same people in the same room within this time of the case's
last update extends that case instead of opening another."""


@dataclass(slots=True)
class VerdictItem:
    """A non-allow verdict on its way to the database."""

    ts: int
    hook: str
    verdict: Verdict
    user_id: str | None
    room_id: str | None
    channel: str | None = None
    text: str | None = None
    message_id: str | None = None
    evidence: dict[str, Any] | None = None
    instance: str | None = None

    @property
    def kind(self) -> str:
        return verdict_kind(self.verdict)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def open_or_extend(tx: Tx, *, room_id: str, instance: str | None, subjects: list[str],
                         severity: int, reason: str, source: str,
                         now: int) -> tuple[ModCase, bool]:
    """The open case about these people in this room (extended), or a new one."""
    s = tx.session
    rows = (await s.execute(select(ModCase).where(
        ModCase.room_id == room_id, ModCase.status == "open",
        ModCase.updated_at >= now - EXTEND_MS))).scalars().all()
    wanted = set(subjects)
    for case in rows:
        have = json.loads(case.subjects)
        if wanted & set(have):
            case.subjects = _dump(list(dict.fromkeys([*have, *subjects])))
            case.severity = max(case.severity, severity)
            case.updated_at = now
            if reason and reason not in case.reason:
                case.reason = (case.reason + "; " + reason)[:2000]
            return case, False
    case = ModCase(id=new_id(), room_id=room_id, instance=instance, status="open",
                   severity=severity, reason=reason[:2000], source=source,
                   subjects=_dump(subjects), opened_at=now, updated_at=now)
    s.add(case)
    await tx.audit("system", "case_open", case.id, reason[:500],
                   {"room_id": room_id, "severity": severity, "source": source,
                    "subjects": subjects}, ts=now)
    return case, True


def add_evidence(tx: Tx, case_id: str, data: dict[str, Any], now: int) -> ModEvidence:
    row = ModEvidence(id=new_id(), case_id=case_id, created_at=now, data=_dump(data))
    tx.session.add(row)
    return row


async def insert_verdict(tx: Tx, item: VerdictItem, case_id: str | None) -> ModVerdict:
    """Store the verdict and audit it (without the user's text: that has a retention period)."""
    v = item.verdict
    code = v.code if isinstance(v, Block) else None
    severity = int(v.severity) if isinstance(v, Flag) else None
    reason = v.reason if isinstance(v, (Block, Flag, Redact)) else ""
    row = ModVerdict(id=new_id(), ts=item.ts, hook=item.hook, kind=item.kind, code=code,
                     reason=reason, severity=severity, user_id=item.user_id,
                     room_id=item.room_id, channel=item.channel, message_id=item.message_id,
                     text=item.text, case_id=case_id)
    tx.session.add(row)
    data: dict[str, Any] = {"verdict_id": row.id, "hook": item.hook, "kind": item.kind,
                            "room_id": item.room_id}
    if code is not None:
        data["code"] = code
    if severity is not None:
        data["severity"] = severity
    if case_id is not None:
        data["case_id"] = case_id
    await tx.audit("system", "verdict", item.user_id or "", reason[:500], data, ts=item.ts)
    return row


def case_summary(case: ModCase, reports: int | None = None,
                 verdicts: int | None = None) -> dict[str, Any]:
    """The case without its evidence; the counts when known (the list has them)."""
    out = {"id": case.id, "room_id": case.room_id, "instance": case.instance,
           "status": case.status, "severity": case.severity, "reason": case.reason,
           "source": case.source, "subjects": json.loads(case.subjects),
           "opened_at": case.opened_at, "updated_at": case.updated_at,
           "closed_at": case.closed_at, "closed_by": case.closed_by,
           "resolution": case.resolution}
    if reports is not None:
        out["n_reports"] = reports
    if verdicts is not None:
        out["n_verdicts"] = verdicts
    return out


def action_dict(a: ModAction) -> dict[str, Any]:
    return {"id": a.id, "action": a.action, "actor_id": a.actor_id,
            "user_id": a.target_user_id, "message_id": a.message_id, "room_id": a.room_id,
            "case_id": a.case_id, "reason": a.reason_code, "note": a.note, "until": a.until,
            "created_at": a.created_at, "revoked_at": a.revoked_at, "audit_seq": a.audit_seq}


async def list_cases(db: Database, status: str = "open", limit: int = 200) -> list[dict[str, Any]]:
    """Cases by severity (highest first), then age (oldest first)."""
    async with db.session() as s:
        q = select(ModCase)
        if status == "open":
            q = q.where(ModCase.status == "open")
        elif status == "closed":
            q = q.where(ModCase.status != "open")
        q = q.order_by(ModCase.severity.desc(), ModCase.opened_at.asc()).limit(limit)
        cases = (await s.execute(q)).scalars().all()
        ids = [c.id for c in cases]
        reports = dict((await s.execute(
            select(Report.case_id, func.count()).where(Report.case_id.in_(ids))
            .group_by(Report.case_id))).all()) if ids else {}
        verdicts = dict((await s.execute(
            select(ModVerdict.case_id, func.count()).where(ModVerdict.case_id.in_(ids))
            .group_by(ModVerdict.case_id))).all()) if ids else {}
    return [case_summary(c, int(reports.get(c.id, 0)), int(verdicts.get(c.id, 0)))
            for c in cases]


async def get_case(db: Database, case_id: str) -> dict[str, Any]:
    """A case with its merged evidence, verdicts, reports, actions and appeals."""
    async with db.session() as s:
        case = await s.get(ModCase, case_id)
        if case is None:
            raise NotFound(f"No case {case_id!r}.")
        freezes = (await s.execute(select(ModEvidence).where(ModEvidence.case_id == case_id)
                                   .order_by(ModEvidence.created_at))).scalars().all()
        verdicts = (await s.execute(select(ModVerdict).where(ModVerdict.case_id == case_id)
                                    .order_by(ModVerdict.ts))).scalars().all()
        reports = (await s.execute(select(Report).where(Report.case_id == case_id)
                                   .order_by(Report.created_at))).scalars().all()
        actions = (await s.execute(select(ModAction).where(ModAction.case_id == case_id)
                                   .order_by(ModAction.created_at))).scalars().all()
        msg_ids = [json.loads(f.data) for f in freezes]
        ids = {m["id"] for f in msg_ids for m in f.get("chat", [])}
        redacted = (await s.execute(select(ModAction.message_id).where(
            ModAction.action == "redact", ModAction.message_id.in_(ids)))).scalars().all() \
            if ids else []
        appeals = (await s.execute(select(ModAppeal).where(
            ModAppeal.action_id.in_([a.id for a in actions])))).scalars().all() if actions else []
    out = case_summary(case, len(reports), len(verdicts))
    out["evidence"] = merge(msg_ids, [m for m in redacted if m])
    out["verdicts"] = [{"id": v.id, "ts": v.ts, "hook": v.hook, "kind": v.kind, "code": v.code,
                        "reason": v.reason, "severity": v.severity, "user_id": v.user_id,
                        "channel": v.channel, "message_id": v.message_id, "text": v.text}
                       for v in verdicts]
    out["reports"] = [{"id": r.id, "reporter_id": r.reporter_id, "user_id": r.user_id,
                       "message_id": r.message_id, "reason": r.reason, "created_at": r.created_at,
                       "weight": r.weight, "context": json.loads(r.context or "{}")}
                      for r in reports]
    out["actions"] = [action_dict(a) for a in actions]
    out["appeals"] = [{"id": p.id, "action_id": p.action_id, "status": p.status, "text": p.text,
                       "created_at": p.created_at} for p in appeals]
    return out
