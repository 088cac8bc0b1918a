"""The expo's Socket.IO events: payload checks at the edge, then the service.

``expo_handlers(expo)`` returns ``{event: handler}``; the server registers each with
``Realtime.on``. Errors are protocol errors (``bad_request``, ``forbidden``, ``not_found``,
``conflict``) and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rooms.client import Client
from rooms.errors import BadRequest
from rooms.expo.service import ExpoService
from rooms.payloads import get_int, require_mapping

__all__ = ["expo_handlers", "EVENTS"]

Handler = Callable[[Client, object], Awaitable[dict[str, Any] | None]]
EVENTS = (
    "expo.list", "expo.directory", "expo.booth", "expo.path", "expo.mine", "booth.favourite",
    "booth.presence", "booth.analytics", "lead.share", "lead.withdraw", "lead.list",
    "slot.add", "slot.cancel", "meeting.slots", "meeting.book", "meeting.cancel",
    "meeting.mine",
)


def _id(data: Any, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise BadRequest(f"{key} must be a string id", field=key)
    return value


def _str(data: Any, key: str, max_len: int) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_len:
        raise BadRequest(f"{key} must be a string of at most {max_len} characters", field=key)
    return value


def expo_handlers(expo: ExpoService) -> dict[str, Handler]:
    vis, meet, stats = expo.visitors, expo.meetings, expo.analytics

    async def expo_list(c: Client, p: object) -> dict[str, Any]:
        return {"expos": expo.list_expos(c.user)}

    async def directory(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        favs = set(await expo.store.favourites(c.user.id))
        return {"booths": vis.search(c.user, _id(d, "expo_id"), _str(d, "q", 100),
                                     _str(d, "category", 32), favs)}

    async def booth(c: Client, p: object) -> dict[str, Any]:
        return {"booth": expo.booth_wire(c.user, _id(require_mapping(p), "booth_id"))}

    async def path(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        if "to" in d:
            if d["to"] != "stage":
                raise BadRequest("to must be \"stage\"", field="to")
            return vis.path_to_stage(c)
        return vis.path(c, _id(d, "booth_id"))

    async def mine(c: Client, p: object) -> dict[str, Any]:
        return await vis.mine(c.user)

    async def favourite(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        on = d.get("on", True)
        if not isinstance(on, bool):
            raise BadRequest("on must be true or false", field="on")
        return await vis.favourite(c.user, _id(d, "booth_id"), on)

    async def presence(c: Client, p: object) -> dict[str, Any]:
        booth_id = _id(require_mapping(p), "booth_id")
        expo.require_staff(c.user, booth_id, admin_ok=True)
        return stats.presence(booth_id)

    async def analytics(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        since = get_int(d, "since", lo=0, hi=2**53, required=False)
        return await stats.booth_stats(c.user, _id(d, "booth_id"), since)

    async def lead_share(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        return await vis.share(c.user, _id(d, "booth_id"), d, c.lang)

    async def lead_withdraw(c: Client, p: object) -> dict[str, Any]:
        return await vis.withdraw(c.user, _id(require_mapping(p), "booth_id"))

    async def lead_list(c: Client, p: object) -> dict[str, Any]:
        leads = await vis.leads(c.user, _id(require_mapping(p), "booth_id"))
        return {"leads": [ld.to_wire() for ld in leads]}

    async def slot_add(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        slots = await meet.add_slots(c.user, _id(d, "booth_id"), d)
        return {"slots": [s.to_wire(False) for s in slots]}

    async def slot_cancel(c: Client, p: object) -> dict[str, Any]:
        return await meet.cancel_slot(c.user, _id(require_mapping(p), "slot_id"))

    async def slots(c: Client, p: object) -> dict[str, Any]:
        return {"slots": await meet.slots(c.user, _id(require_mapping(p), "booth_id"))}

    async def book(c: Client, p: object) -> dict[str, Any]:
        m = await meet.book(c.user, require_mapping(p).get("slot_id"))
        return {"meeting": m.to_wire()}

    async def cancel(c: Client, p: object) -> dict[str, Any]:
        m = await meet.cancel(c.user, require_mapping(p).get("meeting_id"))
        return {"meeting": m.to_wire()}

    async def meetings(c: Client, p: object) -> dict[str, Any]:
        d = require_mapping(p)
        booth_id = _id(d, "booth_id") if d.get("booth_id") is not None else None
        return {"meetings": [m.to_wire() for m in await meet.mine(c.user, booth_id)]}

    return {
        "expo.list": expo_list, "expo.directory": directory, "expo.booth": booth,
        "expo.path": path, "expo.mine": mine, "booth.favourite": favourite,
        "booth.presence": presence, "booth.analytics": analytics, "lead.share": lead_share,
        "lead.withdraw": lead_withdraw, "lead.list": lead_list, "slot.add": slot_add,
        "slot.cancel": slot_cancel, "meeting.slots": slots, "meeting.book": book,
        "meeting.cancel": cancel, "meeting.mine": meetings,
    }
