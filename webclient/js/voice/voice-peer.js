// One peer-to-peer audio call with another person in the room (docs/protocol.md, "Social").
//
// The server pairs people (`voice.peers`) and says which side offers, so there is never glare.
// Signalling goes through `rtc.signal` {to, data}; candidates are not trickled: each side sends
// one message (`offer` or `answer`) once ICE gathering is complete, or after `gatherTimeoutMs`
// with what it has (the same scheme as the state channel: fewer messages, and the relay's rate
// limit is never near). A new `offer` from the other side replaces the connection (a restart).
// Each offer carries a random `sid` that its answer repeats, so an answer to an older offer
// (the pair was dropped and made again meanwhile) is ignored. The offering side starts over
// when the connection fails or has not connected within 10 s (at most three attempts).

const GATHER_TIMEOUT_MS = 2500;
const CONNECT_TIMEOUT_MS = 10000;

/** Resolves when ICE gathering is complete, or after `ms`. */
function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class VoicePeer {
  /**
   * @param {object} deps
   * @param {string} deps.userId the other person
   * @param {boolean} deps.offer whether we send the offer
   * @param {RTCIceServer[]} deps.iceServers
   * @param {MediaStreamTrack|null} deps.track our microphone (null: listen only)
   * @param {(data: object) => Promise<object>} deps.signal sends `rtc.signal` {to: userId, data}
   * @param {(stream: MediaStream) => void} deps.onStream their audio arrived
   * @param {(state: string) => void} [deps.onState]
   */
  constructor({ userId, offer, iceServers, track, signal, onStream, onState = () => {}, gatherTimeoutMs = GATHER_TIMEOUT_MS }) {
    this.userId = userId;
    this.offerer = offer;
    this.iceServers = iceServers;
    this.track = track;
    this.signal = signal;
    this.onStream = onStream;
    this.onState = onState;
    this.gatherTimeoutMs = gatherTimeoutMs;
    this.pc = null;
    this.closed = false;
    this.attempts = 0;
    this.sid = null;
    this._watchdog = 0;
    this.stats = { bytesReceived: 0, packetsReceived: 0, bytesSent: 0, packetsSent: 0 };
    this.lastError = null;
  }

  get state() { return this.pc?.connectionState ?? (this.closed ? "closed" : "new"); }

  /** The offering side calls this once the pair is announced. */
  async start() {
    if (!this.offerer || this.closed) return;
    this.attempts += 1;
    this.sid = Math.random().toString(36).slice(2, 12);
    const pc = this._newConnection();
    if (this.track) pc.addTrack(this.track, new MediaStream([this.track]));
    else pc.addTransceiver("audio", { direction: "recvonly" });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, this.gatherTimeoutMs);
      if (pc !== this.pc) return;
      await this.signal({ type: "offer", sdp: pc.localDescription.sdp, sid: this.sid });
      clearTimeout(this._watchdog);
      this._watchdog = setTimeout(() => {
        if (pc === this.pc && !this.closed && pc.connectionState !== "connected" && this.attempts < 3) this.start();
      }, CONNECT_TIMEOUT_MS);
    } catch (err) {
      this._fail(err);
    }
  }

  /** A signalling message from the other side. */
  async handle(data) {
    if (this.closed || !data || typeof data.sdp !== "string") return;
    try {
      if (data.type === "offer") {
        const pc = this._newConnection();
        await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
        const transceiver = pc.getTransceivers().find((t) => t.receiver.track?.kind === "audio");
        if (transceiver) {
          if (this.track) {
            transceiver.direction = "sendrecv";
            await transceiver.sender.replaceTrack(this.track);
          } else {
            transceiver.direction = "recvonly";
          }
        }
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc, this.gatherTimeoutMs);
        if (pc !== this.pc) return;
        await this.signal({ type: "answer", sdp: pc.localDescription.sdp, sid: data.sid });
      } else if (data.type === "answer" && data.sid === this.sid && this.pc?.signalingState === "have-local-offer") {
        await this.pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
      }
    } catch (err) {
      this._fail(err);
    }
  }

  /** Our microphone changed (joined late, or stopped). */
  async setTrack(track) {
    this.track = track;
    for (const sender of this.pc?.getSenders() ?? []) {
      if (!sender.track || sender.track.kind === "audio") await sender.replaceTrack(track).catch(() => {});
    }
  }

  /** Bytes and packets in and out (RTCInboundRtpStreamStats / RTCOutboundRtpStreamStats). */
  async refreshStats() {
    if (!this.pc || this.closed) return this.stats;
    const report = await this.pc.getStats();
    const s = { bytesReceived: 0, packetsReceived: 0, bytesSent: 0, packetsSent: 0 };
    report.forEach((r) => {
      if (r.kind !== "audio" && r.mediaType !== "audio") return;
      if (r.type === "inbound-rtp") { s.bytesReceived += r.bytesReceived ?? 0; s.packetsReceived += r.packetsReceived ?? 0; }
      if (r.type === "outbound-rtp") { s.bytesSent += r.bytesSent ?? 0; s.packetsSent += r.packetsSent ?? 0; }
    });
    this.stats = s;
    return s;
  }

  close() {
    this.closed = true;
    clearTimeout(this._watchdog);
    this._closePc();
    this.onState("closed");
  }

  _newConnection() {
    this._closePc();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.addEventListener("track", (e) => {
      if (pc === this.pc) this.onStream(e.streams[0] ?? new MediaStream([e.track]));
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      this.onState(pc.connectionState);
      if (pc.connectionState === "failed" && this.offerer && this.attempts < 3 && !this.closed) {
        this.sid = null; // a late answer to this attempt must not be taken
        setTimeout(() => { if (pc === this.pc && !this.closed) this.start(); }, 1000 * this.attempts);
      }
    });
    return pc;
  }

  _closePc() {
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      try { pc.close(); } catch { /* already closed */ }
    }
  }

  _fail(err) {
    this.lastError = String(err?.message ?? err);
    console.warn(`voice: call with ${this.userId} failed`, err);
  }
}
