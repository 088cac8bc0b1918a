"""The SQLAlchemy implementation of ``rooms.hall.store.HallStore`` (SQLite and PostgreSQL).

Races are settled by the database, not by this process: ticket numbers come from an
``UPDATE ... RETURNING`` on a per-service, per-day counter row; a call claims a ticket with
``UPDATE ... WHERE status = 'waiting'`` (the loser of a race matches no row and tries the next
candidate); partial unique indexes allow one active ticket per user and service and one ticket
at a counter; slot places are taken with ``UPDATE ... WHERE booked < capacity``. Every write
commits before it returns (see ``server/hall_commit.py`` for how writes share commits).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from rooms.hall.catalogue import parse_policy
from rooms.hall.errors import (
    ActiveTicketExists,
    AlreadyBooked,
    AlreadyRated,
    CatalogueError,
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
from server.hall_commit import WriteRunner

__all__ = ["SqlHallStore"]

T: Table = HallTicketRow.__table__  # type: ignore[assignment]
A: Table = HallAppointmentRow.__table__  # type: ignore[assignment]
SEQ: Table = HallSequence.__table__  # type: ignore[assignment]
SLOT: Table = HallSlotRow.__table__  # type: ignore[assignment]
R: Table = HallRatingRow.__table__  # type: ignore[assignment]
SVC: Table = HallServiceRow.__table__  # type: ignore[assignment]
CNT: Table = HallCounterRow.__table__  # type: ignore[assignment]
META: Table = HallMeta.__table__  # type: ignore[assignment]
INSERT_TICKET = T.insert()
CLAIM_BATCH = 8
CLAIM_ROUNDS = 12


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    return value


def _ticket(m: Mapping[Any, Any]) -> Ticket:
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


def _appointment(m: Mapping[Any, Any]) -> Appointment:
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
    """Reads run on the async engine; writes go through :class:`WriteRunner` as plain
    functions of a (sync) ``Connection``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite.insert if db.is_sqlite else postgresql.insert
        self.writes = WriteRunner(db)
        # Hot statements are built once and executed with parameter dicts: building a
        # statement with literal values costs more than running it.
        self._next_seq_stmt = self._insert(SEQ).values(
            service_id=bindparam("sid"), day=bindparam("day"), last=1,
        ).on_conflict_do_update(index_elements=["service_id", "day"],
                                set_={"last": SEQ.c.last + 1}).returning(SEQ.c.last)
        self._claim_stmt = (
            update(T).where(T.c.id == bindparam("tid"), T.c.status == TicketStatus.WAITING.value)
            .values(status=TicketStatus.CALLED.value, counter_id=bindparam("cid"),
                    staff_id=bindparam("sid"), called_at=bindparam("now"),
                    version=T.c.version + 1).returning(*T.c))

    async def close(self) -> None:
        await self.writes.close()

    def _upsert(self, conn: Connection, table: Table, key: str, values: dict[str, Any]) -> None:
        stmt = self._insert(table).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[key], set_={k: v for k, v in values.items() if k != key}))

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

    def _put_service(self, conn: Connection, svc: ServiceDef) -> None:
        self._upsert(conn, SVC, "id", {
            "id": svc.id, "prefix": svc.prefix, "name_zh": svc.name["zh-CN"],
            "name_en": svc.name["en"], "desc_zh": svc.description["zh-CN"],
            "desc_en": svc.description["en"],
            "keywords": json.dumps(list(svc.keywords), ensure_ascii=False),
            "documents": json.dumps([{"id": d.id, "name": d.name} for d in svc.documents],
                                    ensure_ascii=False),
            "online": svc.online, "online_url": svc.online_url,
            "avg_service_s": svc.avg_service_s, "slot_minutes": svc.slot_minutes,
            "appointable": svc.appointable, "active": svc.active, "sort": svc.sort,
            "updated_at": now_ms()})

    def _put_counter(self, conn: Connection, c: CounterDef) -> None:
        # Open/closed state and staff are left as they are (insert: closed).
        stmt = self._insert(CNT).values(
            id=c.id, name_zh=c.name["zh-CN"], name_en=c.name["en"], x=c.x, z=c.z,
            services=json.dumps(list(c.service_ids)),
            appointments_per_slot=c.appointments_per_slot, active=c.active, is_open=False,
            staff_id=None, open_services="[]", opened_at=None, updated_at=now_ms())
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={
            "name_zh": c.name["zh-CN"], "name_en": c.name["en"], "x": c.x, "z": c.z,
            "services": json.dumps(list(c.service_ids)),
            "appointments_per_slot": c.appointments_per_slot, "active": c.active,
            "updated_at": now_ms()}))

    def _put_meta(self, conn: Connection, key: str, value: Any) -> None:
        self._upsert(conn, META, "key", {"key": key,
                                         "value": json.dumps(value, ensure_ascii=False)})

    async def save_catalogue(self, catalogue: Catalogue, *, replace: bool) -> None:
        def op(conn: Connection) -> None:
            for svc in catalogue.services:
                self._put_service(conn, svc)
            for c in catalogue.counters:
                self._put_counter(conn, c)
            if replace:
                keep_s = [x.id for x in catalogue.services]
                keep_c = [x.id for x in catalogue.counters]
                conn.execute(update(SVC).where(SVC.c.id.not_in(keep_s)).values(active=False))
                conn.execute(update(CNT).where(CNT.c.id.not_in(keep_c)).values(active=False))
            groups = [list(g) for g in catalogue.synonyms]
            if not replace:
                old = conn.execute(select(META.c.value).where(META.c.key == "synonyms")).first()
                have = [list(g) for g in json.loads(old[0])] if old else []
                groups = have + [g for g in groups if g not in have]
            self._put_meta(conn, "synonyms", groups)
            if replace or catalogue.policy_given:
                self._put_meta(conn, "policy", asdict(catalogue.policy))

        await self.writes.write(op, _catalogue_conflict)

    async def put_service(self, service: ServiceDef) -> None:
        await self.writes.write(lambda c: self._put_service(c, service), _catalogue_conflict)

    async def put_counter(self, counter: CounterDef) -> None:
        await self.writes.write(lambda c: self._put_counter(c, counter), _catalogue_conflict)

    async def put_policy(self, policy: HallPolicy) -> None:
        await self.writes.write(lambda c: self._put_meta(c, "policy", asdict(policy)),
                                _catalogue_conflict)

    async def counter_states(self) -> dict[str, CounterState]:
        async with self.db.session() as s:
            rows = (await s.execute(select(HallCounterRow))).scalars().all()
        return {r.id: CounterState(r.is_open, r.staff_id, tuple(json.loads(r.open_services)),
                                   r.opened_at) for r in rows}

    async def set_counter_state(self, counter_id: str, state: CounterState) -> None:
        def op(conn: Connection) -> None:
            conn.execute(update(CNT).where(CNT.c.id == counter_id).values(
                is_open=state.open, staff_id=state.staff_id,
                open_services=json.dumps(list(state.service_ids)), opened_at=state.opened_at,
                updated_at=now_ms()))

        await self.writes.write(op, _catalogue_conflict)

    # -- tickets -------------------------------------------------------------------------
    async def active_tickets(self) -> list[Ticket]:
        async with self.db.session() as s:
            rows = (await s.execute(select(T).where(T.c.status.in_(ACTIVE_STATUSES)))).mappings()
            return [_ticket(r) for r in rows]

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        async with self.db.session() as s:
            row = (await s.execute(select(T).where(T.c.id == ticket_id))).mappings().first()
        return _ticket(row) if row else None

    def _next_seq(self, conn: Connection, service_id: str, day: str) -> int:
        res = conn.execute(self._next_seq_stmt, {"sid": service_id, "day": day})
        return int(res.scalar_one())

    def _insert_ticket(self, conn: Connection, req: IssueRequest) -> Ticket:
        seq = self._next_seq(conn, req.service_id, req.day)
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
        conn.execute(INSERT_TICKET, values)
        return _ticket(values)

    def _active_of(self, conn: Connection, user_id: str, service_id: str) -> Ticket | None:
        row = conn.execute(select(T).where(
            T.c.user_id == user_id, T.c.service_id == service_id,
            T.c.status.in_(ACTIVE_STATUSES))).mappings().first()
        return _ticket(row) if row else None

    async def issue(self, req: IssueRequest) -> Ticket:
        return await self.writes.write(lambda c: self._insert_ticket(c, req), _active_conflict)

    async def claim_next(self, counter_id: str, service_ids: Sequence[str], staff_id: str,
                         now: int) -> Ticket | None:
        if not service_ids:
            return None
        order = (T.c.priority.desc(), T.c.sort_key, T.c.seq, T.c.id)
        waiting = TicketStatus.WAITING.value

        def op(conn: Connection) -> Ticket | None:
            for _ in range(CLAIM_ROUNDS):
                candidates = conn.execute(
                    select(T.c.id).where(T.c.status == waiting,
                                         T.c.service_id.in_(list(service_ids)))
                    .order_by(*order).limit(CLAIM_BATCH)).scalars().all()
                if not candidates:
                    return None
                for tid in candidates:  # on PostgreSQL a concurrent caller may win any of them
                    row = conn.execute(self._claim_stmt, {
                        "tid": tid, "cid": counter_id, "sid": staff_id, "now": now,
                    }).mappings().first()
                    if row is not None:
                        return _ticket(row)
            return None

        return await self.writes.write(op, _counter_conflict)

    def _update(self, conn: Connection, ticket_id: str, expect: Collection[str],
                values: dict[str, Any]) -> Ticket:
        vals = {k: _plain(v) for k, v in values.items()}
        row = conn.execute(
            update(T).where(T.c.id == ticket_id, T.c.status.in_([_plain(e) for e in expect]))
            .values(**vals, version=T.c.version + 1).returning(*T.c)).mappings().first()
        if row is None:
            exists = conn.execute(select(T.c.id).where(T.c.id == ticket_id)).first()
            if exists is None:
                raise UnknownTicket("No such ticket.", field="ticket_id")
            raise TicketStateChanged("The ticket is no longer in a state that allows this.")
        return _ticket(row)

    async def update_ticket(self, ticket_id: str, expect: Collection[str],
                            values: dict[str, Any]) -> Ticket:
        return await self.writes.write(lambda c: self._update(c, ticket_id, expect, values),
                                       _state_conflict)

    async def transfer(self, ticket_id: str, expect: Collection[str], now: int,
                       req: IssueRequest) -> tuple[Ticket, Ticket]:
        def op(conn: Connection) -> tuple[Ticket, Ticket]:
            old = self._update(conn, ticket_id, expect, {
                "status": TicketStatus.DONE, "outcome": Outcome.TRANSFERRED, "finished_at": now})
            existing = self._active_of(conn, req.user_id, req.service_id)
            if existing is None:
                return old, self._insert_ticket(conn, req)
            return old, self._update(conn, existing.id, ACTIVE_STATUSES, {
                "priority": max(existing.priority, req.priority),
                "sort_key": min(existing.sort_key, req.sort_key or existing.sort_key),
                "transferred_from": req.transferred_from})

        return await self.writes.write(op, _state_conflict)

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
        def op(conn: Connection) -> None:
            conn.execute(R.insert().values(**asdict(rating)))

        await self.writes.write(op, lambda: AlreadyRated("You already rated this ticket."))

    async def ratings_since(self, since: int) -> list[Rating]:
        async with self.db.session() as s:
            rows = (await s.execute(select(HallRatingRow)
                                    .where(HallRatingRow.created_at >= since))).scalars().all()
        return [Rating(r.ticket_id, r.user_id, r.service_id, r.counter_id, r.staff_id, r.score,
                       r.comment, r.created_at) for r in rows]

    # -- appointments --------------------------------------------------------------------
    async def book(self, appointment: Appointment, capacity: int) -> Appointment:
        a = appointment

        def op(conn: Connection) -> Appointment:
            conn.execute(self._insert(SLOT).values(service_id=a.service_id, start=a.start,
                                                   booked=0).on_conflict_do_nothing())
            res = conn.execute(update(SLOT).where(
                SLOT.c.service_id == a.service_id, SLOT.c.start == a.start,
                SLOT.c.booked < capacity).values(booked=SLOT.c.booked + 1))
            if res.rowcount != 1:
                raise SlotFull("That time slot is fully booked.")
            conn.execute(A.insert().values(**{k: _plain(v) for k, v in asdict(a).items()}))
            return a

        return await self.writes.write(
            op, lambda: AlreadyBooked("You already hold an appointment for that service."))

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
        def op(conn: Connection) -> Appointment:
            row = conn.execute(
                update(A).where(A.c.id == appointment_id,
                                A.c.status == AppointmentStatus.BOOKED.value)
                .values(status=AppointmentStatus.CANCELLED.value).returning(*A.c)
            ).mappings().first()
            if row is None:
                exists = conn.execute(select(A.c.id).where(A.c.id == appointment_id)).first()
                if exists is None:
                    raise UnknownAppointment("No such appointment.")
                raise TicketStateChanged("That appointment is no longer booked.")
            conn.execute(update(SLOT).where(
                SLOT.c.service_id == row["service_id"], SLOT.c.start == row["start"],
                SLOT.c.booked > 0).values(booked=SLOT.c.booked - 1))
            return _appointment(row)

        return await self.writes.write(op, _state_conflict)

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
        def op(conn: Connection) -> Ticket | None:
            appt = conn.execute(
                update(A).where(A.c.id == appointment_id,
                                A.c.status == AppointmentStatus.BOOKED.value)
                .values(status=AppointmentStatus.ISSUED.value).returning(A.c.id)).first()
            if appt is None:
                return None
            existing = self._active_of(conn, req.user_id, req.service_id)
            if existing is None:
                ticket = self._insert_ticket(conn, req)
            else:
                ticket = self._update(conn, existing.id, ACTIVE_STATUSES, {
                    "priority": max(existing.priority, req.priority),
                    "sort_key": min(existing.sort_key, req.sort_key or existing.sort_key),
                    "appointment_id": appointment_id})
            conn.execute(update(A).where(A.c.id == appointment_id).values(ticket_id=ticket.id))
            return ticket

        return await self.writes.write(op, _state_conflict)


def _active_conflict() -> ActiveTicketExists:
    return ActiveTicketExists("You already hold a ticket for that service.")


def _counter_conflict() -> CounterBusy:
    return CounterBusy("The counter is still serving a ticket.")


def _state_conflict() -> TicketStateChanged:
    return TicketStateChanged("That change conflicts with another ticket.")


def _catalogue_conflict() -> CatalogueError:
    return CatalogueError("That change conflicts with the stored catalogue.")
