// The optional WebRTC `state` data channel, beside the Socket.IO connection (docs/protocol.md,
// "WebRTC").
//
// After every (re)join, RoomConnection calls start(): one RTCPeerConnection whose offer carries a
// data channel labelled "state", unordered and without retransmissions. The offer goes over
// Socket.IO as `rtc.offer` once ICE gathering is complete (the server does not trickle, and its
// answer holds all its candidates). While the channel is open:
//   - the server sends snaps on it (raw msgpack `[tick, ents, gone]`, a tick possibly cut into
//     several self-contained messages); they go to `onSnap(bytes)`, the same handler as the
//     Socket.IO `snap`;
//   - send("move", ..., {volatile: true}) puts the move on it as msgpack `[x, y, z, yaw, anim]`.
//     A non-volatile move (the one that stops the avatar) still goes over Socket.IO, which is
//     reliable: on this channel a lost message is never repeated.
// Anything that goes wrong (no RTCPeerConnection, `?rtc=0`, a refusal such as `unavailable`, no
// answer, the channel not opening in time, closing or failing later, Socket.IO dropping) leaves
// or puts us on Socket.IO at once, without telling the user more than the transport label. The
// next join tries again.
//
// Every change of transport is dispatched on `target` as CustomEvent "metahall:rtc"
// {transport: "webrtc" | "socketio", previous, status, code}.

import { msgpackEncode } from "metahall-vendor";

export const Transport = Object.freeze({ WEBRTC: "webrtc", SOCKETIO: "socketio" });

/** Stop putting moves on the channel when this much is still queued on it (they are volatile). */
const MAX_BUFFERED_BYTES = 16 * 1024;

export function rtcSupported() {
  return typeof globalThis.RTCPeerConnection === "function";
}

export class WebRtcChannel {
  /**
   * @param {object} deps
   * @param {import("./socketio-adapter.js").SocketIoAdapter} deps.signaling the Socket.IO adapter (rtc.offer, rtc.close, rtc.transport)
   * @param {(bytes: ArrayBuffer) => void} [deps.onSnap] gets every message the server sends on the channel
   * @param {EventTarget} [deps.target] where "metahall:rtc" goes (default: document)
   * @param {boolean} [deps.enabled] false: never try (`?rtc=0`)
   * @param {RTCIceServer[]} [deps.iceServers]
   * @param {number} [deps.gatherTimeoutMs] send the offer with what was gathered by then
   * @param {number} [deps.answerTimeoutMs] how long to wait for the `rtc.offer` ack
   * @param {number} [deps.openTimeoutMs] how long the channel may take to open after the answer
   */
  constructor({
    signaling, onSnap = () => {}, target = globalThis.document, enabled = true, iceServers = [],
    gatherTimeoutMs = 3000, answerTimeoutMs = 10000, openTimeoutMs = 10000,
  }) {
    this.signaling = signaling;
    this.onSnap = onSnap;
    this.target = target;
    this.enabled = enabled;
    this.iceServers = iceServers;
    this.gatherTimeoutMs = gatherTimeoutMs;
    this.answerTimeoutMs = answerTimeoutMs;
    this.openTimeoutMs = openTimeoutMs;
    /** "idle" | "disabled" | "unsupported" | "connecting" | "open" | "closed" | "failed" */
    this.status = enabled ? (rtcSupported() ? "idle" : "unsupported") : "disabled";
    /** Why the last attempt failed or the channel closed (e.g. "unavailable", "timeout", "closed"). */
    this.code = null;
    this.attempts = 0;
    this.opened = 0;
    this.snapsReceived = 0;
    this.movesSent = 0;
    /** What the server last said it uses for our snaps (`rtc.transport`). */
    this.serverTransport = Transport.SOCKETIO;
    this._transport = Transport.SOCKETIO;
    this._pc = null;
    this._channel = null;
    this._gen = 0;
    this._openTimer = 0;

    signaling.on("rtc.transport", (msg) => {
      if (msg?.transport !== Transport.WEBRTC && msg?.transport !== Transport.SOCKETIO) return;
      this.serverTransport = msg.transport;
      // The server stopped using the channel (it closed or failed on its side): so do we.
      if (msg.transport === Transport.SOCKETIO && this._transport === Transport.WEBRTC) this._lost(this._gen, "server");
    });
    signaling.on("disconnect", () => {
      this.serverTransport = Transport.SOCKETIO; // the server drops the peer with the connection
      this.stop({ tellServer: false });
    });
  }

  /** "webrtc" while the state channel is open, else "socketio". */
  get transport() { return this._transport; }
  get open() { return this._transport === Transport.WEBRTC; }

  /** Tries to open the channel (after a join). Resolves with the transport in use afterwards; never rejects. */
  async start() {
    if (!this.enabled || !rtcSupported()) return this._transport;
    if (this._pc || !this.signaling.connected) return this._transport; // under way or open already
    const gen = ++this._gen;
    this.attempts += 1;
    this.code = null;
    this._setStatus("connecting");
    try {
      await this._attempt(gen);
    } catch (err) {
      // Browser refusals (e.g. no usable network for ICE): stay on Socket.IO, quietly.
      console.info("WebRTC state channel unavailable, staying on Socket.IO:", err?.message ?? err);
      this._fail(gen, "error", { tellServer: true });
    }
    return this._transport;
  }

  /** Closes the channel (if any) and goes back to Socket.IO; `tellServer` sends `rtc.close`. */
  stop({ tellServer = true } = {}) {
    const had = Boolean(this._pc);
    this._gen += 1;
    this._teardown();
    if (had && tellServer && this.signaling.connected) this.signaling.request("rtc.close", {}, { timeoutMs: 3000 });
    if (this.status === "connecting" || this.status === "open") this._setStatus("idle");
    this._setTransport(Transport.SOCKETIO);
  }

  /**
   * Sends `move` on the channel when it is open and the move may be lost (`volatile`).
   * @returns {boolean} true when the channel took it; false: send it over Socket.IO instead
   */
  send(type, payload, { volatile = false } = {}) {
    const ch = this._channel;
    if (type !== "move" || !volatile || this._transport !== Transport.WEBRTC || ch?.readyState !== "open") return false;
    if (ch.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    try {
      ch.send(msgpackEncode(payload));
    } catch {
      return false; // closing under us: the close handler switches back
    }
    this.movesSent += 1;
    return true;
  }

  stats() {
    return {
      transport: this._transport, server: this.serverTransport, status: this.status, code: this.code, attempts: this.attempts,
      opened: this.opened, snaps: this.snapsReceived, moves: this.movesSent,
    };
  }

  // -- internals ------------------------------------------------------------------------
  async _attempt(gen) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const channel = pc.createDataChannel("state", { ordered: false, maxRetransmits: 0 });
    channel.binaryType = "arraybuffer";
    this._pc = pc;
    this._channel = channel;
    channel.onopen = () => {
      if (gen !== this._gen) return;
      clearTimeout(this._openTimer);
      this.opened += 1;
      this._setStatus("open");
      this._setTransport(Transport.WEBRTC);
    };
    channel.onclose = () => this._lost(gen, "closed");
    channel.onerror = () => { /* a close follows; nothing to tell the user */ };
    channel.onmessage = (ev) => {
      if (gen !== this._gen || !(ev.data instanceof ArrayBuffer)) return;
      this.snapsReceived += 1;
      this.onSnap(ev.data);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") this._lost(gen, pc.connectionState);
    };

    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc, this.gatherTimeoutMs);
    if (gen !== this._gen) return;
    const offer = { sdp: pc.localDescription.sdp, type: "offer" };
    let ack = await this.signaling.request("rtc.offer", offer, { timeoutMs: this.answerTimeoutMs });
    if (gen !== this._gen) return;
    if (!ack.ok && ack.error?.code === "conflict") {
      // The server still holds an earlier peer of this connection: close it and offer again, once.
      await this.signaling.request("rtc.close", {}, { timeoutMs: 3000 });
      if (gen !== this._gen) return;
      ack = await this.signaling.request("rtc.offer", offer, { timeoutMs: this.answerTimeoutMs });
      if (gen !== this._gen) return;
    }
    if (!ack.ok || typeof ack.sdp !== "string") {
      // `unavailable` (the server's peer cap), `bad_request`, `timeout`, `offline`...: stay on Socket.IO.
      this._fail(gen, ack.error?.code ?? "bad_response", { tellServer: ack.error?.code === "timeout" });
      return;
    }
    this._openTimer = setTimeout(() => this._fail(gen, "timeout", { tellServer: true }), this.openTimeoutMs);
    await pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
  }

  /** The attempt `gen` did not work out. */
  _fail(gen, code, { tellServer = false } = {}) {
    if (gen !== this._gen) return;
    this._gen += 1;
    this._teardown();
    if (tellServer && this.signaling.connected) this.signaling.request("rtc.close", {}, { timeoutMs: 3000 });
    this.code = code;
    this._setStatus("failed");
    this._setTransport(Transport.SOCKETIO);
  }

  /** The channel of attempt `gen` closed or failed (possibly after being open). */
  _lost(gen, code) {
    if (gen !== this._gen || !this._pc) return;
    const wasOpen = this._transport === Transport.WEBRTC;
    this._gen += 1;
    this._teardown();
    // The server may not have noticed yet (e.g. we saw the ICE path fail first): free its peer.
    if (code !== "server" && this.signaling.connected) this.signaling.request("rtc.close", {}, { timeoutMs: 3000 });
    this.code = code;
    this._setStatus(wasOpen ? "closed" : "failed");
    this._setTransport(Transport.SOCKETIO);
  }

  _teardown() {
    clearTimeout(this._openTimer);
    const pc = this._pc;
    const channel = this._channel;
    this._pc = null;
    this._channel = null;
    if (channel) {
      channel.onopen = channel.onclose = channel.onerror = channel.onmessage = null;
      try { channel.close(); } catch { /* already closed */ }
    }
    if (pc) {
      pc.onconnectionstatechange = null;
      try { pc.close(); } catch { /* already closed */ }
    }
  }

  _setStatus(status) {
    this.status = status;
  }

  _setTransport(transport) {
    const previous = this._transport;
    if (previous === transport) return;
    this._transport = transport;
    this.target?.dispatchEvent(new CustomEvent("metahall:rtc", {
      detail: { transport, previous, status: this.status, code: this.code },
    }));
  }
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` (the offer then holds what was found). */
function iceGatheringDone(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
