"""CPU and memory of processes (the server, the generator), sampled with psutil."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

import psutil

__all__ = ["HostSampler", "ProcSample", "ProcSampler", "cores_of", "free_port", "raise_fd_limit"]


@dataclass(frozen=True, slots=True)
class ProcSample:
    """CPU % since the previous sample (100 = one core) and resident memory."""

    cpu_percent: float
    rss_mb: float


class ProcSampler:
    """Samples one process, plus its children (a server may fork workers)."""

    def __init__(self, pid: int, *, children: bool = True) -> None:
        self.pid = pid
        self._proc = psutil.Process(pid)
        self._children = children
        self._known: dict[int, psutil.Process] = {pid: self._proc}
        self._proc.cpu_percent(None)

    def sample(self) -> ProcSample | None:
        """CPU % over the interval since the last call; None once the process is gone."""
        if self._children:
            try:
                for c in self._proc.children(recursive=True):
                    if c.pid not in self._known:
                        c.cpu_percent(None)
                        self._known[c.pid] = c
            except psutil.Error:
                pass
        cpu = rss = 0.0
        alive = False
        for pid, p in list(self._known.items()):
            try:
                with p.oneshot():
                    cpu += p.cpu_percent(None)
                    rss += p.memory_info().rss
                alive = alive or pid == self.pid
            except psutil.Error:
                del self._known[pid]
        if not alive:
            return None
        return ProcSample(round(cpu, 1), round(rss / 1e6, 1))


class HostSampler:
    """Per-core CPU % of the whole machine, to see load from other processes."""

    def __init__(self) -> None:
        psutil.cpu_percent(percpu=True)

    def sample(self) -> list[float]:
        """Busy % of each core since the previous call."""
        return [round(v, 1) for v in psutil.cpu_percent(percpu=True)]


def cores_of(pid: int) -> list[int] | None:
    """The CPUs a process may run on (None if unknown)."""
    try:
        return sorted(psutil.Process(pid).cpu_affinity() or [])
    except (psutil.Error, AttributeError):
        return None


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    """Raise this process's open-file limit to its hard limit: a bot is a socket."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def server_commit() -> str | None:
    """The server code a benchmark measured: HEAD, ``+changes`` when server code was modified in
    the tree; None outside a git checkout."""
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "server", "rooms", "avatars",
                                "moderation"], cwd=repo, capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if dirty else "")


def cpu_model() -> str:
    """The CPU's model name, for benchmark reports ("?" when the system does not say)."""
    import platform
    from pathlib import Path

    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"
