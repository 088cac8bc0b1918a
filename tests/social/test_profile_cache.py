"""Presence profiles are cached for users seen lately, never for everyone ever seen: every guest
is a new user, so an unbounded cache grows with the day's visitors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import server.social_friends as friends_mod
from server.social_friends import SocialFriends
from server.social_store import Profile


class Store:
    def __init__(self) -> None:
        self.rows: dict[str, Profile] = {"busy-user": Profile("busy", False)}
        self.reads: list[str] = []

    async def profile(self, user_id: str) -> Profile:
        self.reads.append(user_id)
        return self.rows.get(user_id, Profile())


async def test_the_cache_keeps_the_recently_used_and_reads_the_rest_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(friends_mod, "PROFILE_CACHE", 3)
    store = Store()
    friends = SocialFriends(SimpleNamespace(), SimpleNamespace(store=store))  # type: ignore[arg-type]
    assert (await friends.profile("busy-user")).status == "busy"
    for i in range(10):
        assert (await friends.profile(f"guest-{i}")).status == "available"
        await friends.profile("busy-user")  # used again and again: stays cached
    assert len(friends._profiles) == 3
    assert store.reads.count("busy-user") == 1
    assert (await friends.profile("guest-0")).share_location is True
    assert store.reads.count("guest-0") == 2  # evicted long ago, read again
