"""The nginx configuration in docs/deployment.md, taken from the document itself and run in
front of ``metahall cluster --procs 2``: routing by node id, sticky plain /socket.io/, the
Origin check passing with Host and X-Forwarded-Proto kept, 503 for an unknown node."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.cluster_front.clusterproc import REPO, ClusterProcess, busy, free_block, run_async
from tests.cluster_front.conftest import redis_available
from tests.helpers import guest, requires_service
from tests.pg import postgres_available

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.redis, pytest.mark.postgres,
    requires_service("Redis", redis_available()),
    requires_service("PostgreSQL", postgres_available()),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (optional)"),
]


def doc_config(tmp: Path, listen: int, node_ports: list[int]) -> Path:
    """docs/deployment.md's two nginx blocks, pointed at local nodes, plain HTTP on ``listen``."""
    text = (REPO / "docs" / "deployment.md").read_text()
    snippet, site = re.findall(r"```nginx\n(.*?)```", text, re.S)[:2]
    (tmp / "metahall-proxy.conf").write_text(snippet)
    site = site.replace("10.0.0.11:8081", f"127.0.0.1:{node_ports[0]}")
    site = site.replace("10.0.0.11:8082", f"127.0.0.1:{node_ports[1]}")
    site = "\n".join(line for line in site.splitlines()
                     if "10.0.0.12" not in line and "metahall_n3" not in line
                     and "ssl_certificate" not in line)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen};")
    site = site[:site.index("server {\n    listen 80;")]  # the http → https redirect
    site = site.replace("include snippets/metahall-proxy.conf;", f"include {tmp}/metahall-proxy.conf;")
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
{site}
}}
""")
    return conf


async def join_following(url: str, token: str, room: str, transports: list[str]) -> list[Any]:
    """Join as the browser does; return [(path used, ack), ...]."""
    path, seen = "socket.io", []
    for _ in range(4):
        sio = socketio.AsyncClient(serializer="msgpack", reconnection=False)
        await sio.connect(url, auth={"token": token}, transports=transports,
                          socketio_path=path, headers={"Origin": url}, wait_timeout=10)
        try:
            ack = await sio.call("join", {"room": room}, timeout=10)
        finally:
            await sio.disconnect()
        seen.append((path, ack))
        if not (ack.get("ok") and "redirect" in ack):
            return seen
        url, path = ack["redirect"]["url"], ack["redirect"]["path"].strip("/")
    raise AssertionError(f"more than 3 redirects: {seen}")


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.timeout(400)
def test_the_documented_nginx_config_routes_a_real_cluster(tmp_path: Path) -> None:
    ngx_port = free_block(0)
    public = f"http://127.0.0.1:{ngx_port}"
    cluster = ClusterProcess(tmp_path, extra_env={})
    cluster.public_url = public
    ngx = None
    try:
        cluster.start()
        nodes = [cluster.port + 1, cluster.port + 2]
        conf = doc_config(tmp_path, ngx_port, nodes)
        check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        ngx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)],
                               stderr=subprocess.STDOUT, stdout=(tmp_path / "nginx.out").open("wb"))
        end = time.monotonic() + 20
        while not busy(ngx_port):
            assert ngx.poll() is None and time.monotonic() < end, (tmp_path / "error.log").read_text()
            time.sleep(0.1)

        status, body = http_get(f"{public}/")
        assert status == 200 and b"<html" in body.lower()
        status, body = http_get(f"{public}/node/n9/socket.io/?EIO=4&transport=polling")
        assert status == 503 and b'"unavailable"' in body

        token, _ = run_async(guest(public, "Behind nginx"))
        # (python-socketio's client takes 25 s to leave a polling-only session: not tried here.)
        for transports in (["websocket"], ["polling", "websocket"]):
            for room in ("hall:main", "social:plaza"):
                seen = run_async(join_following(public, token, room, transports))
                path, ack = seen[-1]
                assert ack["ok"] is True and ack["room"] == room, seen
                owner = cluster.owner(room)
                assert path in ("socket.io", f"node/{owner}/socket.io"), (seen, owner)
                for _p, red in seen[:-1]:
                    assert red["redirect"] == {"node": owner, "url": public,
                                               "path": f"/node/{owner}/socket.io/"}
    finally:
        if ngx is not None and ngx.poll() is None:
            ngx.send_signal(signal.SIGQUIT)
            try:
                ngx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ngx.kill()
        cluster.stop()
