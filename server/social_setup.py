"""Wiring of social spaces into the server: the service (events, join check, room hooks), the
peer-to-peer signalling relay, and the start-up/sweep context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.rtc_signal import IceConfig, SignalRelay
from server.social_service import SocialService

if TYPE_CHECKING:
    from server.app import App

__all__ = ["build_social", "social_context"]


def build_social(app: App) -> tuple[SocialService, SignalRelay]:
    """Create the social service and the ``rtc.signal`` relay; register their events.

    Call after the moderation service (host mutes and kicks go through its action desk, and
    the space-mute check wraps its moderated chat handler)."""
    social = SocialService(app)
    signals = SignalRelay(app.realtime, IceConfig.from_env(app.settings))
    return social, signals


def social_context(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: load spaces and sanctions, run the once-a-second sweep."""
    async def ctx(_: web.Application) -> AsyncIterator[None]:
        await app.social.start()
        task: asyncio.Task[Any] = app.spawn(app.social.run(), "social-sweep")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return ctx
