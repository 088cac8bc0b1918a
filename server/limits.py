"""Per-process caps on what one address or one account may hold open at a time.

* Socket.IO connections per client address and per account (``METAHALL_MAX_CONNECTIONS_PER_IP``,
  ``METAHALL_MAX_CONNECTIONS_PER_USER``); a refused connect gets a ``connect_error`` with
  ``{"code": "rate_limited", "limit": "ip" | "user", ...}``.
* Uploads in progress per account and in the whole process (``METAHALL_MAX_UPLOADS_PER_USER``,
  ``METAHALL_MAX_UPLOADS_TOTAL``); beyond them ``429 rate_limited``.

Counts are per process: in the cluster mode each process applies the caps to its own
connections and uploads. Loopback addresses are not counted per address: behind a local reverse
proxy that is not listed in ``METAHALL_TRUSTED_PROXIES`` every client would otherwise share one
address (and local load generators open hundreds of connections).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rooms.errors import RateLimited

__all__ = ["ConnectionLimits", "UploadGate", "TooManyUploads", "is_loopback"]


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _texts(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


class ConnectionLimits:
    """Open connections counted per address and per account. :meth:`acquire` reserves a place
    at once (before any await), so concurrent connects cannot both slip under the cap."""

    def __init__(self, per_ip: int, per_user: int) -> None:
        self.per_ip, self.per_user = per_ip, per_user
        self.by_ip: dict[str, int] = {}
        self.by_user: dict[str, int] = {}

    def acquire(self, ip: str, user_id: str) -> dict[str, Any] | None:
        """Take a place for one connection; returns the refusal (connect_error data) or None."""
        count_ip = not is_loopback(ip)
        if count_ip and self.by_ip.get(ip, 0) >= self.per_ip:
            return {"code": "rate_limited", "limit": "ip", "max": self.per_ip,
                    "message": f"Too many connections from this address (at most {self.per_ip}).",
                    "text": _texts(f"来自此地址的连接过多（最多 {self.per_ip} 个）。",
                                   f"Too many connections from this address (at most "
                                   f"{self.per_ip}).")}
        if self.by_user.get(user_id, 0) >= self.per_user:
            return {"code": "rate_limited", "limit": "user", "max": self.per_user,
                    "message": f"This account is already connected {self.per_user} times; "
                               "close another tab first.",
                    "text": _texts(f"此账号已有 {self.per_user} 个连接，请先关闭其他标签页。",
                                   f"This account is already connected {self.per_user} times; "
                                   "close another tab first.")}
        if count_ip:
            self.by_ip[ip] = self.by_ip.get(ip, 0) + 1
        self.by_user[user_id] = self.by_user.get(user_id, 0) + 1
        return None

    def release(self, ip: str, user_id: str) -> None:
        for table, key in ((self.by_ip, ip), (self.by_user, user_id)):
            n = table.get(key, 0) - 1
            if n > 0:
                table[key] = n
            else:
                table.pop(key, None)


class TooManyUploads(RateLimited):
    """Too many uploads at once."""


class UploadGate:
    """Uploads in progress, per account and in total."""

    def __init__(self, per_user: int, total: int) -> None:
        self.per_user, self.total = per_user, total
        self.active: dict[str, int] = {}
        self.running = 0

    @contextmanager
    def slot(self, user_id: str, lang: str = "en") -> Iterator[None]:
        """Hold one upload place while the body is read and stored; raises TooManyUploads."""
        if self.active.get(user_id, 0) >= self.per_user:
            zh = f"您同时上传的文件过多（最多 {self.per_user} 个），请等待当前上传完成。"
            en = (f"You are uploading too many files at once (at most {self.per_user}); "
                  "wait for the current ones to finish.")
            raise TooManyUploads(zh if lang == "zh-CN" else en, limit="user",
                                 max=self.per_user, text=_texts(zh, en))
        if self.running >= self.total:
            zh = "服务器正在处理过多上传，请稍后再试。"
            en = "The server is handling too many uploads; try again shortly."
            raise TooManyUploads(zh if lang == "zh-CN" else en, limit="total",
                                 max=self.total, text=_texts(zh, en))
        self.active[user_id] = self.active.get(user_id, 0) + 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            n = self.active[user_id] - 1
            if n > 0:
                self.active[user_id] = n
            else:
                del self.active[user_id]
