// Proximity voice in the browser, the parts that need no real media: the talk detector, and the
// call's offer/answer bookkeeping (an answer to an older offer is ignored) with a fake
// RTCPeerConnection.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TalkDetector } from "../../../webclient/js/voice/spatial-audio.js";
import { VoicePeer } from "../../../webclient/js/voice/voice-peer.js";
import en from "../../../webclient/js/i18n/social.en.js";
import zh from "../../../webclient/js/i18n/social.zh-CN.js";

function fakeAnalyser(level) {
  return {
    fftSize: 64,
    level,
    getFloatTimeDomainData(buf) { for (let i = 0; i < buf.length; i += 1) buf[i] = i % 2 ? this.level : -this.level; },
  };
}

test("the talk detector holds briefly after the voice goes quiet", () => {
  const a = fakeAnalyser(0.2);
  const d = new TalkDetector(a);
  assert.equal(d.sample(1000), true);
  assert.ok(Math.abs(d.level - 0.2) < 1e-6);
  a.level = 0;
  assert.equal(d.sample(1300), true); // within the hold
  assert.equal(d.sample(1600), false);
  a.level = 0.005; // background noise is not talking
  assert.equal(d.sample(2000), false);
});

class FakePc {
  constructor() {
    FakePc.made.push(this);
    this.signalingState = "stable";
    this.iceGatheringState = "complete";
    this.connectionState = "new";
    this.localDescription = null;
    this.remote = null;
    this.listeners = {};
  }
  addEventListener(type, fn) { this.listeners[type] = fn; }
  removeEventListener() {}
  addTransceiver() {}
  addTrack() {}
  getTransceivers() { return []; }
  getSenders() { return []; }
  async createOffer() { return { type: "offer", sdp: `offer-${FakePc.made.length}` }; }
  async createAnswer() { return { type: "answer", sdp: "answer" }; }
  async setLocalDescription(d) { this.localDescription = d; if (d.type === "offer") this.signalingState = "have-local-offer"; }
  async setRemoteDescription(d) { this.remote = d; this.signalingState = "stable"; }
  close() { this.connectionState = "closed"; }
}
FakePc.made = [];
globalThis.RTCPeerConnection = FakePc;
globalThis.MediaStream = class {};

test("an answer is taken only for the offer it answers", async () => {
  const sent = [];
  const peer = new VoicePeer({ userId: "b", offer: true, iceServers: [], track: null, signal: async (d) => { sent.push(d); return { ok: true }; }, onStream() {} });
  await peer.start();
  assert.equal(sent.length, 1);
  const offer = sent[0];
  assert.equal(offer.type, "offer");
  assert.ok(offer.sid);
  await peer.handle({ type: "answer", sdp: "stale", sid: "older" });
  assert.equal(peer.pc.remote, null); // an answer to an earlier attempt: ignored
  await peer.handle({ type: "answer", sdp: "fresh", sid: offer.sid });
  assert.equal(peer.pc.remote.sdp, "fresh");
  peer.close();
  assert.equal(peer.state, "closed");
});

test("the answering side answers with the offer's sid, and a new offer replaces the call", async () => {
  const sent = [];
  const peer = new VoicePeer({ userId: "a", offer: false, iceServers: [], track: null, signal: async (d) => { sent.push(d); return { ok: true }; }, onStream() {} });
  await peer.start(); // not the offering side: nothing happens
  assert.equal(sent.length, 0);
  await peer.handle({ type: "offer", sdp: "o1", sid: "s1" });
  const first = peer.pc;
  await peer.handle({ type: "offer", sdp: "o2", sid: "s2" });
  assert.notEqual(peer.pc, first);
  assert.equal(first.connectionState, "closed");
  assert.deepEqual(sent.map((m) => [m.type, m.sid]), [["answer", "s1"], ["answer", "s2"]]);
});

test("social texts exist in both languages with the same placeholders", () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(en)) assert.deepEqual(names(zh[k]), names(en[k]), k);
});
