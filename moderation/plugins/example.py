"""An example moderation plug-in - copy it to write your own.

How to write a plug-in
======================

1. Write a class whose constructor takes ``(config, api)``:

   * ``config`` is this plug-in's own settings (a mapping from the server's moderation
     settings, ``{}`` if there are none) - or, if the class defines a static
     ``parse_config(raw)``, whatever that returns. Validate there and raise on bad values:
     start-up then stops with a :class:`~moderation.errors.PluginConfigError` naming you.
   * ``api`` is the :class:`~moderation.callbacks.ModerationCallbacks` registry. Call
     ``api.register_callbacks(check_chat=self.check_chat, ...)`` once, in ``__init__``.

2. Write each callback as ``async def``. Gates (``check_chat``, ``check_display_name``,
   ``check_join``, ``check_upload``) take a frozen context (``moderation.context``) and return
   a verdict: ``ALLOW``, ``Block(code, reason)``, ``Flag(reason, severity)`` or
   ``Redact(text, reason)``. Notifications (``on_report``, ``on_flag``, ``on_action``) return
   None. Keep callbacks fast and free of blocking I/O: they run on the event loop for every
   message (use ``asyncio.to_thread`` or an async client for anything slow). They are timed
   under their ``__qualname__`` (here ``ExamplePlugin.check_chat``).

3. Know the failure policy. If a gate raises, the runner logs it and, by default, *blocks*
   (``Block("moderation_unavailable")``): a broken check must not wave everything through.
   Register with ``fail_closed=False`` for advisory checks that should let traffic pass when
   they break. Never swallow ``asyncio.CancelledError``.

4. Enable it in the settings by dotted path, ``package.module:Class``, e.g.
   ``moderation.plugins.example:ExamplePlugin``, with its config under the same path. The
   loader is :func:`moderation.loader.load_plugins`.

5. Test it without a server: build a ``ModerationCallbacks()``, construct your plug-in with it
   and await ``callbacks.check_chat(ChatContext(...))`` (see tests/moderation).

This one blocks shouting (long messages in capitals) and flags phone numbers, which in a
public hall are usually either scams or people oversharing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from moderation.callbacks import ModerationCallbacks
from moderation.context import ChatContext
from moderation.verdicts import ALLOW, Block, Flag, Severity, Verdict

__all__ = ["ExampleConfig", "ExamplePlugin"]

# Mainland mobile numbers (1 + 10 digits) and generic international/landline shapes, allowing
# spaces and dashes between digit groups.
_PHONE: Final = re.compile(
    r"(?<!\d)(?:\+?\d{1,3}[ -]?)?(?:1[3-9]\d(?:[ -]?\d{4}){2}|\d{3,4}[ -]\d{7,8})(?!\d)"
)


@dataclass(frozen=True, slots=True)
class ExampleConfig:
    """Settings of :class:`ExamplePlugin`."""

    max_caps_len: int = 20
    """Messages with more upper-case letters than this and no lower-case ones are blocked."""
    flag_phone_numbers: bool = True
    """Flag messages that contain something shaped like a phone number."""


class ExamplePlugin:
    """Blocks long all-caps messages; flags phone numbers."""

    @staticmethod
    def parse_config(raw: Mapping[str, Any]) -> ExampleConfig:
        """Validate the raw settings mapping."""
        unknown = set(raw) - {"max_caps_len", "flag_phone_numbers"}
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        max_caps_len = raw.get("max_caps_len", 20)
        if not isinstance(max_caps_len, int) or max_caps_len < 1:
            raise ValueError("max_caps_len must be a positive integer")
        return ExampleConfig(max_caps_len, bool(raw.get("flag_phone_numbers", True)))

    def __init__(self, config: ExampleConfig, api: ModerationCallbacks) -> None:
        self.config = config
        api.register_callbacks(check_chat=self.check_chat)

    async def check_chat(self, ctx: ChatContext) -> Verdict:
        """Block shouting, flag phone numbers, allow the rest."""
        letters = [ch for ch in ctx.text if ch.isalpha() and ch.lower() != ch.upper()]
        upper = sum(1 for ch in letters if ch.isupper())
        if upper > self.config.max_caps_len and upper == len(letters):
            return Block("blocked", f"all caps ({upper} capital letters)")
        if self.config.flag_phone_numbers and _PHONE.search(ctx.text):
            return Flag("phone number in chat", Severity.LOW)
        return ALLOW
