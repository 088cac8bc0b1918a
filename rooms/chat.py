"""Chat: validate, pass the moderation gate (which also rate-limits), then route by channel."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rooms.client import Client
from rooms.errors import BadRequest, Forbidden, NotFound
from rooms.outbox import Outbox
from rooms.payloads import clean_text, require_mapping

__all__ = ["ChatRouter", "ChatGate", "MAX_CHAT_LEN"]

MAX_CHAT_LEN = 500

ChatGate = Callable[[Client, str, str], Awaitable[str]]
"""(client, channel, text) -> the text others may see (maybe redacted); raises Blocked/Muted."""


async def allow_all(_client: Client, _channel: str, text: str) -> str:
    return text


class ChatRouter:
    """Routes ``chat`` events. ``presence`` maps a user id to that user's connected clients."""

    def __init__(
        self,
        presence: Callable[[str], Iterable[Client]],
        outbox: Outbox,
        gate: ChatGate = allow_all,
        *,
        deliver: Callable[[str, str, Any], int] | None = None,
        online: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.presence = presence
        self.outbox = outbox
        self.gate = gate
        self.deliver = deliver
        """Cluster: send to a user on whichever process they are (DMs); None: this process only."""
        self.online = online
        """Moderation (which also rate-limits); it sees every message before anyone else."""

    async def handle(self, client: Client, payload: object) -> dict[str, Any]:
        data = require_mapping(payload)
        channel = data.get("channel")
        if not isinstance(channel, str) or len(channel) > 80:
            raise BadRequest("channel must be 'room', 'near', 'booth:<id>' or 'dm:<user_id>'",
                             field="channel")
        text = clean_text(data.get("text"), "text", max_len=MAX_CHAT_LEN, single_line=False)
        recipients = self._recipients(client, channel)
        if self.deliver is not None and channel.startswith("dm:"):
            if self.online is None or not await self.online(channel[3:]):
                raise NotFound("That user is not online.")
        shown = await self.gate(client, channel, text)
        msg = {
            "id": uuid.uuid4().hex[:16],
            "channel": channel,
            "from": {"user_id": client.user.id, "display_name": client.user.display_name},
            "text": shown,
            "ts": int(time.time() * 1000),
        }
        room = client.room
        if room is not None and not channel.startswith("dm:"):
            room.chat_log.append({**msg, "eid": client.eid})
        seen: set[str] = set()
        for target in recipients:
            if target.sid not in seen:
                seen.add(target.sid)
                self.outbox.emit(target.sid, "chat", msg)
        if self.deliver is not None and channel.startswith("dm:"):
            self.deliver(channel[3:], "chat", msg)
            self.deliver(client.user.id, "chat", msg)
        return {"id": msg["id"]}

    def _recipients(self, client: Client, channel: str) -> list[Client]:
        room = client.room
        if channel.startswith("dm:"):
            if room is None:
                raise NotFound("Join a room first.")
            other = channel[3:]
            if other == client.user.id:
                raise NotFound("That user is not online.")
            if self.deliver is not None:  # cluster: sent by user id, wherever they are connected
                return []
            targets = list(self.presence(other))
            if not targets:
                raise NotFound("That user is not online.")
            # The sender's own sessions get a copy so every tab shows the conversation.
            return targets + list(self.presence(client.user.id))
        if room is None:
            raise NotFound("Join a room first.")
        if channel == "room":
            return list(room.clients.values())
        if channel == "near":
            return room.near(client.eid)
        members = room.channel_members(client, channel)
        if members is None:
            raise NotFound(f"No channel {channel!r} here.")
        if client not in members:
            raise Forbidden("You are not in that channel.")
        return members
