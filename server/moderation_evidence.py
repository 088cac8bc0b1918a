"""Evidence of a flagged session: the room's recent chat and position trails, frozen.

``capture`` runs on the event loop at the moment of the flag and only copies (the chat lines
of the window and an immutable trail snapshot); ``materialise`` computes the tracks, in a
worker thread, before the evidence is written. ``merge`` joins the freezes of one case into
the single timeline the dashboard replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rooms.base import Room
from rooms.trails import TrailSnapshot

__all__ = ["Capture", "capture", "materialise", "merge", "PUBLIC_CHANNELS"]

PUBLIC_CHANNELS = ("room", "near")
"""Channels everyone nearby could read; ``booth:*`` too. Private ones (``counter:*`` service
consultations) are kept only for lines the involved users wrote; DMs are never logged."""


@dataclass(frozen=True, slots=True)
class Capture:
    """What was copied at the moment of the flag."""

    frozen_at: int
    room_id: str
    instance: str
    involved: tuple[str, ...]
    chat: tuple[dict[str, Any], ...]
    trails: TrailSnapshot
    radius: float
    witnesses: tuple[str, ...] = ()
    """Also tracked wherever they were (e.g. the reporter), but not marked involved."""


def capture(room: Room, involved: Iterable[str], now_ms: int, window_ms: int,
            radius: float, witnesses: Iterable[str] = ()) -> Capture:
    """Copy the room's last ``window_ms`` of chat and trails (cheap; on the loop)."""
    who = tuple(dict.fromkeys(u for u in involved if u))
    seen = tuple(u for u in dict.fromkeys(witnesses) if u and u not in who)
    since = now_ms - window_ms
    lines = []
    for m in reversed(room.chat_log):  # newest first; the log is in time order
        if m.get("ts", 0) < since:
            break
        channel = m.get("channel", "")
        if channel in PUBLIC_CHANNELS or channel.startswith("booth:") \
                or m["from"]["user_id"] in who or m["from"]["user_id"] in seen:
            lines.append(m.copy())  # frozen: a later redaction must not change the evidence
    lines.reverse()
    room.trails.sample(now_ms, room.clients.keys(), room.world.position)  # where all are now
    return Capture(now_ms, room.id, f"{room.id}#{room.instance}", who, tuple(lines),
                   room.trails.snapshot(now_ms, window_ms), radius, seen)


async def materialise(cap: Capture) -> dict[str, Any]:
    """The evidence document (JSON types); the trail maths runs in a worker thread."""
    trails = await asyncio.to_thread(cap.trails.tracks, cap.involved + cap.witnesses,
                                     cap.radius)
    for track in trails["tracks"]:
        track["involved"] = track["user_id"] in cap.involved
    return {"frozen_at": cap.frozen_at, "room": cap.room_id, "instance": cap.instance,
            "involved": list(cap.involved), "window_ms": trails["window_ms"],
            "chat": list(cap.chat), "trails": trails}


def merge(freezes: Sequence[dict[str, Any]], redacted: Iterable[str] = ()) -> dict[str, Any]:
    """One timeline from several freezes of a case: chat by id, tracks by (user, eid).

    ``{"t0", "t1", "marks": [frozen_at...], "chat": [...], "tracks": [{..., "t": [ms after
    t0], "x", "z"}]}``; ``redacted`` message ids are marked (moderators still see the text).
    """
    gone = set(redacted)
    chat: dict[str, dict[str, Any]] = {}
    tracks: dict[tuple[str, int], dict[str, Any]] = {}
    points: dict[tuple[str, int], dict[int, tuple[int, int]]] = {}
    marks: list[int] = []
    t0 = min((f["trails"]["t0"] for f in freezes), default=0)
    t0 = min([t0, *(m["ts"] for f in freezes for m in f["chat"])]) if freezes else 0
    t1 = max([t0, *(f["frozen_at"] for f in freezes),
              *(m["ts"] for f in freezes for m in f["chat"])])
    for f in freezes:
        marks.append(f["frozen_at"])
        for m in f["chat"]:
            chat.setdefault(m["id"], {**m, "redacted": m["id"] in gone})
        base = f["trails"]["t0"]
        for tr in f["trails"]["tracks"]:
            key = (tr["user_id"], tr["eid"])
            head = tracks.setdefault(key, {k: tr[k] for k in ("user_id", "display_name", "eid")}
                                     | {"involved": False})
            head["involved"] = head["involved"] or tr["involved"]
            pts = points.setdefault(key, {})
            for t, x, z in zip(tr["t"], tr["x"], tr["z"], strict=True):
                pts[base + t] = (x, z)
    out_tracks = []
    for key, head in tracks.items():
        ts = sorted(points[key])
        out_tracks.append({**head, "t": [t - t0 for t in ts], "x": [points[key][t][0] for t in ts],
                           "z": [points[key][t][1] for t in ts]})
    out_tracks.sort(key=lambda tr: (not tr["involved"], tr["user_id"]))
    return {"t0": t0, "t1": t1, "marks": sorted(marks),
            "chat": sorted(chat.values(), key=lambda m: (m["ts"], m["id"])),
            "tracks": out_tracks}
