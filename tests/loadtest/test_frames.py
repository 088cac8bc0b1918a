"""The lean client's framing agrees byte-for-byte with python-socketio's msgpack packets."""

from __future__ import annotations

import msgpack
import pytest
from engineio import packet as eio_packet
from socketio import packet as sio_packet
from socketio.msgpack_packet import MsgPackPacket

from loadtest.frames import (
    SIO_ACK,
    SIO_CONNECT,
    SIO_CONNECT_ERROR,
    SIO_DISCONNECT,
    SIO_EVENT,
    MoveEncoder,
    decode_packet,
    decode_snap,
    encode_connect,
    encode_event,
    is_snap_frame,
    packet_type_hint,
    parse_open,
)


def test_connect_packet_is_what_python_socketio_decodes() -> None:
    pkt = MsgPackPacket(encoded_packet=encode_connect({"token": "t0k"}))
    assert (pkt.packet_type, pkt.data, pkt.namespace) == (sio_packet.CONNECT, {"token": "t0k"}, "/")


def test_event_with_ack_id_matches_python_socketio_encoding() -> None:
    ours = encode_event("join", {"room": "hall:main"}, id=7)
    theirs = MsgPackPacket(sio_packet.EVENT, ["join", {"room": "hall:main"}], "/", id=7).encode()
    assert ours == theirs
    assert MsgPackPacket(encoded_packet=ours).id == 7


def test_move_encoder_is_byte_identical_to_generic_encoding() -> None:
    enc = MoveEncoder()
    for args in [(1.5, 0.0, -3.25, 0.5, 1), (-59.99, 1.7, 39.5, -3.1, 0), (0.0, 0.0, 0.0, 0.0, 2)]:
        data = enc.encode(*args)
        assert data == encode_event("move", list(args))
        pkt = MsgPackPacket(encoded_packet=data)
        assert pkt.packet_type == sio_packet.EVENT and pkt.data == ["move", list(args)]


@pytest.mark.parametrize(
    ("ptype", "data", "pid"),
    [
        (sio_packet.CONNECT, {"sid": "abc"}, None),
        (sio_packet.EVENT, ["snap", b"\x93\x01\x90\x90"], None),
        (sio_packet.EVENT, ["enter", [{"eid": 3, "display_name": "bot-3"}]], None),
        (sio_packet.ACK, [{"ok": True, "self": 4}], 12),
        (sio_packet.DISCONNECT, None, None),
        (sio_packet.CONNECT_ERROR, {"message": "auth", "data": {"code": "auth"}}, None),
    ],
)
def test_server_packets_decode_and_type_hint(ptype: int, data: object, pid: int | None) -> None:
    frame = MsgPackPacket(ptype, data, "/", id=pid).encode()
    pkt = decode_packet(frame)
    assert (pkt.type, pkt.data, pkt.nsp, pkt.id) == (ptype, data, "/", pid)
    assert packet_type_hint(frame) == ptype
    assert is_snap_frame(frame) == (ptype == sio_packet.EVENT and data[0] == "snap")  # type: ignore[index]


def test_type_constants_match_python_socketio() -> None:
    assert (SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR) == (
        sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK,
        sio_packet.CONNECT_ERROR,
    )  # fmt: skip


def test_type_hint_unknown_for_other_key_order() -> None:
    frame = msgpack.packb({"nsp": "/", "type": 2, "data": ["x"]})
    assert packet_type_hint(frame) == -1
    assert decode_packet(frame).type == 2


def test_malformed_packet_raises_value_error() -> None:
    with pytest.raises(ValueError):
        decode_packet(b"\xc1garbage")
    with pytest.raises(ValueError):
        decode_packet(msgpack.packb([1, 2, 3]))


def test_engineio_open_frame_parses() -> None:
    text = eio_packet.Packet(
        eio_packet.OPEN,
        {
            "sid": "s1",
            "upgrades": [],
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1000000,
        },
    ).encode()
    info = parse_open(text)
    assert (info.sid, info.ping_interval_ms, info.ping_timeout_ms) == ("s1", 25000, 20000)
    with pytest.raises(ValueError):
        parse_open("2")


def test_snap_payload_round_trip() -> None:
    blob = msgpack.packb([42, [[7, 150, 0, -325, 65535, 1]], [9]])
    assert decode_snap(blob) == (42, [[7, 150, 0, -325, 65535, 1]], [9])
