// WebRTC for the stage (docs/protocol.md, "Stage as implemented"): the speaker sends camera and
// microphone to the server (`stage.publish`), a viewer receives the server's relay of them
// (`stage.watch`). One RTCPeerConnection each; offers go over Socket.IO once ICE gathering is
// complete (the server does not trickle and answers with all its candidates). No STUN/TURN
// server is configured: the server gives host candidates only, like the state channel.

const GATHER_TIMEOUT_MS = 3000;
const ANSWER_TIMEOUT_MS = 15000;

/** What the speaker's camera is asked for: enough for a talk, cheap for the server to relay. */
export const CAMERA = Object.freeze({ width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } });

export function stageRtcSupported() {
  return typeof globalThis.RTCPeerConnection === "function";
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` (the offer holds what was found). */
export function iceGatheringDone(pc, timeoutMs = GATHER_TIMEOUT_MS) {
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

async function offerOf(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringDone(pc);
  return { sdp: pc.localDescription.sdp, type: "offer" };
}

/**
 * Watch a talk. Resolves with {ack, pc, stream}: `stream` receives the relayed tracks when the
 * ack carries an answer (mode "video" or "audio"); otherwise pc and stream are null and the ack
 * says what to do instead (mode "embed" with a url, "waiting", or an error).
 */
export async function watchTalk(transport, talkId) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const stream = new MediaStream();
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addEventListener("track", (e) => stream.addTrack(e.track));
  let ack;
  try {
    const offer = await offerOf(pc);
    ack = await transport.request("stage.watch", { talk_id: talkId, offer }, { timeoutMs: ANSWER_TIMEOUT_MS });
    if (ack?.ok && ack.answer) {
      await pc.setRemoteDescription(ack.answer);
      return { ack, pc, stream };
    }
  } catch (err) {
    pc.close();
    throw err;
  }
  pc.close();
  return { ack, pc: null, stream: null };
}

/**
 * Go live: send `media` (a MediaStream from getUserMedia) for the talk. Resolves with {ack, pc};
 * pc is null when the server refused (the ack holds the error).
 */
export async function publishTalk(transport, talkId, media, { replace = false } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  for (const track of media.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [media] });
  let ack;
  try {
    const offer = await offerOf(pc);
    ack = await transport.request("stage.publish", { talk_id: talkId, offer, replace }, { timeoutMs: ANSWER_TIMEOUT_MS });
    if (ack?.ok && ack.answer) {
      await pc.setRemoteDescription(ack.answer);
      return { ack, pc };
    }
  } catch (err) {
    pc.close();
    throw err;
  }
  pc.close();
  return { ack, pc: null };
}
