// Proximity voice in a social space (docs/protocol.md, "Social as implemented").
//
// After `enable()` (a click: browsers want one for the microphone and for sound) we ask the
// server for ICE servers (`rtc.ice`), open the microphone if there is one (else we listen only),
// and send `voice.join`. The server pairs us with the people within hearing range (8 m, the 8
// nearest, same table) and tells us with `voice.peers` {add: [{user_id, eid, offer, muted}],
// remove: [user_id]}; we call or hang up accordingly (voice-peer.js). Every frame, each voice
// is placed where that avatar stands, relative to where we stand and look (spatial-audio.js).
//
// mute: our microphone sends silence; deafen: we hear nobody (and are muted). A host's mute
// (`voice.muted`) silences that person for everyone, us included if it is us.
// Everything is re-done after every (re)join; leaving the room hangs up.
//
// Notifies the UI with CustomEvent "metahall:voice" {status, peers, muted, deafened, ...} on
// `target`.

import { SpatialAudio, audioSupported } from "./spatial-audio.js";
import { VoicePeer } from "./voice-peer.js";

const STATS_MS = 1000;
const PENDING_SIGNAL_MS = 5000;
export const VoiceStatus = Object.freeze({ OFF: "off", JOINING: "joining", ON: "on", UNSUPPORTED: "unsupported" });

export class ProximityVoice {
  /**
   * @param {object} deps
   * @param {import("../transport/socketio-adapter.js").SocketIoAdapter} deps.transport
   * @param {import("../world-state.js").WorldState} deps.world
   * @param {import("../local-avatar.js").LocalAvatar} deps.local
   * @param {() => number} [deps.listenerYaw] which way we face (the camera's yaw in the 3D view)
   * @param {EventTarget} [deps.target]
   * @param {Storage} [deps.storage] remembers that voice was on
   * @param {() => string|null} [deps.selfUserId]
   */
  constructor({ transport, world, local, listenerYaw = () => local.yaw, target = globalThis.document, storage = globalThis.localStorage, selfUserId = () => null }) {
    this.selfUserId = selfUserId;
    this.transport = transport;
    this.world = world;
    this.local = local;
    this.listenerYaw = listenerYaw;
    this.target = target;
    this.storage = storage;
    this.status = audioSupported() ? VoiceStatus.OFF : VoiceStatus.UNSUPPORTED;
    this.code = null;
    this.muted = false;
    this.deafened = false;
    this.hostMuted = false;
    this.config = { radius: 8, margin: 1.5, max_peers: 8 };
    this.iceServers = null;
    this.audio = null;
    this.mic = null;
    this.micState = "none"; // "live" | "none" | "denied"
    /** @type {Map<string, {peer: VoicePeer, eid: number, name: string, muted: boolean, talking: boolean, distance: number|null}>} */
    this.peers = new Map();
    this._pending = new Map();
    this._statsAt = 0;
    this._roomOk = false;
    this.selfTalking = false;

    transport.on("voice.peers", (msg) => this._onPeers(msg));
    transport.on("rtc.signal", (msg) => this._onSignal(msg));
    transport.on("voice.muted", (msg) => this._onMuted(msg));
    transport.on("voice.stopped", (msg) => this._stop(msg?.reason ?? "stopped", { tellServer: false }));
    transport.on("disconnect", () => this._hangUpAll());
  }

  /** Whether voice was switched on last time (it comes back on by itself next time). */
  get wanted() {
    try { return this.storage?.getItem("metahall.voice") === "1"; } catch { return false; }
  }

  _remember(on) {
    try { this.storage?.setItem("metahall.voice", on ? "1" : "0"); } catch { /* ignore */ }
  }

  /** The room changed (a join or a rejoin): voice works in social spaces. */
  roomJoined(kind) {
    this._roomOk = kind === "social";
    this._hangUpAll();
    if (!this._roomOk) {
      if (this.status === VoiceStatus.ON || this.status === VoiceStatus.JOINING) this._stop("room", { tellServer: false });
      return;
    }
    if (this.status === VoiceStatus.ON || this.status === VoiceStatus.JOINING) this._join();
    else if (this.wanted && this.status === VoiceStatus.OFF) this.enable({ remember: false });
  }

  /** Leaving the room: hang up, keep the microphone closed. */
  roomLeft() {
    this._roomOk = false;
    if (this.status === VoiceStatus.ON || this.status === VoiceStatus.JOINING) this._stop("left", { tellServer: false });
  }

  async enable({ remember = true } = {}) {
    if (this.status === VoiceStatus.UNSUPPORTED || this.status === VoiceStatus.ON || this.status === VoiceStatus.JOINING) return;
    this._set(VoiceStatus.JOINING);
    if (remember) this._remember(true);
    if (!this.audio) this.audio = new SpatialAudio(this.config);
    this.audio.resume();
    if (this.iceServers === null) {
      const ack = await this.transport.request("rtc.ice", {});
      this.iceServers = ack.ok && Array.isArray(ack.ice_servers) ? ack.ice_servers : [];
    }
    await this._openMic();
    if (this.status !== VoiceStatus.JOINING) { // switched off meanwhile
      for (const t of this.mic?.getTracks() ?? []) t.stop();
      this.mic = null;
      return;
    }
    await this._join();
  }

  disable() {
    this._remember(false);
    this._stop("off", { tellServer: true });
  }

  setMuted(muted) {
    this.muted = Boolean(muted);
    this._applyMic();
    this._emit();
  }

  setDeafened(deaf) {
    this.deafened = Boolean(deaf);
    this.audio?.setDeafened(this.deafened);
    this._applyMic();
    this._emit();
  }

  /** Every frame: listener and voices where the avatars are; talk indicators. */
  update(nowMs) {
    if (this.status !== VoiceStatus.ON || !this.audio) {
      this.selfTalking = false;
      return;
    }
    const me = this.local;
    this.audio.setListener(me.x, me.z, this.listenerYaw());
    for (const [userId, p] of this.peers) {
      const e = this.world.entities.get(p.eid);
      const voice = this.audio.voices.get(userId);
      if (e && e.userId === userId && e.visible) {
        this.audio.setVoicePosition(userId, e.x, e.z);
        p.distance = Math.hypot(e.x - me.x, e.z - me.z);
      }
      p.talking = voice ? voice.talk.sample(nowMs) && !p.muted && !this.deafened : false;
      if (e) e.talking = p.talking;
    }
    const mic = this.audio.mic;
    this.selfTalking = Boolean(mic && mic.talk.sample(nowMs) && this._micOpen());
    if (nowMs - this._statsAt > STATS_MS) {
      this._statsAt = nowMs;
      for (const p of this.peers.values()) p.peer.refreshStats().catch(() => {});
      for (const [from, items] of this._pending) {
        if (items.every((i) => nowMs - i.at > PENDING_SIGNAL_MS)) this._pending.delete(from);
      }
    }
  }

  /** For the debug hook and the tests. */
  stats() {
    const peers = {};
    for (const [userId, p] of this.peers) {
      peers[userId] = {
        eid: p.eid, name: p.name, state: p.peer.state, offer: p.peer.offerer, muted: p.muted,
        talking: p.talking, level: Math.round((this.audio?.voices.get(userId)?.talk.level ?? 0) * 1000) / 1000,
        distance: p.distance === null ? null : Math.round(p.distance * 100) / 100,
        gain: p.distance === null || !this.audio ? null : Math.round(this.audio.distanceGain(p.distance) * 100) / 100,
        ...p.peer.stats,
      };
    }
    return {
      status: this.status, code: this.code, mic: this.micState, muted: this.muted, deafened: this.deafened,
      hostMuted: this.hostMuted, radius: this.config.radius, maxPeers: this.config.max_peers,
      audio: this.audio?.ctx.state ?? null, selfTalking: this.selfTalking,
      micLevel: Math.round((this.audio?.mic?.talk.level ?? 0) * 1000) / 1000, peers,
    };
  }

  // -- internals ------------------------------------------------------------------------
  async _openMic() {
    if (this.mic) return;
    if (!navigator.mediaDevices?.getUserMedia) { this.micState = "none"; return; }
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: false,
      });
      this.micState = "live";
      this.audio.attachMic(this.mic);
      this._applyMic();
    } catch (err) {
      // No microphone, or the user said no: we can still listen.
      this.micState = err?.name === "NotAllowedError" ? "denied" : "none";
      this.mic = null;
    }
  }

  get _track() { return this.mic?.getAudioTracks()[0] ?? null; }

  _micOpen() { return Boolean(this._track) && !this.muted && !this.deafened && !this.hostMuted; }

  _applyMic() {
    const track = this._track;
    if (track) track.enabled = this._micOpen();
  }

  async _join() {
    if (!this._roomOk) { this._set(VoiceStatus.OFF, { code: "room" }); return; }
    this._set(VoiceStatus.JOINING);
    const ack = await this.transport.request("voice.join", {});
    if (this.status !== VoiceStatus.JOINING) return;
    if (!ack.ok) {
      this._set(VoiceStatus.OFF, { code: ack.error?.code ?? "unknown" });
      return;
    }
    this.config = { radius: ack.radius ?? 8, margin: ack.margin ?? 1.5, max_peers: ack.max_peers ?? 8 };
    if (this.audio) this.audio.range = this.config;
    this.hostMuted = Boolean(ack.muted);
    this._applyMic();
    this._set(VoiceStatus.ON, { code: null });
  }

  _stop(reason, { tellServer }) {
    this._hangUpAll();
    if (tellServer && this._roomOk) this.transport.request("voice.leave", {}).catch(() => {});
    for (const t of this.mic?.getTracks() ?? []) t.stop();
    this.mic = null;
    this.micState = "none";
    this.audio?.detachMic();
    this.selfTalking = false;
    if (this.status !== VoiceStatus.UNSUPPORTED) this._set(VoiceStatus.OFF, { code: reason });
  }

  _hangUpAll() {
    for (const userId of [...this.peers.keys()]) this._remove(userId);
    this._pending.clear();
  }

  _onPeers(msg) {
    if (this.status !== VoiceStatus.ON || !msg) return;
    for (const userId of Array.isArray(msg.remove) ? msg.remove : []) this._remove(userId);
    for (const info of Array.isArray(msg.add) ? msg.add : []) {
      if (typeof info?.user_id !== "string") continue;
      this._add(info);
    }
    this._emit();
  }

  _add(info) {
    const userId = info.user_id;
    const pending = this._pending.get(userId) ?? [];
    this._remove(userId);
    const peer = new VoicePeer({
      userId,
      offer: Boolean(info.offer),
      iceServers: this.iceServers ?? [],
      track: this._track,
      signal: (data) => this.transport.request("rtc.signal", { to: userId, data }),
      onStream: (stream) => {
        const v = this.audio?.addVoice(userId, stream);
        if (v) this.audio.setVoiceMuted(userId, Boolean(this.peers.get(userId)?.muted));
      },
      onState: () => this._emit(),
    });
    this.peers.set(userId, { peer, eid: info.eid, name: info.display_name ?? "", muted: Boolean(info.muted), talking: false, distance: null });
    if (peer.offerer) peer.start();
    for (const item of pending) peer.handle(item.data);
  }

  _remove(userId) {
    this._pending.delete(userId); // an offer for a pair that is gone must not be answered later
    const p = this.peers.get(userId);
    if (!p) return;
    this.peers.delete(userId);
    p.peer.close();
    this.audio?.removeVoice(userId);
    const e = this.world.entities.get(p.eid);
    if (e) e.talking = false;
  }

  _onSignal(msg) {
    if (!msg || typeof msg.from !== "string" || !msg.data) return;
    const p = this.peers.get(msg.from);
    if (p) { p.peer.handle(msg.data); return; }
    // The offer may overtake the `voice.peers` that announces the pair: keep it briefly.
    const list = this._pending.get(msg.from) ?? [];
    list.push({ data: msg.data, at: performance.now() });
    this._pending.set(msg.from, list.slice(-4));
  }

  _onMuted(msg) {
    if (!msg || typeof msg.user_id !== "string") return;
    if (msg.user_id === this.selfUserId()) {
      this.hostMuted = Boolean(msg.muted);
      this._applyMic();
    } else {
      const p = this.peers.get(msg.user_id);
      if (p) {
        p.muted = Boolean(msg.muted);
        this.audio?.setVoiceMuted(msg.user_id, p.muted);
      }
    }
    this._emit();
  }

  _set(status, extra = {}) {
    this.status = status;
    if ("code" in extra) this.code = extra.code;
    this._emit();
  }

  _emit() {
    this.target?.dispatchEvent(new CustomEvent("metahall:voice", { detail: this.stats() }));
  }
}
