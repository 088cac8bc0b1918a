"""What users are told about moderation, in zh-CN and en (DESIGN.md: texts the user sees)."""

from __future__ import annotations

from typing import Final

__all__ = ["REASONS", "reason_label", "duration", "notice", "muted_message", "banned_message",
           "appeal_message", "lang_of"]

REASONS: Final[dict[str, dict[str, str]]] = {
    "spam": {"zh-CN": "垃圾信息或广告", "en": "spam or advertising"},
    "harassment": {"zh-CN": "骚扰或辱骂他人", "en": "harassment or abuse"},
    "hate": {"zh-CN": "仇恨或歧视言论", "en": "hate or discrimination"},
    "scam": {"zh-CN": "诈骗或虚假信息", "en": "scam or fraud"},
    "sexual": {"zh-CN": "色情或低俗内容", "en": "sexual or vulgar content"},
    "privacy": {"zh-CN": "泄露他人隐私", "en": "sharing others' private information"},
    "disruption": {"zh-CN": "扰乱公共秩序", "en": "disrupting the space"},
    "other": {"zh-CN": "违反社区规范", "en": "breaking the community rules"},
}

_ACTIONS: Final[dict[str, dict[str, str]]] = {
    "warn": {"zh-CN": "管理员向你发出了警告。", "en": "A moderator has warned you."},
    "mute": {"zh-CN": "你已被禁言{d}。", "en": "You have been muted {d}."},
    "kick": {"zh-CN": "你已被管理员请出房间。", "en": "A moderator has removed you from the room."},
    "ban": {"zh-CN": "你已被封禁{d}。", "en": "You have been banned {d}."},
    "redact": {"zh-CN": "一条消息已被管理员删除。", "en": "A message was removed by a moderator."},
    "unmute": {"zh-CN": "你的禁言已解除。", "en": "You are no longer muted."},
    "unban": {"zh-CN": "你的封禁已解除。", "en": "You are no longer banned."},
}
_WHY: Final = {"zh-CN": "原因：{r}。", "en": "Reason: {r}."}
_NOTE: Final = {"zh-CN": "管理员说明：{n}", "en": "Moderator's note: {n}"}
_APPEAL: Final = {"zh-CN": "如有异议，你可以申诉一次。", "en": "You may appeal this once."}


def lang_of(lang: str | None) -> str:
    """``zh-CN`` for any Chinese preference, else ``en``."""
    return "zh-CN" if lang is not None and lang.lower().startswith("zh") else "en"


def reason_label(code: str, lang: str | None) -> str:
    return REASONS.get(code, REASONS["other"])[lang_of(lang)]


def duration(seconds: int | None, lang: str | None) -> str:
    """``for 10 minutes`` / ``10 分钟`` style; permanent when ``seconds`` is None."""
    zh = lang_of(lang) == "zh-CN"
    if seconds is None:
        return "（永久）" if zh else "permanently"
    for unit_s, zh_unit, en_unit in ((86400, "天", "day"), (3600, "小时", "hour"),
                                     (60, "分钟", "minute")):
        if seconds >= unit_s:
            n = round(seconds / unit_s)
            return f" {n} {zh_unit}" if zh else f"for {n} {en_unit}{'s' if n != 1 else ''}"
    n = max(1, seconds)
    return f" {n} 秒" if zh else f"for {n} second{'s' if n != 1 else ''}"


def notice(action: str, lang: str | None, *, reason_code: str, note: str,
           seconds: int | None = None, appeal: bool = False) -> str:
    """The full sentence a user gets in the ``moderation`` event."""
    lg = lang_of(lang)
    head = _ACTIONS.get(action, _ACTIONS["warn"])[lg].replace("{d}", duration(seconds, lg))
    parts = [head]
    if action not in ("unmute", "unban", "redact"):
        parts.append(_WHY[lg].replace("{r}", reason_label(reason_code, lg)))
        if note:
            end = "" if note[-1] in ".!?。！？" else ("." if lg == "en" else "。")
            parts.append(_NOTE[lg].replace("{n}", note) + end)
    if appeal:
        parts.append(_APPEAL[lg])
    return " ".join(parts) if lg == "en" else "".join(parts)


def muted_message(lang: str | None, seconds_left: int | None) -> str:
    if lang_of(lang) == "zh-CN":
        return "你已被禁言，暂时不能发言" + (
            "。" if seconds_left is None else f"（剩余{duration(seconds_left, lang)}）。")
    left = "" if seconds_left is None else f" (remaining: {duration(seconds_left, lang)[4:]})"
    return f"You are muted and cannot send messages{left}."


def banned_message(lang: str | None, seconds_left: int | None) -> str:
    if lang_of(lang) == "zh-CN":
        return "你的账号已被封禁" + (
            "（永久）。" if seconds_left is None else f"（剩余{duration(seconds_left, lang)}）。")
    left = "permanently" if seconds_left is None else \
        f"(remaining: {duration(seconds_left, lang)[4:]})"
    return f"Your account is banned {left}."


def appeal_message(decision: str, lang: str | None, note: str) -> str:
    lg = lang_of(lang)
    if decision == "overturned":
        head = "你的申诉已通过，处罚已撤销。" if lg == "zh-CN" else \
            "Your appeal was accepted and the action was withdrawn."
    else:
        head = "你的申诉已审核，处罚维持不变。" if lg == "zh-CN" else \
            "Your appeal was reviewed; the action stands."
    tail = _NOTE[lg].replace("{n}", note) if note else ""
    return head + ("" if not tail else (tail if lg == "zh-CN" else " " + tail))
