"""The SQLAlchemy implementation of ``rooms.expo.store.ExpoStore`` (SQLite and PostgreSQL).

Races are settled by constraints: a booth slot holds one booth (unique room+slot), an account
runs one booth (primary key), a visitor has one lead per booth (unique), a slot has one booked
meeting and a visitor one booked meeting per booth (partial unique indexes), an open slot of a
booth starts at a given time once. Every write commits before it returns.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from rooms.expo.errors import (
    AlreadyBookedHere,
    BoothTaken,
    ExhibitorElsewhere,
    ExpoExists,
    SlotOccupied,
    SlotTaken,
)
from rooms.expo.models import (
    Booth,
    Expo,
    FileRef,
    HallSpec,
    Lead,
    Meeting,
    Product,
    Slot,
    Video,
    Visit,
)
from rooms.expo.store import Heat, Loaded, VisitStats
from server.db.engine import Database
from server.db.models import RoomRecord, User
from server.expo_models import (
    BoothRow,
    ExhibitorRow,
    ExpoRow,
    FavouriteRow,
    FileRow,
    HeatRow,
    LeadRow,
    MeetingRow,
    SlotRow,
    VisitRow,
)

__all__ = ["SqlExpoStore"]


def _halls_json(halls: Sequence[HallSpec]) -> str:
    return json.dumps([h.to_wire() for h in halls], ensure_ascii=False)


def _halls(text: str) -> tuple[HallSpec, ...]:
    out = []
    for h in json.loads(text):
        out.append(HallSpec(id=h["id"], room_id=h["room_id"], name=h["name"], rows=h["rows"],
                            cols=h["cols"], booth_w=h["booth_w"], booth_d=h["booth_d"],
                            pitch_x=h["pitch_x"], pitch_z=h["pitch_z"], stage=h["stage"]))
    return tuple(out)


def _expo(r: ExpoRow) -> Expo:
    return Expo(r.id, {"zh-CN": r.name_zh, "en": r.name_en}, r.starts_at, r.ends_at, r.published,
                _halls(r.halls), r.created_by, r.created_at, r.updated_at)


def _products_json(products: Sequence[Product]) -> str:
    return json.dumps([{"id": p.id, "name": p.name, "description": p.description,
                        "image": p.image, "brochure": p.brochure, "video_url": p.video_url}
                       for p in products], ensure_ascii=False)


def _booth(r: BoothRow) -> Booth:
    products = tuple(Product(p["id"], p["name"], p["description"], p.get("image"),
                             p.get("brochure"), p.get("video_url"))
                     for p in json.loads(r.products))
    videos = tuple(Video(v["title"], v["url"]) for v in json.loads(r.videos))
    return Booth(id=r.id, expo_id=r.expo_id, room_id=r.room_id, slot=r.slot, company=r.company,
                 name={"zh-CN": r.name_zh, "en": r.name_en},
                 description={"zh-CN": r.desc_zh, "en": r.desc_en}, category=r.category,
                 keywords=tuple(json.loads(r.keywords)), color=r.color,
                 banner={"zh-CN": r.banner_zh, "en": r.banner_en}, logo=r.logo_id,
                 products=products, videos=videos, brochures=tuple(json.loads(r.brochures)),
                 updated_at=r.updated_at, version=r.version)


def _profile_values(b: Booth) -> dict[str, Any]:
    return {"company": b.company, "name_zh": b.name.get("zh-CN", ""), "name_en": b.name.get("en", ""),
            "desc_zh": b.description.get("zh-CN", ""), "desc_en": b.description.get("en", ""),
            "category": b.category, "keywords": json.dumps(list(b.keywords), ensure_ascii=False),
            "color": b.color, "banner_zh": b.banner.get("zh-CN", ""),
            "banner_en": b.banner.get("en", ""), "logo_id": b.logo,
            "products": _products_json(b.products),
            "videos": json.dumps([{"title": v.title, "url": v.url} for v in b.videos],
                                 ensure_ascii=False),
            "brochures": json.dumps(list(b.brochures)), "version": b.version,
            "updated_at": b.updated_at}


def _file(r: FileRow) -> FileRef:
    return FileRef(r.id, r.booth_id, r.kind, r.content_type, r.size, r.name, r.sha256, r.width,
                   r.height, r.created_at)


def _lead(r: LeadRow) -> Lead:
    return Lead(r.id, r.booth_id, r.user_id, r.display_name, json.loads(r.contact),
                r.consent_text, r.consent_lang, r.consent_at, r.created_at)


def _slot(r: SlotRow) -> Slot:
    return Slot(r.id, r.booth_id, r.staff_id, r.start, r.end, r.status, r.created_at)


def _meeting(r: MeetingRow) -> Meeting:
    return Meeting(r.id, r.slot_id, r.booth_id, r.visitor_id, r.visitor_name, r.staff_id,
                   r.start, r.end, r.status, r.created_at, r.cancelled_by, r.reminded_at,
                   r.opened_at)


def _violates(exc: IntegrityError, *names: str) -> bool:
    text = str(exc.orig)
    return any(n in text for n in names)


class SqlExpoStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self) -> Loaded:
        async with self.db.session() as s:
            expos = [_expo(r) for r in (await s.execute(select(ExpoRow))).scalars()]
            booths = {r.id: _booth(r) for r in (await s.execute(select(BoothRow))).scalars()}
            for f in (await s.execute(select(FileRow).where(FileRow.deleted_at.is_(None)))
                      ).scalars():
                if f.booth_id in booths:
                    booths[f.booth_id].files[f.id] = _file(f)
            rows = (await s.execute(select(ExhibitorRow.user_id, ExhibitorRow.booth_id,
                                           User.display_name)
                                    .join(User, User.id == ExhibitorRow.user_id))).all()
        return Loaded(expos, list(booths.values()), {u: (b, n) for u, b, n in rows})

    # -- organiser ----------------------------------------------------------------------------
    async def create_expo(self, expo: Expo, *, existing_rooms_ok: bool = False) -> None:
        try:
            async with self.db.session() as s, s.begin():
                s.add(ExpoRow(id=expo.id, name_zh=expo.name["zh-CN"], name_en=expo.name["en"],
                              starts_at=expo.starts_at, ends_at=expo.ends_at,
                              published=expo.published, halls=_halls_json(expo.halls),
                              created_by=expo.created_by, created_at=expo.created_at,
                              updated_at=expo.updated_at))
                have = set((await s.execute(select(RoomRecord.id).where(
                    RoomRecord.id.in_([h.room_id for h in expo.halls])))).scalars())
                if have and not existing_rooms_ok:
                    raise ExpoExists(f"The room {sorted(have)[0]!r} already exists.")
                for h in expo.halls:
                    if h.room_id not in have:
                        s.add(RoomRecord(id=h.room_id, kind="expo",
                                         name_zh=_room_name(expo, h, "zh-CN"),
                                         name_en=_room_name(expo, h, "en"),
                                         public=expo.published))
        except IntegrityError as exc:
            raise ExpoExists() from exc

    async def update_expo(self, expo: Expo) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(ExpoRow).where(ExpoRow.id == expo.id).values(
                name_zh=expo.name["zh-CN"], name_en=expo.name["en"], starts_at=expo.starts_at,
                ends_at=expo.ends_at, updated_at=expo.updated_at))
            for h in expo.halls:
                await s.execute(update(RoomRecord).where(RoomRecord.id == h.room_id).values(
                    name_zh=_room_name(expo, h, "zh-CN"), name_en=_room_name(expo, h, "en")))

    async def set_published(self, expo: Expo) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(ExpoRow).where(ExpoRow.id == expo.id).values(
                published=expo.published, updated_at=expo.updated_at))
            await s.execute(update(RoomRecord).where(
                RoomRecord.id.in_([h.room_id for h in expo.halls])).values(
                public=expo.published))

    async def create_booth(self, booth: Booth) -> None:
        try:
            async with self.db.session() as s, s.begin():
                s.add(BoothRow(id=booth.id, expo_id=booth.expo_id, room_id=booth.room_id,
                               slot=booth.slot, **_profile_values(booth)))
        except IntegrityError as exc:
            raise BoothTaken() from exc

    async def add_exhibitor(self, user_id: str, booth_id: str, expo_id: str, by: str | None,
                            now: int) -> None:
        try:
            async with self.db.session() as s, s.begin():
                s.add(ExhibitorRow(user_id=user_id, booth_id=booth_id, expo_id=expo_id,
                                   invited_by=by, created_at=now))
        except IntegrityError as exc:
            raise ExhibitorElsewhere() from exc

    async def remove_exhibitor(self, user_id: str) -> bool:
        async with self.db.session() as s, s.begin():
            res = await s.execute(delete(ExhibitorRow).where(ExhibitorRow.user_id == user_id))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    # -- booth profile and files -----------------------------------------------------------------
    async def save_profile(self, booth: Booth) -> None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(BoothRow).where(BoothRow.id == booth.id)
                            .values(**_profile_values(booth)))

    async def add_file(self, ref: FileRef, path: str, thumb_path: str | None) -> None:
        async with self.db.session() as s, s.begin():
            s.add(FileRow(id=ref.id, booth_id=ref.booth_id, kind=ref.kind,
                          content_type=ref.content_type, size=ref.size, sha256=ref.sha256,
                          name=ref.name, path=path, thumb_path=thumb_path, width=ref.width,
                          height=ref.height, created_at=ref.created_at))

    async def get_file(self, file_id: str) -> tuple[FileRef, str, str | None] | None:
        async with self.db.session() as s:
            r = await s.get(FileRow, file_id)
        if r is None or r.deleted_at is not None:
            return None
        return _file(r), r.path, r.thumb_path

    async def delete_file(self, file_id: str, now: int) -> tuple[str, str | None] | None:
        async with self.db.session() as s, s.begin():
            r = await s.get(FileRow, file_id)
            if r is None or r.deleted_at is not None:
                return None
            r.deleted_at = now
            return r.path, r.thumb_path

    # -- visitors ------------------------------------------------------------------------------
    async def put_lead(self, lead: Lead) -> Lead:
        values = {"display_name": lead.display_name,
                  "contact": json.dumps(lead.contact, ensure_ascii=False),
                  "consent_text": lead.consent_text, "consent_lang": lead.consent_lang,
                  "consent_at": lead.consent_at}
        for _ in range(2):
            async with self.db.session() as s, s.begin():
                res = await s.execute(update(LeadRow).where(
                    LeadRow.booth_id == lead.booth_id, LeadRow.user_id == lead.user_id)
                    .values(**values))
                if res.rowcount:  # type: ignore[attr-defined]
                    row = (await s.execute(select(LeadRow).where(
                        LeadRow.booth_id == lead.booth_id, LeadRow.user_id == lead.user_id))
                    ).scalar_one()
                    return _lead(row)
            try:
                async with self.db.session() as s, s.begin():
                    s.add(LeadRow(id=lead.id, booth_id=lead.booth_id, user_id=lead.user_id,
                                  created_at=lead.created_at, **values))
                return lead
            except IntegrityError:
                continue  # a concurrent share inserted it first: update that one
        raise RuntimeError("lead upsert did not settle")

    async def delete_lead(self, booth_id: str, user_id: str) -> bool:
        async with self.db.session() as s, s.begin():
            res = await s.execute(delete(LeadRow).where(LeadRow.booth_id == booth_id,
                                                        LeadRow.user_id == user_id))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    async def leads(self, booth_id: str) -> list[Lead]:
        async with self.db.session() as s:
            rows = (await s.execute(select(LeadRow).where(LeadRow.booth_id == booth_id)
                                    .order_by(LeadRow.consent_at))).scalars()
            return [_lead(r) for r in rows]

    async def leads_of(self, user_id: str) -> list[Lead]:
        async with self.db.session() as s:
            rows = (await s.execute(select(LeadRow).where(LeadRow.user_id == user_id))).scalars()
            return [_lead(r) for r in rows]

    async def set_favourite(self, user_id: str, booth_id: str, on: bool, now: int) -> None:
        async with self.db.session() as s, s.begin():
            have = await s.get(FavouriteRow, (user_id, booth_id))
            if on and have is None:
                s.add(FavouriteRow(user_id=user_id, booth_id=booth_id, created_at=now))
            elif not on and have is not None:
                await s.delete(have)

    async def favourites(self, user_id: str) -> list[str]:
        async with self.db.session() as s:
            return list((await s.execute(select(FavouriteRow.booth_id).where(
                FavouriteRow.user_id == user_id).order_by(FavouriteRow.created_at))).scalars())

    # -- meetings ----------------------------------------------------------------------------------
    async def add_slots(self, slots: Sequence[Slot]) -> None:
        try:
            async with self.db.session() as s, s.begin():
                s.add_all([SlotRow(id=x.id, booth_id=x.booth_id, staff_id=x.staff_id,
                                   start=x.start, end=x.end, status=x.status,
                                   created_at=x.created_at) for x in slots])
        except IntegrityError as exc:
            raise SlotOccupied() from exc

    async def get_slot(self, slot_id: str) -> Slot | None:
        async with self.db.session() as s:
            r = await s.get(SlotRow, slot_id)
        return _slot(r) if r is not None else None

    async def slots(self, booth_id: str, since: int) -> list[tuple[Slot, bool]]:
        booked = select(MeetingRow.slot_id).where(MeetingRow.status == "booked",
                                                  MeetingRow.booth_id == booth_id)
        async with self.db.session() as s:
            rows = (await s.execute(select(SlotRow, SlotRow.id.in_(booked)).where(
                SlotRow.booth_id == booth_id, SlotRow.status == "open", SlotRow.end > since)
                .order_by(SlotRow.start))).all()
        return [(_slot(r), bool(b)) for r, b in rows]

    async def cancel_slot(self, slot_id: str, by: str, now: int) -> Meeting | None:
        async with self.db.session() as s, s.begin():
            await s.execute(update(SlotRow).where(SlotRow.id == slot_id, SlotRow.status == "open")
                            .values(status="cancelled"))
            m = (await s.execute(select(MeetingRow).where(
                MeetingRow.slot_id == slot_id, MeetingRow.status == "booked"))).scalar_one_or_none()
            if m is None:
                return None
            m.status, m.cancelled_at, m.cancelled_by = "cancelled", now, by
            return _meeting(m)

    async def book(self, meeting: Meeting) -> None:
        m = meeting
        try:
            async with self.db.session() as s, s.begin():
                s.add(MeetingRow(id=m.id, slot_id=m.slot_id, booth_id=m.booth_id,
                                 visitor_id=m.visitor_id, visitor_name=m.visitor_name,
                                 staff_id=m.staff_id, start=m.start, end=m.end, status=m.status,
                                 created_at=m.created_at))
        except IntegrityError as exc:
            if _violates(exc, "visitor", "booth_id"):
                raise AlreadyBookedHere() from exc
            raise SlotTaken() from exc

    async def get_meeting(self, meeting_id: str) -> Meeting | None:
        async with self.db.session() as s:
            r = await s.get(MeetingRow, meeting_id)
        return _meeting(r) if r is not None else None

    async def cancel_meeting(self, meeting_id: str, by: str, now: int) -> Meeting | None:
        async with self.db.session() as s, s.begin():
            res = await s.execute(update(MeetingRow).where(
                MeetingRow.id == meeting_id, MeetingRow.status == "booked").values(
                status="cancelled", cancelled_at=now, cancelled_by=by))
            if not res.rowcount:  # type: ignore[attr-defined]
                return None
            r = await s.get(MeetingRow, meeting_id)
            assert r is not None
            return _meeting(r)

    async def meetings(self, *, booth_id: str | None = None, user_id: str | None = None,
                       since: int = 0) -> list[Meeting]:
        q = select(MeetingRow).where(MeetingRow.status == "booked", MeetingRow.end > since)
        if booth_id is not None:
            q = q.where(MeetingRow.booth_id == booth_id)
        if user_id is not None:
            q = q.where((MeetingRow.visitor_id == user_id) | (MeetingRow.staff_id == user_id))
        async with self.db.session() as s:
            return [_meeting(r) for r in (await s.execute(q.order_by(MeetingRow.start))).scalars()]

    async def live_meetings(self, start_before: int, end_after: int) -> list[Meeting]:
        async with self.db.session() as s:
            rows = (await s.execute(select(MeetingRow).where(
                MeetingRow.status == "booked", MeetingRow.start < start_before,
                MeetingRow.end > end_after))).scalars()
            return [_meeting(r) for r in rows]

    async def mark_meeting(self, meeting_id: str, column: str, now: int) -> bool:
        col = {"reminded_at": MeetingRow.reminded_at, "opened_at": MeetingRow.opened_at}[column]
        async with self.db.session() as s, s.begin():
            res = await s.execute(update(MeetingRow).where(
                MeetingRow.id == meeting_id, MeetingRow.status == "booked", col.is_(None))
                .values({column: now}))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    # -- analytics ----------------------------------------------------------------------------------
    async def add_visits(self, visits: Sequence[Visit]) -> None:
        async with self.db.session() as s, s.begin():
            s.add_all([VisitRow(booth_id=v.booth_id, user_id=v.user_id, started_at=v.started_at,
                                ended_at=v.ended_at, dwell_ms=v.dwell_ms) for v in visits])

    async def visit_stats(self, booth_id: str, since: int) -> VisitStats:
        async with self.db.session() as s:
            n, uniq, total = (await s.execute(select(
                func.count(VisitRow.id), func.count(func.distinct(VisitRow.user_id)),
                func.coalesce(func.sum(VisitRow.dwell_ms), 0)).where(
                VisitRow.booth_id == booth_id, VisitRow.started_at >= since))).one()
        return VisitStats(int(n), int(uniq), int(total))

    async def counts(self, booth_id: str, since: int) -> tuple[int, int]:
        async with self.db.session() as s:
            leads = (await s.execute(select(func.count(LeadRow.id)).where(
                LeadRow.booth_id == booth_id, LeadRow.consent_at >= since))).scalar_one()
            meetings = (await s.execute(select(func.count(MeetingRow.id)).where(
                MeetingRow.booth_id == booth_id, MeetingRow.status == "booked",
                MeetingRow.created_at >= since))).scalar_one()
        return int(leads), int(meetings)

    async def add_heat(self, room_id: str, heat: Heat) -> None:
        nz, nx = heat.counts.shape
        async with self.db.session() as s, s.begin():
            q = select(HeatRow).where(HeatRow.room_id == room_id)
            if not self.db.is_sqlite:
                q = q.with_for_update()
            row = (await s.execute(q)).scalar_one_or_none()
            counts = heat.counts.astype("<i8")
            if row is not None and (row.nx, row.nz) == (nx, nz) and row.cell == heat.cell:
                counts = counts + _counts(row)
                row.counts = zlib.compress(counts.tobytes())
                row.samples += heat.samples
                row.updated_at = _now()
            elif row is not None:  # the hall's geometry changed: start again
                row.cell, row.min_x, row.min_z, row.nx, row.nz = (heat.cell, heat.min_x,
                                                                  heat.min_z, nx, nz)
                row.counts = zlib.compress(counts.tobytes())
                row.samples, row.updated_at = heat.samples, _now()
            else:
                s.add(HeatRow(room_id=room_id, cell=heat.cell, min_x=heat.min_x,
                              min_z=heat.min_z, nx=nx, nz=nz,
                              counts=zlib.compress(counts.tobytes()), samples=heat.samples,
                              updated_at=_now()))

    async def heat(self, room_id: str) -> Heat | None:
        async with self.db.session() as s:
            row = await s.get(HeatRow, room_id)
        if row is None:
            return None
        return Heat(row.cell, row.min_x, row.min_z, _counts(row), row.samples)


def _counts(row: HeatRow) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.frombuffer(zlib.decompress(row.counts), dtype="<i8").astype(np.int64).reshape(
        row.nz, row.nx)


def _now() -> int:
    import time

    return int(time.time() * 1000)


def _room_name(expo: Expo, hall: HallSpec, lang: str) -> str:
    name = expo.name.get(lang) or expo.name.get("en") or expo.id
    if len(expo.halls) > 1:
        name = f"{name} · {hall.name.get(lang) or hall.id}"
    return name[:100]
