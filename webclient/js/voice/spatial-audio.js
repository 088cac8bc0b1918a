// The Web Audio side of proximity voice: one AudioContext, the listener at our avatar, and per
// remote voice a chain   source → PannerNode (HRTF, linear fall-off to the hearing edge) →
// GainNode (deafen / host mute) → master → speakers, plus an AnalyserNode for the talk indicator.
//
// Coordinates are the room's (metres; x right, z towards the viewer; yaw 0 faces +z as in
// three.js), which is also Web Audio's right-handed frame with y up.
//
// Chromium plays a remote WebRTC stream through Web Audio only while the stream is also
// attached to a media element, so each voice keeps a muted <audio> element playing it.

const EAR_HEIGHT = 1.6;
const TALK_THRESHOLD = 0.015; // RMS of the time-domain signal
const TALK_HOLD_MS = 500;

export function audioSupported() {
  return typeof globalThis.AudioContext === "function" && typeof globalThis.RTCPeerConnection === "function";
}

/** Whether a voice is talking: RMS above a threshold, held briefly so the indicator does not flicker. */
export class TalkDetector {
  constructor(analyser) {
    this.analyser = analyser;
    this.buf = new Float32Array(analyser.fftSize);
    this.level = 0;
    this.talking = false;
    this._lastLoud = -Infinity;
  }

  sample(nowMs) {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (let i = 0; i < this.buf.length; i += 1) sum += this.buf[i] * this.buf[i];
    this.level = Math.sqrt(sum / this.buf.length);
    if (this.level > TALK_THRESHOLD) this._lastLoud = nowMs;
    this.talking = nowMs - this._lastLoud < TALK_HOLD_MS;
    return this.talking;
  }
}

export class SpatialAudio {
  /** @param {{radius: number, margin: number}} range the hearing radius and the hang-up margin */
  constructor(range = { radius: 8, margin: 1.5 }) {
    this.ctx = new AudioContext({ latencyHint: "interactive" });
    this.master = this.ctx.createGain();
    this.master.connect(this.ctx.destination);
    this.range = range;
    /** @type {Map<string, object>} */
    this.voices = new Map();
    this.mic = null;
  }

  get running() { return this.ctx.state === "running"; }

  /** Browsers start an AudioContext suspended until the page is interacted with. */
  resume() {
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  setDeafened(deaf) {
    this.master.gain.setTargetAtTime(deaf ? 0 : 1, this.ctx.currentTime, 0.02);
  }

  /** A talk detector on our own microphone (never played back). */
  attachMic(stream) {
    this.detachMic();
    const source = this.ctx.createMediaStreamSource(stream);
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    this.mic = { source, analyser, talk: new TalkDetector(analyser) };
  }

  detachMic() {
    if (!this.mic) return;
    this.mic.source.disconnect();
    this.mic = null;
  }

  /** Starts playing a remote voice at a position. */
  addVoice(id, stream) {
    this.removeVoice(id);
    const element = new Audio();
    element.muted = true; // audible through Web Audio only (see the note at the top)
    element.srcObject = stream;
    element.play().catch(() => {});
    const source = this.ctx.createMediaStreamSource(stream);
    const panner = this.ctx.createPanner();
    panner.panningModel = "HRTF";
    panner.distanceModel = "linear";
    panner.refDistance = 1;
    panner.maxDistance = this.range.radius + this.range.margin;
    panner.rolloffFactor = 1;
    const gain = this.ctx.createGain();
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    source.connect(panner).connect(gain).connect(this.master);
    const voice = { element, source, panner, gain, analyser, talk: new TalkDetector(analyser), muted: false };
    this.voices.set(id, voice);
    return voice;
  }

  removeVoice(id) {
    const v = this.voices.get(id);
    if (!v) return;
    v.source.disconnect();
    v.panner.disconnect();
    v.gain.disconnect();
    v.element.srcObject = null;
    this.voices.delete(id);
  }

  /** Silences one voice (a host muted that person) or lets it through again. */
  setVoiceMuted(id, muted) {
    const v = this.voices.get(id);
    if (!v) return;
    v.muted = muted;
    v.gain.gain.setTargetAtTime(muted ? 0 : 1, this.ctx.currentTime, 0.02);
  }

  /** Puts the listener at (x, z) facing yaw. */
  setListener(x, z, yaw) {
    const l = this.ctx.listener;
    const fx = Math.sin(yaw);
    const fz = Math.cos(yaw);
    if (l.positionX) {
      const t = this.ctx.currentTime;
      l.positionX.setTargetAtTime(x, t, 0.03);
      l.positionY.setTargetAtTime(EAR_HEIGHT, t, 0.03);
      l.positionZ.setTargetAtTime(z, t, 0.03);
      l.forwardX.setTargetAtTime(fx, t, 0.03);
      l.forwardY.setTargetAtTime(0, t, 0.03);
      l.forwardZ.setTargetAtTime(fz, t, 0.03);
      l.upX.value = 0; l.upY.value = 1; l.upZ.value = 0;
    } else {
      l.setPosition(x, EAR_HEIGHT, z);
      l.setOrientation(fx, 0, fz, 0, 1, 0);
    }
  }

  /** Puts a voice at (x, z). */
  setVoicePosition(id, x, z) {
    const p = this.voices.get(id)?.panner;
    if (!p) return;
    if (p.positionX) {
      const t = this.ctx.currentTime;
      p.positionX.setTargetAtTime(x, t, 0.03);
      p.positionY.setTargetAtTime(EAR_HEIGHT, t, 0.03);
      p.positionZ.setTargetAtTime(z, t, 0.03);
    } else {
      p.setPosition(x, EAR_HEIGHT, z);
    }
  }

  /** The gain the linear distance model gives at `d` metres (for the debug view and tests). */
  distanceGain(d) {
    const { refDistance: ref, maxDistance: max, rolloffFactor: k } = { refDistance: 1, maxDistance: this.range.radius + this.range.margin, rolloffFactor: 1 };
    const dd = Math.min(Math.max(d, ref), max);
    return 1 - (k * (dd - ref)) / (max - ref);
  }

  close() {
    for (const id of [...this.voices.keys()]) this.removeVoice(id);
    this.detachMic();
    this.ctx.close().catch(() => {});
  }
}
