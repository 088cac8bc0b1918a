"""How domain code talks to clients without knowing about sockets."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Outbox"]


class Outbox(Protocol):
    """Implemented by the server (Socket.IO) and by tests (a recording fake).

    Calls are synchronous and ordered per client: they enqueue, they never wait for the network.
    """

    def emit(self, sid: str, event: str, data: Any) -> None:
        """Queue one event for one client."""

    def send_snap(self, sid: str, snap: bytes) -> None:
        """Queue one encoded snapshot on the client's best channel."""

    def backlogged(self, sid: str) -> bool:
        """True when the client has not drained what was sent before (skip its snap this tick)."""

    def disconnect(self, sid: str) -> None:
        """Close the client's connection (it may reconnect)."""
