"""Validation of wire payloads at the edge: plain data in, clean values out, ``BadRequest`` otherwise."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from rooms.errors import BadRequest

__all__ = ["clean_text", "require_mapping", "get_str", "get_int", "visible_length", "ROOM_ID_RE"]

ROOM_ID_RE = re.compile(r"^(hall|expo|social):[a-z0-9][a-z0-9_-]{0,63}$")
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def visible_length(text: str) -> int:
    """Characters a person would see: no controls, format characters or whitespace."""
    return sum(
        1 for ch in text if unicodedata.category(ch) not in _INVISIBLE and not ch.isspace()
    )


def clean_text(
    value: object, field: str, *, min_visible: int = 1, max_len: int = 500, single_line: bool = True
) -> str:
    """NFC-normalise, strip control characters and check length; raise ``BadRequest`` if unfit."""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string", field=field)
    if len(value) > max_len * 4:  # cheap cut before normalising a huge string
        raise BadRequest(f"{field} is too long (max {max_len})", field=field)
    text = unicodedata.normalize("NFC", value)
    keep_newline = not single_line
    text = "".join(
        ch
        for ch in text
        if (keep_newline and ch == "\n")
        or unicodedata.category(ch) not in {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
    ).strip()
    if single_line:
        text = " ".join(text.split())
    if len(text) > max_len:
        raise BadRequest(f"{field} is too long (max {max_len})", field=field)
    if visible_length(text) < min_visible:
        raise BadRequest(f"{field} is empty", field=field)
    return text


def require_mapping(payload: object, what: str = "payload") -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise BadRequest(f"{what} must be an object")
    return payload


def get_str(
    data: Mapping[str, Any], key: str, *, required: bool = True, max_len: int = 200
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{key} is required", field=key)
        return None
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadRequest(f"{key} must be a string of 1..{max_len} characters", field=key)
    return value


def get_int(data: Mapping[str, Any], key: str, *, lo: int, hi: int, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequest(f"{key} must be an integer in {lo}..{hi}", field=key)
    return value
