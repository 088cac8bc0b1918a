"""What a citizen does: ask the guide desk, take a number, follow it, leave, arrive, rate."""

from __future__ import annotations

import time
from typing import Any

from rooms.client import UserLike
from rooms.hall.core import HallCore
from rooms.hall.errors import (
    ActiveTicketExists,
    NotYourTicket,
    ServiceClosed,
    TicketStateChanged,
    UnknownTicket,
)
from rooms.hall.models import IssueRequest, Outcome, Rating, Ticket, TicketStatus
from rooms.hall.wire import counter_brief, docs_view, queue_summary, ticket_view

__all__ = ["Citizens", "MAX_ACTIVE_TICKETS"]

MAX_ACTIVE_TICKETS = 5
RATEABLE = (Outcome.SERVED, Outcome.TRANSFERRED)


class Citizens:
    def __init__(self, core: HallCore) -> None:
        self.core = core

    # -- guide desk ------------------------------------------------------------------------
    def ask(self, user: UserLike, text: str, lang: str) -> dict[str, Any]:
        """Services matching ``text``, what to bring, and a path to a counter that serves it."""
        core, st = self.core, self.core.state
        now = core.now_ms()
        results = []
        for m in core.guide.ask(text):
            svc = st.services[m.service_id]
            counter = self._best_counter(m.service_id, now)
            results.append({
                "service_id": svc.id, "score": m.score, "matched": list(m.matched),
                "name": dict(svc.name), "description": dict(svc.description), "prefix": svc.prefix,
                "online": svc.online, "online_url": svc.online_url,
                "documents": docs_view(svc, ())["documents"],
                "queue": queue_summary(st, svc.id, now),
                "counter": counter_brief(counter) if counter else None,
                "path": core.path_to(user.id, counter) if counter else None,
            })
        return {"query": text, "lang": lang, "results": results, "answer": _answer(results)}

    def _best_counter(self, service_id: str, now: int) -> Any:
        st = self.core.state
        open_ids = st.open_counters(service_id)
        if open_ids:  # the open counter with the least in hand
            return st.counters[min(open_ids, key=lambda c: (c in st.current, c))]
        planned = [c for c in st.counters.values() if c.active and service_id in c.service_ids]
        return planned[0] if planned else None

    # -- tickets ---------------------------------------------------------------------------
    async def take(self, user: UserLike, service_id: object) -> dict[str, Any]:
        core = self.core
        svc = core.service(service_id)
        mine = core.state.by_user.get(user.id, {})
        if svc.id in mine:
            raise ActiveTicketExists("You already hold a ticket for that service.",
                                     ticket_id=mine[svc.id])
        if len(mine) >= MAX_ACTIVE_TICKETS:
            raise ServiceClosed(f"You may hold at most {MAX_ACTIVE_TICKETS} tickets at once.")
        now = core.now_ms()
        t0 = time.perf_counter()
        ticket = await core.store.issue(IssueRequest(
            svc.id, svc.prefix, user.id, user.display_name, core.day(now), now))
        core.observer.issued(time.perf_counter() - t0)
        core.apply(ticket)
        view = ticket_view(core.state, ticket)
        if view["position"] is not None:
            core.fanout.remember(svc.id, ticket.id, view["position"], view["eta_s"])
        return {"ticket": view}

    def mine(self, user: UserLike) -> list[dict[str, Any]]:
        st = self.core.state
        return [ticket_view(st, t) for t in st.user_tickets(user.id)]

    async def _own(self, user: UserLike, ticket_id: object) -> Ticket:
        if not isinstance(ticket_id, str) or not 1 <= len(ticket_id) <= 64:
            raise UnknownTicket("No such ticket.", field="ticket_id")
        t = self.core.state.tickets.get(ticket_id) or await self.core.store.get_ticket(ticket_id)
        if t is None:
            raise UnknownTicket("No such ticket.", field="ticket_id")
        if t.user_id != user.id:
            raise NotYourTicket("That ticket belongs to someone else.")
        return t

    async def leave(self, user: UserLike, ticket_id: object) -> dict[str, Any]:
        t = await self._own(user, ticket_id)
        if t.status not in (TicketStatus.WAITING, TicketStatus.CALLED):
            raise TicketStateChanged("This ticket is no longer in the queue.")
        done = await self.core.store.update_ticket(
            t.id, (TicketStatus.WAITING, TicketStatus.CALLED),
            {"status": TicketStatus.DONE, "outcome": Outcome.LEFT,
             "finished_at": self.core.now_ms()})
        self.core.apply(done)
        return {"ticket": ticket_view(self.core.state, done)}

    async def arrive(self, user: UserLike, ticket_id: object) -> dict[str, Any]:
        """The citizen is at the counter: the no-show clock stops."""
        t = await self._own(user, ticket_id)
        return {"ticket": ticket_view(self.core.state, await self.mark_arrived(t))}

    async def mark_arrived(self, t: Ticket) -> Ticket:
        if t.status == TicketStatus.SERVING:
            return t
        if t.status != TicketStatus.CALLED:
            raise TicketStateChanged("This ticket has not been called to a counter.")
        now = self.core.now_ms()
        done = await self.core.store.update_ticket(
            t.id, (TicketStatus.CALLED,), {"status": TicketStatus.SERVING, "arrived_at": now})
        self.core.apply(done)
        return done

    async def rate(self, user: UserLike, ticket_id: object, score: int,
                   comment: str) -> dict[str, Any]:
        t = await self._own(user, ticket_id)
        if t.status != TicketStatus.DONE or t.outcome not in RATEABLE:
            raise TicketStateChanged("Only a served ticket can be rated.")
        rating = Rating(t.id, user.id, t.service_id, t.counter_id, t.staff_id, score, comment,
                        self.core.now_ms())
        await self.core.store.rate(rating)
        self.core.observer.event("rated")
        return {"rating": {"ticket_id": t.id, "score": score, "comment": comment,
                           "created_at": rating.created_at}}


def _answer(results: list[dict[str, Any]]) -> dict[str, str]:
    """One sentence per language for the guide desk's speech bubble."""
    if not results:
        return {"zh-CN": "抱歉，没有找到相关事项。请换个说法，或到咨询引导台人工咨询。",
                "en": "Sorry, I found no matching service. "
                      "Try other words, or ask at the guide desk."}
    top = results[0]
    zh_docs = "、".join(d["name"]["zh-CN"] for d in top["documents"]) or "无"
    en_docs = ", ".join(d["name"]["en"] for d in top["documents"]) or "nothing in particular"
    zh = f"建议办理「{top['name']['zh-CN']}」。请携带：{zh_docs}。"
    en = f"You probably need “{top['name']['en']}”. Please bring: {en_docs}."
    if top["online"]:
        zh += "此事项可全程网上办理。"
        en += " It can also be done fully online."
    if top["counter"]:
        zh += f"现场请到{top['counter']['name']['zh-CN']}。"
        en += f" In the hall, go to {top['counter']['name']['en']}."
    return {"zh-CN": zh, "en": en}
