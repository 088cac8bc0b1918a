"""Hook registry: order, stacking, verdict combination, failure policy, timing, cancellation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from moderation import (
    ALLOW,
    Block,
    ChatContext,
    Flag,
    JoinContext,
    ModerationCallbacks,
    Redact,
    RegistrationError,
    ReportContext,
    Verdict,
)
from moderation.context import GateContext


def chat(text: str = "hello") -> ChatContext:
    return ChatContext("u1", "Ann", frozenset({"citizen"}), "hall:main", "room", text)


def returning(
    verdict: Verdict, seen: list[str], name: str
) -> Callable[[ChatContext], Awaitable[Verdict]]:
    async def callback(ctx: ChatContext) -> Verdict:
        seen.append(f"{name}:{ctx.text}")
        return verdict

    callback.__qualname__ = name
    return callback


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Verdict, GateContext]] = []

    async def __call__(self, hook: str, verdict: Verdict, ctx: GateContext) -> None:
        self.calls.append((hook, verdict, ctx))


async def test_no_callbacks_allows_at_once() -> None:
    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    assert await callbacks.check_chat(chat()) is ALLOW
    assert await callbacks.check_join(JoinContext("u1", "Ann", frozenset(), "hall:main")) is ALLOW
    assert record.calls == []


async def test_callbacks_run_in_registration_order_and_stack() -> None:
    seen: list[str] = []
    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "a"))
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "b"))
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "c"))
    assert await callbacks.check_chat(chat("hi")) is ALLOW
    assert seen == ["a:hi", "b:hi", "c:hi"]
    assert callbacks.registered()["check_chat"] == ("a", "b", "c")


async def test_first_block_wins_and_stops_the_chain() -> None:
    seen: list[str] = []
    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "a"))
    callbacks.register_callbacks(check_chat=returning(Block("blocked", "first"), seen, "b"))
    callbacks.register_callbacks(check_chat=returning(Block("blocked", "second"), seen, "c"))
    assert await callbacks.check_chat(chat()) == Block("blocked", "first")
    assert seen == ["a:hello", "b:hello"]
    assert [(hook, verdict) for hook, verdict, _ in record.calls] == [
        ("check_chat", Block("blocked", "first"))
    ]


async def test_redact_feeds_later_callbacks_and_is_returned() -> None:
    seen: list[str] = []
    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=returning(Redact("h***o", "r1"), seen, "a"))
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "b"))
    assert await callbacks.check_chat(chat("hello")) == Redact("h***o", "r1")
    assert seen == ["a:hello", "b:h***o"]
    assert record.calls[0][2].text == "hello"  # type: ignore[union-attr]


async def test_two_redacts_combine_reasons_and_keep_last_text() -> None:
    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=returning(Redact("x", "r1"), [], "a"))
    callbacks.register_callbacks(check_chat=returning(Redact("y", "r2"), [], "b"))
    assert await callbacks.check_chat(chat()) == Redact("y", "r1; r2")


async def test_block_after_redact_still_blocks() -> None:
    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=returning(Redact("x", "r"), [], "a"))
    callbacks.register_callbacks(check_chat=returning(Block("rate_limited", "slow"), [], "b"))
    assert await callbacks.check_chat(chat()) == Block("rate_limited", "slow")


async def test_flag_does_not_stop_later_gates() -> None:
    seen: list[str] = []
    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=returning(Flag("sus"), seen, "a"))
    callbacks.register_callbacks(check_chat=returning(Block("rate_limited", "flood"), seen, "b"))
    assert await callbacks.check_chat(chat()) == Block("rate_limited", "flood")
    assert [verdict for _, verdict, _ in record.calls] == [
        Flag("sus"),
        Block("rate_limited", "flood"),
    ]


async def test_first_flag_returned_when_nothing_blocks_or_redacts() -> None:
    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=returning(Flag("one"), [], "a"))
    callbacks.register_callbacks(check_chat=returning(Flag("two"), [], "b"))
    assert await callbacks.check_chat(chat()) == Flag("one")


async def test_redact_outranks_flag_in_result_but_both_are_recorded() -> None:
    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=returning(Flag("sus"), [], "a"))
    callbacks.register_callbacks(check_chat=returning(Redact("***", "rude"), [], "b"))
    assert await callbacks.check_chat(chat()) == Redact("***", "rude")
    assert [verdict for _, verdict, _ in record.calls] == [Flag("sus"), Redact("***", "rude")]


async def test_gate_fails_closed_by_default(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    async def broken(ctx: ChatContext) -> Verdict:
        raise RuntimeError("db down")

    record = Recorder()
    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=broken)
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "later"))
    with caplog.at_level(logging.WARNING, logger="moderation.callbacks"):
        verdict = await callbacks.check_chat(chat())
    assert isinstance(verdict, Block) and verdict.code == "moderation_unavailable"
    assert "broken" in verdict.reason and "db down" in verdict.reason
    assert seen == []
    assert record.calls and record.calls[0][1] == verdict
    assert "fail_closed" in caplog.text and "db down" in caplog.text
    stats = callbacks.stats[("check_chat", broken.__qualname__)]
    assert (stats.calls, stats.errors) == (1, 1)


async def test_gate_registered_fail_open_counts_as_allow() -> None:
    seen: list[str] = []

    async def broken(ctx: ChatContext) -> Verdict:
        raise RuntimeError("classifier offline")

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=broken, fail_closed=False)
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "later"))
    assert await callbacks.check_chat(chat()) is ALLOW
    assert seen == ["later:hello"]


async def test_non_verdict_result_is_a_failure() -> None:
    async def forgot_return(ctx: ChatContext) -> Verdict:
        return None  # type: ignore[return-value]

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=forgot_return)
    verdict = await callbacks.check_chat(chat())
    assert isinstance(verdict, Block) and "expected a Verdict" in verdict.reason


async def test_redact_on_a_hook_without_text_is_a_failure() -> None:
    async def redact_join(ctx: JoinContext) -> Verdict:
        return Redact("x", "nonsense")

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_join=redact_join)
    verdict = await callbacks.check_join(JoinContext("u1", "Ann", frozenset(), "hall:main"))
    assert isinstance(verdict, Block) and verdict.code == "moderation_unavailable"


async def test_slow_callback_times_out_and_fails_closed() -> None:
    async def slow(ctx: ChatContext) -> Verdict:
        await asyncio.sleep(10)
        return ALLOW

    callbacks = ModerationCallbacks(timeout=0.01)
    callbacks.register_callbacks(check_chat=slow)
    verdict = await callbacks.check_chat(chat())
    assert isinstance(verdict, Block) and "TimeoutError" in verdict.reason


async def test_cancelled_error_from_callback_propagates() -> None:
    seen: list[str] = []

    async def cancelled(ctx: ChatContext) -> Verdict:
        raise asyncio.CancelledError

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(check_chat=cancelled)
    callbacks.register_callbacks(check_chat=returning(ALLOW, seen, "later"))
    with pytest.raises(asyncio.CancelledError):
        await callbacks.check_chat(chat())
    assert seen == []


async def test_cancelling_the_caller_propagates_through_a_running_callback() -> None:
    started = asyncio.Event()
    outcomes: list[str] = []

    async def waits(ctx: ChatContext) -> Verdict:
        started.set()
        await asyncio.sleep(10)
        return ALLOW

    callbacks = ModerationCallbacks(
        observer=lambda hook, name, s, outcome: outcomes.append(outcome)
    )
    callbacks.register_callbacks(check_chat=waits)
    task = asyncio.create_task(callbacks.check_chat(chat()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcomes == ["cancelled"]


async def test_notifications_log_failures_and_continue(caplog: pytest.LogCaptureFixture) -> None:
    got: list[str] = []

    async def broken(ctx: ReportContext) -> None:
        raise ValueError("webhook 500")

    async def fine(ctx: ReportContext) -> None:
        got.append(ctx.report_id)

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(on_report=broken)
    callbacks.register_callbacks(on_report=fine)
    with caplog.at_level(logging.WARNING, logger="moderation.callbacks"):
        await callbacks.on_report(ReportContext("r1", "u1", "spam"))
    assert got == ["r1"]
    assert "webhook 500" in caplog.text


async def test_notification_cancellation_propagates() -> None:
    async def cancelled(ctx: ReportContext) -> None:
        raise asyncio.CancelledError

    callbacks = ModerationCallbacks()
    callbacks.register_callbacks(on_report=cancelled)
    with pytest.raises(asyncio.CancelledError):
        await callbacks.on_report(ReportContext("r1", "u1", "spam"))


async def test_each_callback_is_timed_under_its_qualname() -> None:
    ticks = iter([0.0, 0.25, 1.0, 1.5])
    observed: list[tuple[str, str, float, str]] = []

    class Plugin:
        async def check_chat(self, ctx: ChatContext) -> Verdict:
            return Flag("x")

    callbacks = ModerationCallbacks(
        clock=lambda: next(ticks), observer=lambda *args: observed.append(args)
    )
    callbacks.register_callbacks(check_chat=Plugin().check_chat)
    await callbacks.check_chat(chat())
    await callbacks.check_chat(chat())
    name = "test_each_callback_is_timed_under_its_qualname.<locals>.Plugin.check_chat"
    assert observed == [("check_chat", name, 0.25, "flag"), ("check_chat", name, 0.5, "flag")]
    stats = callbacks.stats[("check_chat", name)]
    assert (stats.calls, stats.errors, stats.total_s, stats.max_s) == (2, 0, 0.75, 0.5)


async def test_failing_record_sink_does_not_change_the_verdict() -> None:
    async def record(hook: str, verdict: Verdict, ctx: GateContext) -> None:
        raise RuntimeError("db down")

    callbacks = ModerationCallbacks(record=record)
    callbacks.register_callbacks(check_chat=returning(Flag("x"), [], "a"))
    assert await callbacks.check_chat(chat()) == Flag("x")
    assert callbacks.stats[("check_chat", "record")].errors == 1


def test_registering_a_non_callable_registers_nothing() -> None:
    callbacks = ModerationCallbacks()
    with pytest.raises(RegistrationError, match="check_join"):
        callbacks.register_callbacks(
            check_chat=returning(ALLOW, [], "a"),
            check_join="not callable",  # type: ignore[arg-type]
        )
    assert callbacks.registered()["check_chat"] == ()
