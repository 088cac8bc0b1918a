"""Signed, expiring bearer tokens: ``v1.<payload>.<signature>`` with HMAC-SHA256, no dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

__all__ = ["TokenSigner", "TokenClaims", "TokenError"]


class TokenError(Exception):
    """The token is malformed, forged or expired."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    token_version: int
    """Must equal the user's current token_version, else the token was revoked."""
    issued_at: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._key = hashlib.sha256(b"metahall-token:" + secret.encode()).digest()
        self.ttl_s = ttl_s

    def issue(self, user_id: str, token_version: int, now: float | None = None) -> str:
        t = int(time.time() if now is None else now)
        payload = {"sub": user_id, "tv": token_version, "iat": t, "exp": t + self.ttl_s}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"v1.{body}.{self._sign(body)}"

    def verify(self, token: object, now: float | None = None) -> TokenClaims:
        if not isinstance(token, str) or len(token) > 1024 or not token.isascii():
            # (hmac.compare_digest raises TypeError on non-ASCII text: refuse it first)
            raise TokenError("malformed token")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "v1":
            raise TokenError("malformed token")
        if not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise TokenError("bad signature")
        try:
            data = json.loads(_unb64(parts[1]))
            claims = TokenClaims(str(data["sub"]), int(data["tv"]), int(data["iat"]), int(data["exp"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("malformed token") from exc
        if claims.expires_at <= (time.time() if now is None else now):
            raise TokenError("token expired")
        return claims

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:24])
