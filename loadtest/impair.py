"""Network impairment between two network namespaces, without ``tc netem``.

This machine's kernel has no ``sch_netem``, so the impairment is done in user space: two
namespaces (``<name>-srv`` and ``<name>-bot``) each get a TUN device, and this process forwards
every IP packet between the two devices after a fixed one-way delay, dropping each packet with
probability ``loss``. TCP sees real loss (and retransmits, with head-of-line blocking); UDP
(WebRTC) sees real loss. Only addresses inside the namespaces created here are used.

    python -m loadtest.impair --name mh --delay-ms 50 --loss 0.02
    # then: ip netns exec mh-srv <server>   /   ip netns exec mh-bot <bots>  (server at 10.77.0.1)

The process prints ``ready`` once the namespaces are up, forwards until SIGINT/SIGTERM or
``--seconds`` elapse, then removes both namespaces.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import fcntl
import os
import random
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field

__all__ = ["Impairment", "SERVER_ADDR", "BOT_ADDR", "main"]

SERVER_ADDR = "10.77.0.1"
BOT_ADDR = "10.77.0.2"
_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=10)


def _setns(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _open_tun(netns: str, ifname: str) -> int:
    """Open a TUN device inside ``netns`` (the fd stays bound to it after we switch back)."""
    home = f"/proc/{os.getpid()}/task/{os.getpid()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        _setns(f"/var/run/netns/{netns}")
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", ifname.encode(), _IFF_TUN | _IFF_NO_PI))
    finally:
        if _libc.setns(home_fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "could not return to the original namespace")
        os.close(home_fd)
    return fd


@dataclass
class Impairment:
    """Two namespaces joined by a user-space link with delay and loss."""

    name: str = "mh"
    delay_ms: float = 50.0
    loss: float = 0.0
    seed: int = 1
    forwarded: int = 0
    dropped: int = 0
    _fds: list[int] = field(default_factory=list)

    @property
    def server_ns(self) -> str:
        return f"{self.name}-srv"

    @property
    def bot_ns(self) -> str:
        return f"{self.name}-bot"

    def setup(self) -> None:
        self.teardown()
        for ns, local, peer in ((self.server_ns, SERVER_ADDR, BOT_ADDR),
                                (self.bot_ns, BOT_ADDR, SERVER_ADDR)):
            _run("ip", "netns", "add", ns)
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            self._fds.append(_open_tun(ns, "mhtun0"))
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "mhtun0", "mtu", "1500", "up")
            _run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{local}/32", "peer",
                 f"{peer}/32", "dev", "mhtun0")

    def teardown(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
        for ns in (self.server_ns, self.bot_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10, check=False)

    async def forward(self, seconds: float) -> None:
        """Move packets both ways until ``seconds`` pass or the task is cancelled."""
        loop = asyncio.get_running_loop()
        rng = random.Random(self.seed)
        delay = self.delay_ms / 1000.0
        a, b = self._fds

        def pump(src: int, dst: int) -> None:
            for _ in range(256):  # bounded per wake-up
                try:
                    packet = os.read(src, 65535)
                except BlockingIOError:
                    return
                if self.loss and rng.random() < self.loss:
                    self.dropped += 1
                    continue
                self.forwarded += 1
                loop.call_later(delay, _write, dst, packet)

        def _write(dst: int, packet: bytes) -> None:
            try:
                os.write(dst, packet)
            except OSError:
                self.dropped += 1

        loop.add_reader(a, pump, a, b)
        loop.add_reader(b, pump, b, a)
        try:
            await asyncio.sleep(seconds)
        finally:
            loop.remove_reader(a)
            loop.remove_reader(b)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m loadtest.impair", description=__doc__.split("\n")[0]
    )
    p.add_argument("--name", default="mh")
    p.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay each direction")
    p.add_argument("--loss", type=float, default=0.0, help="drop probability per packet, 0..1")
    p.add_argument("--seconds", type=float, default=3600.0, help="stop after this long")
    args = p.parse_args(argv)
    if not 0.0 <= args.loss < 1.0 or args.delay_ms < 0:
        p.error("--loss must be in [0, 1) and --delay-ms >= 0")
    imp = Impairment(args.name, args.delay_ms, args.loss)
    imp.setup()
    stop = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        fwd = asyncio.create_task(imp.forward(args.seconds))
        print("ready", flush=True)
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({fwd, waiter}, return_when=asyncio.FIRST_COMPLETED)
        fwd.cancel()
        waiter.cancel()

    started = time.monotonic()
    try:
        asyncio.run(run())
    finally:
        imp.teardown()
        print(f"forwarded={imp.forwarded} dropped={imp.dropped} "
              f"seconds={time.monotonic() - started:.1f}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
