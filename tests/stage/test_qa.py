"""Live Q&A: questions pass the moderation hooks, one upvote per user, order by votes, the
speaker answers or hides, and everyone in the room sees the list change."""

from __future__ import annotations

import asyncio

from tests.stage.conftest import StageEnv


async def test_upvotes_once_per_user_order_by_votes_and_live_updates(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    people = [await stage.person(f"Visitor {i}") for i in range(3)]
    a = await stage.connect(admin)
    sp = await stage.connect(speaker)
    v = [await stage.connect(p) for p in people]
    talk = await stage.talk(a, speaker.id)
    ask = [await v[i].call("stage.ask", {"talk_id": talk["id"], "text": t}) for i, t in
           enumerate(("How is the data kept?", "什么时候开放？", "Will slides be shared?"))]
    assert all(x["ok"] for x in ask), ask
    q0, q1, q2 = (x["question"] for x in ask)
    assert q1["text"] == "什么时候开放？" and q1["from"]["display_name"] == "Visitor 1"
    # Everyone in the room heard about each new question.
    await sp.wait("stage.question", lambda d: d["id"] == q2["id"])

    # q1 gets three votes, q2 one; a second vote by the same user is refused.
    for c in v:
        assert (await c.call("stage.vote", {"question_id": q1["id"]}))["ok"]
    again = await v[0].call("stage.vote", {"question_id": q1["id"]})
    assert again["ok"] is False and again["error"]["code"] == "conflict", again
    assert (await v[2].call("stage.vote", {"question_id": q2["id"]}))["question"]["votes"] == 1
    await v[0].wait("stage.question", lambda d: d["id"] == q1["id"] and d["votes"] == 3)
    listing = await v[0].call("stage.questions", {"talk_id": talk["id"]})
    assert [q["id"] for q in listing["questions"]] == [q1["id"], q2["id"], q0["id"]]
    assert [q["votes"] for q in listing["questions"]] == [3, 1, 0]
    assert listing["voted"] == [q1["id"]]
    # Withdrawing a vote moves it back; withdrawing twice is refused.
    assert (await v[0].call("stage.vote", {"question_id": q1["id"], "up": False}))[
        "question"]["votes"] == 2
    assert (await v[0].call("stage.vote", {"question_id": q1["id"], "up": False}))[
        "error"]["code"] == "conflict"

    # The speaker marks one answered and hides another; visitors may do neither.
    bad = await v[1].call("stage.moderate", {"question_id": q0["id"], "status": "hidden"})
    assert bad["error"]["code"] == "forbidden"
    assert (await sp.call("stage.moderate", {"question_id": q1["id"], "status": "answered"}))["ok"]
    assert (await sp.call("stage.moderate", {"question_id": q0["id"], "status": "hidden"}))["ok"]
    hidden = await v[0].wait("stage.question", lambda d: d["id"] == q0["id"]
                             and d["status"] == "hidden")
    assert "text" not in hidden and "from" not in hidden  # the audience does not see its text
    full = await sp.wait("stage.question", lambda d: d["id"] == q0["id"]
                         and d["status"] == "hidden")
    assert full["text"] == "How is the data kept?"
    seen = await v[0].call("stage.questions", {"talk_id": talk["id"]})
    assert [(q["id"], q["status"]) for q in seen["questions"]] == [
        (q2["id"], "open"), (q1["id"], "answered")]
    mine = await sp.call("stage.questions", {"talk_id": talk["id"]})
    assert [q["id"] for q in mine["questions"]] == [q2["id"], q1["id"], q0["id"]]
    # A hidden question takes no votes.
    assert (await v[2].call("stage.vote", {"question_id": q0["id"]}))["error"]["code"] == "not_found"


async def test_concurrent_votes_count_each_user_once(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    voter = await stage.person("Eager")
    a = await stage.connect(admin)
    talk = await stage.talk(a, speaker.id)
    asker = await stage.connect(await stage.person("Asker"))
    q = (await asker.call("stage.ask", {"talk_id": talk["id"], "text": "Why?"}))["question"]
    tabs = [await stage.connect(voter) for _ in range(4)]  # one user, four tabs, same instant
    acks = await asyncio.gather(*(t.call("stage.vote", {"question_id": q["id"]}) for t in tabs))
    assert sorted(x["ok"] for x in acks) == [False, False, False, True], acks
    listing = await a.call("stage.questions", {"talk_id": talk["id"]})
    assert listing["questions"][0]["votes"] == 1


async def test_questions_pass_the_moderation_hooks(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    visitor = await stage.person("Visitor")
    a = await stage.connect(admin)
    v = await stage.connect(visitor)
    talk = await stage.talk(a, speaker.id)
    blocked = await v.call("stage.ask", {"talk_id": talk["id"], "text": "free bitcoin for all"})
    assert blocked["ok"] is False and blocked["error"]["code"] == "blocked", blocked
    redacted = await v.call("stage.ask", {"talk_id": talk["id"], "text": "you idiot, why?"})
    assert redacted["ok"] and "idiot" not in redacted["question"]["text"]
    flagged = await v.call("stage.ask", {"talk_id": talk["id"], "text": "click here for the deck"})
    assert flagged["ok"]
    listing = await a.call("stage.questions", {"talk_id": talk["id"]})
    texts = [q["text"] for q in listing["questions"]]
    assert not any("bitcoin" in t for t in texts) and len(texts) == 2
    # The flag opened a moderation case, like a flagged chat line.
    await stage.app.mod.idle()
    async with stage.app.db.session() as s:
        from sqlalchemy import select

        from server.db.models import ModCase
        cases = (await s.execute(select(ModCase))).scalars().all()
    assert any(visitor.id in c.subjects for c in cases)
    # Empty, oversized, or asked from outside the room: refused, nothing stored.
    for bad in ({"talk_id": talk["id"], "text": "   "}, {"talk_id": talk["id"], "text": "x" * 301},
                {"talk_id": talk["id"]}, {"talk_id": "missing", "text": "hi"}):
        ack = await v.call("stage.ask", bad)
        assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found"), ack
    outsider = await stage.connect(await stage.person("Elsewhere"), room="social:plaza")
    ack = await outsider.call("stage.ask", {"talk_id": talk["id"], "text": "hello?"})
    assert ack["error"]["code"] == "forbidden"
    assert len((await a.call("stage.questions", {"talk_id": talk["id"]}))["questions"]) == 2


async def test_a_visitor_has_at_most_five_open_questions(stage: StageEnv) -> None:
    admin = await stage.person("Organiser", "admin")
    speaker = await stage.person("Speaker", "exhibitor")
    a = await stage.connect(admin)
    v = await stage.connect(await stage.person("Curious"))
    talk = await stage.talk(a, speaker.id)
    texts = ("Where is the venue?", "Who funds the project?", "可以线上参加吗？",
             "How long does it take?", "Are the slides public?")
    for text in texts:
        ack = await v.call("stage.ask", {"talk_id": talk["id"], "text": text})
        assert ack["ok"], ack
        await asyncio.sleep(0.55)  # under the chat flood guard
    ack = await v.call("stage.ask", {"talk_id": talk["id"], "text": "And one more?"})
    assert ack["ok"] is False and ack["error"]["code"] == "conflict", ack
