"""The `metahall` command as an operator uses it: real processes, real files."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.helpers import free_port

METAHALL = [sys.executable, "-m", "server.cli"]


def run_cli(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METAHALL_DATA_DIR": str(data_dir)}
    return subprocess.run(METAHALL + args, input=stdin, capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def test_user_add_reads_the_password_from_stdin_and_role_changes(tmp_path: Path) -> None:
    r = run_cli(["user", "add", "staff1", "--role", "staff", "--display-name", "窗口一"], tmp_path,
                "s3cret-pass\n")
    assert r.returncode == 0, r.stderr
    assert "roles=staff" in r.stdout and "s3cret" not in r.stdout + r.stderr
    r = run_cli(["user", "add", "staff1", "--role", "staff"], tmp_path, "another-pass\n")
    assert r.returncode == 1 and "taken" in r.stderr
    r = run_cli(["user", "role", "staff1", "staff,moderator"], tmp_path)
    assert r.returncode == 0 and "roles=staff,moderator" in r.stdout
    r = run_cli(["user", "role", "staff1", "emperor"], tmp_path)
    assert r.returncode == 1 and "role must be one of" in r.stderr
    r = run_cli(["user", "role", "ghost", "staff"], tmp_path)
    assert r.returncode == 1 and "No user" in r.stderr


def test_configuration_errors_are_reported_not_raised(tmp_path: Path) -> None:
    env = {**os.environ, "METAHALL_DATA_DIR": str(tmp_path), "METAHALL_PORT": "http"}
    r = subprocess.run(METAHALL + ["serve"], capture_output=True, text=True, env=env, timeout=30,
                       check=False)
    assert r.returncode == 2 and "METAHALL_PORT" in r.stderr and "Traceback" not in r.stderr


async def test_serve_prints_the_url_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *METAHALL, "serve", "--port", str(port),
        env={**os.environ, "METAHALL_DATA_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert f"http://127.0.0.1:{port}" in line and "sqlite" in line
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert await resp.json() == {"ok": True}
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                text = await resp.text()
                assert "metahall_connections" in text and "metahall_tick_duration_seconds" in text
        assert (tmp_path / "metahall.db").exists() and (tmp_path / "secret.key").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    _, err = await proc.communicate()
    assert code == 0, err.decode()
    assert "Traceback" not in err.decode()
