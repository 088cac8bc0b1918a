// The private consultation at a counter: chat on the channel "counter:<id>", which the server
// delivers only to the staff member at the counter and the citizen being served there.
//
// One CounterChats store per room context keeps the messages of every counter channel from the
// moment the user is in a hall, so nothing is lost while a panel is closed. Each conversation is
// shown from the moment the ticket was called (`since`, server ms), so the next citizen at the same
// counter never sees the previous one's messages. Text goes in through textContent only.

import { el } from "./dom.js";

const MAX_PER_CHANNEL = 200;

export class CounterChats {
  constructor(ctx) {
    this.ctx = ctx;
    /** @type {Map<string, object[]>} channel → messages {id, userId, name, text, ts, redacted} */
    this.messages = new Map();
    this.ids = new Set();
    /** @type {Map<string, number>} channel → ts of the newest message the user has seen */
    this.seen = new Map();
    this.listeners = new Set();
    this.off = ctx.transport.on("chat", (m) => this.receive(m));
    this._onModeration = (e) => {
      const n = e.detail;
      if (n?.action === "redact" && n.message_id) this.redact(n.message_id);
    };
    document.addEventListener("metahall:moderation", this._onModeration);
  }

  dispose() {
    this.off?.();
    document.removeEventListener("metahall:moderation", this._onModeration);
    this.listeners.clear();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  _changed(channel) {
    for (const fn of this.listeners) {
      try { fn(channel); } catch (err) { console.error(err); }
    }
  }

  /** An incoming `chat`; only counter channels are kept here. */
  receive(msg) {
    if (!msg || typeof msg.channel !== "string" || !msg.channel.startsWith("counter:")) return;
    if (msg.id && this.ids.has(msg.id)) return;
    const from = msg.from && typeof msg.from === "object" ? msg.from : {};
    let list = this.messages.get(msg.channel);
    if (!list) this.messages.set(msg.channel, (list = []));
    list.push({
      id: msg.id ?? null,
      userId: from.user_id ?? null,
      name: String(from.display_name ?? "?"),
      text: String(msg.text ?? ""),
      ts: typeof msg.ts === "number" ? msg.ts : Date.now(),
      redacted: false,
    });
    if (msg.id) this.ids.add(msg.id);
    if (list.length > MAX_PER_CHANNEL) list.splice(0, list.length - MAX_PER_CHANNEL);
    this._changed(msg.channel);
    // A view showing the conversation marks it seen while handling _changed; if none did, say so.
    const m = list[list.length - 1];
    if (m.userId && m.userId !== this.ctx.user?.id && m.ts > (this.seen.get(msg.channel) ?? 0)) {
      this.ctx.toast("panel.hall_chat.new_message", { name: m.name, text: m.text.slice(0, 80) });
    }
  }

  redact(messageId) {
    for (const [channel, list] of this.messages) {
      for (const m of list) {
        if (m.id === messageId) { m.redacted = true; m.text = ""; this._changed(channel); }
      }
    }
  }

  /** Messages of `channel` since `since` (server ms), oldest first. */
  list(channel, since = 0) {
    return (this.messages.get(channel) ?? []).filter((m) => m.ts >= since);
  }

  /** How many messages from the other side the user has not seen yet. */
  unread(channel, since = 0) {
    const me = this.ctx.user?.id;
    const seen = this.seen.get(channel) ?? 0;
    return this.list(channel, since).filter((m) => m.userId !== me && m.ts > seen).length;
  }

  markSeen(channel) {
    const list = this.messages.get(channel);
    const newest = list?.length ? list[list.length - 1].ts : 0;
    if (newest > (this.seen.get(channel) ?? 0)) {
      this.seen.set(channel, newest);
      this._changed(channel);
    }
  }

  /** Sends; resolves with the ack. The server echoes the message to us; if it has not, add it. */
  async send(channel, text) {
    const ack = await this.ctx.transport.request("chat", { channel, text });
    if (ack?.ok && ack.id && !this.ids.has(ack.id)) {
      const u = this.ctx.user ?? {};
      this.receive({ id: ack.id, channel, from: { user_id: u.id, display_name: u.display_name }, text, ts: Date.now() });
    }
    return ack;
  }
}

let current = null; // {ctx, chats}

/** The store for this room context (one per hall visit); null outside halls. */
export function counterChatsFor(ctx) {
  if (current?.ctx === ctx) return current.chats;
  current?.chats.dispose();
  current = null;
  if (ctx?.room?.kind !== "hall") return null;
  current = { ctx, chats: new CounterChats(ctx) };
  return current.chats;
}

/**
 * A conversation view: the log and a form to write. `set(channel, since)` points it at the
 * conversation (channel null: nobody to talk to; the form is disabled).
 * @param {object} opts
 * @param {string} opts.idPrefix ids of the input ("<prefix>-chat-input")
 * @param {string} opts.placeholderKey i18n key of the input's placeholder
 */
export function counterChatView(ctx, chats, { idPrefix, placeholderKey }) {
  const { i18n } = ctx;
  const root = el("div", "hall-chat");
  const log = el("ol", "hall-chat-log");
  log.setAttribute("aria-live", "polite");
  const empty = el("p", "hall-chat-empty");
  const form = el("form", "hall-chat-form");
  const label = el("label", "visually-hidden");
  const input = el("input", "hall-chat-input");
  input.id = `${idPrefix}-chat-input`;
  input.type = "text";
  input.maxLength = 500;
  input.autocomplete = "off";
  label.htmlFor = input.id;
  const send = el("button", "btn small primary hall-chat-send");
  send.type = "submit";
  const error = el("p", "hall-chat-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  form.append(label, input, send);
  root.append(log, empty, form, error);

  let channel = null;
  let since = 0;
  let visible = true;

  const render = () => {
    const me = ctx.user?.id;
    const list = channel ? chats.list(channel, since) : [];
    log.replaceChildren(...list.map((m) => {
      const li = el("li", `msg msg-chat${m.userId === me ? " mine" : ""}${m.redacted ? " redacted" : ""}`);
      const d = new Date(m.ts);
      const time = el("time", "msg-time", d.toLocaleTimeString(i18n.lang, { hour: "2-digit", minute: "2-digit" }));
      time.dateTime = d.toISOString();
      const who = el("span", "msg-from", m.userId === me ? i18n.t("panel.hall_chat.me") : m.name);
      const text = el("span", "msg-text", m.redacted ? i18n.t("chat.redacted") : m.text);
      li.append(time, who, text);
      return li;
    }));
    log.hidden = list.length === 0;
    empty.hidden = list.length > 0;
    empty.textContent = i18n.t(channel ? "panel.hall_chat.empty" : "panel.hall_chat.nobody");
    log.scrollTop = log.scrollHeight;
    label.textContent = i18n.t("chat.input_label");
    input.placeholder = i18n.t(placeholderKey);
    send.textContent = i18n.t("chat.send");
    input.disabled = !channel;
    send.disabled = !channel;
    root.dataset.channel = channel ?? "";
    root.dataset.count = String(list.length);
    if (channel && visible && !root.closest("[hidden]")) chats.markSeen(channel);
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || !channel) return;
    send.disabled = true;
    error.hidden = true;
    const ack = await chats.send(channel, text.slice(0, 500));
    send.disabled = !channel;
    if (ack?.ok) {
      if (input.value.trim() === text) input.value = "";
    } else {
      error.textContent = i18n.errorText(ack?.error?.code, ack?.error?.message);
      error.hidden = false;
    }
  });

  const unsub = chats.subscribe((ch) => { if (ch === channel) render(); });
  const onLang = () => render();
  document.addEventListener("metahall:lang-changed", onLang);
  render();
  return {
    root,
    /** Show the conversation on `channel` from `since` (server ms). */
    set(nextChannel, nextSince = 0) {
      if (nextChannel === channel && nextSince === since) return;
      if (nextChannel !== channel) { input.value = ""; error.hidden = true; }
      channel = nextChannel || null;
      since = nextSince || 0;
      render();
    },
    /** The view became visible or hidden (marks messages seen while visible). */
    visible(on) { visible = on; if (on) render(); },
    focus() { input.focus(); },
    dispose() {
      unsub();
      document.removeEventListener("metahall:lang-changed", onLang);
    },
  };
}
