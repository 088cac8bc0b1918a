"""Moderation hooks in the style of Synapse's module callbacks.

Plug-ins and built-ins call :meth:`ModerationCallbacks.register_callbacks` with async callables;
each hook keeps one list, so registrations stack in registration order. The server awaits the
runner method of the same name (``await callbacks.check_chat(ctx)``).

Gates (``check_chat``, ``check_display_name``, ``check_join``, ``check_upload``) return a
:data:`~moderation.verdicts.Verdict`. The runner:

* returns ``ALLOW`` at once when nothing is registered;
* calls the callbacks in order; the first ``Block`` wins and stops the chain;
* a ``Redact`` does not stop it: later callbacks see the redacted text (``ctx.with_text``), so
  what they judge is what would be delivered; the result is that Redact with the final text
  (reasons joined with ``"; "``) unless a later callback blocks;
* a ``Flag`` does not stop it either (a flagged message must still pass the rate limits and
  other gates); when nothing blocks or redacts, the first Flag is returned;
* every non-allow verdict is passed to ``record(hook, verdict, ctx)`` as it happens, with the
  context that callback saw. ``record`` is the server's sink (persist, open flagged sessions):
  a Flag hidden behind a Redact in the return value has still been recorded;
* fails closed: a callback that raises, times out or returns a non-verdict yields
  ``Block("moderation_unavailable", ...)``, unless it was registered with ``fail_closed=False``,
  in which case it counts as ``ALLOW``. Either way a warning is logged.

Notifications (``on_report``, ``on_flag``, ``on_action``) return None; a failing one is logged
and the next one still runs. ``asyncio.CancelledError`` always propagates.

Each call is timed under the callback's ``__qualname__``: see :attr:`ModerationCallbacks.stats`
and the optional ``observer(hook, qualname, seconds, outcome)`` (feed Prometheus from it).
Callback signatures (``CHECK_CHAT``...) and hook names are in :mod:`moderation.hooks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeAlias

from moderation.context import (
    ActionContext,
    ChatContext,
    Context,
    DisplayNameContext,
    FlagContext,
    GateContext,
    JoinContext,
    ReportContext,
    UploadContext,
)
from moderation.errors import CallbackFailedError, RegistrationError
from moderation.hooks import (
    CHECK_CHAT,
    CHECK_DISPLAY_NAME,
    CHECK_JOIN,
    CHECK_UPLOAD,
    HOOKS,
    OBSERVER,
    ON_ACTION,
    ON_FLAG,
    ON_REPORT,
    RECORD,
    CallbackStats,
)
from moderation.verdicts import ALLOW, Block, Flag, Redact, Verdict, verdict_kind

__all__ = ["ModerationCallbacks"]

logger = logging.getLogger(__name__)

_AnyCallback: TypeAlias = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Registration:
    hook: str
    callback: _AnyCallback
    name: str
    fail_closed: bool


def _qualname(callback: object) -> str:
    return str(getattr(callback, "__qualname__", type(callback).__qualname__))


def _invalid(result: object, ctx: GateContext) -> str | None:
    """Why ``result`` is not an acceptable verdict for ``ctx``, or None if it is."""
    if result is ALLOW or isinstance(result, (Block, Flag)):
        return None
    if isinstance(result, Redact):
        ok = isinstance(ctx, (ChatContext, DisplayNameContext))
        return None if ok else f"returned Redact for {type(ctx).__name__}, which has no text"
    return f"returned {result!r}, expected a Verdict"


class ModerationCallbacks:
    """Registry and runner of moderation callbacks; one per ``App``."""

    def __init__(
        self,
        *,
        record: RECORD | None = None,
        observer: OBSERVER | None = None,
        timeout: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """``timeout`` (seconds) bounds each callback call; a timeout counts as a failure."""
        self._hooks: dict[str, list[_Registration]] = {hook: [] for hook in HOOKS}
        self._stats: dict[tuple[str, str], CallbackStats] = {}
        self._record_cb = record
        self._observer = observer
        self._timeout = timeout
        self._clock = clock

    def register_callbacks(
        self,
        *,
        check_chat: CHECK_CHAT | None = None,
        check_display_name: CHECK_DISPLAY_NAME | None = None,
        check_join: CHECK_JOIN | None = None,
        check_upload: CHECK_UPLOAD | None = None,
        on_report: ON_REPORT | None = None,
        on_flag: ON_FLAG | None = None,
        on_action: ON_ACTION | None = None,
        fail_closed: bool | None = None,
    ) -> None:
        """Append the given callbacks to their hooks' lists.

        ``fail_closed`` applies to the gates given in this call: None or True (the default
        policy) turns a failure into ``Block("moderation_unavailable")``; False into ``ALLOW``.
        Notifications never block, so it does not affect them.
        """
        given: dict[str, object] = {
            "check_chat": check_chat,
            "check_display_name": check_display_name,
            "check_join": check_join,
            "check_upload": check_upload,
            "on_report": on_report,
            "on_flag": on_flag,
            "on_action": on_action,
        }
        regs: list[_Registration] = []
        for hook, callback in given.items():
            if callback is None:
                continue
            if not callable(callback):
                raise RegistrationError(f"{hook} must be an async callable, got {callback!r}")
            closed = fail_closed is not False
            regs.append(_Registration(hook, callback, _qualname(callback), closed))
        for reg in regs:  # validated all first: a bad call registers nothing
            self._hooks[reg.hook].append(reg)
            self._stats.setdefault((reg.hook, reg.name), CallbackStats())

    def registered(self) -> dict[str, tuple[str, ...]]:
        """``{hook: (qualname, ...)}`` in call order, for the dashboard and the CLI."""
        return {hook: tuple(r.name for r in regs) for hook, regs in self._hooks.items()}

    @property
    def stats(self) -> Mapping[tuple[str, str], CallbackStats]:
        """Read-only view ``{(hook, qualname): CallbackStats}``; ``(hook, "record")`` counts
        failures of the ``record`` sink."""
        return MappingProxyType(self._stats)

    # --- runners -------------------------------------------------------------------------

    async def check_chat(self, ctx: ChatContext) -> Verdict:
        """Gate a chat message."""
        return await self._gate("check_chat", ctx)

    async def check_display_name(self, ctx: DisplayNameContext) -> Verdict:
        """Gate a new display name."""
        return await self._gate("check_display_name", ctx)

    async def check_join(self, ctx: JoinContext) -> Verdict:
        """Gate a room join."""
        return await self._gate("check_join", ctx)

    async def check_upload(self, ctx: UploadContext) -> Verdict:
        """Gate an upload."""
        return await self._gate("check_upload", ctx)

    async def on_report(self, ctx: ReportContext) -> None:
        """Notify that a report was stored."""
        await self._notify("on_report", ctx)

    async def on_flag(self, ctx: FlagContext) -> None:
        """Notify that a flag was stored."""
        await self._notify("on_flag", ctx)

    async def on_action(self, ctx: ActionContext) -> None:
        """Notify that a moderation action was taken."""
        await self._notify("on_action", ctx)

    # --- machinery -----------------------------------------------------------------------

    async def _gate(self, hook: str, ctx: GateContext) -> Verdict:
        regs = self._hooks[hook]
        if not regs:
            return ALLOW
        redact: Redact | None = None
        flag: Flag | None = None
        for reg in tuple(regs):
            verdict = await self._call_gate(reg, ctx)
            if verdict is ALLOW:
                continue
            await self._record(hook, verdict, ctx)
            if isinstance(verdict, Block):
                return verdict
            if isinstance(verdict, Redact):
                if isinstance(ctx, (ChatContext, DisplayNameContext)):
                    ctx = ctx.with_text(verdict.text)
                if redact is not None:
                    verdict = Redact(verdict.text, f"{redact.reason}; {verdict.reason}")
                redact = verdict
            elif flag is None:
                flag = verdict
        if redact is not None:
            return redact
        return flag if flag is not None else ALLOW

    async def _call_gate(self, reg: _Registration, ctx: GateContext) -> Verdict:
        start = self._clock()
        outcome = "error"
        try:
            try:
                result: object = await self._invoke(reg, ctx)
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception as exc:
                return self._failed(reg, f"{type(exc).__name__}: {exc}", exc)
            problem = _invalid(result, ctx)
            if problem is not None:
                return self._failed(reg, problem, None)
            verdict: Verdict = result  # type: ignore[assignment]  # checked by _invalid
            outcome = verdict_kind(verdict)
            return verdict
        finally:
            self._observe(reg, self._clock() - start, outcome)

    async def _notify(self, hook: str, ctx: Context) -> None:
        for reg in tuple(self._hooks[hook]):
            start = self._clock()
            outcome = "error"
            try:
                await self._invoke(reg, ctx)
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception as exc:
                err = CallbackFailedError(hook, reg.name, f"{type(exc).__name__}: {exc}")
                logger.warning("moderation notification failed: %s", err, exc_info=exc)
            else:
                outcome = "ok"
            finally:
                self._observe(reg, self._clock() - start, outcome)

    async def _invoke(self, reg: _Registration, ctx: Context) -> object:
        if self._timeout is None:
            return await reg.callback(ctx)
        async with asyncio.timeout(self._timeout):
            return await reg.callback(ctx)

    def _failed(self, reg: _Registration, problem: str, exc: BaseException | None) -> Verdict:
        err = CallbackFailedError(reg.hook, reg.name, problem)
        err.__cause__ = exc
        policy = "fail_closed" if reg.fail_closed else "fail_open"
        logger.warning("moderation callback failed policy=%s: %s", policy, err, exc_info=exc)
        if reg.fail_closed:
            return Block("moderation_unavailable", f"{reg.name} failed: {problem}")
        return ALLOW

    async def _record(self, hook: str, verdict: Verdict, ctx: GateContext) -> None:
        if self._record_cb is None:
            return
        try:
            await self._record_cb(hook, verdict, ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            stats = self._stats.setdefault((hook, "record"), CallbackStats())
            stats.errors += 1
            logger.exception(
                "moderation record failed hook=%s kind=%s", hook, verdict_kind(verdict)
            )

    def _observe(self, reg: _Registration, seconds: float, outcome: str) -> None:
        stats = self._stats.setdefault((reg.hook, reg.name), CallbackStats())
        stats.calls += 1
        stats.total_s += seconds
        stats.max_s = max(stats.max_s, seconds)
        if outcome == "error":
            stats.errors += 1
        if self._observer is not None:
            try:
                self._observer(reg.hook, reg.name, seconds, outcome)
            except Exception:
                logger.exception("moderation observer failed hook=%s", reg.hook)
