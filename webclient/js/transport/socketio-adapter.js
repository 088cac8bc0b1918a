// The one place that knows about socket.io-client and msgpack.
//
// Method list (every transport adapter implements it; a WebRTC one can stand in later):
//   connect({token, lang})     open the connection; resolves on the first `connect`,
//                              rejects with the server's `connect_error` data ({code: "auth"} ...)
//   on(type, handler)          route an incoming message type to handler(payload, type); returns an unsubscribe function
//   send(type, payload, {volatile})  fire-and-forget; volatile = may be dropped (not queued) when the
//                              connection is busy or down — right for a stream of moves, not for the last one
//   request(type, payload, {timeoutMs})  emit with ack; resolves with the ack object,
//                              or {ok:false, error:{code:"timeout"|"offline"}} — it never rejects
//   decode(bytes)              msgpack-decode a binary payload (the `snap` blob)
//   close()                    disconnect for good (no reconnection)
//   connected, id              state
//   endpoint, setEndpoint({url, path}), resetEndpoint(), atDefault
//                              where the next connect() goes (a cluster node a join redirect named,
//                              see endpoints.js); the default is the constructor's url and path
//
// Incoming messages are routed through a Map type → handlers. Reserved types are lifecycle
// notices produced by the adapter itself and can't be sent:
//   "connect"            {recovered}        (also after every automatic reconnection)
//   "disconnect"         {reason, willReconnect}
//   "connect_error"      {code, message, willReconnect}
//   "reconnect_attempt"  {attempt}
// Each lifecycle notice is also dispatched on `document` as CustomEvent "metahall:transport".
// Messages nobody registered for are dispatched as CustomEvent "metahall:message" {type, payload}.

import { io, msgpackDecode, msgpackParser } from "metahall-vendor";

export const RESERVED_TYPES = Object.freeze(["connect", "disconnect", "connect_error", "reconnect_attempt"]);

export class SocketIoAdapter {
  /**
   * @param {object} [options]
   * @param {string} [options.url] server origin (default: this page's origin)
   * @param {string} [options.path] Socket.IO path
   * @param {EventTarget} [options.target] where CustomEvents go (default: document)
   */
  constructor({ url = globalThis.location?.origin, path = "/socket.io/", target = globalThis.document } = {}) {
    this.url = url;
    this.path = path;
    /** @type {{url: string, path: string, node?: string}} */
    this.endpoint = { url, path };
    this.target = target;
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    this.socket = null;
    this.stats = { received: 0, sent: 0, unhandled: 0 };
  }

  get connected() { return Boolean(this.socket?.connected); }
  get id() { return this.socket?.id ?? null; }
  /** "websocket" | "polling" | null */
  get transportName() { return this.socket?.io?.engine?.transport?.name ?? null; }

  /** True when the next connect() goes to the default url and path. */
  get atDefault() { return this.endpoint.url === this.url && this.endpoint.path === this.path; }

  /** Where the next connect() goes (it does not touch the current connection). */
  setEndpoint({ url, path, node }) { this.endpoint = { url, path, node }; }

  resetEndpoint() { this.endpoint = { url: this.url, path: this.path }; }

  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  connect({ token, lang }) {
    this.close();
    const socket = io(this.endpoint.url, {
      path: this.endpoint.path,
      parser: msgpackParser,
      auth: lang ? { token, lang } : { token },
      transports: ["websocket", "polling"],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      randomizationFactor: 0.3,
      timeout: 8000,
    });
    this.socket = socket;
    socket.onAny((type, ...args) => this._route(type, args.length <= 1 ? args[0] : args));
    socket.on("connect", () => this._lifecycle("connect", { recovered: Boolean(socket.recovered) }));
    socket.on("disconnect", (reason) => {
      // socket.active is false when the server or we ended it: no automatic reconnection then.
      this._lifecycle("disconnect", { reason, willReconnect: socket.active });
    });
    socket.io.on("reconnect_attempt", (attempt) => this._lifecycle("reconnect_attempt", { attempt }));

    return new Promise((resolve, reject) => {
      let settled = false;
      socket.once("connect", () => { settled = true; resolve(); });
      socket.on("connect_error", (err) => {
        const data = err?.data && typeof err.data === "object" ? err.data : {};
        const detail = {
          code: data.code ?? (socket.active ? "network" : "refused"),
          message: data.message ?? String(err?.message ?? ""),
          willReconnect: socket.active,
        };
        this._lifecycle("connect_error", detail);
        if (!settled && !socket.active) { settled = true; reject(detail); }
        // While socket.active, socket.io keeps retrying; the first success resolves.
      });
    });
  }

  send(type, payload, { volatile = false } = {}) {
    this._checkType(type);
    if (!this.socket?.connected) return false;
    this.stats.sent += 1;
    if (volatile) this.socket.volatile.emit(type, payload);
    else this.socket.emit(type, payload);
    return true;
  }

  async request(type, payload = {}, { timeoutMs = 8000 } = {}) {
    this._checkType(type);
    if (!this.socket?.connected) return { ok: false, error: { code: "offline", message: "not connected" } };
    this.stats.sent += 1;
    try {
      const ack = await this.socket.timeout(timeoutMs).emitWithAck(type, payload);
      return ack && typeof ack === "object" ? ack : { ok: false, error: { code: "bad_response", message: String(ack) } };
    } catch {
      return { ok: false, error: { code: "timeout", message: `${type}: no answer` } };
    }
  }

  decode(bytes) {
    return msgpackDecode(bytes);
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.offAny();
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.disconnect();
    }
  }

  _checkType(type) {
    if (RESERVED_TYPES.includes(type)) throw new Error(`"${type}" is a reserved message type`);
  }

  _route(type, payload) {
    this.stats.received += 1;
    const set = this.handlers.get(type);
    if (set?.size) {
      for (const handler of set) {
        try {
          handler(payload, type);
        } catch (err) {
          // A faulty handler must not break the connection; surface it for debugging.
          console.error(`handler for "${type}" failed`, err);
        }
      }
      return;
    }
    this.stats.unhandled += 1;
    this.target?.dispatchEvent(new CustomEvent("metahall:message", { detail: { type, payload } }));
  }

  _lifecycle(type, detail) {
    const set = this.handlers.get(type);
    if (set) for (const handler of set) handler(detail, type);
    this.target?.dispatchEvent(new CustomEvent("metahall:transport", { detail: { type, ...detail } }));
  }
}
