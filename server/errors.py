"""The one place that maps domain errors to HTTP statuses and wire error bodies."""

from __future__ import annotations

from typing import Any

from rooms.errors import MetahallError

__all__ = ["HTTP_STATUS", "error_body", "http_status"]

HTTP_STATUS: dict[str, int] = {
    "bad_request": 422,
    "auth": 401,
    "forbidden": 403,
    "banned": 403,
    "blocked": 403,
    "muted": 403,
    "not_found": 404,
    "conflict": 409,
    "full": 409,
    "rate_limited": 429,
    "unavailable": 503,
    "internal": 500,
}


def error_body(exc: MetahallError) -> dict[str, Any]:
    """The single error shape used by HTTP bodies and event acks."""
    return exc.to_wire()


def http_status(exc: MetahallError) -> int:
    return HTTP_STATUS.get(exc.code, 400)
