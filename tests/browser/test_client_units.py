"""The client's pure modules (interpolation, collision, movement, texts) under `node --test`."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_client_modules_pass_their_node_tests(node: str) -> None:
    files = sorted(str(p) for p in (HERE / "js").glob("*.test.mjs"))
    assert files
    proc = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
