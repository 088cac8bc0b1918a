"""The rules of spaces: who may enter, invites, who may act on whom, settings."""

from __future__ import annotations

import pytest

from rooms.errors import BadRequest, Forbidden
from rooms.social.errors import (
    BadSpaceSetting,
    CannotActOn,
    InviteExpired,
    InviteRevoked,
    InviteUsedUp,
    NotHost,
    SpaceKicked,
    SpaceLocked,
    SpacePrivate,
)
from rooms.social.models import Invite, Member, Space
from rooms.social.rules import (
    admit,
    check_invite,
    check_moderation,
    new_token,
    parse_invite_request,
    parse_settings,
    token_hash,
)

NOW = 1_700_000_000_000


def space(privacy: str = "public", locked: bool = False) -> Space:
    s = Space("social:s1", "owner", "Book club", "", 10, privacy=privacy, locked=locked)
    s.members["co"] = Member("co", "cohost", "host", NOW)
    s.members["mem"] = Member("mem", "member", "invite", NOW, invite_id="i1")
    s.members["allowed"] = Member("allowed", "member", "allow", NOW)
    return s


def test_a_public_space_admits_anyone() -> None:
    admit(space(), "stranger", ("citizen",), kicked_until=None, now_ms=NOW)


def test_a_private_space_admits_only_members_and_hosts() -> None:
    s = space("private")
    for uid in ("owner", "co", "mem", "allowed"):
        admit(s, uid, ("citizen",), kicked_until=None, now_ms=NOW)
    with pytest.raises(SpacePrivate) as err:
        admit(s, "stranger", ("citizen",), kicked_until=None, now_ms=NOW)
    assert err.value.to_wire()["code"] == "forbidden"
    assert err.value.to_wire()["reason"] == "space_private"


def test_site_moderators_may_enter_private_and_locked_spaces() -> None:
    admit(space("private", locked=True), "mod", ("moderator",), kicked_until=None, now_ms=NOW)


def test_a_locked_space_admits_nobody_new_but_its_hosts() -> None:
    s = space(locked=True)
    admit(s, "owner", (), kicked_until=None, now_ms=NOW)
    admit(s, "co", (), kicked_until=None, now_ms=NOW)
    for uid in ("mem", "stranger"):
        with pytest.raises(SpaceLocked) as err:
            admit(s, uid, (), kicked_until=None, now_ms=NOW)
        assert err.value.to_wire()["reason"] == "space_locked"


def test_a_kick_keeps_someone_out_until_it_ends() -> None:
    s = space()
    with pytest.raises(SpaceKicked) as err:
        admit(s, "mem", (), kicked_until=NOW + 60_000, now_ms=NOW)
    assert err.value.to_wire()["until"] == NOW + 60_000
    admit(s, "mem", (), kicked_until=NOW + 60_000, now_ms=NOW + 60_000)


def invite(**kw: object) -> Invite:
    base: dict[str, object] = dict(id="i1", room_id="social:s1", created_by="owner", created_at=NOW,
                                   expires_at=NOW + 3_600_000, max_uses=None)
    base.update(kw)
    return Invite(**base)  # type: ignore[arg-type]


def test_an_active_invite_can_be_redeemed() -> None:
    check_invite(invite(), NOW)
    check_invite(invite(max_uses=2, uses=1), NOW + 3_599_999)


def test_an_expired_invite_is_refused_with_its_own_reason() -> None:
    with pytest.raises(InviteExpired) as err:
        check_invite(invite(), NOW + 3_600_000)
    wire = err.value.to_wire()
    assert wire["code"] == "forbidden" and wire["reason"] == "invite_expired"
    assert wire["expired_at"] == NOW + 3_600_000


def test_a_revoked_invite_is_refused_even_before_it_expires() -> None:
    with pytest.raises(InviteRevoked) as err:
        check_invite(invite(revoked_at=NOW + 1), NOW + 2)
    assert err.value.to_wire()["reason"] == "invite_revoked"
    # Revocation wins over expiry: the host's decision is what the user is told.
    with pytest.raises(InviteRevoked):
        check_invite(invite(revoked_at=NOW + 1), NOW + 9_999_999)


def test_an_invite_used_up_is_refused() -> None:
    with pytest.raises(InviteUsedUp) as err:
        check_invite(invite(max_uses=1, uses=1), NOW)
    assert err.value.to_wire()["reason"] == "invite_used_up"


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 32
    assert token_hash(a) == token_hash(a) != token_hash(b)
    assert a not in token_hash(a) and len(token_hash(a)) == 64


@pytest.mark.parametrize("actor,actor_roles,target,target_roles,error", [
    ("co", (), "mem", (), None),
    ("owner", (), "co", (), None),
    ("mod", ("moderator",), "owner", (), None),
    ("stranger", (), "mem", (), NotHost),
    ("mem", (), "allowed", (), NotHost),
    ("co", (), "co", (), CannotActOn),
    ("co", (), "owner", (), CannotActOn),
    ("co", (), "mem", ("moderator",), CannotActOn),
    ("owner", (), "stranger", ("admin",), CannotActOn),
    ("mod", ("moderator",), "other", ("moderator",), CannotActOn),
    ("admin", ("admin",), "other", ("moderator",), None),
])
def test_who_may_mute_or_kick_whom(actor: str, actor_roles: tuple[str, ...], target: str,
                                   target_roles: tuple[str, ...],
                                   error: type[Exception] | None) -> None:
    s = space()
    s.members["co2"] = Member("co2", "cohost", "host", NOW)
    if error is None:
        check_moderation(s, actor, actor_roles, target, target_roles)
    else:
        with pytest.raises(error):
            check_moderation(s, actor, actor_roles, target, target_roles)


def test_only_the_owner_acts_on_a_cohost() -> None:
    s = space()
    s.members["co2"] = Member("co2", "cohost", "host", NOW)
    with pytest.raises(CannotActOn):
        check_moderation(s, "co", (), "co2", ())
    check_moderation(s, "owner", (), "co2", ())


def test_settings_are_cleaned_and_defaulted() -> None:
    out = parse_settings({"name": "  Book   club ", "privacy": "private"}, max_capacity=500)
    assert out == {"name": "Book club", "description": "", "capacity": 50, "privacy": "private",
                   "overflow": "instance"}
    assert parse_settings({"locked": True}, max_capacity=500, partial=True) == {}
    assert parse_settings({"capacity": 5}, max_capacity=500, partial=True) == {"capacity": 5}


@pytest.mark.parametrize("data", [
    {"name": ""}, {"name": "x" * 41}, {"name": "ok", "capacity": 1},
    {"name": "ok", "capacity": 501}, {"name": "ok", "capacity": True},
    {"name": "ok", "privacy": "secret"}, {"name": "ok", "overflow": "elsewhere"},
    {"name": "ok", "description": "y" * 301}, {"name": 5},
])
def test_bad_settings_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        parse_settings(data, max_capacity=500)


def test_capacity_above_the_room_limit_names_the_limit() -> None:
    with pytest.raises(BadSpaceSetting) as err:
        parse_settings({"name": "ok", "capacity": 600}, max_capacity=500)
    assert err.value.to_wire()["max"] == 500 and err.value.to_wire()["field"] == "capacity"


def test_invite_requests() -> None:
    assert parse_invite_request({}) == (86400, None)
    assert parse_invite_request({"ttl_s": 60, "max_uses": 3}) == (60, 3)
    for bad in ({"ttl_s": 59}, {"ttl_s": 31 * 86400}, {"max_uses": 0}, {"max_uses": "2"},
                {"ttl_s": True}):
        with pytest.raises(BadRequest):
            parse_invite_request(bad)


def test_every_social_refusal_is_a_protocol_error() -> None:
    for exc in (SpacePrivate(), SpaceLocked(), SpaceKicked(), InviteExpired(), InviteRevoked()):
        assert isinstance(exc, Forbidden)
