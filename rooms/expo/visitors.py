"""What visitors do: the directory (search by name, keyword, category), the way to a booth,
favourites, and leads (sharing one's contact with explicit, stored, withdrawable consent)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from rooms.client import Client, UserLike
from rooms.errors import BadRequest
from rooms.expo.errors import ConsentRequired, UnknownLead
from rooms.expo.models import Booth, Lead, Texts
from rooms.expo.profile import CATEGORIES, parse_contact
from rooms.payloads import require_mapping

if TYPE_CHECKING:
    from rooms.expo.service import ExpoService

__all__ = ["VisitorDesk", "CONSENT"]

CONSENT: Texts = {
    "zh-CN": "我同意将我的姓名和联系方式提供给“{company}”，用于就本次展会与我联系。"
             "我可以随时在展会目录中撤回同意，撤回后我的联系方式将被删除。",
    "en": "I agree that {company} may keep my name and contact details to contact me about "
          "this expo. I can withdraw this at any time in the expo directory; my details are "
          "then deleted.",
}


def _fold(text: str) -> str:
    return text.casefold()


class VisitorDesk:
    def __init__(self, core: ExpoService) -> None:
        self.core = core

    # -- directory ------------------------------------------------------------------------------
    def search(self, user: UserLike | None, expo_id: str, q: str = "", category: str = "",
               favourites: set[str] | None = None) -> list[dict[str, Any]]:
        """Booths of an expo matching every word of ``q`` (in either language, in the name,
        company, keywords, category, banner or description), best first."""
        core = self.core
        core.require_visible(user, expo_id)
        if category and category not in CATEGORIES:
            raise BadRequest(f"category must be one of {', '.join(CATEGORIES)}",
                             field="category")
        words = [_fold(w) for w in q.split() if w][:8]
        out: list[tuple[float, int, str, dict[str, Any]]] = []
        for b in core.booths.values():
            if b.expo_id != expo_id or (category and b.category != category):
                continue
            score = _score(b, words)
            if score <= 0 and words:
                continue
            plan = core.plan_or_default(b.room_id)
            w = b.summary()
            w["favourite"] = favourites is not None and b.id in favourites
            w["position"] = [float(plan.centres[plan.slot_index(b.slot)][0]), 0.0,
                             float(plan.centres[plan.slot_index(b.slot)][1])]
            out.append((-score, plan.slot_index(b.slot), b.room_id, w))
        out.sort(key=lambda t: (t[0], t[2], t[1]))
        return [w for *_, w in out]

    def path(self, client: Client, booth_id: object) -> dict[str, Any]:
        """The walking path to a booth from where the avatar stands (or the hall's entrance)."""
        core = self.core
        booth = core.booth(booth_id)
        core.require_visible(client.user, booth.expo_id)
        goal = core.plan_or_default(booth.room_id).approach(booth.slot)
        here, path = self._walk(client, booth.room_id, goal)
        return {"booth_id": booth.id, "room_id": booth.room_id, "here": here,
                "goal": list(goal), "path": path}

    def path_to_stage(self, client: Client) -> dict[str, Any]:
        """The walking path to the audience area of the stage of the hall the avatar is in."""
        room = client.room
        if room is None or client.eid not in room.world:
            raise BadRequest("join an expo hall first", field="to")
        goal = self.core.plan_or_default(room.id).audience_spot()
        if goal is None:
            raise BadRequest("this hall has no stage", field="to")
        _, path = self._walk(client, room.id, goal)
        return {"room_id": room.id, "here": True, "goal": list(goal), "path": path}

    def _walk(self, client: Client, room_id: str,
              goal: tuple[float, float]) -> tuple[bool, list[list[float]]]:
        """A path around the booths and the stage, from where the avatar stands when it is in
        that hall, else from the hall's entrance."""
        plan = self.core.plan_or_default(room_id)
        room = client.room
        here = room is not None and room.id == room_id and client.eid in room.world
        if here and room is not None:
            x, _, z, *_ = room.world.position(client.eid)
            start = (float(x), float(z))
        else:
            sx0, sx1, sz0, sz1 = plan.layout.spawn_area
            start = ((sx0 + sx1) / 2, (sz0 + sz1) / 2)
        return here, self.core.planner(room_id).path(start, goal)

    # -- favourites -----------------------------------------------------------------------------
    async def favourite(self, user: UserLike, booth_id: str, on: bool) -> dict[str, Any]:
        booth = self.core.booth(booth_id)
        self.core.require_visible(user, booth.expo_id)
        await self.core.store.set_favourite(user.id, booth.id, on, self.core.now())
        return {"booth_id": booth.id, "favourite": on}

    # -- leads -----------------------------------------------------------------------------------
    @staticmethod
    def consent_texts(booth: Booth) -> Texts:
        return {lang: t.replace("{company}", booth.company) for lang, t in CONSENT.items()}

    async def share(self, user: UserLike, booth_id: str, payload: object,
                    lang: str) -> dict[str, Any]:
        """``{"consent": true, "lang"?, "contact": {...}}`` → the lead. The consent text stored
        is the server's own text in the language the visitor was shown, with the time."""
        core = self.core
        booth = core.booth(booth_id)
        core.require_visible(user, booth.expo_id)
        data = require_mapping(payload)
        if data.get("consent") is not True:
            raise ConsentRequired(field="consent")
        shown_lang = data.get("lang", lang)
        if shown_lang not in ("zh-CN", "en"):
            raise BadRequest("lang must be zh-CN or en", field="lang")
        contact = parse_contact(data.get("contact"), user.display_name)
        now = core.now()
        lead = await core.store.put_lead(Lead(
            id=uuid.uuid4().hex, booth_id=booth.id, user_id=user.id,
            display_name=user.display_name, contact=contact,
            consent_text=self.consent_texts(booth)[shown_lang], consent_lang=shown_lang,
            consent_at=now, created_at=now))
        self._to_staff(booth.id, "lead.new", {"booth_id": booth.id, "lead": lead.to_wire()})
        return {"lead": lead.to_wire()}

    async def withdraw(self, user: UserLike, booth_id: str) -> dict[str, Any]:
        """Consent withdrawn: the lead is deleted (not hidden)."""
        booth = self.core.booth(booth_id)
        if not await self.core.store.delete_lead(booth.id, user.id):
            raise UnknownLead()
        self._to_staff(booth.id, "lead.withdrawn", {"booth_id": booth.id, "user_id": user.id})
        return {"booth_id": booth.id, "withdrawn": True}

    async def leads(self, user: UserLike, booth_id: str) -> list[Lead]:
        """The booth's leads: its own staff only (not even the organiser)."""
        booth = self.core.require_staff(user, booth_id)
        return await self.core.store.leads(booth.id)

    async def mine(self, user: UserLike) -> dict[str, Any]:
        """My favourites, the booths I shared my contact with, my meetings, my booth."""
        core = self.core
        favs = [b for b in await core.store.favourites(user.id) if b in core.booths]
        leads = [{"booth_id": ld.booth_id, "consent_at": ld.consent_at, "contact": ld.contact}
                 for ld in await core.store.leads_of(user.id) if ld.booth_id in core.booths]
        meetings = [m.to_wire() for m in await core.store.meetings(user_id=user.id,
                                                                  since=core.now())]
        own = core.staff_of.get(user.id)
        return {"favourites": favs, "leads": leads, "meetings": meetings,
                "booth_id": own if own in core.booths else None}

    def _to_staff(self, booth_id: str, event: str, data: Any) -> None:
        for uid, bid in self.core.staff_of.items():
            if bid == booth_id:
                self.core.notifier.to_user(uid, event, data)


def _has(word: str, text: str) -> bool:
    """Latin words match at the start of a word ("tea" finds "tea set", not "teach"); other
    scripts (Chinese has no spaces) match anywhere."""
    if word.isascii() and word.isalnum():
        return re.search(r"(?<![0-9a-z])" + re.escape(word), text) is not None
    return word in text


def _score(b: Booth, words: list[str]) -> float:
    if not words:
        return 1.0
    name = _fold(f"{b.name.get('zh-CN', '')} {b.name.get('en', '')} {b.company}")
    kws = [_fold(k) for k in b.keywords]
    cat = CATEGORIES.get(b.category, {})
    cat_text = _fold(f"{b.category} {cat.get('zh-CN', '')} {cat.get('en', '')}")
    rest = _fold(" ".join([*b.banner.values(), *b.description.values(),
                           *(t for p in b.products for t in (*p.name.values(),
                                                             *p.description.values()))]))
    total = 0.0
    for w in words:
        s = 0.0
        if _has(w, name):
            s = 3.0
        elif any(_has(w, k) for k in kws):
            s = 2.0
        elif _has(w, cat_text):
            s = 1.5
        elif _has(w, rest):
            s = 1.0
        if s == 0.0:
            return 0.0  # every word must match somewhere
        total += s
    return total
