// The landing screen: pick a display name (guest) or log in, then pick a room.
// The session ({token, user, avatar}) is kept in sessionStorage so a reload stays signed in.

const SESSION_KEY = "metahall.session";
const PREFER_2D_KEY = "metahall.prefer2d";
export const AVATAR_COLORS = ["#e4572e", "#f3a712", "#29bf12", "#17bebb", "#2e86de", "#8e44ad", "#ff5d8f", "#5d6d7e"];

export class LandingScreen {
  /**
   * @param {HTMLElement} root #landing
   * @param {object} deps
   * @param {import("./i18n.js").I18n} deps.i18n
   * @param {import("./api.js").Api} deps.api
   * @param {(room: object, opts: {prefer2d: boolean}) => void} deps.onEnter
   */
  constructor(root, { i18n, api, onEnter, storage = globalThis.sessionStorage, prefs = globalThis.localStorage }) {
    this.root = root;
    this.i18n = i18n;
    this.api = api;
    this.onEnter = onEnter;
    this.storage = storage;
    this.prefs = prefs;
    this.session = this._load();
    this.rooms = [];
    this.kindFilter = "";
    this.color = this.session?.avatar?.color ?? AVATAR_COLORS[Math.floor(Math.random() * AVATAR_COLORS.length)];
    this.$ = (sel) => root.querySelector(sel);

    this._wireIdentity();
    this._wireRooms();
    document.addEventListener("metahall:lang-changed", () => this._renderRooms());
  }

  /** The current session or null. */
  get current() { return this.session; }

  /** Show the landing screen; `notice` = {key, params} to explain why we are here. */
  async show(notice = null) {
    this.root.hidden = false;
    if (notice?.signOut) this.signOut();
    if (this.session) {
      this._showRooms();
      await this.loadRooms();
      if (notice) this._error("#rooms-error", notice);
    } else {
      this._showIdentity();
      if (notice) this._error("#identity-error", notice);
    }
  }

  hide() { this.root.hidden = true; }

  signOut() {
    this.session = null;
    this.api.token = null;
    try { this.storage?.removeItem(SESSION_KEY); } catch { /* ignore */ }
    this._showIdentity();
  }

  async loadRooms() {
    this.$("#rooms-error").hidden = true;
    try {
      const rooms = await this.api.rooms();
      this.rooms = Array.isArray(rooms) ? rooms : [];
    } catch (err) {
      if (err.code === "auth") {
        this.signOut();
        this._error("#identity-error", { key: "error.auth" });
        return;
      }
      this.rooms = [];
      this._error("#rooms-error", { key: "landing.rooms_failed", params: { message: this.i18n.errorText(err.code, err.message) } });
    }
    this._renderRooms();
  }

  // -- identity ---------------------------------------------------------------------------
  _wireIdentity() {
    const tabs = [this.$("#tab-guest"), this.$("#tab-login")];
    const forms = [this.$("#form-guest"), this.$("#form-login")];
    const select = (i, focus = true) => {
      tabs.forEach((t, j) => {
        t.setAttribute("aria-selected", String(i === j));
        t.tabIndex = i === j ? 0 : -1;
        forms[j].hidden = i !== j;
      });
      if (focus) tabs[i].focus();
    };
    tabs.forEach((t, i) => {
      t.addEventListener("click", () => select(i));
      t.addEventListener("keydown", (e) => {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") { e.preventDefault(); select(1 - i); }
      });
    });

    const choices = this.$("#color-choices");
    for (const c of AVATAR_COLORS) {
      const label = document.createElement("label");
      label.className = "swatch";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "avatar-color";
      input.value = c;
      input.checked = c === this.color;
      input.dataset.i18nAriaLabel = `color.${c.slice(1)}`;
      input.addEventListener("change", () => { this.color = c; });
      const chip = document.createElement("span");
      chip.className = "swatch-chip";
      chip.style.background = c;
      label.append(input, chip);
      choices.append(label);
    }
    this.i18n.apply(choices);

    const nameInput = this.$("#guest-name");
    try { nameInput.value = this.prefs?.getItem("metahall.name") ?? ""; } catch { /* ignore */ }
    this.$("#form-guest").addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = nameInput.value.normalize("NFC").trim();
      if (!name) { this._error("#identity-error", { key: "landing.name_required" }); nameInput.focus(); return; }
      await this._signIn(() => this.api.guest(name));
      try { this.prefs?.setItem("metahall.name", name); } catch { /* ignore */ }
    });
    this.$("#form-login").addEventListener("submit", async (e) => {
      e.preventDefault();
      const user = this.$("#login-user").value.trim();
      const pass = this.$("#login-pass").value;
      if (!user || !pass) { this._error("#identity-error", { key: "landing.credentials_required" }); return; }
      await this._signIn(() => this.api.login(user, pass), { wrongKey: "landing.login_failed" });
      this.$("#login-pass").value = "";
    });
  }

  async _signIn(call, { wrongKey } = {}) {
    this.$("#identity-error").hidden = true;
    const buttons = this.root.querySelectorAll("#identity button[type=submit]");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const res = await call();
      this.session = { token: res.token, user: res.user, avatar: { model: "capsule", color: this.color } };
      this.api.token = res.token;
      try { this.storage?.setItem(SESSION_KEY, JSON.stringify(this.session)); } catch { /* ignore */ }
      this._showRooms();
      await this.loadRooms();
      this.$("#room-list button:not([disabled])")?.focus();
    } catch (err) {
      const key = err.code === "auth" && wrongKey ? wrongKey : null;
      this._error("#identity-error", key ? { key } : { text: this.i18n.errorText(err.code, err.message) });
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  _showIdentity() {
    this.$("#identity").hidden = false;
    this.$("#rooms").hidden = true;
  }

  _showRooms() {
    this.$("#identity").hidden = true;
    this.$("#rooms").hidden = false;
    this.$("#who-name").textContent = this.session?.user?.display_name ?? "";
  }

  // -- rooms --------------------------------------------------------------------------------
  _wireRooms() {
    this.$("#sign-out").addEventListener("click", () => { this.signOut(); this.$("#guest-name").focus(); });
    for (const chip of this.root.querySelectorAll(".room-filters .chip")) {
      chip.addEventListener("click", () => {
        this.kindFilter = chip.dataset.kind;
        for (const c of this.root.querySelectorAll(".room-filters .chip")) c.setAttribute("aria-pressed", String(c === chip));
        this._renderRooms();
      });
    }
    const prefer = this.$("#prefer-2d");
    try { prefer.checked = this.prefs?.getItem(PREFER_2D_KEY) === "1"; } catch { /* ignore */ }
    prefer.addEventListener("change", () => {
      try { this.prefs?.setItem(PREFER_2D_KEY, prefer.checked ? "1" : "0"); } catch { /* ignore */ }
    });
  }

  get prefer2d() { return this.$("#prefer-2d").checked; }

  _renderRooms() {
    const list = this.$("#room-list");
    const rooms = this.rooms.filter((r) => !this.kindFilter || r.kind === this.kindFilter);
    const items = rooms.map((r) => {
      const li = document.createElement("li");
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = `room-card kind-${r.kind}`;
      btn.dataset.roomId = r.id;
      const icon = document.createElement("span");
      icon.className = "room-icon";
      icon.setAttribute("aria-hidden", "true");
      const title = document.createElement("span");
      title.className = "room-name";
      title.textContent = this.i18n.pick(r.name) || r.id;
      const kind = document.createElement("span");
      kind.className = "room-kind";
      kind.textContent = this.i18n.t(`kind.one.${r.kind}`);
      const count = document.createElement("span");
      count.className = "room-count";
      const full = typeof r.capacity === "number" && r.members >= r.capacity;
      count.textContent = this.i18n.t(full ? "landing.room_full" : "landing.room_members", { n: r.members ?? 0, cap: r.capacity ?? "∞" });
      btn.append(icon, title, kind, count);
      btn.setAttribute("aria-label", `${title.textContent}, ${kind.textContent}, ${count.textContent}`);
      btn.addEventListener("click", () => this.onEnter(r, { prefer2d: this.prefer2d }));
      li.append(btn);
      return li;
    });
    if (!items.length && this.session) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = this.i18n.t("landing.no_rooms");
      items.push(li);
    }
    list.replaceChildren(...items);
  }

  _error(sel, { key, params, text }) {
    const el = this.$(sel);
    el.textContent = text ?? this.i18n.t(key, params);
    el.hidden = false;
  }

  _load() {
    try {
      const s = JSON.parse(this.storage?.getItem(SESSION_KEY) ?? "null");
      if (s?.token && s?.user) {
        this.api.token = s.token;
        return s;
      }
    } catch { /* ignore */ }
    return null;
  }
}
