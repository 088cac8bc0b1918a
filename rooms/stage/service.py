"""The stage's schedule and Q&A: who may do what, validation, and who is told.

Media (the WebRTC relay) is not here: ``server/stage_media.py`` does it and asks this service
whether a talk may be published or watched. Texts that others will see have passed the
moderation gate before they reach :meth:`StageService.ask` (the server wires it).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from rooms.client import UserLike
from rooms.payloads import clean_text
from rooms.stage.errors import (
    AdminOnly,
    BadSlide,
    BadTalk,
    SpeakerOnly,
    TalkEnded,
    UnknownQuestion,
    UnknownTalk,
)
from rooms.stage.models import LEAD_MS, Question, QuestionStatus, Talk, TalkMode
from rooms.stage.store import StageStore
from rooms.stage.validate import EXPO_ROOM_RE, MAX_TALK_MS, parse_talk_fields

__all__ = ["StageService", "StageNotifier", "UserLookup", "MAX_QUESTION_LEN", "MAX_SLIDES"]

MAX_QUESTION_LEN = 300
MAX_SLIDES = 40
SPEAKER_ROLES = ("exhibitor", "admin")

UserLookup = Callable[[str], Awaitable[UserLike | None]]
"""A user by id (the speaker of a talk must exist and be an exhibitor or an admin)."""


class StageNotifier(Protocol):
    def room(self, room_id: str, event: str, data: Any,
             private: tuple[Callable[[UserLike], bool], Any] | None = None) -> None:
        """Send ``event`` to everyone in every instance of ``room_id``; those for whom
        ``private[0](user)`` is true get ``private[1]`` instead."""


def _is_admin(user: UserLike) -> bool:
    return "admin" in user.roles


def _now_ms(clock: Callable[[], float]) -> int:
    return int(clock() * 1000)


class StageService:
    def __init__(
        self,
        store: StageStore,
        notifier: StageNotifier,
        users: UserLookup,
        room_exists: Callable[[str], Awaitable[bool]],
        *,
        clock: Callable[[], float] = time.time,
        lead_ms: int = LEAD_MS,
        max_open_questions: int = 5,
        max_questions: int = 500,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.users = users
        self.room_exists = room_exists
        self.clock = clock
        self.lead_ms = lead_ms
        self.max_open_questions = max_open_questions
        self.max_questions = max_questions

    def now(self) -> int:
        return _now_ms(self.clock)

    # -- schedule ---------------------------------------------------------------------------
    async def list_talks(self, room_id: str | None) -> list[Talk]:
        if room_id is not None and not EXPO_ROOM_RE.match(room_id):
            raise BadTalk("room must be an expo room id (expo:<name>)", field="room")
        return await self.store.list_talks(room_id)

    async def talk(self, talk_id: object) -> Talk:
        if not isinstance(talk_id, str) or not 1 <= len(talk_id) <= 32:
            raise BadTalk("talk_id must be a talk id", field="talk_id")
        talk = await self.store.get_talk(talk_id)
        if talk is None:
            raise UnknownTalk(f"No talk {talk_id!r}.")
        return talk

    def on_now(self, talks: list[Talk]) -> Talk | None:
        now = self.now()
        return next((t for t in talks if t.status(now) == "on"), None)

    async def create(self, actor: UserLike, data: Mapping[str, Any]) -> Talk:
        if not _is_admin(actor):
            raise AdminOnly("Only the organiser (admin) can schedule talks.")
        room_id = data.get("room")
        if not isinstance(room_id, str) or not EXPO_ROOM_RE.match(room_id):
            raise BadTalk("room must be an expo room id (expo:<name>)", field="room")
        if not await self.room_exists(room_id):
            raise BadTalk(f"There is no room {room_id!r}.", field="room")
        f = parse_talk_fields(data, create=True)
        assert f.title and f.speaker_id and f.start and f.end and f.mode
        now = self.now()
        talk = Talk(id=uuid.uuid4().hex, room_id=room_id, title=f.title, speaker_id=f.speaker_id,
                    start=f.start, end=f.end, mode=f.mode, embed_url=f.embed_url,
                    created_by=actor.id, created_at=now, updated_at=now)
        talk = replace(talk, speaker_name=await self._check(talk))
        talk = await self.store.insert_talk(talk)
        self._announce(talk)
        return talk

    async def update(self, actor: UserLike, data: Mapping[str, Any], *, live: bool) -> Talk:
        if not _is_admin(actor):
            raise AdminOnly("Only the organiser (admin) can edit talks.")
        talk = await self.talk(data.get("talk_id"))
        f = parse_talk_fields(data, create=False)
        new = replace(
            talk, title=f.title or talk.title, speaker_id=f.speaker_id or talk.speaker_id,
            start=f.start or talk.start, end=f.end or talk.end, mode=f.mode or talk.mode,
            embed_url=None if f.clear_embed_url else (f.embed_url or talk.embed_url),
            updated_at=self.now())
        if live and (new.speaker_id != talk.speaker_id or new.mode != talk.mode):
            raise BadTalk("End the broadcast before changing the speaker or the mode.",
                          field="mode")
        new = replace(new, speaker_name=await self._check(new))
        new = await self.store.update_talk(new)
        self._announce(new)
        return new

    async def delete(self, actor: UserLike, talk_id: object) -> Talk:
        if not _is_admin(actor):
            raise AdminOnly("Only the organiser (admin) can remove talks.")
        talk = await self.talk(talk_id)
        await self.store.delete_talk(talk.id)
        self.notifier.room(talk.room_id, "stage.talk", {"deleted": talk.id})
        return talk

    async def _check(self, talk: Talk) -> str:
        """Rules every stored talk keeps; returns the speaker's display name."""
        if talk.end <= talk.start:
            raise BadTalk("end must be after start", field="end")
        if talk.end - talk.start > MAX_TALK_MS:
            raise BadTalk("a talk lasts at most 12 hours", field="end")
        if talk.mode is TalkMode.EMBED and not talk.embed_url:
            raise BadTalk("an embed talk needs embed_url", field="embed_url")
        speaker = await self.users(talk.speaker_id)
        if speaker is None:
            raise BadTalk("No such speaker.", field="speaker_id")
        if not any(r in speaker.roles for r in SPEAKER_ROLES):
            raise BadTalk("The speaker must be an exhibitor or an admin.", field="speaker_id")
        return speaker.display_name

    def _announce(self, talk: Talk) -> None:
        self.notifier.room(talk.room_id, "stage.talk", {"talk": talk.to_wire(self.now())})

    # -- speaker ------------------------------------------------------------------------------
    def require_speaker(self, actor: UserLike, talk: Talk) -> None:
        if actor.id != talk.speaker_id and not _is_admin(actor):
            raise SpeakerOnly("Only the talk's speaker or an admin can do this.")

    async def set_slides(self, actor: UserLike, talk_id: str, count: int) -> Talk:
        """After the server stored ``count`` slide images: record it, show the first."""
        talk = await self.talk(talk_id)
        self.require_speaker(actor, talk)
        if not 0 <= count <= MAX_SLIDES:
            raise BadSlide(f"A talk has at most {MAX_SLIDES} slides.", field="slides")
        talk = await self.store.set_slides(talk.id, count, 0, self.now())
        self._announce(talk)
        return talk

    async def show_slide(self, actor: UserLike, data: Mapping[str, Any]) -> Talk:
        talk = await self.talk(data.get("talk_id"))
        self.require_speaker(actor, talk)
        index = data.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < talk.slides:
            raise BadSlide(f"index must be 0..{talk.slides - 1}", field="index")
        talk = await self.store.set_slides(talk.id, talk.slides, index, self.now())
        self.notifier.room(talk.room_id, "stage.slide", {"talk_id": talk.id, "index": index,
                                                         "slides": talk.slides})
        return talk

    # -- Q&A --------------------------------------------------------------------------------
    def privileged(self, talk: Talk) -> Callable[[UserLike], bool]:
        """Who sees hidden questions in full: the speaker, admins and moderators."""
        return lambda u: u.id == talk.speaker_id or "admin" in u.roles or "moderator" in u.roles

    @staticmethod
    def check_question(text: object) -> str:
        return clean_text(text, "text", max_len=MAX_QUESTION_LEN, single_line=False)

    async def ask(self, actor: UserLike, talk: Talk, shown: str) -> Question:
        """Store a question whose text passed moderation (``shown``) and tell the room."""
        now = self.now()
        if talk.status(now) == "ended":
            raise TalkEnded("The talk has ended; questions are closed.")
        q = Question(id=uuid.uuid4().hex, talk_id=talk.id, user_id=actor.id,
                     display_name=actor.display_name, text=shown, created_at=now, updated_at=now)
        q = await self.store.add_question(q, self.max_open_questions, self.max_questions)
        self._tell(talk, q)
        return q

    async def question(self, question_id: object) -> tuple[Question, Talk]:
        if not isinstance(question_id, str) or not 1 <= len(question_id) <= 32:
            raise BadTalk("question_id must be a question id", field="question_id")
        q = await self.store.get_question(question_id)
        if q is None:
            raise UnknownQuestion(f"No question {question_id!r}.")
        return q, await self.talk(q.talk_id)

    async def vote(self, actor: UserLike, q: Question, talk: Talk, up: bool) -> Question:
        if q.status is QuestionStatus.HIDDEN:
            raise UnknownQuestion("That question is no longer shown.")
        q = await self.store.vote(q.id, actor.id, up, self.now())
        self._tell(talk, q)
        return q

    async def moderate(self, actor: UserLike, q: Question, talk: Talk, status: object) -> Question:
        try:
            st = QuestionStatus(str(status))
        except ValueError as exc:
            raise BadTalk("status must be 'open', 'answered' or 'hidden'", field="status") from exc
        # The speaker and admins manage the Q&A; moderators may hide (or restore) a question.
        if not (actor.id == talk.speaker_id or "admin" in actor.roles
                or ("moderator" in actor.roles and st is not QuestionStatus.ANSWERED)):
            raise SpeakerOnly("Only the talk's speaker or an admin can do this.")
        q = await self.store.set_status(q.id, st, self.now())
        self._tell(talk, q)
        return q

    async def questions(self, actor: UserLike, talk: Talk) -> dict[str, Any]:
        """The Q&A list for ``actor``: ordered by status, votes, age; hidden ones only for the
        privileged, with the ids this actor upvoted."""
        full = self.privileged(talk)(actor)
        qs = sorted((q for q in await self.store.questions(talk.id)
                     if full or q.status is not QuestionStatus.HIDDEN), key=Question.sort_key)
        return {"talk_id": talk.id, "questions": [q.to_wire() for q in qs],
                "voted": sorted(await self.store.voted(talk.id, actor.id))}

    def _tell(self, talk: Talk, q: Question) -> None:
        hidden = q.status is QuestionStatus.HIDDEN
        self.notifier.room(talk.room_id, "stage.question", q.to_wire(full=not hidden),
                           private=(self.privileged(talk), q.to_wire()) if hidden else None)
