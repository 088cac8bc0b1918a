"""The web client is served: our modules, npm dependencies, the vendor bundle, with a strict CSP."""

from __future__ import annotations

import aiohttp

from tests.helpers import LiveServer


async def test_index_has_a_strict_csp_allowing_only_the_import_map(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/") as resp:
            assert resp.status == 200
            html = await resp.text()
            csp = resp.headers["Content-Security-Policy"]
    assert '<script type="importmap">' in html
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_npm_dependencies_and_vendor_bundle_are_served(server: LiveServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/lib/three/three.module.js", "/vendor/socketio.js"):
            async with http.get(server.url + path) as resp:
                assert resp.status == 200, path
                assert "javascript" in resp.headers["Content-Type"]
                assert len(await resp.read()) > 10_000
        async with http.get(server.url + "/app/../server/settings.py") as resp:
            assert resp.status in (403, 404)
