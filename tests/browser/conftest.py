"""Fixtures for the browser suite: a real server in a subprocess, Debian's Chromium via Playwright.

The server runs as ``python -m server.cli serve`` (what ``metahall serve`` runs) on a free port
with its own data directory, once per session; each test gets fresh browser contexts. Every
page is watched for uncaught errors and console errors, and a test fails if any appeared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
WEBCLIENT = ROOT / "webclient"
CHROMIUM = os.environ.get("METAHALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # WebGL on the CPU (SwiftShader through ANGLE), so the 3D view runs headless.
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
# Console noise that is not ours: SwiftShader performance notes.
IGNORED_CONSOLE = (
    "GPU stall due to ReadPixels",
    "GL Driver Message",
    "Automatic fallback to software WebGL",
)


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (make browser-deps installs Debian's chromium)"
    if not (WEBCLIENT / "node_modules" / "three").is_dir():
        return "webclient/node_modules missing (make setup)"
    if not (WEBCLIENT / "vendor" / "socketio.js").is_file():
        return "webclient/vendor/socketio.js missing (cd webclient && npm run vendor)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def _require() -> None:
    """Skip when Chromium or the client's dependencies are missing; in CI that is a failure."""
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class ServerProcess:
    """``metahall serve`` in a subprocess on a loopback port."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ, METAHALL_DATA_DIR=str(self.data_dir), METAHALL_LOG_LEVEL="WARNING")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "server.log"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not come up in {timeout}s:\n{self.log()}")

    def stop(self, *, crash: bool = False) -> None:
        """Stops the server: SIGTERM with a short grace period, or SIGKILL at once (`crash`)."""
        if self.proc and self.proc.poll() is None:
            if crash:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace")[-4000:]
            if self.log_path and self.log_path.exists()
            else ""
        )


@contextmanager
def running_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ServerProcess]:
    """A `metahall serve` process on a fresh data directory, stopped on exit."""
    _require()
    server = ServerProcess(tmp_path_factory.mktemp(name))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory, "metahall-browser") as server:
        yield server


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    # Package scope: Playwright's sync API keeps an event loop running in this thread while it
    # is open, which would break every asyncio test that runs after the browser tests.
    _require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageErrors:
    """Uncaught exceptions and console errors seen on one page."""

    items: list[str] = field(default_factory=list)

    allow: tuple[str, ...] = ()

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda exc: self.items.append(f"pageerror: {exc}"))

        def on_console(msg: Any) -> None:
            ignored = IGNORED_CONSOLE + self.allow
            if msg.type == "error" and not any(s in msg.text for s in ignored):
                self.items.append(f"console.error: {msg.text}")

        page.on("console", on_console)


@contextmanager
def page_factory(browser: Any, timeout_ms: int, **context_opts: Any) -> Iterator[Callable[..., Any]]:
    """make(locale, viewport, allow, init_script) → a page in a new context of ``browser``; on
    exit the contexts close and any uncaught page error or console error fails the test.

    ``allow`` lists console error substrings a test expects (e.g. a refused WebSocket while the
    server is down); anything else logged as an error fails the test.
    """
    contexts: list[Any] = []
    watched: list[PageErrors] = []

    def make(locale: str = "en-US", viewport: tuple[int, int] = (960, 600),
             allow: tuple[str, ...] = (), init_script: str | None = None) -> Any:
        context = browser.new_context(
            locale=locale, viewport={"width": viewport[0], "height": viewport[1]}, **context_opts)
        contexts.append(context)
        page = context.new_page()
        errors = PageErrors(allow=allow)
        errors.watch(page)
        watched.append(errors)
        page.set_default_timeout(timeout_ms)
        if init_script:
            page.add_init_script(init_script)
        return page

    yield make
    for context in contexts:
        context.close()
    problems = [item for errors in watched for item in errors.items]
    assert not problems, "errors in the browser:\n" + "\n".join(problems)


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """A page in a new context of the shared Chromium (see :func:`page_factory`)."""
    with page_factory(chromium, 15_000) as make:
        yield make


MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",  # a test-pattern camera and a beeping microphone
    "--use-fake-ui-for-media-stream",  # no permission prompt
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",  # plain host candidates between two pages
]


@pytest.fixture(scope="package")
def media_browser(chromium: Any) -> Iterator[Any]:
    """A second Chromium from the same Playwright, with fake camera and microphone."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=CHROMIUM_ARGS + MEDIA_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def media_page(media_browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages with camera and microphone granted (fake devices), as :func:`page_factory`."""
    with page_factory(media_browser, 20_000, permissions=["camera", "microphone"]) as make:
        yield make


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    return path
