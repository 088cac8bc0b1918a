from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_defaults_are_safe_and_local() -> None:
    s = Settings.from_env({})
    assert s.host == "127.0.0.1"
    assert s.port == 8080
    assert s.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert s.effective_database_url.endswith("var/metahall.db")
    assert s.redis_url == ""
    assert s.tick_hz == 10


def test_environment_overrides() -> None:
    s = Settings.from_env({
        "METAHALL_PORT": "9000", "METAHALL_TICK_HZ": "20", "METAHALL_CAPACITY_SOCIAL": "50",
        "METAHALL_DATABASE_URL": "postgresql+asyncpg://u@h/db", "METAHALL_SEED_DEMO": "false",
        "METAHALL_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    })
    assert s.port == 9000 and s.tick_hz == 20 and s.capacity["social"] == 50
    assert s.effective_database_url == "postgresql+asyncpg://u@h/db"
    assert s.seed_demo is False
    assert s.allowed_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize("name,value", [
    ("METAHALL_PORT", "eighty"), ("METAHALL_PORT", "70000"), ("METAHALL_TICK_HZ", "0"),
    ("METAHALL_SEED_DEMO", "maybe"),
])
def test_bad_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_secret_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    s = Settings.from_env({"METAHALL_DATA_DIR": str(tmp_path)})
    first = s.load_secret()
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode)
    assert mode == 0o600
    assert s.load_secret() == first


def test_short_configured_secret_is_refused() -> None:
    with pytest.raises(SettingsError):
        Settings.from_env({"METAHALL_SECRET": "short"}).load_secret()
