"""Checks of what the organiser sends: talk fields, embed URLs, the stage area of a floor plan."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rooms.layouts import Layout
from rooms.payloads import clean_text
from rooms.stage.errors import BadEmbedUrl, BadTalk
from rooms.stage.models import TalkMode

__all__ = ["TalkFields", "parse_talk_fields", "check_embed_url", "StageArea", "stage_area",
           "MAX_TALK_MS", "EXPO_ROOM_RE"]

MAX_TALK_MS = 12 * 3600 * 1000
MAX_URL = 500
EXPO_ROOM_RE = re.compile(r"^expo:[a-z0-9][a-z0-9_-]{0,63}$")
_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_FIELDS = ("title", "speaker_id", "start", "end", "mode", "embed_url")


@dataclass(frozen=True, slots=True)
class TalkFields:
    """The fields of a create or an update; ``None`` where an update leaves a field alone."""

    title: dict[str, str] | None = None
    speaker_id: str | None = None
    start: int | None = None
    end: int | None = None
    mode: TalkMode | None = None
    embed_url: str | None = None
    clear_embed_url: bool = False
    """An update that sets ``embed_url`` to null."""


def _ms(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        raise BadTalk(f"{key} must be a time in Unix milliseconds", field=key)
    return value


def _title(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise BadTalk('title must be {"zh-CN": str, "en": str}', field="title")
    out = {}
    for lang in ("zh-CN", "en"):
        out[lang] = clean_text(value.get(lang), f"title.{lang}", max_len=120)
    return out


def parse_talk_fields(data: Mapping[str, Any], *, create: bool) -> TalkFields:
    """Validate a ``stage.create`` / ``stage.update`` body (unknown keys are ignored)."""
    if create:
        missing = [k for k in ("title", "speaker_id", "start", "end", "mode") if data.get(k) is None]
        if missing:
            raise BadTalk(f"{missing[0]} is required", field=missing[0])
    elif not any(k in data for k in _FIELDS):
        raise BadTalk("nothing to change", field="title")
    title = _title(data["title"]) if data.get("title") is not None else None
    speaker = data.get("speaker_id")
    if speaker is not None and (not isinstance(speaker, str) or not 1 <= len(speaker) <= 32):
        raise BadTalk("speaker_id must be a user id", field="speaker_id")
    mode_raw = data.get("mode")
    try:
        mode = TalkMode(mode_raw) if mode_raw is not None else None
    except ValueError as exc:
        raise BadTalk("mode must be 'live', 'embed' or 'slides'", field="mode") from exc
    url = data.get("embed_url")
    clear = "embed_url" in data and url is None
    return TalkFields(title=title, speaker_id=speaker, start=_ms(data, "start"),
                      end=_ms(data, "end"), mode=mode,
                      embed_url=check_embed_url(url) if url is not None else None,
                      clear_embed_url=clear)


def check_embed_url(value: object) -> str:
    """An absolute ``https://`` URL to a public host name: no credentials, no IP literals, no
    local names, no spaces or control characters, at most 500 characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise BadEmbedUrl(f"embed_url must be an https URL of at most {MAX_URL} characters",
                          field="embed_url")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch in '<>"\\`' for ch in value):
        raise BadEmbedUrl("embed_url contains characters a URL may not have", field="embed_url")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise BadEmbedUrl("embed_url is not a valid URL", field="embed_url") from exc
    if parts.scheme != "https":
        raise BadEmbedUrl("embed_url must start with https://", field="embed_url")
    if parts.username is not None or parts.password is not None:
        raise BadEmbedUrl("embed_url must not carry a user name or password", field="embed_url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadEmbedUrl("embed_url needs a host name", field="embed_url")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise BadEmbedUrl("embed_url must name a host, not an IP address", field="embed_url")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise BadEmbedUrl("embed_url has an invalid host name", field="embed_url") from exc
    if not _HOST_RE.match(ascii_host) or ascii_host.endswith((".local", ".localhost",
                                                                ".internal", ".lan")):
        raise BadEmbedUrl("embed_url must name a public host", field="embed_url")
    if port is not None and port != 443 and not 1024 <= port <= 65535:
        raise BadEmbedUrl("embed_url has an unusual port", field="embed_url")
    return value


@dataclass(frozen=True, slots=True)
class StageArea:
    """Where the audience of a stage may stand (and the stage itself), on the floor plan."""

    x0: float
    x1: float
    z0: float
    z1: float

    def contains(self, x: float, z: float, slack: float = 0.0) -> bool:
        return (self.x0 - slack <= x <= self.x1 + slack
                and self.z0 - slack <= z <= self.z1 + slack)

    def to_wire(self) -> dict[str, float]:
        return {"x0": self.x0, "x1": self.x1, "z0": self.z0, "z1": self.z1}


def stage_area(layout: Layout, *, side: float = 8.0, front: float = 14.0) -> StageArea | None:
    """The stage feature widened by ``side`` metres left and right and extended ``front``
    metres into the hall (the audience faces the stage from +z), clipped to the room."""
    for f in layout.features:
        if f.get("type") == "stage":
            x, z, w, d = float(f["x"]), float(f["z"]), float(f["w"]), float(f["d"])
            return StageArea(max(layout.min_x, x - w / 2 - side), min(layout.max_x, x + w / 2 + side),
                             max(layout.min_z, z - d / 2), min(layout.max_z, z + d / 2 + front))
    return None
