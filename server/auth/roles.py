"""Roles and what each implies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = ["Role", "ROLES", "has_role", "parse_roles"]

Role = Literal["citizen", "staff", "exhibitor", "moderator", "admin"]
ROLES: tuple[str, ...] = ("citizen", "staff", "exhibitor", "moderator", "admin")


def has_role(roles: Iterable[str], needed: str) -> bool:
    """True when ``roles`` grants ``needed``; admin may do everything."""
    held = set(roles)
    return needed in held or "admin" in held


def parse_roles(text: str) -> list[str]:
    return [r for r in text.split(",") if r in ROLES]
