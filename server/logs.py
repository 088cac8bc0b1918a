"""Structured one-line logs (key=value). Never log tokens or passwords."""

from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging"]


class _KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        line = f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname.lower()} " \
               f"logger={record.name} msg={msg!r}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # python-socketio/engineio log every packet at INFO; keep them quiet.
    for name in ("socketio", "engineio", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
