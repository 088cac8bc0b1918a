"""Peer-to-peer WebRTC signalling between two clients: the ``rtc.signal`` relay, and the ICE
servers clients should use (``rtc.ice``). Generic: any room kind may use it (the social spaces'
proximity voice does; the hall and the expo can).

* ``rtc.signal`` ``{"to": user_id, "data": {...}}`` → the target's clients *in the same room
  instance* get ``rtc.signal`` ``{"from": user_id, "from_eid": eid, "data": {...}}``; the ack
  says to how many. ``data`` is opaque (SDP, ICE candidates...), an object of at most 16 KiB.
  A room may narrow who may signal whom with a ``may_signal(sender, target)`` method that raises
  (a social space allows it only between people it paired for voice).
* ``rtc.ice`` ``{}`` → ``{"ice_servers": [RTCIceServer], "ttl_s"}``: ``METAHALL_ICE_SERVERS``
  (shared with the server's own WebRTC peers), with TURN credentials for this user: short-lived
  ones from ``METAHALL_TURN_SECRET`` (coturn's ``use-auth-secret`` REST scheme), or the static
  ``METAHALL_TURN_USERNAME``/``METAHALL_TURN_CREDENTIAL``. TURN URLs without credentials are
  left out (browsers refuse them). No external server is ever used by default.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack

from rooms.client import Client
from rooms.errors import BadRequest, MetahallError, RateLimited
from rooms.payloads import get_str, require_mapping
from rooms.social.errors import NotInRoom

if TYPE_CHECKING:
    from server.realtime import Realtime
    from server.settings import Settings

__all__ = ["IceConfig", "SignalRelay", "MAX_SIGNAL_BYTES"]

log = logging.getLogger("metahall.rtc")
MAX_SIGNAL_BYTES = 16 * 1024
SIGNALS_PER_S = 20.0
SIGNALS_BURST = 60.0


@dataclass(frozen=True, slots=True)
class IceConfig:
    """The ICE servers handed to browsers."""

    urls: tuple[str, ...] = ()
    """``METAHALL_ICE_SERVERS``: ``stun:``/``turn:``/``turns:`` URLs."""
    turn_secret: str = ""
    """``METAHALL_TURN_SECRET``: shared secret with the TURN server (time-limited credentials)."""
    turn_username: str = ""
    turn_credential: str = ""
    ttl_s: int = 24 * 3600
    """``METAHALL_TURN_TTL_S``: how long a time-limited TURN credential is valid."""

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> IceConfig:
        e = os.environ if env is None else env
        ttl = e.get("METAHALL_TURN_TTL_S", "")
        return cls(urls=settings.ice_servers, turn_secret=e.get("METAHALL_TURN_SECRET", ""),
                   turn_username=e.get("METAHALL_TURN_USERNAME", ""),
                   turn_credential=e.get("METAHALL_TURN_CREDENTIAL", ""),
                   ttl_s=int(ttl) if ttl.isdigit() and int(ttl) >= 60 else 24 * 3600)

    def for_user(self, user_id: str, now_s: float | None = None) -> list[dict[str, Any]]:
        """``RTCIceServer`` dictionaries for one user."""
        stun = [u for u in self.urls if u.startswith("stun")]
        turn = [u for u in self.urls if u.startswith("turn")]
        out: list[dict[str, Any]] = [{"urls": stun}] if stun else []
        if turn:
            if self.turn_secret:
                expiry = int(now_s if now_s is not None else time.time()) + self.ttl_s
                username = f"{expiry}:{user_id}"
                mac = hmac.new(self.turn_secret.encode(), username.encode(), hashlib.sha1)
                out.append({"urls": turn, "username": username,
                            "credential": base64.b64encode(mac.digest()).decode()})
            elif self.turn_username and self.turn_credential:
                out.append({"urls": turn, "username": self.turn_username,
                            "credential": self.turn_credential})
        return out


class _Bucket:
    __slots__ = ("tokens", "at")

    def __init__(self) -> None:
        self.tokens, self.at = SIGNALS_BURST, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(SIGNALS_BURST, self.tokens + (now - self.at) * SIGNALS_PER_S)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class SignalRelay:
    """Registers ``rtc.signal`` and ``rtc.ice`` on the realtime layer."""

    def __init__(self, realtime: Realtime, ice: IceConfig) -> None:
        self.rt = realtime
        self.ice = ice
        self._buckets: dict[str, _Bucket] = {}
        self.relayed = 0
        self.refused = 0
        realtime.on("rtc.signal", self.signal)
        realtime.on("rtc.ice", self.ice_servers)
        if any(u.startswith("turn") for u in ice.urls) and not (
                ice.turn_secret or (ice.turn_username and ice.turn_credential)):
            log.warning("TURN servers are configured without credentials; clients get STUN only")

    async def ice_servers(self, client: Client, payload: object) -> dict[str, Any]:
        return {"ice_servers": self.ice.for_user(client.user.id), "ttl_s": self.ice.ttl_s}

    async def signal(self, client: Client, payload: object) -> dict[str, Any]:
        """Relay one signalling message to the target's clients in the sender's room."""
        data = require_mapping(payload)
        to = str(get_str(data, "to", max_len=32))
        body = data.get("data")
        if not isinstance(body, Mapping):
            raise BadRequest("data must be an object", field="data")
        try:
            size = len(msgpack.packb(body))
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadRequest("data cannot be relayed", field="data") from exc
        if size > MAX_SIGNAL_BYTES:
            raise BadRequest(f"data is larger than {MAX_SIGNAL_BYTES} bytes", field="data")
        if to == client.user.id:
            raise BadRequest("You cannot signal yourself.", field="to")
        if not self._bucket(client.sid).take():
            raise RateLimited("Too many signalling messages; slow down.")
        room = client.room
        if room is None:
            self.refused += 1
            raise NotInRoom("Join a room first.")
        targets = [c for c in room.by_user(to) if c is not client]
        policy = getattr(room, "may_signal", None)
        allowed: list[Client] = []
        refusal: MetahallError = NotInRoom()
        for target in targets:
            if policy is None:
                allowed.append(target)
                continue
            try:
                policy(client, target)
            except MetahallError as exc:
                refusal = exc
            else:
                allowed.append(target)
        if not allowed:
            self.refused += 1
            raise refusal
        msg = {"from": client.user.id, "from_eid": client.eid, "data": dict(body)}
        for target in allowed:
            self.rt.outbox.emit(target.sid, "rtc.signal", msg)
        self.relayed += 1
        return {"delivered": len(allowed)}

    def _bucket(self, sid: str) -> _Bucket:
        bucket = self._buckets.get(sid)
        if bucket is None:
            if len(self._buckets) > 2 * len(self.rt.clients) + 64:
                self._buckets = {k: v for k, v in self._buckets.items() if k in self.rt.clients}
            bucket = self._buckets[sid] = _Bucket()
        return bucket
