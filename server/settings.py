"""Settings read once from ``METAHALL_*`` environment variables, with safe defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings", "SettingsError"]


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server can be told from outside. Built by :meth:`from_env`."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("var")
    database_url: str = ""
    """SQLAlchemy async URL; empty means ``sqlite+aiosqlite`` file ``<data_dir>/metahall.db``."""
    redis_url: str = ""
    """Set: several processes act as one (cluster mode, see server/cluster.py)."""
    redis_prefix: str = "metahall"
    """Prefix of every Redis key and channel, so clusters can share one Redis."""
    node_id: str = ""
    """This process's name in the cluster; empty means host-port-pid."""
    public_url: str = ""
    """Base URL browsers use to reach this process (the front's, behind one); empty: host:port."""
    public_socket_path: str = "/socket.io/"
    """Socket.IO path browsers use to reach this process (``/node/<id>/socket.io/`` behind the front)."""
    lease_ttl_s: int = 6
    """How long a dead node's rooms stay unreachable before another node takes them."""
    secret: str = ""
    """HMAC key for tokens; empty means read or create ``<data_dir>/secret.key``."""
    token_ttl_s: int = 7 * 24 * 3600
    tick_hz: int = 10
    capacity: dict[str, int] = field(
        default_factory=lambda: {"hall": 2000, "expo": 2000, "social": 500}
    )
    empty_room_grace_s: int = 30
    allowed_origins: tuple[str, ...] = ()
    """Extra browser origins allowed to open Socket.IO; same-origin is always allowed."""
    seed_demo: bool = True
    login_attempts_per_minute: int = 10
    guest_logins_per_minute: int = 600
    moderation_plugins: tuple[str, ...] = ()
    moderation_terms: str = ""
    log_level: str = "INFO"
    rtc_max_peers: int = 200
    """WebRTC state-channel peers per process; beyond it clients stay on Socket.IO."""
    ice_servers: tuple[str, ...] = ()
    """STUN/TURN URLs for WebRTC (none by default: host candidates on loopback/LAN)."""
    webclient_dir: Path = Path(__file__).resolve().parent.parent / "webclient"
    use_uvloop: bool = True
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of reverse proxies (the front, nginx) whose X-Forwarded-For is believed."""
    direct_writes: bool = True
    """Messages to an idle WebSocket are written at once instead of through Engine.IO's writer
    task: at 1,000 bots 58 % of a core instead of 71 %, and a lower staleness p99
    (docs/avatar-sync.md)."""
    ws_deflate: bool = False
    """Accept permessage-deflate on the Socket.IO WebSocket when a browser offers it: ~24 % fewer
    bytes per client, but compressing every snap saturated the core at ~800 bots instead of
    >1,500 (docs/avatar-sync.md), so it is off by default."""
    upload_max_mb: int = 20
    """Largest file an exhibitor may upload (PDF brochures); images at most half of it (expo)."""
    max_connections_per_ip: int = 50
    """Socket.IO connections one client address may hold open on this process (not loopback)."""
    max_connections_per_user: int = 5
    """Socket.IO connections one account may hold open on this process (tabs, devices)."""
    max_uploads_per_user: int = 2
    """Uploads one account may have in progress at once on this process."""
    max_uploads_total: int = 8
    """Uploads in progress at once on this process."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment)."""
        e = dict(os.environ if env is None else env)
        data_dir = Path(e.get("METAHALL_DATA_DIR", "var"))
        capacity = {
            "hall": env_int(e, "METAHALL_CAPACITY_HALL", 2000, 1, 100_000),
            "expo": env_int(e, "METAHALL_CAPACITY_EXPO", 2000, 1, 100_000),
            "social": env_int(e, "METAHALL_CAPACITY_SOCIAL", 500, 1, 100_000),
        }
        return cls(
            host=e.get("METAHALL_HOST", "127.0.0.1"),
            port=env_int(e, "METAHALL_PORT", 8080, 0, 65535),
            data_dir=data_dir,
            database_url=e.get("METAHALL_DATABASE_URL", ""),
            redis_url=e.get("METAHALL_REDIS_URL", ""),
            redis_prefix=e.get("METAHALL_REDIS_PREFIX", "metahall"),
            node_id=e.get("METAHALL_NODE_ID", ""),
            public_url=e.get("METAHALL_PUBLIC_URL", "").rstrip("/"),
            public_socket_path=e.get("METAHALL_PUBLIC_SOCKET_PATH", "/socket.io/"),
            lease_ttl_s=env_int(e, "METAHALL_LEASE_TTL_S", 6, 2, 600),
            secret=e.get("METAHALL_SECRET", ""),
            token_ttl_s=env_int(e, "METAHALL_TOKEN_TTL_S", 7 * 24 * 3600, 60, 365 * 24 * 3600),
            tick_hz=env_int(e, "METAHALL_TICK_HZ", 10, 1, 60),
            capacity=capacity,
            empty_room_grace_s=env_int(e, "METAHALL_EMPTY_ROOM_GRACE_S", 30, 0, 86400),
            allowed_origins=_list(e, "METAHALL_ALLOWED_ORIGINS"),
            seed_demo=env_bool(e, "METAHALL_SEED_DEMO", True),
            login_attempts_per_minute=env_int(e, "METAHALL_LOGIN_ATTEMPTS_PER_MINUTE", 10, 1, 10_000),
            guest_logins_per_minute=env_int(e, "METAHALL_GUEST_LOGINS_PER_MINUTE", 600, 1, 1_000_000),
            moderation_plugins=_list(e, "METAHALL_MODERATION_PLUGINS"),
            moderation_terms=e.get("METAHALL_MODERATION_TERMS", ""),
            log_level=e.get("METAHALL_LOG_LEVEL", "INFO").upper(),
            rtc_max_peers=env_int(e, "METAHALL_RTC_MAX_PEERS", 200, 0, 100_000),
            ice_servers=_list(e, "METAHALL_ICE_SERVERS"),
            use_uvloop=env_bool(e, "METAHALL_UVLOOP", True),
            direct_writes=env_bool(e, "METAHALL_DIRECT_WRITES", True),
            ws_deflate=env_bool(e, "METAHALL_WS_DEFLATE", False),
            trusted_proxies=_list(e, "METAHALL_TRUSTED_PROXIES"),
            upload_max_mb=env_int(e, "METAHALL_UPLOAD_MAX_MB", 20, 1, 500),  # expo uploads
            max_connections_per_ip=env_int(e, "METAHALL_MAX_CONNECTIONS_PER_IP", 50, 1, 1_000_000),
            max_connections_per_user=env_int(e, "METAHALL_MAX_CONNECTIONS_PER_USER", 5, 1, 10_000),
            max_uploads_per_user=env_int(e, "METAHALL_MAX_UPLOADS_PER_USER", 2, 1, 1000),
            max_uploads_total=env_int(e, "METAHALL_MAX_UPLOADS_TOTAL", 8, 1, 10_000),
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'metahall.db').resolve()}"

    def load_secret(self) -> str:
        """The token key: configured, else kept in ``<data_dir>/secret.key`` (created 0600 once)."""
        if self.secret:
            if len(self.secret) < 16:
                raise SettingsError("METAHALL_SECRET must be at least 16 characters")
            return self.secret
        path = self.data_dir / "secret.key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
