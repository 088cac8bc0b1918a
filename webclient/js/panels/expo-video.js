// The optional video call of a running meeting: peer to peer between the visitor and the host,
// signalled through `rtc.signal` (the server relays it only between the two people of a meeting
// while it runs). Not trickled: each side sends one message (offer or answer) once ICE gathering
// is done or after 2.5 s, like the proximity voice. Messages carry {kind: "meeting-video",
// meeting, type: "offer"|"answer"|"bye", sdp?, sid}; anything else on rtc.signal is not ours.

import { button, el } from "./dom.js";

const KIND = "meeting-video";
const GATHER_MS = 2500;

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener("icegatheringstatechange", check); clearTimeout(t); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const t = setTimeout(done, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class MeetingCall {
  constructor(ctx) {
    this.ctx = ctx;
    this.i18n = ctx.i18n;
    this.meeting = null;
    this.pc = null;
    this.local = null;
    this.sid = null;
    this.incoming = null; // an offer waiting for "accept"
    this.root = el("div", "expo-call");
    this.status = el("p", "item-meta expo-call-status");
    this.actions = el("div", "expo-card-actions");
    this.videos = el("div", "expo-call-videos");
    this.remoteVideo = el("video", "expo-call-remote");
    this.remoteVideo.autoplay = true;
    this.remoteVideo.playsInline = true;
    this.localVideo = el("video", "expo-call-local");
    this.localVideo.autoplay = true;
    this.localVideo.muted = true;
    this.localVideo.playsInline = true;
    this.videos.append(this.remoteVideo, this.localVideo);
    this.videos.hidden = true;
    this.root.append(this.status, this.actions, this.videos);
    this.off = ctx.transport.on("rtc.signal", (m) => this._onSignal(m));
    this.render();
  }

  get supported() { return typeof RTCPeerConnection === "function" && Boolean(navigator.mediaDevices?.getUserMedia); }

  /** The meeting that runs now ({id, visitor_id, staff_id}) or null. */
  set(meeting) {
    if (this.meeting?.id !== meeting?.id) this.hangUp(false);
    this.meeting = meeting;
    this.render();
  }

  get other() {
    const m = this.meeting;
    if (!m) return null;
    return m.visitor_id === this.ctx.user?.id ? m.staff_id : m.visitor_id;
  }

  render() {
    const t = (k) => this.i18n.t(k);
    this.root.hidden = !this.meeting || !this.supported;
    this.actions.replaceChildren();
    if (this.incoming) {
      this.status.textContent = t("expo.video.incoming");
      const ok = button(t("expo.video.accept"), "btn small primary expo-call-accept");
      ok.addEventListener("click", () => this._accept());
      const no = button(t("expo.video.decline"), "btn small");
      no.addEventListener("click", () => { this._send({ type: "bye", sid: this.incoming.sid }); this.incoming = null; this.render(); });
      this.actions.append(ok, no);
    } else if (this.pc) {
      this.status.textContent = t(this.pc.connectionState === "connected" ? "expo.video.connected" : "expo.video.connecting");
      const end = button(t("expo.video.hang_up"), "btn small expo-call-end");
      end.addEventListener("click", () => this.hangUp(true));
      this.actions.append(end);
    } else {
      this.status.textContent = t("expo.video.offer");
      const start = button(t("expo.video.start"), "btn small expo-call-start");
      start.addEventListener("click", () => this._start());
      this.actions.append(start);
    }
    this.videos.hidden = !this.pc;
  }

  async _iceServers() {
    const ack = await this.ctx.transport.request("rtc.ice", {});
    return ack?.ok ? ack.ice_servers ?? [] : [];
  }

  async _media() {
    this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    this.localVideo.srcObject = this.local;
  }

  _newPc(iceServers) {
    const pc = new RTCPeerConnection({ iceServers });
    pc.addEventListener("track", (e) => { if (pc === this.pc) this.remoteVideo.srcObject = e.streams[0] ?? new MediaStream([e.track]); });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      if (["failed", "closed"].includes(pc.connectionState)) this.hangUp(false);
      else this.render();
    });
    for (const track of this.local?.getTracks() ?? []) pc.addTrack(track, this.local);
    this.pc = pc;
    return pc;
  }

  async _start() {
    if (!this.meeting || this.pc) return;
    try {
      await this._media();
      const pc = this._newPc(await this._iceServers());
      this.sid = Math.random().toString(36).slice(2, 12);
      this.render();
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (pc !== this.pc) return;
      const ack = await this._send({ type: "offer", sdp: pc.localDescription.sdp, sid: this.sid });
      if (!ack?.ok) { this.hangUp(false); this.ctx.toast("expo.video.unreachable", {}, "warn"); }
    } catch (err) {
      console.warn("meeting video could not start", err);
      this.hangUp(false);
      this.ctx.toast("expo.video.no_camera", {}, "warn");
    }
  }

  async _accept() {
    const offer = this.incoming;
    this.incoming = null;
    if (!offer || !this.meeting) return;
    try {
      await this._media();
      const pc = this._newPc(await this._iceServers());
      this.sid = offer.sid;
      this.render();
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      if (pc !== this.pc) return;
      await this._send({ type: "answer", sdp: pc.localDescription.sdp, sid: this.sid });
    } catch (err) {
      console.warn("meeting video could not answer", err);
      this.hangUp(false);
      this.ctx.toast("expo.video.no_camera", {}, "warn");
    }
  }

  async _onSignal(m) {
    const d = m?.data;
    if (!d || d.kind !== KIND || !this.meeting || d.meeting !== this.meeting.id || m.from !== this.other) return;
    if (d.type === "offer" && typeof d.sdp === "string") {
      if (this.pc) this.hangUp(false); // they started again
      this.incoming = { sdp: d.sdp, sid: d.sid };
      this.ctx.toast("expo.video.incoming", {});
      this.render();
    } else if (d.type === "answer" && typeof d.sdp === "string" && d.sid === this.sid && this.pc?.signalingState === "have-local-offer") {
      await this.pc.setRemoteDescription({ type: "answer", sdp: d.sdp }).catch((err) => console.warn(err));
    } else if (d.type === "bye") {
      this.incoming = null;
      this.hangUp(false);
    }
  }

  _send(data) {
    const to = this.other;
    if (!to || !this.meeting) return Promise.resolve(null);
    return this.ctx.transport.request("rtc.signal", { to, data: { kind: KIND, meeting: this.meeting.id, ...data } });
  }

  hangUp(tell = true) {
    if (tell && this.pc) this._send({ type: "bye", sid: this.sid });
    try { this.pc?.close(); } catch { /* closed */ }
    this.pc = null;
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
    this.localVideo.srcObject = null;
    this.remoteVideo.srcObject = null;
    this.render();
  }

  dispose() {
    this.hangUp(true);
    this.off?.();
  }
}
