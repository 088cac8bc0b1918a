"""The expo service: expos and halls, booths and who runs them, booth profiles and files, and
the live side (presence, notifications). Visitors' actions, meetings and analytics live in
``visitors.py``, ``meetings.py`` and ``analytics.py`` (desks sharing this core).

Domain code: storage is the ``ExpoStore`` protocol, people are reached through ``ExpoNotifier``
and texts pass the ``TextGate`` (the moderation service's text gate in the server).
Permissions are checked here, before any payload is looked at beyond its ids: the organiser is
an admin; a booth's staff are the exhibitor accounts tied to it (one booth per account).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from rooms.client import Client, UserLike
from rooms.expo.errors import (
    BadExpoSpec,
    ExhibitorElsewhere,
    ExpoClosed,
    ExpoExists,
    NotYourBooth,
    OrganiserOnly,
    TooManyFiles,
    UnknownBooth,
    UnknownExpo,
    UnknownFile,
    UnknownHall,
)
from rooms.expo.layout import BOOTH_COLORS, DEMO_HALL, HallPlan, plan_hall
from rooms.expo.models import Booth, Expo, FileRef, Product, Texts, Video
from rooms.expo.profile import ProfileEdit, parse_expo, parse_profile, parse_texts
from rooms.expo.store import ExpoStore
from rooms.hall.path import FloorPlanner, rects_from_features

if TYPE_CHECKING:
    from rooms.base import Room
    from rooms.expo.room import ExpoRoom

__all__ = ["ExpoService", "ExpoPolicy", "ExpoNotifier", "TextGate"]

log = logging.getLogger("metahall.expo")

TextGate = Callable[[UserLike, str, str, str], Awaitable[str]]
"""(user, lang, channel, text) → the text others may see (maybe redacted); raises to refuse."""


async def _allow_text(_user: UserLike, _lang: str, _channel: str, text: str) -> str:
    return text


class ExpoNotifier(Protocol):
    def to_user(self, user_id: str, event: str, data: Any) -> int:
        """Queue ``event`` on every connection of the user; returns how many."""

    def clients(self, user_id: str) -> list[Client]: ...

    def emit(self, sid: str, event: str, data: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class ExpoPolicy:
    presence_every_ms: int = 1000
    """How often a room samples who stands at which booth."""
    min_visit_ms: int = 3000
    """Shorter stays in a booth's zone are people walking past, not visits."""
    heat_cell_m: float = 1.0
    remind_before_ms: int = 5 * 60_000
    meeting_early_ms: int = 60_000
    """The private meeting channel opens this long before the slot starts…"""
    meeting_grace_ms: int = 10 * 60_000
    """…and stays open this long after it ends."""
    slot_minutes: tuple[int, int] = (10, 240)
    max_slots_per_call: int = 16
    booking_days: int = 60
    max_files_per_booth: int = 60
    flush_every_s: float = 5.0


def _ms(clock: Callable[[], float]) -> int:
    return int(clock() * 1000)


def is_admin(user: UserLike) -> bool:
    return "admin" in user.roles


class ExpoService:
    def __init__(self, store: ExpoStore, notifier: ExpoNotifier, *,
                 text_gate: TextGate = _allow_text, clock: Callable[[], float] = time.time,
                 policy: ExpoPolicy | None = None,
                 on_rooms_changed: Callable[[Iterable[str]], None] | None = None,
                 observe_presence: Callable[[float, int], None] | None = None) -> None:
        self.store = store
        self.notifier = notifier
        self.text_gate = text_gate
        self.clock = clock
        self.policy = policy or ExpoPolicy()
        self.on_rooms_changed = on_rooms_changed
        """Called with room ids whose listing changed (the server's directory cache)."""
        self.observe_presence = observe_presence
        """Called with (seconds, avatars) after each presence sample of a room (metrics)."""
        self.sync: Callable[[str | None], None] | None = None
        """Cluster: told after every committed change (the booth id, or None for expo-level
        changes) so the other processes reload; see server/cluster_setup.py."""
        self.expos: dict[str, Expo] = {}
        self.booths: dict[str, Booth] = {}
        self.by_slot: dict[tuple[str, str], str] = {}
        """(room id, slot) → booth id"""
        self.staff_of: dict[str, str] = {}
        """exhibitor user id → booth id"""
        self.staff_names: dict[str, str] = {}
        self.plans: dict[str, HallPlan] = {}
        """room id → geometry of that hall"""
        self.room_expo: dict[str, str] = {}
        self._planners: dict[str, FloorPlanner] = {}
        self.rooms: set[ExpoRoom] = set()
        """Open expo room instances of this process (they register themselves)."""
        self._default_plan = plan_hall(DEMO_HALL)
        from rooms.expo.analytics import Analytics
        from rooms.expo.meetings import MeetingDesk
        from rooms.expo.visitors import VisitorDesk

        self.visitors = VisitorDesk(self)
        self.meetings = MeetingDesk(self)
        self.analytics = Analytics(self)

    def now(self) -> int:
        return _ms(self.clock)

    # -- lifecycle ---------------------------------------------------------------------------
    def _changed(self, booth_id: str | None = None) -> None:
        if self.sync is not None:
            self.sync(booth_id)

    async def reload(self, booth_id: str | None = None) -> None:
        """Take the stored expos, booths and exhibitors (another process changed them); the
        changed booth's profile goes to this process's visitors and staff."""
        loaded = await self.store.load()
        self.expos.clear()
        self.booths.clear()
        self.by_slot.clear()
        self.staff_of.clear()
        self.staff_names.clear()
        for expo in loaded.expos:
            self._add_expo(expo)
        for booth in loaded.booths:
            self._add_booth(booth)
        for user_id, (bid, name) in loaded.exhibitors.items():
            self.staff_of[user_id] = bid
            self.staff_names[user_id] = name
        if self.on_rooms_changed is not None:
            self.on_rooms_changed(list(self.plans))
        if booth_id is not None and booth_id in self.booths:
            self._booth_changed(self.booths[booth_id])

    async def start(self, seed_demo: bool = False) -> bool:
        """Load everything; with ``seed_demo`` create the demo expo on first start. Returns
        True when the demo was created now (the server then adds its pictures)."""
        loaded = await self.store.load()
        for expo in loaded.expos:
            self._add_expo(expo)
        for booth in loaded.booths:
            self._add_booth(booth)
        for user_id, (booth_id, name) in loaded.exhibitors.items():
            self.staff_of[user_id] = booth_id
            self.staff_names[user_id] = name
        created = False
        if seed_demo and "demo" not in self.expos:
            created = await self._seed_demo()
        await self.meetings.refresh()
        log.info("expo ready expos=%d booths=%d exhibitors=%d", len(self.expos),
                 len(self.booths), len(self.staff_of))
        return created

    async def run(self, every_s: float = 1.0) -> None:
        """The background loop: meeting reminders and openings each second, bookings made by
        other processes every 15 s, visits and heat written every ``flush_every_s``."""
        loop = asyncio.get_running_loop()
        next_refresh = next_flush = loop.time()
        while True:
            await asyncio.sleep(every_s)
            try:
                now = loop.time()
                if now >= next_refresh:
                    next_refresh = now + 15.0
                    await self.meetings.refresh()
                await self.meetings.tick()
                if now >= next_flush:
                    next_flush = now + self.policy.flush_every_s
                    await self.analytics.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expo background step failed")

    async def _seed_demo(self) -> bool:
        from rooms.expo.demo import DEMO_BOOTHS, DEMO_EXPO

        expo = replace(DEMO_EXPO, created_at=self.now(), updated_at=self.now())
        try:
            await self.store.create_expo(expo, existing_rooms_ok=True)
        except ExpoExists:
            return False  # another process seeded it first
        await self.store.set_published(expo)
        self._add_expo(expo)
        for booth in DEMO_BOOTHS:
            b = replace(booth, updated_at=self.now(), files={})
            await self.store.create_booth(b)
            self._add_booth(b)
        return True

    def _add_expo(self, expo: Expo) -> None:
        self.expos[expo.id] = expo
        for hall in expo.halls:
            self.plans[hall.room_id] = plan_hall(hall)
            self.room_expo[hall.room_id] = expo.id
            self._planners.pop(hall.room_id, None)

    def _add_booth(self, booth: Booth) -> None:
        self.booths[booth.id] = booth
        self.by_slot[(booth.room_id, booth.slot)] = booth.id

    # -- geometry ------------------------------------------------------------------------------
    def plan(self, room_id: str) -> HallPlan | None:
        """The hall of an expo room; None for an expo room no expo owns (the default plan)."""
        return self.plans.get(room_id)

    def plan_or_default(self, room_id: str) -> HallPlan:
        return self.plans.get(room_id) or self._default_plan

    def planner(self, room_id: str) -> FloorPlanner:
        p = self._planners.get(room_id)
        if p is None:
            lay = self.plan_or_default(room_id).layout
            p = FloorPlanner((lay.min_x, lay.max_x, lay.min_z, lay.max_z),
                             rects_from_features(lay.features))
            self._planners[room_id] = p
        return p

    def booths_in(self, room_id: str) -> dict[str, Booth]:
        """slot → booth of one hall."""
        return {b.slot: b for b in self.booths.values() if b.room_id == room_id}

    def layout_wire(self, room_id: str) -> dict[str, Any] | None:
        """The floor plan as ``GET /api/rooms/{id}/layout`` serves it: the booths' names,
        colours and banners in place of the empty slots' labels."""
        plan = self.plans.get(room_id)
        if plan is None:
            return None
        wire = plan.to_wire(self.booths_in(room_id))
        expo = self.expos[self.room_expo[room_id]]
        wire["expo"].update(id=expo.id, name=dict(expo.name), published=expo.published)
        return wire

    # -- permissions -----------------------------------------------------------------------------
    def require_admin(self, user: UserLike) -> None:
        if not is_admin(user):
            raise OrganiserOnly()

    def expo(self, expo_id: str) -> Expo:
        e = self.expos.get(expo_id)
        if e is None:
            raise UnknownExpo(f"No expo {expo_id!r}.")
        return e

    def booth(self, booth_id: object) -> Booth:
        b = self.booths.get(booth_id) if isinstance(booth_id, str) else None
        if b is None:
            raise UnknownBooth()
        return b

    def is_staff(self, user_id: str, booth_id: str) -> bool:
        return self.staff_of.get(user_id) == booth_id

    def require_staff(self, user: UserLike, booth_id: str, *, admin_ok: bool = False) -> Booth:
        """The booth, if ``user`` is one of its exhibitors (or, with ``admin_ok``, an admin)."""
        booth = self.booth(booth_id)
        staff = self.is_staff(user.id, booth_id) and (
            "exhibitor" in user.roles or is_admin(user))
        if not staff and not (admin_ok and is_admin(user)):
            raise NotYourBooth()
        return booth

    def visible(self, user: UserLike | None, expo_id: str) -> bool:
        """Published expos are public; unpublished ones only for admins and their exhibitors."""
        expo = self.expos.get(expo_id)
        if expo is None:
            return False
        if expo.published or (user is not None and is_admin(user)):
            return True
        own = self.booths.get(self.staff_of.get(user.id, "")) if user is not None else None
        return own is not None and own.expo_id == expo_id

    def require_visible(self, user: UserLike | None, expo_id: str) -> Expo:
        if not self.visible(user, expo_id):
            if expo_id in self.expos:
                raise ExpoClosed()
            raise UnknownExpo()
        return self.expos[expo_id]

    def check_join(self, client: Client, room_id: str) -> None:
        """An unpublished expo's halls take only its organisers and exhibitors."""
        expo_id = self.room_expo.get(room_id)
        if expo_id is not None:
            self.require_visible(client.user, expo_id)

    # -- organiser ------------------------------------------------------------------------------
    def list_expos(self, user: UserLike | None) -> list[dict[str, Any]]:
        out = []
        for e in sorted(self.expos.values(), key=lambda e: (e.starts_at or 0, e.id)):
            if self.visible(user, e.id):
                w = e.to_wire()
                w["booths"] = sum(1 for b in self.booths.values() if b.expo_id == e.id)
                out.append(w)
        return out

    def expo_wire(self, user: UserLike | None, expo_id: str) -> dict[str, Any]:
        expo = self.require_visible(user, expo_id)
        w = expo.to_wire()
        w["booths"] = sum(1 for b in self.booths.values() if b.expo_id == expo.id)
        return w

    async def create_expo(self, user: UserLike, payload: object) -> dict[str, Any]:
        self.require_admin(user)
        expo_id, name, starts_at, ends_at, halls = parse_expo(payload)
        for h in halls:
            plan_hall(h)  # geometry checks (BadExpoSpec)
            if h.room_id in self.plans:
                raise ExpoExists(f"The room {h.room_id!r} already belongs to an expo.")
        if expo_id in self.expos:
            raise ExpoExists()
        now = self.now()
        expo = Expo(expo_id, name, starts_at, ends_at, False, tuple(halls), user.id, now, now)
        await self.store.create_expo(expo)
        self._add_expo(expo)
        self._changed()
        log.info("expo created id=%s by=%s halls=%d", expo_id, user.id, len(halls))
        return expo.to_wire()

    async def update_expo(self, user: UserLike, expo_id: str, payload: object) -> dict[str, Any]:
        """Name and dates; the halls' geometry is fixed once booths stand in it."""
        self.require_admin(user)
        expo = self.expo(expo_id)
        from rooms.payloads import require_mapping

        data = require_mapping(payload)
        name = parse_texts(data["name"], "name", max_len=60, required=True) \
            if "name" in data else expo.name
        starts, ends = expo.starts_at, expo.ends_at
        for key in ("starts_at", "ends_at"):
            if key in data:
                v = data[key]
                if v is not None and (isinstance(v, bool) or not isinstance(v, int)
                                      or not 0 <= v <= 2**53):
                    raise BadExpoSpec(f"{key} must be a time in ms or null", field=key)
                if key == "starts_at":
                    starts = v
                else:
                    ends = v
        if starts is not None and ends is not None and ends <= starts:
            raise BadExpoSpec("ends_at must be after starts_at", field="ends_at")
        updated = replace(expo, name=name, starts_at=starts, ends_at=ends, updated_at=self.now())
        await self.store.update_expo(updated)
        self.expos[expo_id] = updated
        self._changed()
        return updated.to_wire()

    async def publish(self, user: UserLike, expo_id: str, published: bool) -> dict[str, Any]:
        self.require_admin(user)
        expo = replace(self.expo(expo_id), published=published, updated_at=self.now())
        await self.store.set_published(expo)
        self.expos[expo_id] = expo
        self._changed()
        if self.on_rooms_changed is not None:
            self.on_rooms_changed([h.room_id for h in expo.halls])
        log.info("expo %s id=%s by=%s", "published" if published else "unpublished", expo_id,
                 user.id)
        return expo.to_wire()

    async def assign(self, user: UserLike, expo_id: str, hall_id: str | None, slot: str,
                     company: str, exhibitor: UserLike) -> Booth:
        """Tie ``exhibitor`` to the booth in ``slot`` (creating the booth for ``company`` when
        the slot is still empty; a taken slot gets one more staff member)."""
        self.require_admin(user)
        expo = self.expo(expo_id)
        hall = expo.hall(hall_id)
        if hall is None:
            raise UnknownHall(f"No hall {hall_id!r} in this expo.")
        plan = self.plans[hall.room_id]
        if plan.slot_index(slot) < 0:
            raise UnknownHall(f"No booth slot {slot!r} in {hall.id}.")
        booth_id = self.by_slot.get((hall.room_id, slot))
        held = self.staff_of.get(exhibitor.id)
        if held is not None and held != booth_id and held in self.booths:
            raise ExhibitorElsewhere()  # before anything is created
        now = self.now()
        if booth_id is None:
            n = plan.slot_index(slot) + 1
            booth = Booth(id=uuid.uuid4().hex[:12], expo_id=expo.id, room_id=hall.room_id,
                          slot=slot, company=company, name={"zh-CN": company, "en": company},
                          color=BOOTH_COLORS[n % len(BOOTH_COLORS)], updated_at=now)
            await self.store.create_booth(booth)
            self._add_booth(booth)
            self._booth_changed(booth)
        else:
            booth = self.booths[booth_id]
        if self.staff_of.get(exhibitor.id) != booth.id:
            await self.store.add_exhibitor(exhibitor.id, booth.id, expo.id, user.id, now)
        self.staff_of[exhibitor.id] = booth.id
        self.staff_names[exhibitor.id] = exhibitor.display_name
        self._changed(booth.id)
        log.info("exhibitor assigned user=%s booth=%s slot=%s by=%s", exhibitor.id, booth.id,
                 slot, user.id)
        return booth

    async def unassign(self, user: UserLike, exhibitor_id: str) -> bool:
        self.require_admin(user)
        gone = await self.store.remove_exhibitor(exhibitor_id)
        self.staff_of.pop(exhibitor_id, None)
        self._changed()
        return gone

    def exhibitors(self, user: UserLike, expo_id: str) -> list[dict[str, Any]]:
        self.require_admin(user)
        self.expo(expo_id)
        return [{"user_id": uid, "display_name": self.staff_names.get(uid, ""),
                 "booth_id": bid, "slot": self.booths[bid].slot,
                 "room_id": self.booths[bid].room_id, "company": self.booths[bid].company}
                for uid, bid in sorted(self.staff_of.items())
                if bid in self.booths and self.booths[bid].expo_id == expo_id]

    # -- booth profile ------------------------------------------------------------------------
    def booth_wire(self, user: UserLike | None, booth_id: str) -> dict[str, Any]:
        booth = self.booth(booth_id)
        self.require_visible(user, booth.expo_id)
        w = booth.to_wire()
        w["consent_text"] = self.visitors.consent_texts(booth)
        return w

    async def update_profile(self, user: UserLike, booth_id: str, payload: object,
                             lang: str) -> dict[str, Any]:
        """Replace the booth's profile; every text passes the text gate first (a refusal stores
        nothing; a redaction stores the redacted text)."""
        booth = self.require_staff(user, booth_id, admin_ok=True)
        edit = parse_profile(payload, {f.id: f.kind for f in booth.files.values()})
        shown = await self._gate_texts(user, lang, booth, edit)
        if shown:
            edit = _redacted(edit, shown)
        booth.name, booth.description, booth.category = edit.name, edit.description, edit.category
        booth.keywords, booth.color, booth.banner = edit.keywords, edit.color, edit.banner
        booth.logo, booth.products, booth.videos = edit.logo, edit.products, edit.videos
        booth.brochures = edit.brochures
        booth.updated_at = self.now()
        booth.version += 1
        await self.store.save_profile(booth)
        self._booth_changed(booth)
        self._changed(booth.id)
        log.info("booth profile saved booth=%s by=%s version=%d", booth_id, user.id, booth.version)
        return self.booth_wire(user, booth_id)

    async def _gate_texts(self, user: UserLike, lang: str, booth: Booth,
                          edit: ProfileEdit) -> dict[str, str]:
        """Pass the texts that are new (not already in the stored profile) through the text
        gate as one message — the gate also rate-limits, so one save is one message. Returns
        the redactions by the texts' places; raises when the gate refuses."""
        have = {t for _, t in _profile_texts(booth)}
        new = [(w, t) for w, t in edit.texts() if t not in have]
        if not new:
            return {}
        channel = f"booth-text:{booth.id}"
        joined = TEXT_SEPARATOR.join(t for _, t in new)
        out = await self.text_gate(user, lang, channel, joined)
        if out == joined:
            return {}
        parts = out.split(TEXT_SEPARATOR)
        if len(parts) != len(new):  # a redaction across two texts: mask them one by one
            parts = [await self.text_gate(user, lang, channel, t) for _, t in new]
        return {w: p for (w, t), p in zip(new, parts, strict=True) if p != t}

    def _booth_changed(self, booth: Booth) -> None:
        """Everyone in the booth's hall (and its staff anywhere) gets the new profile."""
        data = {"booth": booth.to_wire()}
        seen: set[str] = set()
        for room in self.rooms:
            if room.id == booth.room_id:
                for c in room.clients.values():
                    seen.add(c.sid)
                    self.notifier.emit(c.sid, "expo.booth", data)
        for uid, bid in self.staff_of.items():
            if bid == booth.id:
                for c in self.notifier.clients(uid):
                    if c.sid not in seen:
                        self.notifier.emit(c.sid, "expo.booth", data)

    # -- files -------------------------------------------------------------------------------
    def check_upload(self, user: UserLike, booth_id: str) -> Booth:
        """May ``user`` add a file to the booth now? (checked before the body is read)"""
        booth = self.require_staff(user, booth_id, admin_ok=True)
        if len(booth.files) >= self.policy.max_files_per_booth:
            raise TooManyFiles(f"A booth holds at most {self.policy.max_files_per_booth} files; "
                               "delete some first.")
        return booth

    def files(self, user: UserLike, booth_id: str) -> list[dict[str, Any]]:
        """Every live file of the booth (also those no profile field uses yet): its staff."""
        booth = self.require_staff(user, booth_id, admin_ok=True)
        return [f.to_wire() for f in sorted(booth.files.values(), key=lambda f: f.created_at)]

    async def add_file(self, user: UserLike, booth_id: str, ref: FileRef, path: str,
                       thumb: str | None) -> FileRef:
        booth = self.check_upload(user, booth_id)
        await self.store.add_file(ref, path, thumb)
        booth.files[ref.id] = ref
        self._changed(booth.id)
        log.info("booth file stored booth=%s file=%s kind=%s size=%d by=%s", booth_id, ref.id,
                 ref.kind, ref.size, user.id)
        return ref

    async def delete_file(self, user: UserLike, booth_id: str,
                          file_id: str) -> tuple[str, str | None]:
        """Remove the file from the booth (and from the profile where it is used); returns
        its paths for the caller to delete."""
        booth = self.require_staff(user, booth_id, admin_ok=True)
        if file_id not in booth.files:
            raise UnknownFile()
        used = booth.logo == file_id or file_id in booth.brochures or any(
            file_id in (p.image, p.brochure) for p in booth.products)
        if used:
            booth.logo = None if booth.logo == file_id else booth.logo
            booth.brochures = tuple(b for b in booth.brochures if b != file_id)
            booth.products = tuple(replace(
                p, image=None if p.image == file_id else p.image,
                brochure=None if p.brochure == file_id else p.brochure) for p in booth.products)
            booth.updated_at = self.now()
            booth.version += 1
            await self.store.save_profile(booth)
        paths = await self.store.delete_file(file_id, self.now())
        del booth.files[file_id]
        self._changed(booth.id)
        if used:
            self._booth_changed(booth)
        if paths is None:
            raise UnknownFile()
        return paths

    # -- rooms -------------------------------------------------------------------------------
    def attach(self, room: ExpoRoom) -> None:
        self.rooms.add(room)

    def detach(self, room: ExpoRoom) -> None:
        self.rooms.discard(room)

    def rooms_of(self, room_id: str) -> list[Room]:
        return [r for r in self.rooms if r.id == room_id]


TEXT_SEPARATOR = "\n\n⁂\n\n"
"""Between a profile's texts when they pass the gate as one message."""


def _profile_texts(b: Booth) -> list[tuple[str, str]]:
    return ProfileEdit(b.name, b.description, b.category, b.keywords, b.color, b.banner, b.logo,
                       b.products, b.videos, b.brochures).texts()


def _redacted(edit: ProfileEdit, shown: dict[str, str]) -> ProfileEdit:
    """The edit with the gate's redactions applied (``shown`` maps a text's place to it)."""

    def texts(prefix: str, t: Texts) -> Texts:
        return {lang: shown.get(f"{prefix}.{lang}", v) for lang, v in t.items()}

    products = tuple(
        Product(p.id, texts(f"products.{i}.name", p.name),
                texts(f"products.{i}.description", p.description), p.image, p.brochure,
                p.video_url) for i, p in enumerate(edit.products))
    videos = tuple(Video(texts(f"videos.{i}.title", v.title), v.url)
                   for i, v in enumerate(edit.videos))
    keywords = tuple(shown.get(f"keywords.{i}", k) for i, k in enumerate(edit.keywords))
    return replace(edit, name=texts("name", edit.name),
                   description=texts("description", edit.description),
                   banner=texts("banner", edit.banner), keywords=keywords, products=products,
                   videos=videos)
