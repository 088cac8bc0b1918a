// The private consultation at a counter: chat on the channel "counter:<id>", which the server
// delivers only to the staff member at the counter and the citizen being served there.
//
// One CounterChats store per room context keeps the messages of every counter channel from the
// moment the user is in a hall, so nothing is lost while a panel is closed. Each conversation is
// shown from the moment the ticket was called (`since`, server ms), so the next citizen at the same
// counter never sees the previous one's messages. Text goes in through textContent only.

import { ChannelChats } from "./channel-chat.js";
import { el } from "./dom.js";

export class CounterChats extends ChannelChats {
  constructor(ctx) {
    super(ctx, (channel) => channel.startsWith("counter:"));
    /** @type {Map<string, number>} channel → ts of the newest message the user has seen */
    this.seen = new Map();
  }

  received(channel, m) {
    // A view showing the conversation marks it seen while handling _changed; if none did, say so.
    if (m.userId && m.userId !== this.ctx.user?.id && m.ts > (this.seen.get(channel) ?? 0)) {
      this.ctx.toast("panel.hall_chat.new_message", { name: m.name, text: m.text.slice(0, 80) });
    }
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
