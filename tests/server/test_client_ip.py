"""Per-address limits see the real client behind a trusted proxy, and only behind one."""

from __future__ import annotations

from types import SimpleNamespace

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from server.http_api import APP_KEY, client_ip


def request(remote: str, xff: str | None, trusted: tuple[str, ...]) -> web.Request:
    app = web.Application()
    app[APP_KEY] = SimpleNamespace(settings=SimpleNamespace(trusted_proxies=trusted))  # type: ignore[assignment]
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    req = make_mocked_request("GET", "/", headers=headers, app=app)
    return req.clone(remote=remote)


def test_direct_client_cannot_claim_another_address() -> None:
    assert client_ip(request("203.0.113.9", "10.9.9.9", ())) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_counts() -> None:
    trusted = ("127.0.0.1", "10.0.0.2")
    # the client forged a first hop; the proxies appended the real one
    assert client_ip(request("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", trusted)) == "198.51.100.7"
    assert client_ip(request("127.0.0.1", None, trusted)) == "127.0.0.1"
    assert client_ip(request("127.0.0.1", "10.0.0.2", trusted)) == "127.0.0.1"
