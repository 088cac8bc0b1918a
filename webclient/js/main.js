// Entry point: language, landing screen, room screen, panels, and the read-only debug hook
// `window.metahall` ({state, lang}) that tests and curious developers can read.

import { Api } from "./api.js";
import { I18n, preferredLanguage } from "./i18n.js";
import { LandingScreen } from "./landing.js";
import { PanelHost } from "./panels.js";
import { PANELS } from "./panels/registry.js";
import { RoomScreen } from "./room-screen.js";

const params = new URLSearchParams(location.search);
const i18n = new I18n(params.get("lang") ?? preferredLanguage());
i18n.apply(document);
for (const btn of document.querySelectorAll(".lang-btn")) {
  btn.addEventListener("click", () => i18n.setLang(btn.dataset.lang));
}

const api = new Api();
const panels = new PanelHost(document.getElementById("dock"), { i18n });
for (const def of PANELS) panels.register(def);

let landing = null;
const room = new RoomScreen({
  root: document.getElementById("app"),
  i18n,
  api,
  panels,
  params,
  onExit: (notice) => landing.show(notice),
});

landing = new LandingScreen(document.getElementById("landing"), {
  i18n,
  api,
  onEnter: (info, { prefer2d }) => {
    landing.hide();
    room.enter({ session: landing.current, room: info, prefer2d });
  },
});

Object.defineProperty(window, "metahall", {
  value: Object.freeze({
    /** A fresh read-only snapshot on every read. */
    get state() { return room.active ? room.debugState() : { connected: false, connection: "idle", room: null, self: null, entities: {} }; },
    get lang() { return i18n.lang; },
    version: 1,
  }),
  writable: false,
  configurable: false,
});

document.documentElement.classList.add("js-ready");
await landing.show();

// A shared link may name a room: ?room=hall:main enters it as soon as someone is signed in.
const wanted = params.get("room");
if (wanted && landing.current) {
  const info = landing.rooms.find((r) => r.id === wanted) ?? { id: wanted, kind: wanted.split(":")[0], name: null };
  landing.hide();
  room.enter({ session: landing.current, room: info, prefer2d: false });
}
