// The panel dock: where features plug into the room screen (people, places, and later the
// queue, booths and the moderation dashboard). See js/panels/registry.js for the list and
// js/panels/README.md for how to add one.
//
// A panel definition:
//   {
//     id: "queue",                        unique id (also the DOM id suffix)
//     titleKey: "panel.queue.title",      i18n key of its title
//     icon: "ticket",                     icon name from js/icons.js (decorative)
//     order: 30,                          position in the dock
//     when(ctx) → boolean,                optional: only offered when true (room kind, roles…)
//     mount(container, ctx) → {           builds its DOM inside `container` once, when first opened
//       update?(nowMs),                   called ~4 times a second while open
//       show?(), hide?(),                 opened / closed again
//       unmount?(),                       leaving the room
//     }
//   }
// ctx (PanelContext) gives access to: i18n, api, transport (request/on), room {id, kind},
// user {id, display_name, roles}, layout, world, local, chat, walkTo(x, z), toast(key, params).

import { icon as makeIcon } from "./icons.js";

const UPDATE_MS = 250;

export class PanelHost {
  /**
   * @param {HTMLElement} root the #dock element
   * @param {{i18n: import("./i18n.js").I18n}} deps
   */
  constructor(root, { i18n }) {
    this.root = root;
    this.i18n = i18n;
    this.tabs = root.querySelector(".dock-tabs");
    this.body = root.querySelector(".dock-body");
    /** @type {Map<string, object>} */
    this.defs = new Map();
    /** @type {Map<string, {section: HTMLElement, instance: object}>} */
    this.mounted = new Map();
    this.ctx = null;
    this.openId = null;
    this._lastUpdate = 0;
    this.body.hidden = true;
    document.addEventListener("metahall:lang-changed", () => this._renderTabs());
  }

  register(def) {
    if (!def?.id || typeof def.mount !== "function") throw new Error("a panel needs an id and mount()");
    this.defs.set(def.id, def);
    if (this.ctx) this._renderTabs();
  }

  /** Enter a room: panels are offered according to `when(ctx)`. */
  attach(ctx) {
    this.detach();
    this.ctx = ctx;
    this._renderTabs();
  }

  /** Leave the room: every mounted panel is unmounted. */
  detach() {
    for (const { section, instance } of this.mounted.values()) {
      try { instance.unmount?.(); } catch (err) { console.error(err); }
      section.remove();
    }
    this.mounted.clear();
    this.openId = null;
    this.body.hidden = true;
    this.root.classList.remove("open");
    this.ctx = null;
    this.tabs.replaceChildren();
  }

  available() {
    return [...this.defs.values()]
      .filter((d) => !d.when || (this.ctx && d.when(this.ctx)))
      .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
  }

  toggle(id) {
    if (this.openId === id) this.close();
    else this.open(id);
  }

  open(id) {
    const def = this.defs.get(id);
    if (!def || !this.ctx) return;
    if (this.openId && this.openId !== id) this._hide(this.openId);
    let entry = this.mounted.get(id);
    if (!entry) {
      const section = document.createElement("section");
      section.className = `panel panel-${id}`;
      section.id = `panel-${id}`;
      section.setAttribute("role", "tabpanel");
      section.setAttribute("aria-labelledby", `dock-tab-${id}`);
      const head = document.createElement("h2");
      head.className = "panel-title";
      head.dataset.i18n = def.titleKey;
      head.textContent = this.i18n.t(def.titleKey);
      const content = document.createElement("div");
      content.className = "panel-content";
      section.append(head, content);
      this.body.append(section);
      const instance = def.mount(content, this.ctx) ?? {};
      entry = { section, instance };
      this.mounted.set(id, entry);
    }
    entry.section.hidden = false;
    entry.instance.show?.();
    entry.instance.update?.(performance.now());
    this.openId = id;
    this.body.hidden = false;
    this.root.classList.add("open");
    this._renderTabs();
    entry.section.querySelector("button, input, select, [tabindex]")?.focus();
  }

  close() {
    if (!this.openId) return;
    const id = this.openId;
    this._hide(id);
    this.openId = null;
    this.body.hidden = true;
    this.root.classList.remove("open");
    this._renderTabs();
    document.getElementById(`dock-tab-${id}`)?.focus();
  }

  /** Called every frame by the room screen; forwards to the open panel at ~4 Hz. */
  update(nowMs) {
    if (!this.openId || nowMs - this._lastUpdate < UPDATE_MS) return;
    this._lastUpdate = nowMs;
    this.mounted.get(this.openId)?.instance.update?.(nowMs);
  }

  _hide(id) {
    const entry = this.mounted.get(id);
    if (!entry) return;
    entry.section.hidden = true;
    entry.instance.hide?.();
  }

  _renderTabs() {
    if (!this.ctx) return;
    const buttons = this.available().map((def) => {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.id = `dock-tab-${def.id}`;
      btn.className = "dock-tab";
      btn.setAttribute("role", "tab");
      btn.setAttribute("aria-selected", String(this.openId === def.id));
      btn.setAttribute("aria-controls", `panel-${def.id}`);
      const icon = document.createElement("span");
      icon.className = "dock-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.append(makeIcon(def.icon ?? "dot"));
      const label = document.createElement("span");
      label.className = "dock-label";
      label.textContent = this.i18n.t(def.titleKey);
      btn.append(icon, label);
      btn.addEventListener("click", () => this.toggle(def.id));
      return btn;
    });
    this.tabs.replaceChildren(...buttons);
    for (const { section } of this.mounted.values()) this.i18n.apply(section);
  }
}
