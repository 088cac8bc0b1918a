"""Moderation plug-ins shipped with metahall (``example`` shows how to write one)."""

from __future__ import annotations

__all__: list[str] = []
