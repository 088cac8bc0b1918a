"""The moderation package stays a small, typed, pure domain package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "moderation").rglob("*.py"))


def test_import_pulls_in_no_server_room_or_network_code() -> None:
    code = (
        "import sys, moderation, moderation.plugins.example, moderation.bench_filter\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'server', 'rooms', 'aiohttp', 'socketio', 'engineio', 'prometheus_client'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_shape(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "from __future__ import annotations" in source
    assert "__all__" in source
    assert len(source.splitlines()) <= 300
