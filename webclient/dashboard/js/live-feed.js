// Live updates over Socket.IO (msgpack): new or changed cases and appeals while the page is open.
import { io, msgpackParser } from "/vendor/socketio.js";

export class LiveFeed {
  constructor(token, lang, indicator) {
    this.indicator = indicator;
    this.socket = io(location.origin, {
      path: "/socket.io/",
      parser: msgpackParser,
      auth: { token, lang },
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket.on("connect", () => this.#state("on"));
    this.socket.on("disconnect", () => this.#state("off"));
    this.socket.on("connect_error", () => this.#state("off"));
    for (const event of ["mod.case", "mod.appeal"]) {
      this.socket.on(event, (detail) => {
        document.dispatchEvent(new CustomEvent(`metahall:${event.replace(".", "-")}`, { detail }));
      });
    }
  }

  #state(state) {
    this.indicator.dataset.state = state;
  }

  close() {
    this.socket.close();
  }
}
