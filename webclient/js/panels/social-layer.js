// The always-on part of social spaces in the room screen (the panels only exist while open):
// proximity voice and its bar, emotes over avatars (and as chat lines), presence, table chat,
// and what the server tells us about spaces (kicked, muted, our turn in the waiting line,
// friend requests). Also redeems an invite link (`?room=social:…&invite=…`) before joining.
//
// RoomScreen calls: beforeEnter(room, params) before joining, update(nowMs) every frame,
// exit() when leaving, stats() for the debug hook; selfTalking / selfEmote for our own avatar.
// Panels read `layer` state through ctx and listen to "metahall:social" events
// {type: "table" | "table-chat" | "presence" | "space" | "line" | "turn" | "friend", ...}.

import { ProximityVoice, VoiceStatus } from "../voice/proximity-voice.js";
import { VoiceBar } from "../voice/voice-bar.js";

const EMOTE_MS = 3500;
const TABLE_CHAT_MAX = 100;
let stylesAdded = false;

/** Our stylesheet (the page's CSP allows same-origin stylesheets, not inline styles). */
function addStyles() {
  if (stylesAdded || typeof document === "undefined") return;
  stylesAdded = true;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/app/css/social.css";
  document.head.append(link);
}

/** The social layer of one room screen; `social` is also reachable from panels as ctx.social. */
export class SocialLayer {
  /**
   * @param {object} deps
   * @param {import("../transport/socketio-adapter.js").SocketIoAdapter} deps.transport
   * @param {import("../world-state.js").WorldState} deps.world
   * @param {import("../local-avatar.js").LocalAvatar} deps.local
   * @param {import("../i18n.js").I18n} deps.i18n
   * @param {{show: (text: string, level?: string, ms?: number) => HTMLElement}} deps.toasts
   * @param {import("../chat-panel.js").ChatPanel} deps.chat
   * @param {import("../api.js").Api} deps.api
   * @param {HTMLElement} deps.root #app
   * @param {(notice: object) => void} deps.leave leave the room with a notice for the landing page
   * @param {() => number} deps.listenerYaw
   * @param {() => object|null} deps.user
   */
  constructor({ transport, world, local, i18n, toasts, chat, api, root, leave, listenerYaw, user }) {
    addStyles();
    this.transport = transport;
    this.world = world;
    this.local = local;
    this.i18n = i18n;
    this.toasts = toasts;
    this.chat = chat;
    this.api = api;
    this.leave = leave;
    this.user = user;
    this.room = null;
    this.kind = null;
    this.selfEmote = null;
    /** @type {Map<string, object>} table id → last `table.update` */
    this.tables = new Map();
    /** @type {Map<string, object[]>} "table:<id>" → chat lines */
    this.tableChat = new Map();
    /** @type {Map<string, string>} user id → status ("available" | "busy") */
    this.statuses = new Map();
    this.line = null; // {room, position} while waiting, {room, until} when it is our turn
    this.voice = new ProximityVoice({ transport, world, local, listenerYaw, selfUserId: () => user()?.id ?? null });
    this.bar = new VoiceBar(root, this.voice, i18n);
    this._wire();
  }

  get selfTalking() { return this.voice.selfTalking; }

  /**
   * Before joining: redeem an invite link for this room (`?room=…&invite=…`), and give a room
   * entered from a link its name. Returns a refusal ({code, reason, message}) or null.
   */
  async beforeEnter(room, params) {
    const token = params.get("invite");
    if (token && params.get("room") === room.id) {
      const result = await redeemInvite(this.api, token);
      try {
        const url = new URL(location.href);
        url.searchParams.delete("invite");
        history.replaceState(null, "", url);
      } catch { /* ignore */ }
      if (!result.ok) return { code: result.error?.code ?? "unknown", reason: result.error?.reason, message: result.error?.message ?? "" };
      if (result.new_member) this.toasts.show(this.i18n.t("space.invite_accepted", { name: result.space?.name ?? "" }), "info");
    }
    if (!room.name && String(room.id).startsWith("social:")) {
      const space = await fetchSpace(this.api, room.id);
      if (space?.name) {
        room.name = space.name; // the room screen shows and re-translates room.name
        const title = document.getElementById("room-name");
        if (title && title.textContent === room.id) title.textContent = this.i18n.pick(space.name);
      }
    }
    return null;
  }

  /** Every frame. */
  update(nowMs) {
    this.voice.update(nowMs);
    if (!this.bar.root.hidden) this.bar.tick();
    if (this.selfEmote && nowMs > this.selfEmote.untilPerf) this.selfEmote = null;
    for (const e of this.world.entities.values()) {
      if (e.emote && nowMs > e.emote.untilPerf) e.emote = null;
    }
  }

  exit() {
    this.voice.roomLeft();
    this.bar.show(false);
    this.room = null;
    this.kind = null;
    this.tables.clear();
    this.tableChat.clear();
    this.selfEmote = null;
  }

  stats() {
    return {
      voice: this.voice.stats(),
      tables: Object.fromEntries([...this.tables].map(([id, t]) => [id, (t.members ?? []).map((m) => m.user_id)])),
      line: this.line,
    };
  }

  /** Send an emote (`emote.send`); resolves with the ack. */
  emote(kind) {
    return this.transport.request("emote.send", { kind });
  }

  /** Go to another room (a page load: the session stays, the new room is joined at once). */
  goTo(roomId) {
    const url = new URL(location.href);
    const keep = ["view", "lang", "rtc", "quality"].filter((k) => url.searchParams.has(k)).map((k) => [k, url.searchParams.get(k)]);
    url.search = "";
    url.searchParams.set("room", roomId);
    for (const [k, v] of keep) url.searchParams.set(k, v);
    location.assign(url.toString());
  }

  // -- events ----------------------------------------------------------------------------
  _wire() {
    const t = this.transport;
    document.addEventListener("metahall:joined", (e) => this._joined(e.detail?.ack));
    t.on("emote", (m) => this._emote(m));
    t.on("presence", (m) => {
      if (typeof m?.user_id !== "string") return;
      this.statuses.set(m.user_id, m.status);
      this._notify("presence", m);
    });
    t.on("table.update", (m) => {
      if (typeof m?.id !== "string") return;
      this.tables.set(m.id, m);
      this._notify("table", m);
    });
    t.on("chat", (m) => {
      if (typeof m?.channel !== "string" || !m.channel.startsWith("table:")) return;
      const list = this.tableChat.get(m.channel) ?? [];
      if (m.id && list.some((x) => x.id === m.id)) return;
      list.push(m);
      if (list.length > TABLE_CHAT_MAX) list.splice(0, list.length - TABLE_CHAT_MAX);
      this.tableChat.set(m.channel, list);
      this._notify("table-chat", m);
    });
    t.on("space.kicked", (m) => {
      if (m?.room !== this.room) return;
      const until = m.until ? new Date(m.until).toLocaleTimeString(this.i18n.lang) : "";
      this.leave({ key: "space.kicked_notice", params: { until, note: m.note ?? "" } });
    });
    t.on("space.closed", (m) => {
      if (m?.room === this.room) this.leave({ key: "space.closed_notice" });
    });
    t.on("space.muted", (m) => {
      const key = m?.muted ? "space.muted_notice" : "space.unmuted_notice";
      const text = this.i18n.t(key, { note: m?.note ?? "" });
      this.toasts.show(text, m?.muted ? "warn" : "info", 6000);
      this.chat.system({ key, params: { note: m?.note ?? "" } }, m?.muted ? "warn" : "info");
    });
    t.on("space.updated", (m) => this._notify("space", m));
    t.on("space.line", (m) => {
      this.line = { room: m?.room, position: m?.position };
      this._notify("line", this.line);
    });
    t.on("space.turn", (m) => {
      this.line = { room: m?.room, until: m?.until, name: m?.name };
      this.toasts.show(this.i18n.t("space.turn_notice", { name: m?.name ?? "" }), "info", 10000);
      this._notify("turn", this.line);
    });
    t.on("friend.update", (m) => {
      if (typeof m?.user_id !== "string") return;
      if (m.state === "incoming") this.toasts.show(this.i18n.t("friends.request_toast", { name: m.display_name ?? "" }), "info", 6000);
      if (m.state === "accepted") this.toasts.show(this.i18n.t("friends.accepted_toast", { name: m.display_name ?? "" }), "info", 6000);
      this._notify("friend", m);
    });
  }

  _joined(ack) {
    if (!ack?.room) return;
    this.room = ack.room;
    this.kind = String(ack.room).split(":")[0];
    this.tables.clear();
    this.voice.roomJoined(this.kind);
    this.bar.show(this.kind === "social" && this.voice.status !== VoiceStatus.UNSUPPORTED);
    if (this.kind === "social") {
      this.transport.request("table.list", {}).then((a) => {
        if (!a.ok) return;
        for (const tbl of a.tables ?? []) this.tables.set(tbl.id, tbl);
        this._notify("table", null);
      });
    }
  }

  _emote(m) {
    if (!m || typeof m.kind !== "string") return;
    const label = this.i18n.t(`emote.${m.kind}`);
    const untilPerf = performance.now() + EMOTE_MS;
    const me = this.user()?.id;
    let name = "";
    if (m.user_id === me) {
      this.selfEmote = { kind: m.kind, label, untilPerf };
      name = this.user()?.display_name ?? "";
    } else {
      const e = this.world.entities.get(m.eid);
      if (e) { e.emote = { kind: m.kind, label, untilPerf }; name = e.name; }
    }
    this.chat.system({ key: "emote.line", params: { name: name || "…", emote: label } });
    this._notify("emote", m);
  }

  _notify(type, detail) {
    document.dispatchEvent(new CustomEvent("metahall:social", { detail: { type, data: detail } }));
  }
}

/** The space (or plaza) from the directory (GET /api/social/spaces, which lists the private
 * spaces we belong to as well), or null when we may not see it. */
async function fetchSpace(api, roomId) {
  try {
    const response = await fetch("/api/social/spaces", {
      headers: { Accept: "application/json", Authorization: `Bearer ${api.token}` },
      credentials: "same-origin",
    });
    if (!response.ok) return null;
    const list = await response.json();
    return (Array.isArray(list) ? list : []).find((s) => s.room === roomId) ?? null;
  } catch {
    return null;
  }
}

/** POST /api/social/invites/redeem with the session's token; resolves with the body (never throws). */
export async function redeemInvite(api, token) {
  try {
    const response = await fetch("/api/social/invites/redeem", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ token }),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    return response.ok ? { ok: true, ...body } : { ok: false, error: body.error ?? { code: "server" } };
  } catch (err) {
    return { ok: false, error: { code: "network", message: String(err?.message ?? err) } };
  }
}
