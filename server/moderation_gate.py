"""Moderation wired into the server: every chat message and display name passes the hooks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from moderation import (
    ChatContext,
    DisplayNameContext,
    FloodConfig,
    FloodGuard,
    ModerationCallbacks,
    TermFilter,
    load_plugins,
)
from moderation.verdicts import ALLOW, Block, Redact, Verdict, user_message, verdict_kind
from rooms.client import Client
from rooms.errors import Blocked, RateLimited
from server.metrics import Metrics
from server.settings import Settings

__all__ = ["ModerationGate"]

log = logging.getLogger("metahall.moderation")


class ModerationGate:
    """Owns the callbacks registry, the term filter and the flood guard of one process."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.metrics = metrics
        self.callbacks = ModerationCallbacks(record=self._record, observer=self._observe,
                                             timeout=0.5)
        path = Path(settings.moderation_terms) if settings.moderation_terms else Path(
            str(resources.files("moderation").joinpath("data/terms-example.txt")))
        self.terms_path = path  # moderation service: file part of the term list
        self.terms = TermFilter.load(path)
        self.terms.register(self.callbacks)
        # Chat rate: about 2 messages a second, bursts of 8; repeats and link floods caught too.
        self.flood = FloodGuard(FloodConfig(rate=2.0, burst=8))
        self.callbacks.register_callbacks(check_chat=self.flood.check_chat)
        self.plugins = load_plugins(list(settings.moderation_plugins), self.callbacks)
        self.sink: Callable[[str, Verdict, object], Awaitable[None]] | None = None
        """The moderation service's recorder (server/moderation_service.py): cases, audit."""
        log.info("moderation ready terms=%d plugins=%d", len(self.terms), len(self.plugins))

    async def _record(self, hook: str, verdict: Verdict, ctx: object) -> None:
        self.metrics.moderation_verdicts.labels(hook, verdict_kind(verdict)).inc()
        log.info("moderation verdict hook=%s kind=%s user=%s", hook, verdict_kind(verdict),
                 getattr(ctx, "user_id", "?"))
        if self.sink is not None:
            await self.sink(hook, verdict, ctx)

    def _observe(self, hook: str, qualname: str, seconds: float, outcome: str) -> None:
        self.metrics.moderation_seconds.labels(hook).observe(seconds)

    @staticmethod
    def _refuse(verdict: Block, lang: str) -> Exception:
        message = user_message(verdict.code, lang)
        if verdict.code == "rate_limited":
            return RateLimited(message)
        return Blocked(message, reason=verdict.code)

    async def chat(self, client: Client, channel: str, text: str) -> str:
        """The ChatRouter gate: the text others may see, or raise ``Blocked``/``RateLimited``."""
        room = client.room
        verdict = await self.callbacks.check_chat(ChatContext(
            user_id=client.user.id, display_name=client.user.display_name,
            roles=frozenset(client.user.roles), room_id=room.id if room else "", channel=channel,
            text=text, lang=client.lang))
        if isinstance(verdict, Block):
            raise self._refuse(verdict, client.lang)
        if isinstance(verdict, Redact):
            return verdict.text
        return text

    async def display_name(self, user_id: str, roles: tuple[str, ...], name: str,
                           lang: str = "en") -> None:
        """Refuse a display name the hooks block (a redact verdict blocks names too)."""
        verdict = await self.callbacks.check_display_name(DisplayNameContext(
            user_id=user_id, roles=frozenset(roles), text=name, lang=lang))
        if verdict is ALLOW:
            return
        if isinstance(verdict, Block):
            raise self._refuse(verdict, lang)
        if isinstance(verdict, Redact):
            raise Blocked(user_message("blocked", lang), reason="display_name")
