"""The SQLAlchemy implementation of ``rooms.hall.store.HallStore`` (SQLite and PostgreSQL).

Races are settled by the database, not by this process: ticket numbers come from a guarded
``UPDATE ... RETURNING`` on a per-service, per-day counter row; a call claims a ticket with
``UPDATE ... WHERE status = 'waiting'`` (the loser of a race matches no row and tries the next
candidate); partial unique indexes allow one active ticket per user and service and one ticket
at a counter; slot places are taken with ``UPDATE ... WHERE booked < capacity``. Every method
commits before it returns.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.hall.catalogue import parse_policy
from rooms.hall.errors import (
    ActiveTicketExists,
    AlreadyBooked,
    AlreadyRated,
    CounterBusy,
    SlotFull,
    TicketStateChanged,
    UnknownAppointment,
    UnknownTicket,
)
from rooms.hall.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Catalogue,
    CounterDef,
    CounterState,
    Document,
    HallPolicy,
    IssueRequest,
    Outcome,
    Rating,
    ServiceDef,
    Ticket,
    TicketStatus,
)
from server.db.engine import Database
from server.db.models import (
    HallAppointmentRow,
    HallCounterRow,
    HallMeta,
    HallRatingRow,
    HallSequence,
    HallServiceRow,
    HallSlotRow,
    HallTicketRow,
    new_id,
    now_ms,
)

__all__ = ["SqlHallStore"]

T: Table = HallTicketRow.__table__  # type: ignore[assignment]
A: Table = HallAppointmentRow.__table__  # type: ignore[assignment]
SEQ: Table = HallSequence.__table__  # type: ignore[assignment]
SLOT: Table = HallSlotRow.__table__  # type: ignore[assignment]
CLAIM_BATCH = 8
CLAIM_ROUNDS = 12


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    return value


def _ticket(m: Mapping[str, Any]) -> Ticket:
    return Ticket(
        id=m["id"], number=m["number"], service_id=m["service_id"], user_id=m["user_id"],
        display_name=m["display_name"], status=m["status"], priority=m["priority"],
        sort_key=m["sort_key"], seq=m["seq"], day=m["day"], created_at=m["created_at"],
        version=m["version"], counter_id=m["counter_id"], staff_id=m["staff_id"],
        called_at=m["called_at"], recalls=m["recalls"], recalled_at=m["recalled_at"],
        arrived_at=m["arrived_at"], finished_at=m["finished_at"], outcome=m["outcome"],
        appointment_id=m["appointment_id"], transferred_from=m["transferred_from"],
        docs_checked=tuple(json.loads(m["docs_checked"] or "[]")),
    )


def _appointment(m: Mapping[str, Any]) -> Appointment:
    return Appointment(m["id"], m["service_id"], m["user_id"], m["display_name"], m["start"],
                       m["end"], m["status"], m["created_at"], m["ticket_id"])


def _service(r: HallServiceRow) -> ServiceDef:
    docs = tuple(Document(d["id"], d["name"]) for d in json.loads(r.documents))
    return ServiceDef(r.id, r.prefix, {"zh-CN": r.name_zh, "en": r.name_en},
                      {"zh-CN": r.desc_zh, "en": r.desc_en}, tuple(json.loads(r.keywords)), docs,
                      r.online, r.online_url, r.avg_service_s, r.slot_minutes, r.appointable,
                      r.active, r.sort)


def _counter(r: HallCounterRow) -> CounterDef:
    return CounterDef(r.id, {"zh-CN": r.name_zh, "en": r.name_en}, r.x, r.z,
                      tuple(json.loads(r.services)), r.appointments_per_slot, r.active)


class SqlHallStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite.insert if db.is_sqlite else postgresql.insert

    # -- catalogue -----------------------------------------------------------------------
    async def load_catalogue(self) -> Catalogue | None:
        async with self.db.session() as s:
            services = (await s.execute(select(HallServiceRow))).scalars().all()
            counters = (await s.execute(select(HallCounterRow))).scalars().all()
            meta = {m.key: json.loads(m.value)
                    for m in (await s.execute(select(HallMeta))).scalars().all()}
        if not services and not counters and not meta:
            return None
        services = sorted(services, key=lambda r: (r.sort, r.id))
        counters = sorted(counters, key=lambda r: (len(r.id), r.id))
        synonyms = tuple(tuple(g) for g in meta.get("synonyms", []))
        policy = parse_policy(meta.get("policy"))
        return Catalogue(tuple(_service(r) for r in services), tuple(_counter(r) for r in counters),
                         synonyms, policy)

    async def _put_service(self, s: AsyncSession, svc: ServiceDef) -> None:
        row = await s.get(HallServiceRow, svc.id)
        if row is None:
            row = HallServiceRow(id=svc.id)
            s.add(row)
        row.prefix, row.name_zh, row.name_en = svc.prefix, svc.name["zh-CN"], svc.name["en"]
        row.desc_zh, row.desc_en = svc.description["zh-CN"], svc.description["en"]
        row.keywords = json.dumps(list(svc.keywords), ensure_ascii=False)
        row.documents = json.dumps([{"id": d.id, "name": d.name} for d in svc.documents],
                                   ensure_ascii=False)
        row.online, row.online_url = svc.online, svc.online_url
        row.avg_service_s, row.slot_minutes = svc.avg_service_s, svc.slot_minutes
        row.appointable, row.active, row.sort = svc.appointable, svc.active, svc.sort
        row.updated_at = now_ms()

    async def _put_counter(self, s: AsyncSession, c: CounterDef) -> None:
        row = await s.get(HallCounterRow, c.id)
        if row is None:
            row = HallCounterRow(id=c.id, is_open=False, open_services="[]")
            s.add(row)
        row.name_zh, row.name_en, row.x, row.z = c.name["zh-CN"], c.name["en"], c.x, c.z
        row.services = json.dumps(list(c.service_ids))
        row.appointments_per_slot, row.active = c.appointments_per_slot, c.active
        row.updated_at = now_ms()

    async def _put_meta(self, s: AsyncSession, key: str, value: Any) -> None:
        row = await s.get(HallMeta, key)
        text = json.dumps(value, ensure_ascii=False)
        if row is None:
            s.add(HallMeta(key=key, value=text))
        else:
            row.value = text

    async def save_catalogue(self, catalogue: Catalogue, *, replace: bool) -> None:
        async with self.db.session() as s, s.begin():
            for svc in catalogue.services:
                await self._put_service(s, svc)
            await s.flush()
            for c in catalogue.counters:
                await self._put_counter(s, c)
            if replace:
                keep_s = {x.id for x in catalogue.services}
                keep_c = {x.id for x in catalogue.counters}
                await s.execute(update(HallServiceRow).where(HallServiceRow.id.not_in(keep_s))
                                .values(active=False))
                await s.execute(update(HallCounterRow).where(HallCounterRow.id.not_in(keep_c))
                                .values(active=False))
            groups = [list(g) for g in catalogue.synonyms]
            if not replace:
                old = await s.get(HallMeta, "synonyms")
                have = [list(g) for g in json.loads(old.value)] if old else []
                groups = have + [g for g in groups if g not in have]
            await self._put_meta(s, "synonyms", groups)
            if replace or catalogue.policy_given:
                await self._put_meta(s, "policy", asdict(catalogue.policy))

    async def put_service(self, service: ServiceDef) -> None:
        async with self.db.session() as s, s.begin():
            await self._put_service(s, service)

    async def put_counter(self, counter: CounterDef) -> None:
        async with self.db.session() as s, s.begin():
            await self._put_counter(s, counter)

    async def put_policy(self, policy: HallPolicy) -> None:
        async with self.db.session() as s, s.begin():
            await self._put_meta(s, "policy", asdict(policy))

    async def counter_states(self) -> dict[str, CounterState]:
        async with self.db.session() as s:
            rows = (await s.execute(select(HallCounterRow))).scalars().all()
        return {r.id: CounterState(r.is_open, r.staff_id, tuple(json.loads(r.open_services)),
                                   r.opened_at) for r in rows}

    async def set_counter_state(self, counter_id: str, state: CounterState) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(HallCounterRow).where(HallCounterRow.id == counter_id).values(
                is_open=state.open, staff_id=state.staff_id,
                open_services=json.dumps(list(state.service_ids)), opened_at=state.opened_at,
                updated_at=now_ms()))

    # -- tickets -------------------------------------------------------------------------
    async def active_tickets(self) -> list[Ticket]:
        async with self.db.session() as s:
            rows = (await s.execute(select(T).where(T.c.status.in_(ACTIVE_STATUSES)))).mappings()
            return [_ticket(r) for r in rows]

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        async with self.db.session() as s:
            row = (await s.execute(select(T).where(T.c.id == ticket_id))).mappings().first()
        return _ticket(row) if row else None

    async def _next_seq(self, s: AsyncSession, service_id: str, day: str) -> int:
        await s.execute(self._insert(SEQ).values(service_id=service_id, day=day, last=0)
                        .on_conflict_do_nothing())
        res = await s.execute(update(SEQ).where(SEQ.c.service_id == service_id, SEQ.c.day == day)
                              .values(last=SEQ.c.last + 1).returning(SEQ.c.last))
        return int(res.scalar_one())

    async def _insert_ticket(self, s: AsyncSession, req: IssueRequest) -> Ticket:
        seq = await self._next_seq(s, req.service_id, req.day)
        values: dict[str, Any] = {
            "id": new_id(), "number": f"{req.prefix}{seq:03d}", "service_id": req.service_id,
            "user_id": req.user_id, "display_name": req.display_name,
            "status": TicketStatus.WAITING.value, "priority": req.priority,
            "sort_key": req.now if req.sort_key is None else req.sort_key, "seq": seq,
            "day": req.day, "created_at": req.now, "version": 1, "counter_id": None,
            "staff_id": None, "called_at": None, "recalls": 0, "recalled_at": None,
            "arrived_at": None, "finished_at": None, "outcome": None,
            "appointment_id": req.appointment_id, "transferred_from": req.transferred_from,
            "docs_checked": "[]",
        }
        await s.execute(T.insert().values(**values))
        return _ticket(values)

    async def _active_of(self, s: AsyncSession, user_id: str, service_id: str) -> Ticket | None:
        row = (await s.execute(select(T).where(
            T.c.user_id == user_id, T.c.service_id == service_id,
            T.c.status.in_(ACTIVE_STATUSES)))).mappings().first()
        return _ticket(row) if row else None

    async def issue(self, req: IssueRequest) -> Ticket:
        try:
            async with self.db.session() as s, s.begin():
                return await self._insert_ticket(s, req)
        except IntegrityError as exc:
            raise ActiveTicketExists("You already hold a ticket for that service.") from exc

    async def claim_next(self, counter_id: str, service_ids: Sequence[str], staff_id: str,
                         now: int) -> Ticket | None:
        if not service_ids:
            return None
        order = (T.c.priority.desc(), T.c.sort_key, T.c.seq, T.c.id)
        for _ in range(CLAIM_ROUNDS):
            async with self.db.session() as s:
                candidates = (await s.execute(
                    select(T.c.id).where(T.c.status == TicketStatus.WAITING.value,
                                         T.c.service_id.in_(list(service_ids)))
                    .order_by(*order).limit(CLAIM_BATCH))).scalars().all()
            if not candidates:
                return None
            for tid in candidates:
                try:
                    async with self.db.session() as s, s.begin():
                        row = (await s.execute(
                            update(T).where(T.c.id == tid, T.c.status == TicketStatus.WAITING.value)
                            .values(status=TicketStatus.CALLED.value, counter_id=counter_id,
                                    staff_id=staff_id, called_at=now, version=T.c.version + 1)
                            .returning(*T.c))).mappings().first()
                except IntegrityError as exc:
                    raise CounterBusy("The counter is still serving a ticket.") from exc
                if row is not None:
                    return _ticket(row)
        return None

    async def _update(self, s: AsyncSession, ticket_id: str, expect: Collection[str],
                      values: dict[str, Any]) -> Ticket:
        vals = {k: _plain(v) for k, v in values.items()}
        row = (await s.execute(
            update(T).where(T.c.id == ticket_id, T.c.status.in_([_plain(e) for e in expect]))
            .values(**vals, version=T.c.version + 1).returning(*T.c))).mappings().first()
        if row is None:
            exists = (await s.execute(select(T.c.id).where(T.c.id == ticket_id))).first()
            if exists is None:
                raise UnknownTicket("No such ticket.", field="ticket_id")
            raise TicketStateChanged("The ticket is no longer in a state that allows this.")
        return _ticket(row)

    async def update_ticket(self, ticket_id: str, expect: Collection[str],
                            values: dict[str, Any]) -> Ticket:
        try:
            async with self.db.session() as s, s.begin():
                return await self._update(s, ticket_id, expect, values)
        except IntegrityError as exc:
            raise TicketStateChanged("That change conflicts with another ticket.") from exc

    async def transfer(self, ticket_id: str, expect: Collection[str], now: int,
                       req: IssueRequest) -> tuple[Ticket, Ticket]:
        async with self.db.session() as s, s.begin():
            old = await self._update(s, ticket_id, expect, {
                "status": TicketStatus.DONE, "outcome": Outcome.TRANSFERRED, "finished_at": now})
            existing = await self._active_of(s, req.user_id, req.service_id)
            if existing is None:
                new = await self._insert_ticket(s, req)
            else:
                sort_key = min(existing.sort_key, req.sort_key or existing.sort_key)
                new = await self._update(s, existing.id, ACTIVE_STATUSES, {
                    "priority": max(existing.priority, req.priority), "sort_key": sort_key,
                    "transferred_from": req.transferred_from})
            return old, new

    async def recent_service_times(self, service_id: str, limit: int) -> list[float]:
        async with self.db.session() as s:
            rows = (await s.execute(
                select(T.c.finished_at, T.c.arrived_at, T.c.called_at)
                .where(T.c.service_id == service_id, T.c.outcome == Outcome.SERVED.value,
                       T.c.finished_at.is_not(None))
                .order_by(T.c.finished_at.desc()).limit(limit))).all()
        return [(f - (a or c or f)) / 1000 for f, a, c in reversed(rows)]

    async def tickets_since(self, since: int) -> list[Ticket]:
        async with self.db.session() as s:
            rows = (await s.execute(select(T).where(T.c.created_at >= since))).mappings()
            return [_ticket(r) for r in rows]

    # -- ratings -------------------------------------------------------------------------
    async def rate(self, rating: Rating) -> None:
        try:
            async with self.db.session() as s, s.begin():
                s.add(HallRatingRow(**asdict(rating)))
        except IntegrityError as exc:
            raise AlreadyRated("You already rated this ticket.") from exc

    async def ratings_since(self, since: int) -> list[Rating]:
        async with self.db.session() as s:
            rows = (await s.execute(select(HallRatingRow)
                                    .where(HallRatingRow.created_at >= since))).scalars().all()
        return [Rating(r.ticket_id, r.user_id, r.service_id, r.counter_id, r.staff_id, r.score,
                       r.comment, r.created_at) for r in rows]

    # -- appointments --------------------------------------------------------------------
    async def book(self, appointment: Appointment, capacity: int) -> Appointment:
        a = appointment
        try:
            async with self.db.session() as s, s.begin():
                await s.execute(self._insert(SLOT).values(service_id=a.service_id, start=a.start,
                                                          booked=0).on_conflict_do_nothing())
                res = await s.execute(update(SLOT).where(
                    SLOT.c.service_id == a.service_id, SLOT.c.start == a.start,
                    SLOT.c.booked < capacity).values(booked=SLOT.c.booked + 1))
                if res.rowcount != 1:  # type: ignore[attr-defined]
                    raise SlotFull("That time slot is fully booked.")
                await s.execute(A.insert().values(**{k: _plain(v) for k, v in asdict(a).items()}))
        except IntegrityError as exc:
            raise AlreadyBooked("You already hold an appointment for that service.") from exc
        return a

    async def slot_usage(self, service_id: str, start: int, end: int) -> dict[int, int]:
        async with self.db.session() as s:
            rows = (await s.execute(select(SLOT.c.start, SLOT.c.booked).where(
                SLOT.c.service_id == service_id, SLOT.c.start >= start, SLOT.c.start < end))).all()
        return {int(st): int(b) for st, b in rows}

    async def get_appointment(self, appointment_id: str) -> Appointment | None:
        async with self.db.session() as s:
            row = (await s.execute(select(A).where(A.c.id == appointment_id))).mappings().first()
        return _appointment(row) if row else None

    async def cancel_appointment(self, appointment_id: str, now: int) -> Appointment:
        async with self.db.session() as s, s.begin():
            row = (await s.execute(
                update(A).where(A.c.id == appointment_id,
                                A.c.status == AppointmentStatus.BOOKED.value)
                .values(status=AppointmentStatus.CANCELLED.value).returning(*A.c))).mappings().first()
            if row is None:
                exists = (await s.execute(select(A.c.id).where(A.c.id == appointment_id))).first()
                if exists is None:
                    raise UnknownAppointment("No such appointment.")
                raise TicketStateChanged("That appointment is no longer booked.")
            await s.execute(update(SLOT).where(
                SLOT.c.service_id == row["service_id"], SLOT.c.start == row["start"],
                SLOT.c.booked > 0).values(booked=SLOT.c.booked - 1))
            return _appointment(row)

    async def appointments_of(self, user_id: str) -> list[Appointment]:
        async with self.db.session() as s:
            rows = (await s.execute(select(A).where(
                A.c.user_id == user_id, A.c.status == AppointmentStatus.BOOKED.value)
                .order_by(A.c.start))).mappings()
            return [_appointment(r) for r in rows]

    async def due_appointments(self, now: int) -> list[Appointment]:
        async with self.db.session() as s:
            rows = (await s.execute(select(A).where(
                A.c.status == AppointmentStatus.BOOKED.value, A.c.start <= now)
                .order_by(A.c.start).limit(500))).mappings()
            return [_appointment(r) for r in rows]

    async def issue_for_appointment(self, appointment_id: str, req: IssueRequest) -> Ticket | None:
        async with self.db.session() as s, s.begin():
            appt = (await s.execute(
                update(A).where(A.c.id == appointment_id,
                                A.c.status == AppointmentStatus.BOOKED.value)
                .values(status=AppointmentStatus.ISSUED.value).returning(A.c.id))).first()
            if appt is None:
                return None
            existing = await self._active_of(s, req.user_id, req.service_id)
            if existing is None:
                ticket = await self._insert_ticket(s, req)
            else:
                ticket = await self._update(s, existing.id, ACTIVE_STATUSES, {
                    "priority": max(existing.priority, req.priority),
                    "sort_key": min(existing.sort_key, req.sort_key or existing.sort_key),
                    "appointment_id": appointment_id})
            await s.execute(update(A).where(A.c.id == appointment_id)
                            .values(ticket_id=ticket.id))
            return ticket
