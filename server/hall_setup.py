"""Wiring of the service hall into the server: store, notifier, metrics, events, the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram

from rooms.hall import HallService, PresenceNotifier, hall_handlers, hall_planner, parse_catalogue
from rooms.hall.errors import CatalogueError
from rooms.hall.models import Catalogue
from server.hall_store import SqlHallStore

if TYPE_CHECKING:
    from server.app import App

__all__ = ["build_hall", "hall_context", "load_catalogue_file", "SEED_FILE", "PromHallObserver"]

SEED_FILE = Path(__file__).resolve().parent / "data" / "hall_services.yaml"


def load_catalogue_file(path: Path, *, standalone: bool = True) -> Catalogue:
    """Read and check a catalogue file (YAML or JSON); ``CatalogueError`` names the problem."""
    try:
        # libyaml's loader when the wheel has it: the seed catalogue parses ~10x faster.
        data = yaml.load(path.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise CatalogueError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name} is not valid YAML: {exc}") from exc
    return parse_catalogue(data, standalone=standalone)


class PromHallObserver:
    """Feeds the hall's own costs to the app's Prometheus registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.issue = Histogram(
            "metahall_hall_issue_seconds", "Store time to issue one ticket (committed)",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=registry)
        self.flush = Histogram(
            "metahall_hall_fanout_seconds", "CPU time of one fan-out flush (queue/counter updates)",
            buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
            registry=registry)
        self.messages = Counter("metahall_hall_fanout_messages_total",
                                "queue.update and counter.update messages queued",
                                registry=registry)
        self.events = Counter("metahall_hall_events_total", "Hall domain events", ["event"],
                              registry=registry)
        self.lag = Histogram(
            "metahall_hall_loop_lag_seconds", "How late the hall's periodic task woke up",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0), registry=registry)

    def issued(self, seconds: float) -> None:
        self.issue.observe(seconds)

    def fanout(self, seconds: float, messages: int) -> None:
        self.flush.observe(seconds)
        self.messages.inc(messages)

    def event(self, name: str) -> None:
        self.events.labels(name).inc()

    def loop_lag(self, seconds: float) -> None:
        self.lag.observe(seconds)


def build_hall(app: App) -> HallService:
    """Create the hall service, give it to the rooms and register its events."""
    registry = app.registry
    rt = app.realtime
    cluster = app.cluster is not None
    notifier = PresenceNotifier(rt.presence, rt.outbox,
                                lambda: [r for r in registry.rooms() if r.kind == "hall"],
                                deliver=rt.to_user if cluster else None,  # scale-out
                                online=rt.online if cluster else None)
    hall = HallService(SqlHallStore(app.db), notifier, planner=hall_planner(),
                       observer=PromHallObserver(app.metrics.registry))
    for event, handler in hall_handlers(hall).items():
        app.realtime.on(event, handler)
    registry.ctx.services["hall"] = hall
    return hall


def hall_context(app: App) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: load (and on first start seed) the hall, run its sweep."""
    async def ctx(_: web.Application) -> AsyncIterator[None]:
        await app.hall.start(seed=load_catalogue_file(SEED_FILE))
        task: asyncio.Task[Any] = app.spawn(app.hall.run(), "hall-sweep")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store = app.hall.core.store
        if isinstance(store, SqlHallStore):
            await store.close()  # queued writes commit before the database closes

    return ctx
