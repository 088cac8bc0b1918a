"""Stage settings read from ``METAHALL_STAGE_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from server.settings import env_bool, env_int

__all__ = ["StageConfig"]


@dataclass(frozen=True, slots=True)
class StageConfig:
    """Caps and rules of the stage's media relay (see bench/results/stage.md for the caps)."""

    max_video_viewers: int = 2
    """METAHALL_STAGE_MAX_VIDEO_VIEWERS: viewers of one live talk who get the relayed video.
    Each costs about a quarter of a core (a VP8 encode of 640×360 at 30 fps plus Opus); the
    speaker's stream about 13 %. Beyond it viewers get audio (+ slides) or the embed URL."""
    max_audio_viewers: int = 4
    """METAHALL_STAGE_MAX_AUDIO_VIEWERS: viewers of one talk who get the relayed audio only
    (slides mode, and live talks beyond the video cap); about 8 % of a core each. With the
    defaults a full talk stays under one core: 13 + 2 × 25 + 4 × 8 ≈ 95 %."""
    lead_s: int = 300
    """METAHALL_STAGE_LEAD_S: a speaker may go live this long before the talk starts."""
    require_area: bool = True
    """METAHALL_STAGE_REQUIRE_AREA: viewers must stand in the stage area (the speaker and
    admins never need to)."""
    area_slack_m: float = 6.0
    """A viewer is cut off only after walking this far beyond the stage area."""
    sweep_s: float = 1.0
    """How often broadcasts and viewers are checked (speaker gone, talk over, viewer left)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StageConfig:
        e = os.environ if env is None else env
        return cls(
            max_video_viewers=env_int(e, "METAHALL_STAGE_MAX_VIDEO_VIEWERS", 2, 0, 10_000),
            max_audio_viewers=env_int(e, "METAHALL_STAGE_MAX_AUDIO_VIEWERS", 4, 0, 100_000),
            lead_s=env_int(e, "METAHALL_STAGE_LEAD_S", 300, 0, 86_400),
            require_area=env_bool(e, "METAHALL_STAGE_REQUIRE_AREA", True),
        )
