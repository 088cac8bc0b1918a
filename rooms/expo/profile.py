"""Checking what exhibitors and organisers send: expo specs, booth profiles, contacts.

Plain data in, clean values out, ``BadRequest`` subclasses otherwise. Moderation of the texts
happens after this, in the service (every text others will read passes the text gate).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rooms.errors import BadRequest
from rooms.expo.errors import BadExpoSpec, BadProfile
from rooms.expo.models import HallSpec, Product, Texts, Video
from rooms.payloads import clean_text, require_mapping

__all__ = [
    "CATEGORIES", "EXPO_ID_RE", "ProfileEdit", "parse_expo", "parse_profile", "parse_contact",
    "parse_texts", "clean_color", "clean_url", "category_list",
]

EXPO_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
HALL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,15}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[^@\s<>\"'.]{2,24}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{4,22}$")
MAX_PRODUCTS = 12
MAX_VIDEOS = 6
MAX_BROCHURES = 8
MAX_KEYWORDS = 12
MAX_TS = 2**53

CATEGORIES: dict[str, Texts] = {
    "tech": {"zh-CN": "科技与数字", "en": "Technology"},
    "manufacturing": {"zh-CN": "制造", "en": "Manufacturing"},
    "food": {"zh-CN": "食品与饮品", "en": "Food & drink"},
    "health": {"zh-CN": "医疗健康", "en": "Health"},
    "environment": {"zh-CN": "环保与能源", "en": "Environment & energy"},
    "culture": {"zh-CN": "文化与旅游", "en": "Culture & tourism"},
    "education": {"zh-CN": "教育", "en": "Education"},
    "finance": {"zh-CN": "金融与服务", "en": "Finance & services"},
    "public": {"zh-CN": "公共服务", "en": "Public services"},
    "other": {"zh-CN": "其他", "en": "Other"},
}


def category_list() -> list[dict[str, Any]]:
    return [{"id": k, "name": dict(v)} for k, v in CATEGORIES.items()]


def parse_texts(value: object, field: str, *, max_len: int, required: bool = False,
                single_line: bool = True) -> Texts:
    """``{"zh-CN", "en"}``; a missing or empty language is ``""``; at least one when required."""
    if value is None and not required:
        return {"zh-CN": "", "en": ""}
    data = require_mapping(value, field)
    out: Texts = {}
    for lang in ("zh-CN", "en"):
        raw = data.get(lang)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            out[lang] = ""
            continue
        out[lang] = clean_text(raw, f"{field}.{lang}", max_len=max_len, single_line=single_line)
    if required and not (out["zh-CN"] or out["en"]):
        raise BadProfile(f"{field} needs a Chinese or an English text", field=field)
    return out


def clean_color(value: object, field: str = "color") -> str:
    if not isinstance(value, str) or not COLOR_RE.match(value):
        raise BadProfile(f"{field} must look like #rrggbb", field=field)
    return value.lower()


def clean_url(value: object, field: str) -> str:
    """An absolute http(s) URL without credentials; shown as a link, never embedded."""
    if not isinstance(value, str) or not 1 <= len(value) <= 500:
        raise BadProfile(f"{field} must be a URL of at most 500 characters", field=field)
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadProfile(f"{field} must be an http(s) address", field=field)
    return url


def _int(value: object, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadExpoSpec(f"{field} must be an integer in {lo}..{hi}", field=field)
    return value


def _num(value: object, field: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadExpoSpec(f"{field} must be a number of metres", field=field)
    return float(value)


def parse_expo(payload: object) -> tuple[str, Texts, int | None, int | None, list[HallSpec]]:
    """``{"id", "name", "starts_at"?, "ends_at"?, "halls": [{"id", "name"?, "rows", "cols",
    "booth_w"?, "booth_d"?, "pitch_x"?, "pitch_z"?, "stage"?}]}`` (geometry checked later)."""
    data = require_mapping(payload)
    expo_id = data.get("id")
    if not isinstance(expo_id, str) or not EXPO_ID_RE.match(expo_id):
        raise BadExpoSpec("id must be 1..31 of a-z 0-9 _ - (starting with a letter or digit)",
                          field="id")
    name = parse_texts(data.get("name"), "name", max_len=60, required=True)
    starts = data.get("starts_at")
    ends = data.get("ends_at")
    starts_at = None if starts is None else _int(starts, "starts_at", 0, MAX_TS)
    ends_at = None if ends is None else _int(ends, "ends_at", 0, MAX_TS)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise BadExpoSpec("ends_at must be after starts_at", field="ends_at")
    raw_halls = data.get("halls")
    if not isinstance(raw_halls, list) or not 1 <= len(raw_halls) <= 8:
        raise BadExpoSpec("halls must be a list of 1..8 halls", field="halls")
    halls: list[HallSpec] = []
    for i, raw in enumerate(raw_halls):
        h = require_mapping(raw, f"halls[{i}]")
        hid = h.get("id", "main" if i == 0 else f"h{i + 1}")
        if not isinstance(hid, str) or not HALL_ID_RE.match(hid):
            raise BadExpoSpec("a hall id is 1..16 of a-z 0-9 _", field="halls")
        if any(x.id == hid for x in halls):
            raise BadExpoSpec(f"two halls are called {hid!r}", field="halls")
        room_id = f"expo:{expo_id}" if i == 0 else f"expo:{expo_id}-{hid}"
        default = {"zh-CN": f"{i + 1}号馆", "en": f"Hall {i + 1}"}
        hname = parse_texts(h.get("name"), "halls.name", max_len=40) if h.get("name") else default
        if not (hname["zh-CN"] or hname["en"]):
            hname = default
        stage = h.get("stage", i == 0)
        if not isinstance(stage, bool):
            raise BadExpoSpec("stage must be true or false", field="halls")
        halls.append(HallSpec(
            id=hid, room_id=room_id, name=hname,
            rows=_int(h.get("rows"), "rows", 1, 10), cols=_int(h.get("cols"), "cols", 1, 20),
            booth_w=_num(h.get("booth_w"), "booth_w", 8.0),
            booth_d=_num(h.get("booth_d"), "booth_d", 6.0),
            pitch_x=_num(h.get("pitch_x"), "pitch_x", 12.0),
            pitch_z=_num(h.get("pitch_z"), "pitch_z", 12.0), stage=stage))
    return expo_id, name, starts_at, ends_at, halls


@dataclass(frozen=True, slots=True)
class ProfileEdit:
    """A checked booth profile (every field present: a PUT replaces the profile)."""

    name: Texts
    description: Texts
    category: str
    keywords: tuple[str, ...]
    color: str
    banner: Texts
    logo: str | None
    products: tuple[Product, ...]
    videos: tuple[Video, ...]
    brochures: tuple[str, ...]

    def texts(self) -> list[tuple[str, str]]:
        """(where, text) of every text others will read, for the moderation gate."""
        out: list[tuple[str, str]] = []
        for where, t in (("name", self.name), ("description", self.description),
                         ("banner", self.banner)):
            out += [(f"{where}.{lang}", v) for lang, v in t.items() if v]
        out += [(f"keywords.{i}", k) for i, k in enumerate(self.keywords)]
        for i, p in enumerate(self.products):
            out += [(f"products.{i}.name.{lang}", v) for lang, v in p.name.items() if v]
            out += [(f"products.{i}.description.{lang}", v) for lang, v in p.description.items() if v]
        for i, v in enumerate(self.videos):
            out += [(f"videos.{i}.title.{lang}", t) for lang, t in v.title.items() if t]
        return out


def _file_id(value: object, field: str, files: Mapping[str, str], kind: str) -> str | None:
    """A file id of this booth of the right kind (``files`` maps id → kind)."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        value = value.get("id")
    if not isinstance(value, str) or files.get(value) is None:
        raise BadProfile(f"{field} is not a file of this booth", field=field)
    if files[value] != kind:
        raise BadProfile(f"{field} must be {'an image' if kind == 'image' else 'a PDF'}",
                         field=field)
    return value


def parse_profile(payload: object, files: Mapping[str, str]) -> ProfileEdit:
    """The whole profile; ``files`` maps the booth's file ids to their kind."""
    data = require_mapping(payload)
    name = parse_texts(data.get("name"), "name", max_len=40, required=True)
    description = parse_texts(data.get("description"), "description", max_len=2000,
                              single_line=False)
    category = data.get("category", "other")
    if category not in CATEGORIES:
        raise BadProfile(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    raw_kw = data.get("keywords", [])
    if not isinstance(raw_kw, list) or len(raw_kw) > MAX_KEYWORDS:
        raise BadProfile(f"keywords must be a list of at most {MAX_KEYWORDS}", field="keywords")
    keywords = tuple(dict.fromkeys(clean_text(k, "keywords", max_len=30) for k in raw_kw))
    color = clean_color(data.get("color", "#5bc0de"))
    banner = parse_texts(data.get("banner"), "banner", max_len=60)
    logo = _file_id(data.get("logo"), "logo", files, "image")
    raw_products = data.get("products", [])
    if not isinstance(raw_products, list) or len(raw_products) > MAX_PRODUCTS:
        raise BadProfile(f"products must be a list of at most {MAX_PRODUCTS}", field="products")
    products = []
    for i, raw in enumerate(raw_products):
        p = require_mapping(raw, f"products[{i}]")
        pid = p.get("id")
        if not isinstance(pid, str) or not re.fullmatch(r"[a-z0-9]{1,16}", pid):
            pid = uuid.uuid4().hex[:12]
        video = p.get("video_url")
        products.append(Product(
            id=pid,
            name=parse_texts(p.get("name"), f"products[{i}].name", max_len=60, required=True),
            description=parse_texts(p.get("description"), f"products[{i}].description",
                                    max_len=600, single_line=False),
            image=_file_id(p.get("image"), f"products[{i}].image", files, "image"),
            brochure=_file_id(p.get("brochure"), f"products[{i}].brochure", files, "pdf"),
            video_url=clean_url(video, f"products[{i}].video_url") if video else None))
    if len({p.id for p in products}) != len(products):
        raise BadProfile("two products have the same id", field="products")
    raw_videos = data.get("videos", [])
    if not isinstance(raw_videos, list) or len(raw_videos) > MAX_VIDEOS:
        raise BadProfile(f"videos must be a list of at most {MAX_VIDEOS}", field="videos")
    videos = tuple(
        Video(title=parse_texts(require_mapping(v, "video").get("title"), "videos.title",
                                max_len=60),
              url=clean_url(require_mapping(v, "video").get("url"), "videos.url"))
        for v in raw_videos)
    raw_br = data.get("brochures", [])
    if not isinstance(raw_br, list) or len(raw_br) > MAX_BROCHURES:
        raise BadProfile(f"brochures must be a list of at most {MAX_BROCHURES}",
                         field="brochures")
    brochures = tuple(dict.fromkeys(
        b for b in (_file_id(x, "brochures", files, "pdf") for x in raw_br) if b))
    return ProfileEdit(name, description, category, keywords, color, banner, logo,
                       tuple(products), videos, brochures)


CONTACT_FIELDS = ("name", "email", "phone", "company", "title", "note")


def parse_contact(value: object, default_name: str) -> dict[str, str]:
    """``{"name"?, "email"?, "phone"?, "company"?, "title"?, "note"?}``: an e-mail address or a
    phone number is required (the point of a lead is to be reachable)."""
    data = require_mapping(value, "contact")
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise BadRequest(f"contact has unknown fields: {', '.join(sorted(unknown))}",
                         field="contact")
    out: dict[str, str] = {}
    for key, max_len in (("name", 64), ("email", 254), ("phone", 24), ("company", 100),
                         ("title", 64), ("note", 500)):
        raw = data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        out[key] = clean_text(raw, f"contact.{key}", max_len=max_len, single_line=key != "note")
    out.setdefault("name", default_name)
    if "email" in out and not EMAIL_RE.match(out["email"]):
        raise BadRequest("contact.email is not an e-mail address", field="contact.email")
    if "phone" in out and not PHONE_RE.match(out["phone"]):
        raise BadRequest("contact.phone is not a phone number", field="contact.phone")
    if "email" not in out and "phone" not in out:
        raise BadRequest("give an e-mail address or a phone number", field="contact")
    return out
