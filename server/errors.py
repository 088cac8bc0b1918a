"""The one place that maps domain errors to HTTP statuses and wire error bodies."""

from __future__ import annotations

from typing import Any

from rooms.errors import MetahallError

__all__ = ["HTTP_STATUS", "UNAVAILABLE_TEXTS", "error_body", "http_status", "unavailable_from"]

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


UNAVAILABLE_TEXTS: dict[str, str] = {
    "zh-CN": "数据库暂时不可用，请稍后重试。",
    "en": "The database is briefly unavailable; please try again in a moment.",
}


def unavailable_from(exc: BaseException) -> MetahallError | None:
    """A database or connection failure as the ``unavailable`` error (HTTP 503), else ``None``.

    Covers a database that is down, restarting or cut off (PostgreSQL connections closed or
    refused) and a SQLite database locked longer than its busy timeout. Programming errors
    (bad SQL, constraint violations) are not "unavailable" and stay internal errors."""
    from rooms.errors import Unavailable

    if _is_outage(exc):
        return Unavailable(UNAVAILABLE_TEXTS["en"], texts=dict(UNAVAILABLE_TEXTS))
    return None


def _is_outage(exc: BaseException) -> bool:
    from sqlalchemy import exc as sa

    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 8:  # the exception and what caused it, bounded
        seen += 1
        if isinstance(cur, sa.DBAPIError) and cur.connection_invalidated:
            return True
        if isinstance(cur, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError
                      | sa.TimeoutError):
            return True
        if isinstance(cur, ConnectionError | TimeoutError) or type(cur) is OSError:
            return True  # refused, reset, timed out; asyncio's "Multiple exceptions" OSError
        name = type(cur).__module__
        if name.startswith("asyncpg") and type(cur).__name__ in (
                "ConnectionDoesNotExistError", "ConnectionFailureError", "InterfaceError",
                "CannotConnectNowError", "ConnectionRejectionError", "InternalClientError",
                "AdminShutdownError", "CrashShutdownError", "TooManyConnectionsError"):
            return True
        cur = cur.__cause__ or cur.__context__
    return False
