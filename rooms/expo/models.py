"""Value objects of the expo: expos and their halls, booths and their material, leads, meeting
slots and meetings, visits. Times are Unix ms; texts people see are ``{"zh-CN", "en"}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Texts", "HallSpec", "Expo", "FileRef", "Product", "Video", "Booth", "Lead", "Slot",
    "Meeting", "Visit", "file_url", "thumb_url",
]

Texts = dict[str, str]
"""``{"zh-CN": ..., "en": ...}``"""


def file_url(file_id: str) -> str:
    return f"/api/expo/files/{file_id}"


def thumb_url(file_id: str) -> str:
    return f"/api/expo/files/{file_id}/thumb"


@dataclass(frozen=True, slots=True)
class HallSpec:
    """One hall of an expo: a grid of booth slots (``b1`` … ``b<rows·cols>``, row by row from
    the stage end) and, optionally, a stage at the north end. One hall is one room."""

    id: str
    room_id: str
    name: Texts
    rows: int
    cols: int
    booth_w: float = 8.0
    booth_d: float = 6.0
    pitch_x: float = 12.0
    """Distance between the centres of neighbouring booths in a row."""
    pitch_z: float = 12.0
    """Distance between the centres of neighbouring rows."""
    stage: bool = True

    @property
    def slots(self) -> int:
        return self.rows * self.cols

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "room_id": self.room_id, "name": dict(self.name), "rows": self.rows,
                "cols": self.cols, "booth_w": self.booth_w, "booth_d": self.booth_d,
                "pitch_x": self.pitch_x, "pitch_z": self.pitch_z, "stage": self.stage,
                "slots": self.slots}


@dataclass(slots=True)
class Expo:
    id: str
    name: Texts
    starts_at: int | None
    ends_at: int | None
    published: bool
    halls: tuple[HallSpec, ...]
    created_by: str | None = None
    created_at: int = 0
    updated_at: int = 0

    def hall(self, hall_id: str | None) -> HallSpec | None:
        if hall_id is None:
            return self.halls[0] if self.halls else None
        return next((h for h in self.halls if h.id == hall_id or h.room_id == hall_id), None)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": dict(self.name), "starts_at": self.starts_at,
                "ends_at": self.ends_at, "published": self.published,
                "halls": [h.to_wire() for h in self.halls], "created_at": self.created_at,
                "updated_at": self.updated_at}


@dataclass(frozen=True, slots=True)
class FileRef:
    """A stored upload: an image (re-encoded, with a thumbnail) or a PDF."""

    id: str
    booth_id: str
    kind: str
    """``image`` or ``pdf``"""
    content_type: str
    size: int
    name: str
    """A safe display name (never used as a path)."""
    sha256: str = ""
    width: int | None = None
    height: int | None = None
    created_at: int = 0

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "content_type": self.content_type,
                               "size": self.size, "name": self.name, "url": file_url(self.id)}
        if self.kind == "image":
            out.update(thumb_url=thumb_url(self.id), width=self.width, height=self.height)
        return out


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: Texts
    description: Texts
    image: str | None = None
    """File id of an image of this booth."""
    brochure: str | None = None
    """File id of a PDF of this booth."""
    video_url: str | None = None


@dataclass(frozen=True, slots=True)
class Video:
    title: Texts
    url: str


@dataclass(slots=True)
class Booth:
    """A booth slot of a hall assigned to one company, with its public profile."""

    id: str
    expo_id: str
    room_id: str
    slot: str
    company: str
    name: Texts
    description: Texts = field(default_factory=lambda: {"zh-CN": "", "en": ""})
    category: str = "other"
    keywords: tuple[str, ...] = ()
    color: str = "#5bc0de"
    banner: Texts = field(default_factory=lambda: {"zh-CN": "", "en": ""})
    logo: str | None = None
    products: tuple[Product, ...] = ()
    videos: tuple[Video, ...] = ()
    brochures: tuple[str, ...] = ()
    updated_at: int = 0
    version: int = 1
    files: dict[str, FileRef] = field(default_factory=dict)
    """Live files of this booth by id (kept beside the profile; not a column)."""

    def file_wire(self, file_id: str | None) -> dict[str, Any] | None:
        ref = self.files.get(file_id) if file_id else None
        return ref.to_wire() if ref is not None else None

    def summary(self) -> dict[str, Any]:
        """What the directory lists."""
        logo = self.files.get(self.logo) if self.logo else None
        return {"id": self.id, "expo_id": self.expo_id, "room_id": self.room_id,
                "slot": self.slot, "company": self.company, "name": dict(self.name),
                "category": self.category, "keywords": list(self.keywords), "color": self.color,
                "banner": dict(self.banner),
                "logo": logo.to_wire() if logo is not None else None,
                "updated_at": self.updated_at}

    def to_wire(self) -> dict[str, Any]:
        out = self.summary()
        out.update(
            description=dict(self.description),
            products=[{"id": p.id, "name": dict(p.name), "description": dict(p.description),
                       "image": self.file_wire(p.image), "brochure": self.file_wire(p.brochure),
                       "video_url": p.video_url} for p in self.products],
            videos=[{"title": dict(v.title), "url": v.url} for v in self.videos],
            brochures=[w for w in (self.file_wire(b) for b in self.brochures) if w is not None],
            version=self.version,
        )
        return out


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    booth_id: str
    user_id: str
    display_name: str
    contact: dict[str, str]
    consent_text: str
    """The exact consent text the visitor agreed to, in the language it was shown."""
    consent_lang: str
    consent_at: int
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "booth_id": self.booth_id, "user_id": self.user_id,
                "display_name": self.display_name, "contact": dict(self.contact),
                "consent_text": self.consent_text, "consent_lang": self.consent_lang,
                "consent_at": self.consent_at, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Slot:
    id: str
    booth_id: str
    staff_id: str
    start: int
    end: int
    status: str = "open"
    """``open`` or ``cancelled``"""
    created_at: int = 0

    def to_wire(self, booked: bool | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "booth_id": self.booth_id, "start": self.start,
                               "end": self.end, "status": self.status}
        if booked is not None:
            out["booked"] = booked
        return out


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    slot_id: str
    booth_id: str
    visitor_id: str
    visitor_name: str
    staff_id: str
    start: int
    end: int
    status: str = "booked"
    """``booked`` or ``cancelled``"""
    created_at: int = 0
    cancelled_by: str | None = None
    reminded_at: int | None = None
    opened_at: int | None = None

    @property
    def channel(self) -> str:
        return f"meeting:{self.id}"

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "slot_id": self.slot_id, "booth_id": self.booth_id,
                "visitor_id": self.visitor_id, "visitor_name": self.visitor_name,
                "staff_id": self.staff_id, "start": self.start, "end": self.end,
                "status": self.status, "channel": self.channel, "created_at": self.created_at,
                "cancelled_by": self.cancelled_by}


@dataclass(frozen=True, slots=True)
class Visit:
    """One stay of one visitor in a booth's area, from AoI presence."""

    booth_id: str
    user_id: str
    started_at: int
    ended_at: int

    @property
    def dwell_ms(self) -> int:
        return self.ended_at - self.started_at
