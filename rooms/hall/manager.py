"""The hall manager (admin): live figures, and editing the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rooms.client import UserLike
from rooms.hall.catalogue import check_references
from rooms.hall.core import HallCore
from rooms.hall.errors import CounterBusy
from rooms.hall.models import Catalogue, CounterDef, ServiceDef
from rooms.hall.stats import compute_stats

__all__ = ["Manager"]


class Manager:
    def __init__(self, core: HallCore) -> None:
        self.core = core

    def start_of_today(self) -> int:
        now = datetime.fromtimestamp(self.core.now_ms() / 1000, self.core.tz)
        return int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)

    async def stats(self, user: UserLike, since: int | None = None) -> dict[str, Any]:
        core = self.core
        core.require_admin(user)
        since = self.start_of_today() if since is None else since
        tickets = await core.store.tickets_since(since)
        ratings = await core.store.ratings_since(since)
        return compute_stats(core.state, tickets, ratings, core.now_ms(), since)

    async def reload(self, *, remote: bool = False) -> None:
        """Take the stored catalogue (after an edit here, or told of one elsewhere)."""
        cat = await self.core.store.load_catalogue()
        if cat is not None:
            self.core.set_catalogue(cat)
        if self.core.sync is not None and not remote:
            self.core.sync("catalogue", None)

    async def import_catalogue(self, user: UserLike | None, cat: Catalogue,
                               replace: bool = False) -> dict[str, int]:
        """Upsert a whole catalogue (``user`` None: the command line, trusted)."""
        if user is not None:
            self.core.require_admin(user)
        if replace:
            check_references(cat.services, cat.counters)
        else:
            current = self.core.state.catalogue
            services = {s.id: s for s in current.services} | {s.id: s for s in cat.services}
            counters = {c.id: c for c in current.counters} | {c.id: c for c in cat.counters}
            check_references(services.values(), counters.values())
        await self.core.store.save_catalogue(cat, replace=replace)
        await self.reload()
        return {"services": len(cat.services), "counters": len(cat.counters),
                "synonyms": len(cat.synonyms)}

    async def put_service(self, user: UserLike, svc: ServiceDef) -> None:
        self.core.require_admin(user)
        services = {s.id: s for s in self.core.state.catalogue.services} | {svc.id: svc}
        check_references(services.values(), self.core.state.counters.values())
        await self.core.store.put_service(svc)
        await self.reload()

    async def put_counter(self, user: UserLike, counter: CounterDef) -> None:
        self.core.require_admin(user)
        st = self.core.state.counter_state.get(counter.id)
        if not counter.active and st is not None and st.open:
            raise CounterBusy("The counter is open; its staff must close it first.")
        counters = {c.id: c for c in self.core.state.catalogue.counters} | {counter.id: counter}
        check_references(self.core.state.services.values(), counters.values())
        await self.core.store.put_counter(counter)
        await self.reload()
