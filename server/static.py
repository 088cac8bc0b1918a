"""The web client: our ES modules, npm dependencies from node_modules, the generated vendor file."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path

from aiohttp import web

__all__ = ["add_static_routes", "content_security_policy"]

log = logging.getLogger("metahall.static")
_IMPORTMAP_RE = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def content_security_policy(webclient: Path) -> str:
    """A strict CSP: no inline scripts except the import map, allowed by its hash."""
    script_src = "'self'"
    index = webclient / "index.html"
    if index.exists():
        for block in _IMPORTMAP_RE.findall(index.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            script_src += f" 'sha256-{digest}'"
    return (
        "default-src 'self'; "
        f"script-src {script_src}; "
        "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def add_static_routes(app: web.Application, webclient: Path) -> None:
    index = webclient / "index.html"

    async def index_page(request: web.Request) -> web.StreamResponse:
        if not index.exists():
            raise web.HTTPNotFound(text="The web client is not installed (run `make run`).")
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index_page)
    mounts = [
        ("/lib/three/addons", webclient / "node_modules" / "three" / "examples" / "jsm"),
        ("/lib/three", webclient / "node_modules" / "three" / "build"),
        ("/vendor", webclient / "vendor"),
        ("/app", webclient),
    ]
    for prefix, path in mounts:
        if path.is_dir():
            app.router.add_static(prefix, path, follow_symlinks=False, append_version=False)
        else:
            log.warning("static path missing prefix=%s path=%s (run `make run`)", prefix, path)
