// Join / rejoin / reconnect state machine for one room, on top of a transport adapter.
//
//   idle ──enter()──▶ connecting ──connect──▶ joining ──ack ok──▶ joined
//                         │                      │ack error            │ network drop
//                         │connect_error(auth)   ▼                     ▼
//                         └──────────────▶   refused  ◀──kick/ban── reconnecting ──connect──▶ joining (same room)
//   any ──leave()──▶ closed
//
// In a cluster a join may be answered with a redirect to the node that runs the room
// (transport/endpoints.js): the connection moves there (connecting → joining again, at most
// MAX_REDIRECTS times in a row) and the user sees only the room. When a node we were sent to drops
// and cannot be reached again, we go back to the default endpoint and rejoin there (failover);
// a node's `system` notice that it is shutting down or that the room moved does the same at once.
//
// Every change is dispatched on `document` as CustomEvent "metahall:connection"
// {state, previous, code?, message?, attempt?, node?, failover?}; a (re)join as "metahall:joined" {ack, rejoin}.
// With an `rtc` channel (transport/webrtc-channel.js), every (re)join also tries the WebRTC state
// channel; leaving or being refused closes it (a dropped connection closes it by itself).

import { FAILOVER_AFTER, MAX_REDIRECTS, parseRedirect } from "./transport/endpoints.js";

export const ConnectionState = Object.freeze({
  IDLE: "idle",
  CONNECTING: "connecting",
  JOINING: "joining",
  JOINED: "joined",
  RECONNECTING: "reconnecting",
  REFUSED: "refused",
  CLOSED: "closed",
});

/** Join refusals after which retrying on our own makes no sense. */
const FINAL_CODES = new Set(["auth", "banned", "forbidden", "not_found", "full", "kicked", "refused", "bad_request"]);
const RETRY_MS = [1000, 2000, 4000, 8000];

export class RoomConnection {
  /**
   * @param {object} deps
   * @param {import("./transport/socketio-adapter.js").SocketIoAdapter} deps.transport
   * @param {EventTarget} [deps.target]
   * @param {() => object} [deps.auth] extra connect auth fields, read at every (re)connect (e.g. {lang})
   * @param {import("./transport/webrtc-channel.js").WebRtcChannel} [deps.rtc] optional WebRTC state channel
   */
  constructor({ transport, target = globalThis.document, auth = () => ({}), rtc = null }) {
    this.transport = transport;
    this.rtc = rtc;
    this.auth = auth;
    this.target = target;
    this.state = ConnectionState.IDLE;
    this.roomId = null;
    this.avatar = null;
    this.joinAck = null;
    this.hello = null;
    this.refusal = null;
    this.attempt = 0;
    this.joins = 0;
    this._token = null;
    this._pendingModeration = null;
    this._retryTimer = null;
    /** Redirects followed since the last successful join (or failover). */
    this.redirects = 0;
    /** Times we went back to the default endpoint because a node could not be reached. */
    this.failovers = 0;
    this._nodeFailures = 0;
    this._leaveNode = false;

    transport.on("connect", () => this._onConnect());
    transport.on("disconnect", (d) => this._onDisconnect(d));
    transport.on("connect_error", (d) => this._onConnectError(d));
    transport.on("reconnect_attempt", ({ attempt }) => {
      this.attempt = attempt;
      if (this.state === ConnectionState.RECONNECTING) this._set(ConnectionState.RECONNECTING, { attempt });
    });
    transport.on("hello", (hello) => { this.hello = hello; });
    transport.on("system", (notice) => {
      // This node is going away, or our room now lives elsewhere: the next connection starts over
      // at the default endpoint, where placement knows the room's owner.
      if (notice?.code === "shutdown" || notice?.code === "moved") this._leaveNode = true;
    });
    transport.on("moderation", (notice) => {
      if (notice?.action === "kick" || notice?.action === "ban") this._pendingModeration = notice;
      this.target?.dispatchEvent(new CustomEvent("metahall:moderation", { detail: notice }));
    });
  }

  get self() { return this.joinAck?.self ?? null; }
  get joined() { return this.state === ConnectionState.JOINED; }

  /** Connects (if needed) and joins `roomId`. Resolves with the join ack; rejects with {code, message}. */
  enter({ token, roomId, avatar }) {
    this._token = token;
    this.roomId = roomId;
    this.avatar = avatar ?? null;
    this.refusal = null;
    this._pendingModeration = null;
    this.redirects = 0;
    this._nodeFailures = 0;
    this._leaveNode = false;
    return new Promise((resolve, reject) => {
      const onState = (ev) => {
        const { state } = ev.detail;
        if (state === ConnectionState.JOINED) { cleanup(); resolve(this.joinAck); }
        else if (state === ConnectionState.REFUSED || state === ConnectionState.CLOSED) { cleanup(); reject(this.refusal ?? { code: state }); }
      };
      const cleanup = () => this.target.removeEventListener("metahall:connection", onState);
      this.target.addEventListener("metahall:connection", onState);
      if (this.transport.connected) {
        this._join(false);
      } else {
        this._set(ConnectionState.CONNECTING);
        this._connect();
      }
    });
  }

  /** Tries again after a refusal (e.g. the room was full). */
  retry() {
    if (!this._token || !this.roomId) return Promise.reject({ code: "bad_request" });
    return this.enter({ token: this._token, roomId: this.roomId, avatar: this.avatar });
  }

  /** Leaves the room and closes the connection. */
  async leave() {
    clearTimeout(this._retryTimer);
    const wasJoined = this.state === ConnectionState.JOINED;
    this._set(ConnectionState.CLOSED);
    this.rtc?.stop({ tellServer: false }); // the leave and the closed socket end it on the server
    if (wasJoined) await this.transport.request("leave", {}, { timeoutMs: 1500 });
    this.transport.close();
    this.transport.resetEndpoint(); // the next room is placed from the start
    this.joinAck = null;
  }

  async _join(rejoin) {
    this._set(ConnectionState.JOINING);
    const payload = { room: this.roomId };
    if (this.avatar) payload.avatar = this.avatar;
    const ack = await this.transport.request("join", payload, { timeoutMs: 8000 });
    if (this.state !== ConnectionState.JOINING) return; // left or dropped meanwhile
    if (ack.ok && ack.redirect) {
      this._follow(ack.redirect, rejoin);
      return;
    }
    if (ack.ok) {
      this.joinAck = ack;
      this.joins += 1;
      this.attempt = 0;
      this.redirects = 0;
      this._nodeFailures = 0;
      this._set(ConnectionState.JOINED);
      this.target?.dispatchEvent(new CustomEvent("metahall:joined", { detail: { ack, rejoin } }));
      this.rtc?.start(); // in the background; Socket.IO carries everything until the channel opens
      return;
    }
    const code = ack.error?.code ?? "unknown";
    if (code === "timeout" || code === "offline" || code === "rate_limited") {
      // Not a refusal: try again shortly.
      this._set(ConnectionState.RECONNECTING, { code });
      this._retryTimer = setTimeout(() => {
        if (this.transport.connected && this.state === ConnectionState.RECONNECTING) this._join(rejoin);
      }, 1500);
      return;
    }
    this._refuse(code, ack.error?.message, ack.error?.until, ack.error?.reason);
  }

  /** The room lives on another node: connect there and send the same join again. */
  _follow(redirect, rejoin) {
    const target = parseRedirect(redirect, this.transport.url);
    this.transport.close();
    if (!target) {
      this._refuse("bad_response", "unusable redirect");
      return;
    }
    this.redirects += 1;
    if (this.redirects > MAX_REDIRECTS) {
      console.warn(`join ${this.roomId}: more than ${MAX_REDIRECTS} redirects in a row, last to ${target.node}`);
      this.transport.resetEndpoint();
      this._refuse("unknown", `too many redirects (last to ${target.node})`);
      return;
    }
    this.transport.setEndpoint(target);
    this._nodeFailures = 0;
    // A rejoin stays one (the UI keeps the avatar's place); a first join is still connecting.
    this._set(rejoin ? ConnectionState.RECONNECTING : ConnectionState.CONNECTING, { node: target.node });
    this._connect();
  }

  /** A node we were sent to is unreachable (or going away): start over at the default endpoint. */
  _failover(extra = {}) {
    clearTimeout(this._retryTimer);
    this.transport.close();
    this.transport.resetEndpoint();
    this.failovers += 1;
    this.redirects = 0;
    this._nodeFailures = 0;
    this._set(this.state, { failover: true, attempt: this.attempt, ...extra });
    this._scheduleReconnect();
  }

  _onConnect() {
    this._nodeFailures = 0;
    if (this.state === ConnectionState.CONNECTING) this._join(false);
    else if (this.state === ConnectionState.RECONNECTING) this._join(true);
  }

  _onDisconnect({ reason, willReconnect }) {
    if (this.state === ConnectionState.CLOSED || this.state === ConnectionState.REFUSED) return;
    const notice = this._pendingModeration;
    if (notice) {
      this._refuse(notice.action === "ban" ? "banned" : "kicked", notice.reason, notice.until);
      this.transport.close();
      return;
    }
    this._set(ConnectionState.RECONNECTING, { reason });
    if (this._leaveNode) {
      this._leaveNode = false;
      if (!this.transport.atDefault) {
        this._failover({ reason });
        return;
      }
    }
    if (!willReconnect) {
      // The server ended the connection without saying why (e.g. it restarted): come back.
      clearTimeout(this._retryTimer);
      this._scheduleReconnect();
    }
  }

  _connect() {
    this.transport.connect({ token: this._token, ...this.auth() }).catch(() => { /* handled in _onConnectError */ });
  }

  /** Our own reconnection, for when socket.io gave up (the server ended the connection or refused it for now). */
  _scheduleReconnect() {
    clearTimeout(this._retryTimer);
    const delay = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this._retryTimer = setTimeout(() => {
      if (this.state !== ConnectionState.RECONNECTING && this.state !== ConnectionState.CONNECTING) return;
      this.attempt += 1;
      this._set(this.state, { attempt: this.attempt });
      this._connect();
    }, delay);
  }

  _onConnectError({ code, message, willReconnect }) {
    if (this.state === ConnectionState.CLOSED || this.state === ConnectionState.REFUSED) return;
    if (FINAL_CODES.has(code)) {
      this._refuse(code, message);
      this.transport.close();
      this.transport.resetEndpoint();
      return;
    }
    if (!this.transport.atDefault) {
      this._nodeFailures += 1;
      if (this._nodeFailures >= FAILOVER_AFTER) {
        this._failover({ code });
        return;
      }
    }
    if (this.state !== ConnectionState.CONNECTING) this._set(ConnectionState.RECONNECTING, { code, attempt: this.attempt });
    // e.g. {code: "unavailable"}: the server asked us to come back later.
    if (!willReconnect) this._scheduleReconnect();
  }

  _refuse(code, message, until, reason) {
    clearTimeout(this._retryTimer);
    this.rtc?.stop();
    this.refusal = { code, message: message ?? "", until, reason }; // reason: e.g. "space_private"
    this._set(ConnectionState.REFUSED, this.refusal);
  }

  _set(state, extra = {}) {
    const previous = this.state;
    this.state = state;
    this.target?.dispatchEvent(new CustomEvent("metahall:connection", { detail: { state, previous, ...extra } }));
  }
}
