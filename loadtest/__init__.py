"""metahall load generator: a lean Socket.IO bot swarm with view-staleness metrics.

Entry points: ``metahall-loadtest`` (:func:`loadtest.cli.main`) for one run and
``python -m loadtest.bench_avatar_sync`` for the capacity step series. The method is
described in :mod:`loadtest.swarm` (what bots do) and :mod:`loadtest.observer` (how
latency, staleness and coverage are measured).
"""

from __future__ import annotations

__all__: list[str] = []
