// Messages of private chat channels ("counter:<id>", "booth:<id>", "meeting:<id>") kept per room
// context, so nothing is lost while a panel is closed. Moderation redactions blank a message in
// place; our own message is added from the ack when the server's echo has not come yet.

const MAX_PER_CHANNEL = 200;

export class ChannelChats {
  /**
   * @param {object} ctx the room context (transport, user)
   * @param {(channel: string) => boolean} accepts which channels this store keeps
   */
  constructor(ctx, accepts) {
    this.ctx = ctx;
    this.accepts = accepts;
    /** @type {Map<string, object[]>} channel → messages {id, userId, name, text, ts, redacted} */
    this.messages = new Map();
    this.ids = new Set();
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

  /** An incoming `chat`; only the channels this store accepts are kept. */
  receive(msg) {
    if (!msg || typeof msg.channel !== "string" || !this.accepts(msg.channel)) return;
    if (msg.id && this.ids.has(msg.id)) return;
    if (msg.id) this.ids.add(msg.id);
    let list = this.messages.get(msg.channel);
    if (!list) this.messages.set(msg.channel, (list = []));
    const from = msg.from && typeof msg.from === "object" ? msg.from : {};
    const m = {
      id: msg.id ?? null,
      userId: from.user_id ?? null,
      name: String(from.display_name ?? "?"),
      text: String(msg.text ?? ""),
      ts: typeof msg.ts === "number" ? msg.ts : Date.now(),
      redacted: false,
    };
    list.push(m);
    if (list.length > MAX_PER_CHANNEL) list.splice(0, list.length - MAX_PER_CHANNEL);
    this._changed(msg.channel);
    this.received(msg.channel, m);
  }

  /** After a message was stored and the views were told (for subclasses). */
  received(_channel, _message) {}

  redact(messageId) {
    for (const [channel, list] of this.messages) {
      for (const m of list) {
        if (m.id === messageId) { m.redacted = true; m.text = ""; this._changed(channel); }
      }
    }
  }

  /** Messages of `channel` since `since` (server ms), oldest first. */
  list(channel, since = 0) {
    const list = this.messages.get(channel) ?? [];
    return since ? list.filter((m) => m.ts >= since) : list;
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
