// The room screen: wires the connection, the world state, the view (3D or 2D), input, chat and
// the panel dock together, and runs the frame loop.

import { ChatPanel } from "./chat-panel.js";
import { InputController } from "./input.js";
import { LocalAvatar } from "./local-avatar.js";
import { ConnectionState, RoomConnection } from "./room-connection.js";
import { SocialLayer } from "./panels/social-layer.js"; // social: voice, emotes, tables
import { RoomLayout } from "./room-layout.js";
import { Toasts } from "./toasts.js";
import { SocketIoAdapter } from "./transport/socketio-adapter.js";
import { Transport, WebRtcChannel } from "./transport/webrtc-channel.js";
import { View2D } from "./view2d.js";
import { webglAvailable } from "./view3d.js";
import { WorldState } from "./world-state.js";

const PREFER_2D_KEY = "metahall.prefer2d";

export class RoomScreen {
  /**
   * @param {object} deps
   * @param {HTMLElement} deps.root #app
   * @param {import("./i18n.js").I18n} deps.i18n
   * @param {import("./api.js").Api} deps.api
   * @param {import("./panels.js").PanelHost} deps.panels
   * @param {(notice: object|null) => void} deps.onExit back to the landing screen
   * @param {URLSearchParams} [deps.params]
   */
  constructor({ root, i18n, api, panels, onExit, params = new URLSearchParams() }) {
    this.root = root;
    this.i18n = i18n;
    this.api = api;
    this.panels = panels;
    this.onExit = onExit;
    this.params = params;
    this.$ = (sel) => document.querySelector(sel);

    this.viewEl = this.$("#view");
    this.toasts = new Toasts(this.$("#toasts"));
    this.transport = new SocketIoAdapter();
    // Snaps and moves over the WebRTC state channel when it opens (`?rtc=0` never tries).
    this.rtc = new WebRtcChannel({ signaling: this.transport, enabled: !["0", "off", "false"].includes(params.get("rtc")) });
    this.connection = new RoomConnection({ transport: this.transport, rtc: this.rtc, auth: () => ({ lang: i18n.lang }) });
    this.world = new WorldState();
    this.local = new LocalAvatar({
      send: (type, payload, opts) => this.rtc.send(type, payload, opts) || this.transport.send(type, payload, opts),
    });
    this.chat = new ChatPanel(this.$("#chat"), {
      i18n,
      send: (channel, text) => this.transport.request("chat", { channel, text }),
      selfUserId: () => this.session?.user?.id ?? null,
      selfName: () => this.session?.user?.display_name ?? "",
    });
    this.social = new SocialLayer({ // social: proximity voice, emotes, tables, space notices
      transport: this.transport, world: this.world, local: this.local, i18n, toasts: this.toasts, chat: this.chat,
      api, root, leave: (notice) => this.leave(notice), listenerYaw: () => this.view?.cameraYaw ?? this.local.yaw,
      user: () => this.session?.user ?? null,
    });
    this.view = null;
    this.layout = null;
    this.roomInfo = null;
    this.session = null;
    this.crowd = null;
    this.webgl = webglAvailable();
    this.input = null;
    this._raf = 0;
    this._last = 0;
    this._frameMs = 0;
    this._renderMs = 0;
    this._fps = 0;
    this._frames = 0;
    this._fpsAt = 0;
    this._selfRender = { eid: null, x: 0, y: 0, z: 0, yaw: 0, anim: 0, color: "#2e86de", name: "", roles: [] };

    this._wireTransport();
    this._wireControls();
  }

  get active() { return Boolean(this.layout) && !this.root.hidden; }

  /** Enter a room. `room` is a listing entry from GET /api/rooms ({id, kind, name}). */
  async enter({ session, room, prefer2d = false }) {
    this.session = session;
    this.roomInfo = room;
    this.root.hidden = false;
    this.$("#room-name").textContent = this.i18n.pick(room.name) || room.id;
    this.$("#room-kind").textContent = this.i18n.t(`kind.one.${room.kind}`);
    this.chat.clear();
    this._setStatus({ state: ConnectionState.CONNECTING });
    try {
      this.layout = new RoomLayout(await this.api.layout(room.id));
    } catch (err) {
      this._exit({ key: "room.layout_failed", params: { message: this.i18n.errorText(err.code, err.message) } });
      return;
    }
    this._selfRender.name = session.user.display_name;
    this._selfRender.roles = session.user.roles ?? [];
    this._selfRender.color = session.avatar?.color ?? "#2e86de";
    this.local.spawn(null, [this.layout.spawn.x, 0, this.layout.spawn.z, this.layout.spawn.yaw], this.layout);
    this._createView(prefer2d || this._prefers2d() ? "2d" : "3d");
    this._createInput();
    const crowdN = Number(this.params.get("crowd") ?? 0);
    if (crowdN > 0) {
      const { SyntheticCrowd } = await import("./dev/synthetic-crowd.js");
      this.crowd = new SyntheticCrowd(this.world, this.layout, Math.min(crowdN, 2000));
    }
    this.panels.attach(this._panelContext());
    this._startLoop();
    this.viewEl.focus();
    const refusal = await this.social.beforeEnter(room, this.params); // social: redeem an invite link first
    if (refusal) { this.connection.refusal = refusal; this._showRefusal(refusal); return; }
    try {
      await this.connection.enter({ token: session.token, roomId: room.id, avatar: session.avatar });
    } catch {
      // The refusal dialog is shown by the connection-state handler.
    }
  }

  /** Leave the room and go back to the room list. */
  async leave(notice = null) {
    await this.connection.leave();
    this._exit(notice);
  }

  toggleView() {
    if (!this.layout) return;
    const next = this.view?.kind === "3d" ? "2d" : "3d";
    if (next === "3d" && !this.webgl) {
      this.toasts.show(this.i18n.t("view.no_webgl"), "warn");
      return;
    }
    try { localStorage.setItem(PREFER_2D_KEY, next === "2d" ? "1" : "0"); } catch { /* ignore */ }
    this._createView(next);
    this.viewEl.focus();
  }

  /** Read-only snapshot for the debug hook (window.metahall.state). */
  debugState() {
    const entities = {};
    for (const e of this.world.entities.values()) {
      if (e.eid < 0) continue; // synthetic crowd
      entities[e.eid] = { x: round(e.x), y: round(e.y), z: round(e.z), yaw: round(e.yaw), anim: e.anim, name: e.name, user_id: e.userId, visible: e.visible };
    }
    const self = this.local.eid == null ? null : {
      eid: this.local.eid, x: round(this.local.x), y: round(this.local.y), z: round(this.local.z), yaw: round(this.local.yaw), anim: this.local.anim,
    };
    return {
      connected: this.transport.connected,
      connection: this.connection.state,
      refusal: this.connection.refusal,
      joins: this.connection.joins,
      room: this.connection.joinAck?.room ?? this.roomInfo?.id ?? null,
      instance: this.connection.joinAck?.instance ?? null,
      user: this.session?.user ?? null,
      self,
      transport: this.rtc.transport,
      socketTransport: this.transport.transportName,
      rtc: this.rtc.stats(),
      entities,
      entityCount: this.world.entities.size,
      view: this.view?.kind ?? null,
      webgl: this.webgl,
      fps: Math.round(this._fps),
      frameMs: Math.round(this._frameMs * 100) / 100,
      renderMs: Math.round(this._renderMs * 100) / 100,
      render: this.view?.stats?.() ?? null,
      renderDelayMs: Math.round(this.world.renderDelayMs),
      snaps: this.world.snaps,
      movesSent: this.local.movesSent,
      corrections: this.local.corrections,
      target: this.local.target ? { x: round(this.local.target.x), z: round(this.local.target.z) } : null,
      chat: this.chat.stats(),
      panels: { available: this.panels.available().map((p) => p.id), open: this.panels.openId },
      social: this.social.stats(), // social: voice peers and their stats, tables
    };
  }

  // -- wiring ---------------------------------------------------------------------------
  _wireTransport() {
    const t = this.transport;
    t.on("enter", (list) => this.world.applyEnter(list));
    const onSnap = (bytes) => {
      let snap;
      try {
        snap = t.decode(bytes);
      } catch (err) {
        console.warn("undecodable snap", err);
        return;
      }
      const correction = this.world.applySnap(snap, performance.now());
      if (correction) this.local.correct(correction);
    };
    t.on("snap", onSnap);
    this.rtc.onSnap = onSnap; // same bytes on the WebRTC state channel
    document.addEventListener("metahall:rtc", () => this._renderTransport());
    t.on("chat", (msg) => this.chat.receive(msg));
    t.on("system", (msg) => {
      const texts = msg?.text ?? msg?.texts;
      const level = ["info", "warn", "error"].includes(msg?.level) ? msg.level : "info";
      this.chat.system({ texts }, level);
      this.toasts.show(this.i18n.pick(texts), level);
    });
    document.addEventListener("metahall:moderation", (e) => {
      const n = e.detail;
      this.chat.moderation(n);
      if (n?.action && n.action !== "redact") {
        this.toasts.show(this.i18n.t(`moderation.${n.action}`, { reason: n.reason ?? "", until: n.until ? new Date(n.until).toLocaleString(this.i18n.lang) : "" }), "warn", 8000);
      }
    });
    document.addEventListener("metahall:connection", (e) => this._onConnection(e.detail));
    document.addEventListener("metahall:joined", (e) => this._onJoined(e.detail));
    document.addEventListener("metahall:layout-refresh", () => this._refreshLayout()); // expo: booths changed
  }

  _wireControls() {
    this.$("#leave-room").addEventListener("click", () => this.leave());
    this.$("#toggle-view").addEventListener("click", () => this.toggleView());
    this.$("#refusal-back").addEventListener("click", () => {
      const signOut = ["auth", "refused"].includes(this.connection.refusal?.code);
      this._hideRefusal();
      this.leave(signOut ? { key: "error.auth", signOut: true } : null);
    });
    this.$("#refusal-retry").addEventListener("click", () => {
      this._hideRefusal();
      this.connection.retry().catch(() => {});
    });
    document.addEventListener("metahall:lang-changed", () => {
      if (!this.roomInfo) return;
      this.$("#room-name").textContent = this.i18n.pick(this.roomInfo.name) || this.roomInfo.id;
      this.$("#room-kind").textContent = this.i18n.t(`kind.one.${this.roomInfo.kind}`);
      this._setStatus({ state: this.connection.state, attempt: this.connection.attempt });
      this._renderViewToggle();
      if (!this.$("#refusal").hidden) this._showRefusal(this.connection.refusal);
    });
  }

  /** expo: fetch the floor plan again (booth names, colours, banners) and redraw the room in place. */
  async _refreshLayout() {
    const id = this.roomInfo?.id;
    if (!id || !this.layout || !this.view) return;
    let layout;
    try {
      layout = new RoomLayout(await this.api.layout(id));
    } catch {
      return; // keep the plan we have
    }
    if (this.roomInfo?.id !== id || !this.view) return;
    this.layout = layout;
    const yaw = this.view.cameraYaw;
    this.view.setLayout(layout);
    if (yaw !== undefined) this.view.cameraYaw = yaw;
  }

  _createInput() {
    this.input?.dispose();
    this.input = new InputController({
      element: this.viewEl,
      pick: (x, y) => this.view?.pick(x, y) ?? null,
      onWalk: (x, z) => {
        const p = this.layout.resolve(x, z);
        this.local.walkTo(p.x, p.z);
      },
      onTurn: (d) => this.view?.turn(d),
      onZoom: (f) => this.view?.zoom(f),
      onAction: (a) => this._action(a),
    });
  }

  _action(action) {
    if (action === "chat") this.chat.focusInput();
    else if (action === "toggle-view") this.toggleView();
    else if (action === "places") this.panels.toggle("places");
    else if (action === "help") this._openHelp();
    else if (action === "escape") {
      if (!this.$("#help").hidden) { this._closeHelp(); return; }
      if (!this.$("#refusal").hidden) return;
      if (this.local.target) this.local.cancelWalk();
      if (document.activeElement !== this.viewEl) this.viewEl.focus();
    }
  }

  _openHelp() {
    const help = this.$("#help");
    help.hidden = false;
    const close = this.$("#help-close");
    close.onclick = () => this._closeHelp();
    close.focus();
  }

  _closeHelp() {
    this.$("#help").hidden = true;
    this.viewEl.focus();
  }

  _createView(kind) {
    const wasYaw = this.view?.cameraYaw;
    this.view?.dispose();
    this.view = null;
    const el3d = this.$("#view-3d");
    const el2d = this.$("#view-2d");
    if (kind === "3d" && this.webgl) {
      // three.js is loaded only when the 3D view is used.
      this._pending3d = import("./view3d.js").then(({ View3D }) => {
        try {
          const v = new View3D(el3d, { quality: this.params.get("quality") ?? "auto" });
          if (this.view) this.view.dispose();
          this.view = v;
          el3d.hidden = false;
          el2d.hidden = true;
          v.setLayout(this.layout);
          this._renderViewToggle();
        } catch (err) {
          console.warn("3D view unavailable, using the 2D map", err);
          this.webgl = false;
          this.toasts.show(this.i18n.t("view.no_webgl"), "warn");
          this._createView("2d");
        }
      });
      return;
    }
    el3d.hidden = true;
    el2d.hidden = false;
    this.view = new View2D(el2d, { i18n: this.i18n });
    this.view.setLayout(this.layout);
    if (wasYaw !== undefined) { /* the map is north-up; nothing to carry over */ }
    this._renderViewToggle();
  }

  _renderViewToggle() {
    const btn = this.$("#toggle-view");
    const is2d = this.view?.kind === "2d";
    btn.textContent = this.i18n.t(is2d ? "view.switch_to_3d" : "view.switch_to_2d");
    btn.setAttribute("aria-pressed", String(is2d));
    btn.disabled = is2d && !this.webgl;
    this.viewEl.classList.toggle("mode-2d", is2d);
  }

  _prefers2d() {
    if (this.params.get("view") === "2d") return true;
    if (this.params.get("view") === "3d") return false;
    try { return localStorage.getItem(PREFER_2D_KEY) === "1"; } catch { return false; }
  }

  _panelContext() {
    const self = this;
    return {
      i18n: this.i18n,
      api: this.api,
      transport: this.transport,
      get room() { return { id: self.roomInfo?.id, kind: self.layout?.kind ?? self.roomInfo?.kind }; },
      get user() { return self.session?.user ?? null; },
      get layout() { return self.layout; },
      world: this.world,
      local: this.local,
      chat: this.chat,
      walkTo: (x, z, label) => this.local.walkTo(x, z, label),
      toast: (key, params, level = "info") => this.toasts.show(this.i18n.t(key, params), level),
      focusView: () => this.viewEl.focus(),
      social: this.social, // social
    };
  }

  // -- connection -----------------------------------------------------------------------
  _onJoined({ ack, rejoin }) {
    const prev = rejoin ? { x: this.local.x, z: this.local.z } : null;
    this.world.reset({ selfEid: ack.self, tickHz: ack.tick_hz });
    this.local.spawn(ack.self, Array.isArray(ack.spawn) ? ack.spawn : [this.layout.spawn.x, 0, this.layout.spawn.z, 0], this.layout);
    if (this.view?.kind === "3d" || this.view?.kind === "2d") this.local.yaw = this.view.cameraYaw;
    if (prev && Math.hypot(prev.x - this.local.x, prev.z - this.local.z) > 1) {
      // Walk back to where we were when the connection dropped.
      this.local.walkTo(prev.x, prev.z);
    }
    this.chat.system({ key: rejoin ? "conn.rejoined" : "conn.joined", params: { room: this.i18n.pick(this.roomInfo?.name) || ack.room } });
  }

  _onConnection(detail) {
    if (!this.roomInfo) return;
    this._setStatus(detail);
    if (detail.state === ConnectionState.REFUSED) this._showRefusal(this.connection.refusal);
    if (detail.state === ConnectionState.RECONNECTING && detail.previous === ConnectionState.JOINED) {
      this.chat.system({ key: "conn.lost" }, "warn");
    }
  }

  _setStatus({ state, attempt }) {
    const el = this.$("#conn");
    el.dataset.state = state;
    const keys = {
      idle: "conn.idle", connecting: "conn.connecting", joining: "conn.joining", joined: "conn.connected",
      reconnecting: "conn.reconnecting", refused: "conn.refused", closed: "conn.closed",
    };
    let text = this.i18n.t(keys[state] ?? "conn.idle", { n: attempt ?? this.connection.attempt ?? 0 });
    if (state === ConnectionState.JOINED && this.transport.transportName === "polling") text += ` · ${this.i18n.t("conn.polling")}`;
    this.$("#conn-text").textContent = text;
    this._renderTransport();
    const notice = this.$("#view-notice");
    const show = state === ConnectionState.RECONNECTING || state === ConnectionState.CONNECTING || state === ConnectionState.JOINING;
    notice.hidden = !show;
    if (show) notice.textContent = text;
    this.viewEl.classList.toggle("offline", state === ConnectionState.RECONNECTING);
  }

  /** The small label beside the connection status: which transport carries the room's updates. */
  _renderTransport() {
    let el = this.$("#conn-transport");
    if (!el) {
      el = document.createElement("span");
      el.id = "conn-transport";
      el.className = "conn-transport";
      el.setAttribute("role", "img"); // a badge: its aria-label says what the short text means
      this.$("#conn").append(el);
    }
    const webrtc = this.rtc.transport === Transport.WEBRTC;
    // In polling mode the status text already says so; "WebSocket" would be wrong there.
    const kind = webrtc ? "webrtc" : this.transport.transportName === "websocket" ? "websocket" : null;
    el.hidden = this.connection.state !== ConnectionState.JOINED || kind === null;
    if (el.hidden) return;
    el.dataset.transport = kind;
    el.textContent = this.i18n.t(`conn.transport.${kind}`);
    const label = this.i18n.t(`conn.transport.${kind}_label`);
    el.setAttribute("aria-label", label);
    el.title = label;
  }

  _showRefusal(refusal) {
    if (!refusal) return;
    const { code, message, until, reason } = refusal;
    const key = reason && this.i18n.has(`refusal.${reason}`) ? `refusal.${reason}` : `refusal.${code}`; // social: precise reasons
    const params = { until: until ? new Date(until).toLocaleString(this.i18n.lang) : "", reason: message ?? "" };
    let text = this.i18n.has(key) ? this.i18n.t(key, params) : this.i18n.errorText(code, message);
    if (code === "banned" && until) text += ` ${this.i18n.t("refusal.banned_until", params)}`;
    this.$("#refusal-text").textContent = text;
    this.$("#refusal-retry").hidden = !["full", "rate_limited", "timeout", "network", "unknown"].includes(code);
    this.$("#refusal-back").textContent = this.i18n.t(["auth", "refused"].includes(code) ? "refusal.sign_in" : "refusal.back");
    this.$("#refusal").hidden = false;
    this.$("#refusal-back").focus();
  }

  _hideRefusal() {
    this.$("#refusal").hidden = true;
  }

  _exit(notice) {
    cancelAnimationFrame(this._raf);
    this._raf = 0;
    this.panels.detach();
    this.social.exit(); // social
    this.input?.dispose();
    this.input = null;
    this.view?.dispose();
    this.view = null;
    this.layout = null;
    this.crowd = null;
    this.world.reset();
    this.roomInfo = null;
    this.toasts.clear();
    this._hideRefusal();
    this.root.hidden = true;
    this.onExit(notice);
  }

  // -- frame loop -----------------------------------------------------------------------
  _startLoop() {
    cancelAnimationFrame(this._raf);
    this._last = performance.now();
    const frame = (now) => {
      this._raf = requestAnimationFrame(frame);
      this._frame(now);
    };
    this._raf = requestAnimationFrame(frame);
  }

  _frame(now) {
    const t0 = performance.now();
    const dt = Math.min(0.3, Math.max(0, (now - this._last) / 1000));
    this._last = now;
    const view = this.view;
    if (!view || !this.layout) return;
    view.turn(this.input?.turn(dt) ?? 0);
    const joined = this.connection.state === ConnectionState.JOINED || this.connection.state === ConnectionState.RECONNECTING;
    if (joined) this.local.step(dt, this.input?.intent() ?? { x: 0, z: 0, run: false }, view.cameraYaw, now);
    this.world.update(now);
    this.crowd?.step(dt);
    this.social.update(now); // social: voice positions, talk indicators, emotes
    const s = this._selfRender;
    s.eid = this.local.eid; s.x = this.local.x; s.y = this.local.y; s.z = this.local.z; s.yaw = this.local.yaw; s.anim = this.local.anim;
    s.talking = this.social.selfTalking; s.emote = this.social.selfEmote; // social
    view.render({ world: this.world, self: s, nowMs: now, dt, target: this.local.target });
    this.panels.update(now);
    // Statistics for the debug hook: frameMs = our work per frame, renderMs = inside three.js' render().
    const renderMs = view.renderMs ?? 0;
    this._renderMs += (renderMs - this._renderMs) * 0.05;
    this._frameMs += (performance.now() - t0 - renderMs - this._frameMs) * 0.05;
    this._frames += 1;
    if (now - this._fpsAt >= 1000) {
      this._fps = (this._frames * 1000) / (now - this._fpsAt);
      this._frames = 0;
      this._fpsAt = now;
    }
  }
}

function round(v) {
  return Math.round(v * 1000) / 1000;
}
