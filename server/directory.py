"""The room directory backed by the ``rooms`` table, plus the demo seed."""

from __future__ import annotations

from sqlalchemy import select

from rooms.base import RoomOptions
from server.db.engine import Database
from server.db.models import RoomRecord
from server.settings import Settings

__all__ = ["DbRoomDirectory", "seed_rooms", "DEMO_ROOMS"]

DEMO_ROOMS: tuple[tuple[str, str, str, str], ...] = (
    ("hall:main", "hall", "市民服务中心", "Citizen Service Hall"),
    ("expo:demo", "expo", "城市云展会", "City Cloud Expo"),
    ("social:plaza", "social", "城市广场", "City Plaza"),
    ("social:cafe", "social", "街角咖啡", "Corner Café"),
)


class DbRoomDirectory:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._cache: dict[str, RoomOptions] = {}

    def _options(self, rec: RoomRecord) -> RoomOptions:
        cap = rec.capacity or self.settings.capacity.get(rec.kind, 500)
        return RoomOptions(rec.id, rec.kind, {"zh-CN": rec.name_zh, "en": rec.name_en}, cap,
                           rec.public, rec.owner_id)

    async def get(self, room_id: str) -> RoomOptions | None:
        hit = self._cache.get(room_id)
        if hit is not None:
            return hit
        async with self.db.session() as s:
            rec = await s.get(RoomRecord, room_id)
        if rec is None:
            return None
        opts = self._cache[room_id] = self._options(rec)
        return opts

    async def list(self) -> list[RoomOptions]:
        async with self.db.session() as s:
            recs = (await s.execute(select(RoomRecord).order_by(RoomRecord.id))).scalars().all()
        return [self._options(r) for r in recs]

    def forget(self, room_id: str) -> None:
        self._cache.pop(room_id, None)


async def seed_rooms(db: Database, demo: bool) -> None:
    """``hall:main`` always exists; the demo adds an expo and social spaces."""
    wanted = DEMO_ROOMS if demo else DEMO_ROOMS[:1]
    async with db.session() as s, s.begin():
        have = set((await s.execute(select(RoomRecord.id))).scalars().all())
        for room_id, kind, zh, en in wanted:
            if room_id not in have:
                s.add(RoomRecord(id=room_id, kind=kind, name_zh=zh, name_en=en, public=True))
