"""Throughput micro-benchmark of the term filter: ``python -m moderation.bench_filter``.

Runs the same mixed zh/en chat stream (ordinary lines, spam, evasion variants; 10 % match
something) through a :class:`~moderation.terms.TermFilter` holding 10 terms and one holding
10,000 (the 10 plus generated Latin pseudo-words and CJK strings), and prints messages per
second of process CPU time and per-message wall-clock latency percentiles for ``check``,
``verdict`` and ``normalize_views`` alone. Single-threaded: one core of pure Python plus
pyahocorasick. On a busy machine trust msg/s and p50; p99 and max include preemption.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from moderation.normalize import normalize_views
from moderation.termfile import Term
from moderation.terms import TermFilter

__all__ = ["BenchResult", "main", "make_messages", "make_terms", "run"]

BASE_TERMS: list[tuple[str, str]] = [
    ("代开发票", "block"),
    ("刷单", "block"),
    ("网赌", "block"),
    ("牙刷单", "allow"),
    ("加微信", "flag"),
    ("free bitcoin", "block"),
    ("crypto giveaway", "block"),
    ("click here", "flag"),
    ("idiot", "redact"),
    ("笨蛋", "redact"),
]

ORDINARY = [
    "你好，请问办理护照在哪个窗口？",
    "前面还有五个人，应该快了",
    "请问可以开发票吗？",
    "这个展台的介绍视频在哪里看？",
    "下午三点的演讲在主舞台吗？",
    "谢谢工作人员，服务很耐心！",
    "牙刷单价多少钱？",
    "網上預約的號碼在哪裡查看",
    "我们公司在B区23号展台，欢迎来看看",
    "Hello, is this the right queue for passport renewal?",
    "I'm in class until 5pm.",
    "The assessment form is on the second page.",
    "Is it free? Bitcoin is not accepted.",
    "Can you pass me the link to the brochure?",
    "The talk on the main stage starts at 3pm.",
    "Thanks for your help! 👍",
    "ok",
    "哈哈哈",
    "Where is the cafeteria?",
    "I paid 455 yuan for the exhibition pass.",
    "大家好，我是第一次来这个虚拟大厅 🎉",
]
MATCHING = [
    "专业代开发票，联系我",
    "刷單兼職，日赚三百",
    "ｆｒｅｅ　ｂｉｔｃｏｉｎ",
    "fr33 b1tc01n!!",
    "f r e e  b i t c o i n",
    "你这个笨 蛋",
    "CLICK HERE",
    "代\u200b开\u200b发\u200b票",
]


def make_terms(count: int, seed: int = 7) -> list[Term]:
    """The base terms plus generated ones up to ``count`` (half Latin, half CJK)."""
    rng = random.Random(seed)
    terms = [Term(text, action) for text, action in BASE_TERMS][:count]  # type: ignore[arg-type]
    seen = {t.text for t in terms}
    letters, cjk = "abcdefghijklmnopqrstuvwxyz", [chr(c) for c in range(0x4E00, 0x9FA6)]
    while len(terms) < count:
        if len(terms) % 2:
            text = "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))
        else:
            text = "".join(rng.choice(cjk) for _ in range(rng.randint(2, 4)))
        if text not in seen:
            seen.add(text)
            terms.append(Term(text, rng.choice(("block", "flag", "redact"))))
    return terms


def make_messages(count: int, seed: int = 11) -> list[str]:
    """``count`` chat messages, about 10 % of them matching a base term."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text = rng.choice(MATCHING) if i % 10 == 0 else rng.choice(ORDINARY)
        out.append(f"{text} {rng.randint(0, 99)}" if rng.random() < 0.3 else text)
    return out


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One measured configuration."""

    label: str
    """What was measured."""
    messages_per_s: float
    """Throughput over the whole stream, per second of process CPU time (other processes on
    a busy machine do not count against it)."""
    p50_us: float
    """Median latency per message, microseconds."""
    p99_us: float
    """99th percentile latency per message, microseconds."""
    max_us: float
    """Worst message, microseconds."""


def run(label: str, func: Callable[[str], object], messages: list[str]) -> BenchResult:
    """Time ``func`` on each message (after a warm-up pass) with GC disabled."""
    for text in messages[:2000]:
        func(text)
    timings: list[int] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        cpu_start = time.process_time_ns()
        for text in messages:
            t0 = clock()
            func(text)
            timings.append(clock() - t0)
        cpu = time.process_time_ns() - cpu_start
    finally:
        gc.enable()
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return BenchResult(
        label, len(messages) / (cpu / 1e9), cuts[49] / 1e3, cuts[98] / 1e3, max(timings) / 1e3
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=50_000, help="messages per run")
    parser.add_argument("--terms", type=int, nargs="*", default=[10, 10_000], help="term counts")
    args = parser.parse_args(argv)
    messages = make_messages(args.messages)
    results = [run("normalize_views only", normalize_views, messages)]
    for count in args.terms:
        t0 = time.perf_counter()
        term_filter = TermFilter(make_terms(count))
        build_s = time.perf_counter() - t0
        hits = sum(1 for text in messages if term_filter.check(text))
        print(f"{count:>6} terms: built in {build_s * 1e3:.0f} ms; {hits}/{len(messages)} hit")
        results.append(run(f"check, {count} terms", term_filter.check, messages))
        results.append(run(f"verdict, {count} terms", term_filter.verdict, messages))
    print(f"\n{'':24}{'msg/s':>10}{'p50 µs':>9}{'p99 µs':>9}{'max µs':>9}")
    for r in results:
        print(
            f"{r.label:24}{r.messages_per_s:>10,.0f}{r.p50_us:>9.1f}{r.p99_us:>9.1f}{r.max_us:>9.0f}"
        )


if __name__ == "__main__":
    main()
