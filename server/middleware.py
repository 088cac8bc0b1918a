"""HTTP middlewares: the one error shape, and security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from rooms.errors import MetahallError
from server.errors import error_body, http_status, unavailable_from

__all__ = ["error_middleware", "security_headers"]

log = logging.getLogger("metahall.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {400: "bad_request", 401: "auth", 403: "forbidden", 404: "not_found",
               405: "bad_request", 413: "bad_request", 422: "bad_request", 429: "rate_limited"}


def _json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except MetahallError as exc:
        return web.json_response({"error": error_body(exc)}, status=http_status(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(("/api/", "/healthz", "/metrics")):
            raise
        return _json_error(exc.status, _HTTP_CODES.get(exc.status, "bad_request"), exc.reason)
    except Exception as exc:
        down = unavailable_from(exc)  # database down or locked: 503, try again
        if down is not None:
            log.warning("unavailable path=%s: %r", request.path, exc)
            return web.json_response({"error": error_body(down)}, status=http_status(down))
        log.exception("unhandled error path=%s", request.path)
        return _json_error(500, "internal", "Internal error.")


def security_headers(csp: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Outermost (see create_app): error answers -- the JSON 401/403/404 the error middleware
        # builds and aiohttp's own 404/403 raised as exceptions -- get the headers too.
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            if not request.path.startswith("/socket.io/"):
                _secure(exc.headers, csp)
            raise
        if not request.path.startswith("/socket.io/"):
            _secure(resp.headers, csp)
        return resp

    return middleware


def _secure(headers: MutableMapping[str, str], csp: str) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    # On every response: FileResponse sets its content type only when sent, and a CSP on
    # non-HTML responses is harmless.
    headers.setdefault("Content-Security-Policy", csp)
