// The chat panel: room and nearby channels, direct messages, system notices, unread badges.
// Every text from the network is rendered with textContent, never as HTML.

const TABS = [
  { id: "room", key: "chat.tab_room" },
  { id: "near", key: "chat.tab_near" },
  { id: "dm", key: "chat.tab_dm" },
  { id: "system", key: "chat.tab_system" },
];
const MAX_PER_CHANNEL = 200;

export class ChatPanel {
  /**
   * @param {HTMLElement} root the #chat section
   * @param {object} deps
   * @param {import("./i18n.js").I18n} deps.i18n
   * @param {(channel: string, text: string) => Promise<{ok: boolean, id?: string, error?: {code: string, message: string}}>} deps.send
   * @param {() => (string|null)} deps.selfUserId
   * @param {() => string} [deps.selfName]
   */
  constructor(root, { i18n, send, selfUserId, selfName = () => "" }) {
    this.root = root;
    this.selfName = selfName;
    this.i18n = i18n;
    this.sendChat = send;
    this.selfUserId = selfUserId;
    this.tabList = root.querySelector(".chat-tabs");
    this.log = root.querySelector(".chat-log");
    this.form = root.querySelector(".chat-form");
    this.input = root.querySelector("#chat-input");
    this.sendButton = this.form.querySelector("button[type=submit]");
    this.errorBox = root.querySelector(".chat-error");
    this.collapseButton = root.querySelector(".chat-collapse");
    this.totalBadge = this.collapseButton.querySelector(".badge");
    this.body = root.querySelector(".chat-body");

    /** @type {Map<string, object[]>} channel key ("room", "near", "dm:<user>", "system") → messages */
    this.messages = new Map();
    this.ids = new Set();
    this.unread = new Map(TABS.map((t) => [t.id, 0]));
    /** @type {Map<string, string>} user id → display name of DM partners */
    this.partners = new Map();
    this.partner = null;
    this.active = "room";
    this.collapsed = false;
    this.tabButtons = new Map();

    this._buildTabs();
    this._buildDmPicker();
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this._submit(); });
    this.collapseButton.addEventListener("click", () => this.setCollapsed(!this.collapsed));
    this.log.addEventListener("click", (e) => {
      const who = e.target.closest?.("[data-user-id]");
      if (who && who.dataset.userId !== this.selfUserId()) this.openDm(who.dataset.userId, who.dataset.name);
    });
    document.addEventListener("metahall:lang-changed", () => this.render());
    this.render();
  }

  /** Incoming `chat` {id, channel, from: {user_id, display_name}, text, ts}. */
  receive(msg) {
    if (!msg || typeof msg !== "object" || typeof msg.channel !== "string") return;
    if (msg.id && this.ids.has(msg.id)) return; // our own message echoed back
    const from = msg.from && typeof msg.from === "object" ? msg.from : {};
    let key = msg.channel;
    if (key.startsWith("dm:")) {
      const me = this.selfUserId();
      const other = from.user_id && from.user_id !== me ? from.user_id : key.slice(3);
      key = `dm:${other}`;
      if (from.user_id && from.user_id !== me) this.partners.set(other, String(from.display_name ?? other));
      else if (!this.partners.has(other)) this.partners.set(other, other);
      if (!this.partner) this.partner = other;
      this._refreshDmPicker();
    }
    this._add(key, {
      kind: "chat",
      id: msg.id ?? null,
      userId: from.user_id ?? null,
      name: String(from.display_name ?? "?"),
      text: String(msg.text ?? ""),
      ts: typeof msg.ts === "number" ? msg.ts : Date.now(),
    });
  }

  /** A system line: {key, params} (our own texts) or {texts: {"zh-CN","en"}} (from the server). */
  system(entry, level = "info") {
    this._add("system", { kind: "system", level, ts: Date.now(), ...entry });
  }

  /** `moderation` {action, reason, until?, message_id?} */
  moderation(notice) {
    if (!notice || typeof notice !== "object") return;
    if (notice.action === "redact" && notice.message_id) this.redact(notice.message_id);
    this.system({
      key: `moderation.${notice.action}`,
      params: { reason: notice.reason ?? "", until: notice.until ? new Date(notice.until).toLocaleString(this.i18n.lang) : "" },
    }, notice.action === "warn" || notice.action === "redact" ? "warn" : "error");
  }

  redact(messageId) {
    for (const list of this.messages.values()) {
      for (const m of list) if (m.id === messageId) { m.redacted = true; m.text = ""; }
    }
    this.render();
  }

  /** Start or show a conversation with a user. */
  openDm(userId, name) {
    if (!userId) return;
    if (name || !this.partners.has(userId)) this.partners.set(userId, name || userId);
    this.partner = userId;
    this._refreshDmPicker();
    this.setCollapsed(false);
    this.select("dm");
    this.input.focus();
  }

  select(tabId) {
    if (!this.tabButtons.has(tabId)) return;
    this.active = tabId;
    this.unread.set(tabId, 0);
    this.render();
  }

  setCollapsed(collapsed) {
    this.collapsed = collapsed;
    this.root.classList.toggle("collapsed", collapsed);
    this.body.hidden = collapsed;
    this.collapseButton.setAttribute("aria-expanded", String(!collapsed));
    this.collapseButton.setAttribute("aria-label", this.i18n.t(collapsed ? "chat.expand" : "chat.collapse"));
    if (!collapsed) this.unread.set(this.active, 0);
    this._renderBadges();
  }

  focusInput() {
    this.setCollapsed(false);
    if (this.active === "system") this.select("room");
    this.input.focus();
  }

  /** Forget the conversation (entering another room). */
  clear() {
    this.messages.clear();
    this.ids.clear();
    for (const k of this.unread.keys()) this.unread.set(k, 0);
    this.render();
  }

  /** Counts for the debug hook. */
  stats() {
    const out = {};
    for (const [k, v] of this.messages) out[k] = v.length;
    return { channels: out, unread: Object.fromEntries(this.unread) };
  }

  render() {
    for (const t of TABS) {
      const btn = this.tabButtons.get(t.id);
      btn.querySelector(".tab-label").textContent = this.i18n.t(t.key);
      const selected = t.id === this.active;
      btn.setAttribute("aria-selected", String(selected));
      btn.tabIndex = selected ? 0 : -1;
    }
    this.log.setAttribute("aria-labelledby", `chat-tab-${this.active}`);
    this.log.replaceChildren(...this._visible().map((m) => this._li(m)));
    this.log.scrollTop = this.log.scrollHeight;
    this._refreshDmPicker();
    const noTarget = this.active === "system" || (this.active === "dm" && !this.partner);
    this.input.disabled = noTarget;
    this.sendButton.disabled = noTarget;
    this.input.placeholder = this.i18n.t(
      this.active === "system" ? "chat.placeholder_system"
        : this.active === "dm" ? (this.partner ? "chat.placeholder_dm" : "chat.placeholder_dm_none")
          : this.active === "near" ? "chat.placeholder_near" : "chat.placeholder",
      { name: this.partners.get(this.partner) ?? "" },
    );
    this._renderBadges();
  }

  // -- internals ------------------------------------------------------------------------
  _buildTabs() {
    for (const t of TABS) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.id = `chat-tab-${t.id}`;
      btn.setAttribute("role", "tab");
      btn.setAttribute("aria-controls", "chat-body");
      btn.dataset.tab = t.id;
      const label = document.createElement("span");
      label.className = "tab-label";
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.hidden = true;
      btn.append(label, badge);
      btn.addEventListener("click", () => this.select(t.id));
      btn.addEventListener("keydown", (e) => {
        const i = TABS.findIndex((x) => x.id === this.active);
        let next = null;
        if (e.key === "ArrowRight") next = TABS[(i + 1) % TABS.length];
        else if (e.key === "ArrowLeft") next = TABS[(i + TABS.length - 1) % TABS.length];
        else if (e.key === "Home") next = TABS[0];
        else if (e.key === "End") next = TABS[TABS.length - 1];
        if (next) {
          e.preventDefault();
          this.select(next.id);
          this.tabButtons.get(next.id).focus();
        }
      });
      this.tabButtons.set(t.id, btn);
      this.tabList.append(btn);
    }
  }

  _buildDmPicker() {
    this.dmRow = document.createElement("div");
    this.dmRow.className = "dm-row";
    this.dmRow.hidden = true;
    this.dmLabel = document.createElement("label");
    this.dmLabel.htmlFor = "dm-partner";
    this.dmSelect = document.createElement("select");
    this.dmSelect.id = "dm-partner";
    this.dmSelect.addEventListener("change", () => {
      this.partner = this.dmSelect.value || null;
      this.render();
    });
    this.dmRow.append(this.dmLabel, this.dmSelect);
    this.form.before(this.dmRow);
  }

  _refreshDmPicker() {
    if (!this.dmRow) return;
    this.dmRow.hidden = this.active !== "dm" || this.partners.size === 0;
    this.dmLabel.textContent = this.i18n.t("chat.dm_with");
    const options = [...this.partners].map(([id, name]) => {
      const o = document.createElement("option");
      o.value = id;
      o.textContent = name;
      o.selected = id === this.partner;
      return o;
    });
    this.dmSelect.replaceChildren(...options);
  }

  _visible() {
    if (this.active === "dm") return this.partner ? this.messages.get(`dm:${this.partner}`) ?? [] : [];
    return this.messages.get(this.active) ?? [];
  }

  _tabOf(key) {
    return key.startsWith("dm:") ? "dm" : key;
  }

  _add(key, m) {
    let list = this.messages.get(key);
    if (!list) this.messages.set(key, (list = []));
    list.push(m);
    if (m.id) this.ids.add(m.id);
    if (list.length > MAX_PER_CHANNEL) list.splice(0, list.length - MAX_PER_CHANNEL);
    const tab = this._tabOf(key);
    const shown = tab === this.active && (tab !== "dm" || key === `dm:${this.partner}`);
    const mine = m.userId && m.userId === this.selfUserId();
    if (!mine && (!shown || this.collapsed)) this.unread.set(tab, (this.unread.get(tab) ?? 0) + 1);
    if (shown) {
      const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
      this.log.append(this._li(m));
      while (this.log.childElementCount > MAX_PER_CHANNEL) this.log.firstElementChild.remove();
      if (atBottom || mine) this.log.scrollTop = this.log.scrollHeight;
    }
    this._renderBadges();
  }

  _li(m) {
    const li = document.createElement("li");
    li.className = `msg msg-${m.kind}`;
    const time = document.createElement("time");
    time.className = "msg-time";
    const d = new Date(m.ts);
    time.dateTime = d.toISOString();
    time.textContent = d.toLocaleTimeString(this.i18n.lang, { hour: "2-digit", minute: "2-digit" });
    const text = document.createElement("span");
    text.className = "msg-text";
    if (m.kind === "system") {
      li.classList.add(`level-${m.level}`);
      text.textContent = m.key ? this.i18n.t(m.key, m.params) : this.i18n.pick(m.texts);
      li.append(time, text);
      return li;
    }
    const name = document.createElement("span");
    name.className = "msg-from";
    name.textContent = m.name;
    if (m.userId) {
      name.dataset.userId = m.userId;
      name.dataset.name = m.name;
    }
    if (m.userId && m.userId === this.selfUserId()) li.classList.add("mine");
    if (m.redacted) {
      li.classList.add("redacted");
      text.textContent = this.i18n.t("chat.redacted");
    } else {
      text.textContent = m.text;
    }
    li.append(time, name, text);
    return li;
  }

  _renderBadges() {
    let total = 0;
    for (const t of TABS) {
      const n = this.unread.get(t.id) ?? 0;
      total += n;
      const badge = this.tabButtons.get(t.id).querySelector(".badge");
      badge.hidden = n === 0;
      badge.textContent = n > 99 ? "99+" : String(n);
      this.tabButtons.get(t.id).setAttribute(
        "aria-label",
        n ? `${this.i18n.t(t.key)} (${this.i18n.t("chat.unread", { n })})` : this.i18n.t(t.key),
      );
    }
    this.totalBadge.hidden = !this.collapsed || total === 0;
    this.totalBadge.textContent = total > 99 ? "99+" : String(total);
  }

  async _submit() {
    const text = this.input.value.trim();
    if (!text) return;
    let channel = this.active;
    if (channel === "system") return;
    if (channel === "dm") {
      if (!this.partner) return;
      channel = `dm:${this.partner}`;
    }
    this.errorBox.hidden = true;
    this.sendButton.disabled = true;
    const ack = await this.sendChat(channel, text);
    this.sendButton.disabled = false;
    if (ack?.ok) {
      if (this.input.value.trim() === text) this.input.value = "";
      // Normally the server echoes our message back; show it now if it has not yet.
      if (ack.id && !this.ids.has(ack.id)) {
        this.receive({ id: ack.id, channel, from: { user_id: this.selfUserId(), display_name: this.selfName() }, text, ts: Date.now() });
      }
      return;
    }
    const code = ack?.error?.code ?? "unknown";
    this.errorBox.textContent = this.i18n.errorText(code, ack?.error?.message);
    this.errorBox.hidden = false;
  }
}
