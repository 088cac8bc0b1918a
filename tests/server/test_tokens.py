from __future__ import annotations

import pytest

from server.auth.tokens import TokenError, TokenSigner


def test_round_trip_carries_user_and_version() -> None:
    signer = TokenSigner("x" * 32, ttl_s=60)
    claims = signer.verify(signer.issue("u1", 3, now=1000.0), now=1010.0)
    assert (claims.user_id, claims.token_version, claims.expires_at) == ("u1", 3, 1060)


def test_expired_token_is_refused() -> None:
    signer = TokenSigner("x" * 32, ttl_s=60)
    token = signer.issue("u1", 0, now=1000.0)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token, now=1060.0)


def test_token_from_another_secret_is_forged() -> None:
    token = TokenSigner("a" * 32, 60).issue("u1", 0)
    with pytest.raises(TokenError, match="signature"):
        TokenSigner("b" * 32, 60).verify(token)


def test_tampered_payload_is_refused() -> None:
    signer = TokenSigner("x" * 32, 60)
    v, body, sig = signer.issue("u1", 0).split(".")
    other = TokenSigner("x" * 32, 60).issue("admin", 0).split(".")[1]
    with pytest.raises(TokenError):
        signer.verify(f"{v}.{other}.{sig}" if other != body else "v1.x.y")


@pytest.mark.parametrize("junk", [None, 1, "", "v1", "v1..", "v2.a.b", "a" * 5000, ["v1"]])
def test_malformed_tokens_are_refused(junk: object) -> None:
    with pytest.raises(TokenError):
        TokenSigner("x" * 32, 60).verify(junk)
