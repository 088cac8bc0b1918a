// Moderator dashboard: sign in, list cases by severity and age, replay one, act on it.
// State for tests and tools is readable at window.metahallDashboard.state (read-only copy).
import { I18n } from "/app/dashboard/js/i18n.js";
import { ModApi } from "/app/dashboard/js/mod-api.js";
import { LiveFeed } from "/app/dashboard/js/live-feed.js";
import { CaseList } from "/app/dashboard/js/case-list.js";
import { Replay } from "/app/dashboard/js/replay.js";
import { ActionForm } from "/app/dashboard/js/action-form.js";
import { AppealList } from "/app/dashboard/js/appeal-list.js";

const $ = (id) => document.getElementById(id);
const LANG_KEY = "metahall.lang";

class Dashboard {
  constructor() {
    this.i18n = new I18n(sessionStorage.getItem(LANG_KEY) || navigator.language);
    this.api = new ModApi();
    this.status = "open";
    this.kase = null;
    this.live = null;
    this.pending = null;
    this.state = { signedIn: false, cases: 0, caseId: null, t: 0, span: 0, playing: false, lastAction: null };
    this.cases = new CaseList($("case-list"), $("no-cases"), this.i18n, (id) => this.open(id));
    this.appeals = new AppealList($("appeal-list"), $("no-appeals"), this.api, this.i18n);
    this.replay = new Replay({
      canvas: $("map"), chat: $("case-chat"), legend: $("legend"), play: $("play"),
      scrub: $("scrub"), clock: $("clock"), speed: $("speed"), i18n: this.i18n,
      onTime: (t) => {
        this.state.t = t;
        this.state.playing = this.replay?.playing ?? false;
      },
    });
    this.form = new ActionForm($("form-action"), this.api, this.i18n, (id) => this.#acted(id));
    $("lang").value = this.i18n.lang;
    $("lang").addEventListener("change", () => this.#setLang($("lang").value));
    $("form-login").addEventListener("submit", (event) => {
      event.preventDefault();
      this.#login();
    });
    $("sign-out").addEventListener("click", () => this.#signOut());
    for (const tab of document.querySelectorAll(".tabs [data-status]")) {
      tab.addEventListener("click", () => this.#tab(tab.dataset.status));
    }
    document.addEventListener("metahall:mod-case", () => this.#soon());
    document.addEventListener("metahall:mod-appeal", () => this.appeals.refresh());
    this.i18n.apply();
  }

  async boot() {
    if (this.api.token) {
      try {
        const me = await this.api.me();
        if (this.#isModerator(me)) return this.#enter(me);
      } catch {
        this.api.setToken(null);
      }
    }
    this.#show("sign-in");
  }

  #isModerator(user) {
    return user.roles.includes("moderator") || user.roles.includes("admin");
  }

  async #login() {
    const error = $("login-error");
    error.textContent = "";
    try {
      const user = await this.api.login($("login-username").value.trim(), $("login-password").value);
      if (!this.#isModerator(user)) {
        this.api.setToken(null);
        error.textContent = this.i18n.t("notModerator");
        return;
      }
      $("login-password").value = "";
      await this.#enter(user);
    } catch (err) {
      error.textContent = this.i18n.t(err.code === "network" ? "network" : "badLogin");
    }
  }

  async #enter(user) {
    $("who").textContent = `${user.display_name} · ${user.roles.join(", ")}`;
    $("sign-out").hidden = false;
    this.state.signedIn = true;
    this.#show("desk");
    this.live = new LiveFeed(this.api.token, this.i18n.lang, $("live"));
    await Promise.all([this.refresh(), this.appeals.refresh()]);
  }

  #signOut() {
    this.live?.close();
    this.api.setToken(null);
    this.state.signedIn = false;
    $("who").textContent = "";
    $("sign-out").hidden = true;
    this.#show("sign-in");
  }

  #show(which) {
    $("sign-in").hidden = which !== "sign-in";
    $("desk").hidden = which !== "desk";
  }

  #tab(status) {
    this.status = status;
    for (const tab of document.querySelectorAll(".tabs [data-status]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.status === status));
    }
    this.refresh();
  }

  /** Refresh the list at most twice a second, however many cases change. */
  #soon() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 500);
  }

  async refresh() {
    const cases = await this.api.cases(this.status);
    this.cases.show(cases);
    this.state.cases = cases.length;
  }

  async open(id) {
    const kase = await this.api.caseDetail(id);
    let layout = null;
    if (kase.room_id && kase.room_id !== "-") {
      try {
        layout = await this.api.layout(kase.room_id);
      } catch {
        layout = null;
      }
    }
    this.kase = kase;
    this.cases.select(id);
    this.names = new Map();
    for (const tr of kase.evidence.tracks) this.names.set(tr.user_id, tr.display_name);
    for (const m of kase.evidence.chat) this.names.set(m.from.user_id, m.from.display_name);
    $("pick").hidden = true;
    $("case").hidden = false;
    this.#renderCase();
    const flagged = kase.verdicts.map((v) => v.message_id).filter(Boolean)
      .concat(kase.reports.map((r) => r.message_id).filter(Boolean));
    this.replay.load(kase.evidence, layout, flagged);
    this.form.load(kase, this.names);
    this.state.caseId = id;
    this.state.span = this.replay.span;
  }

  #renderCase() {
    const t = (k, v) => this.i18n.t(k, v);
    const k = this.kase;
    $("case-title").textContent = t("caseTitle", { room: k.instance ?? k.room_id, reason: k.reason });
    $("case-meta").textContent = t("caseMeta", {
      opened: new Date(k.opened_at).toLocaleString(this.i18n.lang),
      sev: t(`sev${k.severity}`), status: t(`status_${k.status}`),
    });
    const fill = (id, items, line) => {
      const ul = $(id);
      ul.replaceChildren();
      for (const item of items) {
        const li = document.createElement("li");
        li.textContent = line(item);
        ul.append(li);
      }
      if (!items.length) {
        const li = document.createElement("li");
        li.textContent = t("none");
        ul.append(li);
      }
    };
    const who = (id) => this.names.get(id) ?? (id ? id.slice(0, 8) : "—");
    fill("case-verdicts", k.verdicts, (v) => `${v.kind} · ${who(v.user_id)} · ${v.reason}`);
    fill("case-reports", k.reports, (r) => `${who(r.reporter_id)} → ${who(r.user_id)}: ${r.reason}`);
    fill("case-actions", k.actions, (a) => `${t(`a_${a.action}`)} · ${who(a.user_id)} · ${a.note}`);
  }

  async #acted(id) {
    this.state.lastAction = Date.now();
    await this.refresh();
    if (id) await this.open(id).catch(() => {});
  }

  #setLang(lang) {
    this.i18n.lang = I18n.pick(lang);
    sessionStorage.setItem(LANG_KEY, this.i18n.lang);
    this.i18n.apply();
    this.cases.render();
    this.appeals.render();
    this.replay.relabel();
    if (this.kase) this.#renderCase();
  }
}

const dashboard = new Dashboard();
Object.defineProperty(window, "metahallDashboard", {
  value: Object.freeze({ get state() { return { ...dashboard.state, playing: dashboard.replay.playing }; } }),
});
dashboard.boot();
