"""WebRTC bots without a network: channel framing, the observer's channel decoding, the bench's
report code, and the ``--transport`` option."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack
import pytest

from loadtest import bench_webrtc, cli
from loadtest.frames import encode_event
from loadtest.rtcbot import RtcObserver, encode_move
from server.rtc import split_snap


def test_channel_move_is_the_plain_msgpack_array_the_server_reads() -> None:
    raw = encode_move(1.25, 0.0, -3.5, 0.75, 1)
    assert len(raw) < 256  # the server ignores longer channel messages
    # decoded exactly as server/rtc.py does
    move = msgpack.unpackb(raw, max_array_len=8, max_str_len=16, max_bin_len=16, max_map_len=0)
    assert move == [1.25, 0.0, -3.5, 0.75, 1]


def _enter(obs: RtcObserver, *eids: int) -> None:
    obs.on_frame(encode_event("enter", [{"eid": e, "user_id": f"u{e}"} for e in eids]), 0.0)


def test_observer_reads_split_snaps_from_the_channel() -> None:
    obs = RtcObserver("hall:main#1")
    obs.self_eid = 1
    _enter(obs, *range(2, 120))
    ents = [[eid, eid * 10, 0, -eid * 10, 0, 1] for eid in range(2, 120)]
    parts = split_snap(msgpack.packb([7, ents, [999]]), limit=400)
    assert len(parts) > 2
    for p in parts:
        obs.on_channel(p, 1234.0)
    assert obs.channel_msgs == len(parts) and obs.channel_ticks == 1  # one tick, split
    assert obs.snaps == len(parts) and obs.entities == len(ents)
    assert obs.held[5] == (50, -50, 1234.0) and len(obs.held) == len(ents)
    assert obs.protocol == {"rtc_gone_not_entered": 1}  # 999 was never entered
    obs.on_channel(msgpack.packb([8, [[3, 31, 0, -31, 0, 1], [1, 0, 0, 0, 0, 0]], [4]]), 1300.0)
    assert obs.channel_ticks == 2 and obs.corrections == 1  # own entity = a server correction
    assert obs.held[3] == (31, -31, 1300.0) and 4 not in obs.held and 4 in obs.gone


def test_observer_counts_cross_transport_races_and_junk_separately() -> None:
    obs = RtcObserver("i")
    _enter(obs, 2)
    obs.on_channel(msgpack.packb([1, [[2, 1, 0, 1, 0, 1], [3, 5, 0, 5, 0, 1]], [2]]), 10.0)
    # 3's enter is still on its way over Socket.IO; 2 was then announced gone
    assert obs.protocol["rtc_snap_before_enter"] == 1 and obs.held[3] == (5, 5, 10.0)
    obs.on_channel(msgpack.packb([2, [[2, 2, 0, 2, 0, 1]], []]), 20.0)
    assert obs.protocol["rtc_snap_after_gone"] == 1
    for junk in (b"\xc1", msgpack.packb([1, 2]), msgpack.packb([1, [["x"]], []]), b""):
        obs.on_channel(junk, 30.0)
    assert obs.protocol["rtc_malformed"] == 4 and obs.channel_msgs == 2
    assert "snap_before_enter" not in obs.protocol  # plain protocol errors stay for Socket.IO


def test_transport_option() -> None:
    p = cli.build_parser()
    assert cli.config_from_args(p.parse_args([])).transport == "websocket"
    assert cli.config_from_args(p.parse_args(["--transport", "webrtc"])).transport == "webrtc"
    with pytest.raises(SystemExit):
        p.parse_args(["--transport", "carrier-pigeon"])
    cfg = cli.config_from_args(p.parse_args(["--ramp", "13", "--settle", "8"]))
    assert (cfg.ramp_s, cfg.settle_s) == (13.0, 8.0)
    with pytest.raises(ValueError):
        cli.config_from_args(p.parse_args(["--ramp", "5", "--settle", "6"]))


def test_metrics_parsing() -> None:
    text = (
        "# HELP metahall_snaps_sent_total Snapshots queued\n"
        "metahall_snaps_sent_total 1500.0\n"
        "metahall_snaps_skipped_total 3.0\n"
        'metahall_events_out_total{event="rtc.transport"} 200.0\n'
        'metahall_events_out_total{event="hello"} 100.0\n'
    )
    assert bench_webrtc.parse_metrics(text) == {
        "snaps_sent": 1500.0,
        "snaps_skipped": 3.0,
        "rtc_transport_events": 200.0,
    }
    assert bench_webrtc.parse_metrics(None) == {}


def _run(p50: float, p99: float, cov: float, saturated: bool = False) -> dict[str, Any]:
    return {
        "staleness_p50_ms": p50,
        "staleness_p99_ms": p99,
        "coverage": cov,
        "coverage_p5": cov,
        "latency_p50_ms": 150.0,
        "latency_p99_ms": 250.0,
        "errors": 0,
        "error_kinds": {},
        "server_cpu_mean": 20.0,
        "gen_cpu_by_proc": {"worker0": 30.0, "coordinator": 1.0},
        "gen_loop_lag_p99_ms": 20.0,
        "gen_saturated": saturated,
        "gen_saturated_because": [],
        "misses": [],
        "warnings": [],
        "server_metrics": {"snaps_skipped": 2.0},
        "protocol_errors_by_kind": {"rtc_snap_before_enter": 5},
        "link_cpu_percent": 8.0,
        "loadavg_1m": [3.1, 3.4],
    }


def test_report_and_plot_from_a_synthetic_document(tmp_path: Path) -> None:
    doc = {
        "date": "2026-01-01T00:00:00", "bots": 100, "room": "hall:main", "rate_hz": 10.0,
        "ramp_s": 5.0, "duration_s": 20.0, "interrupted": False,
        "machine": {"cpus": 2, "cpu": "test", "loadavg_at_start": [1.0, 2.0, 3.0],
                    "loadavg_at_end": [1.5, 2.0, 3.0]},
        "server": {"cores": "0"}, "generator": {"cores": "1", "procs": 1},
        "link": {"delay_ms_each_way": 50.0, "cores": None},
        "losses": [
            {"loss": 0.0, "runs": {"websocket": _run(200, 290, 1.0), "webrtc": _run(205, 295, 1.0)},
             "link": {"forwarded": 1000, "dropped": 0}},
            {"loss": 0.05, "runs": {"websocket": _run(230, 900, 0.99),
                                    "webrtc": _run(210, 380, 0.99, saturated=True)},
             "link": {"forwarded": 950, "dropped": 50}},
            {"loss": 0.1, "runs": {}, "error": "server died"},
        ],
    }  # fmt: skip
    rows = bench_webrtc.comparison(doc)
    assert [r["rtc_lower"] for r in rows] == [False, True, None]
    assert rows[1]["ratio"] == pytest.approx(900 / 380, abs=0.01)
    md = tmp_path / "r.md"
    bench_webrtc.write_markdown(doc, md)
    text = md.read_text()
    assert "| 5 % | 900 | 380 | 2.4× | 0.990 | 0.990 |" in text
    assert "50 ms one-way delay in each direction" in text and "**saturated**" in text
    assert "error: server died" in text and "rtc_snap_before_enter" in text
    png = tmp_path / "r.png"
    bench_webrtc.plot(doc, png)
    assert png.stat().st_size > 10_000
    json.dumps(doc)  # the document stays JSON
