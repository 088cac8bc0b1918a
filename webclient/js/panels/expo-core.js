// The expo in the browser: one controller per expo-hall visit, alive whether or not a panel is
// open. It knows the expo and its booths (the directory), my favourites, the contacts I shared
// and my meetings, which booth I stand at (the server's `expo.at_booth`, shown as a banner over
// the view), my own booth when I am an exhibitor; it follows booth updates (`expo.booth`: the
// panels and, through "metahall:layout-refresh", the 3D/2D view), meeting notices, and walks me
// to a booth along the server's path ("metahall:path" draws it on the floor).
//
// The private channels "booth:<id>" and "meeting:<id>" are kept in an ExpoChats store (here)
// and shown by chatView(); texts always go in through textContent.

import { ChannelChats } from "./channel-chat.js";
import { button, el } from "./dom.js";

const WAYPOINT_M = 0.9;

export function ensureExpoStyles() {
  if (document.querySelector("link[data-expo-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/app/css/expo.css";
  link.dataset.expoCss = "";
  document.head.append(link);
}

/** A {"zh-CN","en"} text in the current language, falling back to the other when empty. */
export function txt(i18n, t) {
  if (t == null) return "";
  if (typeof t === "string") return t;
  return t[i18n.lang] || t.en || t["zh-CN"] || "";
}

export function announcePath(path) {
  document.dispatchEvent(new CustomEvent("metahall:path", { detail: { path: path ?? null } }));
}

/** "Tue 3 Jun, 09:00–09:30" in the browser's time zone. */
export function timeRange(i18n, start, end) {
  const d = new Date(start);
  const day = new Intl.DateTimeFormat(i18n.lang, { weekday: "short", month: "short", day: "numeric" }).format(d);
  const hm = (ms) => new Intl.DateTimeFormat(i18n.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(ms));
  return `${day} ${hm(start)}–${hm(end)}`;
}

/** The localized text of a failed ack or ApiError (upload reasons and fields included). */
export function errorText(i18n, err) {
  const e = err?.error ?? err ?? {};
  const reason = e.reason ?? e.details?.reason;
  if (reason && i18n.has(`expo.reason.${reason}`)) return i18n.t(`expo.reason.${reason}`);
  const field = e.field ?? e.details?.field;
  const base = i18n.errorText(e.code ?? "unknown", e.message);
  return field && e.code === "bad_request" ? `${base} (${field})` : base;
}

/** fetch() with the session's token; resolves with the Response (throws on network errors). */
export function authFetch(ctx, path, init = {}) {
  const headers = new Headers(init.headers ?? {});
  if (ctx.api.token) headers.set("Authorization", `Bearer ${ctx.api.token}`);
  return fetch(path, { ...init, headers, credentials: "same-origin" });
}

/** Downloads `path` (with the token) as a file named `filename`. */
export async function download(ctx, path, filename) {
  const res = await authFetch(ctx, path);
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    throw body?.error ?? { code: "server" };
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Uploads a File as `purpose` ("image" | "brochure"); resolves with the stored file. */
export async function upload(ctx, boothId, file, purpose) {
  const form = new FormData();
  form.append("purpose", purpose);
  form.append("file", file, file.name);
  const res = await authFetch(ctx, `/api/expo/booths/${encodeURIComponent(boothId)}/files`, { method: "POST", body: form });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw body?.error ?? { code: "server" };
  return body;
}

/** Messages of the private channels booth:<id> and meeting:<id>. */
export class ExpoChats extends ChannelChats {
  constructor(ctx) {
    super(ctx, (channel) => /^(booth|meeting):/.test(channel));
  }
}

/** A conversation view on one channel at a time: `set(channel|null, emptyKey)`. */
export function chatView(ctx, chats, idPrefix) {
  const { i18n } = ctx;
  const root = el("div", "expo-chat");
  const log = el("ol", "expo-chat-log");
  log.setAttribute("aria-live", "polite");
  const empty = el("p", "expo-chat-empty");
  const form = el("form", "expo-chat-form");
  const label = el("label", "visually-hidden", i18n.t("expo.chat.label"));
  const input = el("input", "expo-chat-input");
  input.id = `${idPrefix}-chat-input`;
  label.htmlFor = input.id;
  input.maxLength = 500;
  input.autocomplete = "off";
  const send = button(i18n.t("expo.chat.send"), "btn small primary");
  send.type = "submit";
  const err = el("p", "expo-error");
  err.hidden = true;
  form.append(label, input, send);
  root.append(log, empty, form, err);
  let channel = null;
  let emptyKey = "expo.chat.empty";
  const render = () => {
    const list = channel ? chats.list(channel) : [];
    log.replaceChildren(...list.map((m) => {
      const li = el("li", m.userId === ctx.user?.id ? "mine" : "");
      li.append(el("strong", null, m.name), " ", el("span", null, m.redacted ? i18n.t("expo.chat.removed") : m.text));
      return li;
    }));
    empty.hidden = list.length > 0;
    empty.textContent = i18n.t(channel ? "expo.chat.none_yet" : emptyKey);
    input.disabled = send.disabled = !channel;
    input.placeholder = i18n.t("expo.chat.placeholder");
    log.scrollTop = log.scrollHeight;
  };
  const off = chats.subscribe((ch) => { if (ch === channel) render(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !channel) return;
    send.disabled = true;
    const ack = await chats.send(channel, text);
    send.disabled = false;
    err.hidden = Boolean(ack?.ok);
    if (ack?.ok) input.value = "";
    else err.textContent = errorText(i18n, ack);
  });
  render();
  return {
    root,
    set(ch, key = "expo.chat.empty") { channel = ch; emptyKey = key; err.hidden = true; render(); },
    get channel() { return channel; },
    render,
    dispose: off,
  };
}

export class ExpoController {
  constructor(ctx) {
    this.ctx = ctx;
    this.i18n = ctx.i18n;
    this.t = ctx.transport;
    this.expo = null;
    /** @type {Map<string, object>} booth id → directory entry */
    this.booths = new Map();
    /** @type {Map<string, object>} booth id → full profile */
    this.details = new Map();
    this.categories = [];
    this.favourites = new Set();
    /** @type {Map<string, object>} booth id → {consent_at, contact} */
    this.leads = new Map();
    this.meetings = [];
    this.myBoothId = null;
    this.atBooth = null;
    this.path = null;
    this.walk = null;
    this.listeners = new Set();
    this.chats = new ExpoChats(ctx);
    this.banner = null;
    this._layoutTimer = 0;
    ensureExpoStyles();
    const t = this.t;
    this.offs = [
      t.on("expo.at_booth", (m) => this._onAtBooth(m)),
      t.on("expo.booth", (m) => this._onBooth(m?.booth)),
      t.on("meeting.reminder", (m) => this._onMeeting(m, "expo.meeting.reminder")),
      t.on("meeting.open", (m) => this._onMeeting(m, "expo.meeting.opened")),
      t.on("meeting.booked", (m) => this._onMeeting(m, "expo.meeting.booked_by")),
      t.on("meeting.cancelled", (m) => this._onMeeting(m, "expo.meeting.cancelled_by")),
    ];
    this._onJoined = () => this.refresh();
    this._onLang = () => { this._renderBanner(); this.changed(); };
    this._onPathRequest = () => { if (this.path) announcePath(this.path); };
    document.addEventListener("metahall:joined", this._onJoined);
    document.addEventListener("metahall:lang-changed", this._onLang);
    document.addEventListener("metahall:path-request", this._onPathRequest);
    this._walkTimer = setInterval(() => this._stepWalk(), 200);
    if (t.connected) this.refresh();
  }

  dispose() {
    for (const off of this.offs) off?.();
    document.removeEventListener("metahall:joined", this._onJoined);
    document.removeEventListener("metahall:lang-changed", this._onLang);
    document.removeEventListener("metahall:path-request", this._onPathRequest);
    clearInterval(this._walkTimer);
    clearTimeout(this._layoutTimer);
    if (this.path) announcePath(null);
    this.banner?.remove();
    this.chats.dispose();
    this.listeners.clear();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    for (const fn of this.listeners) {
      try { fn(); } catch (err) { console.error(err); }
    }
  }

  get isExhibitor() { return Boolean(this.myBoothId && this.booths.has(this.myBoothId)); }

  async refresh() {
    const t = this.t;
    const [list, mine] = await Promise.all([t.request("expo.list", {}), t.request("expo.mine", {})]);
    if (list?.ok) this.expo = (list.expos ?? []).find((e) => e.halls?.some((h) => h.room_id === this.ctx.room.id)) ?? null;
    if (mine?.ok) this._setMine(mine);
    if (!this.categories.length) {
      try { this.categories = await this.ctx.api.get("/api/expo/categories"); } catch { /* keep none */ }
    }
    await this.search("", "");
  }

  _setMine(mine) {
    this.favourites = new Set(mine.favourites ?? []);
    this.leads = new Map((mine.leads ?? []).map((l) => [l.booth_id, l]));
    this.meetings = mine.meetings ?? [];
    this.myBoothId = mine.booth_id ?? null;
  }

  async refreshMine() {
    const mine = await this.t.request("expo.mine", {});
    if (mine?.ok) { this._setMine(mine); this.changed(); }
    return mine;
  }

  /** The directory: booths of this expo matching `q` and `category`; returns the entries. */
  async search(q, category) {
    if (!this.expo) { this.changed(); return []; }
    const ack = await this.t.request("expo.directory", { expo_id: this.expo.id, q, category });
    if (!ack?.ok) return [];
    for (const b of ack.booths ?? []) this.booths.set(b.id, b);
    this.changed();
    return ack.booths ?? [];
  }

  async booth(id, fresh = false) {
    if (!fresh && this.details.has(id)) return this.details.get(id);
    const ack = await this.t.request("expo.booth", { booth_id: id });
    if (!ack?.ok) return null;
    this.details.set(id, ack.booth);
    return ack.booth;
  }

  categoryName(id) {
    const c = this.categories.find((x) => x.id === id);
    return c ? txt(this.i18n, c.name) : id ?? "";
  }

  boothName(id) {
    const b = this.details.get(id) ?? this.booths.get(id);
    return b ? txt(this.i18n, b.name) || b.company : "";
  }

  async setFavourite(id, on) {
    const ack = await this.t.request("booth.favourite", { booth_id: id, on });
    if (ack?.ok) {
      if (on) this.favourites.add(id); else this.favourites.delete(id);
      const b = this.booths.get(id);
      if (b) b.favourite = on;
      this.changed();
    }
    return ack;
  }

  /** Walk to a booth along the server's path (drawn on the floor). */
  async go(id) {
    const ack = await this.t.request("expo.path", { booth_id: id });
    if (!ack?.ok) return ack;
    if (!ack.here) {
      this.ctx.toast("expo.go.other_hall", {}, "warn");
      return ack;
    }
    this._follow(ack.path, { boothId: id });
    this.ctx.toast("expo.go.walking", { name: this.boothName(id) });
    return ack;
  }

  /** Walk to the stage's audience area around the booths (a straight line would stop at one). */
  async goStage(label) {
    const ack = await this.t.request("expo.path", { to: "stage" });
    if (ack?.ok) this._follow(ack.path, { boothId: null, label });
    return ack;
  }

  _follow(path, walk) {
    this.path = path;
    announcePath(this.path);
    this.walk = { ...walk, i: 1 };
    this._stepWalk(true);
    this.ctx.focusView?.();
  }

  _stepWalk(start = false) {
    const w = this.walk;
    if (!w || !this.path) return;
    const local = this.ctx.local;
    const p = this.path[w.i];
    if (!p) { this._endWalk(); return; }
    const d = Math.hypot(local.x - p[0], local.z - p[1]);
    if (!start && d < WAYPOINT_M) {
      w.i += 1;
      if (w.i >= this.path.length) { this._endWalk(); return; }
    } else if (!start && !local.target) {
      this._endWalk(); // the user took over (keys, a click elsewhere)
      return;
    }
    const q = this.path[w.i];
    if (!local.target || local.target.x !== q[0] || local.target.z !== q[1]) {
      this.ctx.walkTo(q[0], q[1], w.label ?? this.boothName(w.boothId));
    }
  }

  _endWalk() {
    this.walk = null;
    this.path = null;
    announcePath(null);
  }

  _onAtBooth(m) {
    const id = m?.booth_id ?? null;
    this.atBooth = id;
    if (id && m.booth) this.booths.set(id, { ...(this.booths.get(id) ?? {}), ...m.booth });
    if (id && this.walk?.boothId === id) this._endWalk();
    this._renderBanner();
    this.changed();
  }

  _onBooth(b) {
    if (!b?.id) return;
    this.details.set(b.id, b);
    const prev = this.booths.get(b.id);
    this.booths.set(b.id, { ...(prev ?? {}), ...b, favourite: this.favourites.has(b.id) });
    this._renderBanner();
    this.changed();
    // The floor plan shows booth names and colours: rebuild the view, at most once a second.
    clearTimeout(this._layoutTimer);
    this._layoutTimer = setTimeout(() => document.dispatchEvent(new CustomEvent("metahall:layout-refresh")), 800);
  }

  _onMeeting(m, key) {
    if (!m?.meeting) return;
    const name = txt(this.i18n, m.booth?.name) || m.booth?.company || "";
    const params = { name, who: m.meeting.visitor_name ?? "", minutes: m.minutes ?? "", time: timeRange(this.i18n, m.meeting.start, m.meeting.end) };
    this.ctx.toast(key, params, key.endsWith("cancelled_by") ? "warn" : "info");
    this.refreshMine();
  }

  /** A small banner over the view while I stand at a booth: its name and a way into its panel. */
  _renderBanner() {
    const id = this.atBooth;
    const b = id ? this.booths.get(id) : null;
    if (!b) { if (this.banner) this.banner.hidden = true; return; }
    if (!this.banner) {
      this.banner = el("div", "expo-at-booth");
      this.banner.setAttribute("role", "status");
      const view = document.getElementById("view");
      (view ?? document.body).append(this.banner);
    }
    this.banner.hidden = false;
    this.banner.style.setProperty("--booth-color", b.color ?? "#2f6f9f");
    const open = button(this.i18n.t("expo.at_booth.open"), "btn small primary expo-at-booth-open");
    open.addEventListener("click", () => {
      this.openBooth = id;
      const tab = document.getElementById("dock-tab-expo");
      if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
      this.changed();
    });
    this.banner.replaceChildren(
      el("span", "expo-at-booth-label", this.i18n.t("expo.at_booth.here")),
      el("strong", "expo-at-booth-name", txt(this.i18n, b.name) || b.company),
      open,
    );
    this.banner.dataset.boothId = id;
  }
}

let active = null; // {ctx, ctrl}

/** The controller of this room context (one per expo visit); null outside expo rooms. */
export function expoFor(ctx) {
  if (active?.ctx === ctx) return active.ctrl;
  active?.ctrl.dispose();
  active = null;
  if (ctx?.room?.kind !== "expo") return null;
  active = { ctx, ctrl: new ExpoController(ctx) };
  return active.ctrl;
}

/** The current controller, if any (for tests / the debug hook). */
export function expoState() {
  const c = active?.ctrl;
  if (!c) return null;
  return {
    expo: c.expo?.id ?? null, booths: c.booths.size, atBooth: c.atBooth, myBooth: c.myBoothId,
    favourites: [...c.favourites], leads: [...c.leads.keys()], meetings: c.meetings.length,
    walking: Boolean(c.walk), path: c.path?.length ?? 0,
  };
}
