"""Moderation settings read from ``METAHALL_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from server.settings import SettingsError

__all__ = ["ModerationConfig"]


def _num(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo:g} and {hi:g}, got {raw}")
    return value


@dataclass(frozen=True, slots=True)
class ModerationConfig:
    """Retention, windows and limits of the moderation service."""

    retention_days: float = 30.0
    """METAHALL_RETENTION_DAYS: evidence, verdict texts, reports and appeals older than this
    are deleted (the audit log is kept)."""
    sweep_interval_s: float = 3600.0
    """METAHALL_RETENTION_SWEEP_S: how often the retention task runs."""
    sync_interval_s: float = 2.0
    """METAHALL_MODERATION_SYNC_S: how often actions and terms written by other server
    processes are picked up."""
    evidence_window_s: float = 300.0
    """Chat and trails frozen into a case: the last 5 minutes."""
    near_radius_m: float = 15.0
    """Trails of people within this distance of an involved user are kept too."""
    reports_burst: int = 5
    """Reports one user may file at once ..."""
    reports_per_hour: float = 20.0
    """... and per hour, sustained (METAHALL_REPORTS_PER_HOUR)."""
    moderator_max_ban_s: int = 30 * 86400
    """Longest ban a moderator may give; longer and permanent bans need an admin."""
    max_mute_s: int = 30 * 86400
    verdict_queue: int = 10_000
    """Verdicts waiting to be written; beyond this they are counted and audited as dropped."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ModerationConfig:
        e = os.environ if env is None else env
        return cls(
            retention_days=_num(e, "METAHALL_RETENTION_DAYS", 30.0, 1e-6, 3650.0),
            sweep_interval_s=_num(e, "METAHALL_RETENTION_SWEEP_S", 3600.0, 0.05, 86400.0),
            sync_interval_s=_num(e, "METAHALL_MODERATION_SYNC_S", 2.0, 0.05, 600.0),
            reports_per_hour=_num(e, "METAHALL_REPORTS_PER_HOUR", 20.0, 1.0, 100_000.0),
        )

    @property
    def retention_ms(self) -> int:
        return int(self.retention_days * 86_400_000)
