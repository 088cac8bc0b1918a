"""Hook names and callback signatures (what a plug-in implements), and per-callback stats.

The registry and runner live in :mod:`moderation.callbacks`, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

from moderation.context import (
    ActionContext,
    ChatContext,
    DisplayNameContext,
    FlagContext,
    GateContext,
    JoinContext,
    ReportContext,
    UploadContext,
)
from moderation.verdicts import Verdict

__all__ = [
    "CHECK_CHAT",
    "CHECK_DISPLAY_NAME",
    "CHECK_JOIN",
    "CHECK_UPLOAD",
    "GATES",
    "HOOKS",
    "NOTIFICATIONS",
    "OBSERVER",
    "ON_ACTION",
    "ON_FLAG",
    "ON_REPORT",
    "RECORD",
    "CallbackStats",
]

CHECK_CHAT: TypeAlias = Callable[[ChatContext], Awaitable[Verdict]]
CHECK_DISPLAY_NAME: TypeAlias = Callable[[DisplayNameContext], Awaitable[Verdict]]
CHECK_JOIN: TypeAlias = Callable[[JoinContext], Awaitable[Verdict]]
CHECK_UPLOAD: TypeAlias = Callable[[UploadContext], Awaitable[Verdict]]
ON_REPORT: TypeAlias = Callable[[ReportContext], Awaitable[None]]
ON_FLAG: TypeAlias = Callable[[FlagContext], Awaitable[None]]
ON_ACTION: TypeAlias = Callable[[ActionContext], Awaitable[None]]
RECORD: TypeAlias = Callable[[str, Verdict, GateContext], Awaitable[None]]
"""``record(hook, verdict, ctx)``: called for every non-allow gate verdict."""
OBSERVER: TypeAlias = Callable[[str, str, float, str], None]
"""``observer(hook, qualname, seconds, outcome)``; outcome is allow/block/flag/redact/ok/error/
cancelled. Called synchronously after every callback; keep it cheap."""

GATES: Final = ("check_chat", "check_display_name", "check_join", "check_upload")
NOTIFICATIONS: Final = ("on_report", "on_flag", "on_action")
HOOKS: Final = GATES + NOTIFICATIONS


@dataclass(slots=True)
class CallbackStats:
    """Running totals for one callback (one ``(hook, qualname)`` key)."""

    calls: int = 0
    """Completed calls, failed ones included."""
    errors: int = 0
    """Calls that raised, timed out or returned a non-verdict."""
    total_s: float = 0.0
    """Sum of wall-clock durations, seconds."""
    max_s: float = 0.0
    """Longest single call, seconds."""
