// The organiser's (admin's) part of the stage panel: schedule a talk in this expo hall. The
// speaker is chosen among the exhibitors (and admins) present in the hall, or oneself; the
// server checks everything again (times, overlaps, the https stream URL).

import { button, el } from "./dom.js";

function field(labelText, input) {
  const wrap = el("label", "stage-field");
  wrap.append(el("span", "stage-field-label", labelText), input);
  return wrap;
}

/** "YYYY-MM-DDTHH:MM" in local time, for <input type="datetime-local">. */
export function localInputValue(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export class StageAdmin {
  constructor(root, ctx, { onCreated }) {
    this.ctx = ctx;
    this.onCreated = onCreated;
    this.root = root;
    this.head = el("h3", "panel-subtitle");
    this.form = el("form", "stage-admin-form");
    this.titleZh = Object.assign(el("input"), { type: "text", maxLength: 120, required: true, id: "stage-new-title-zh" });
    this.titleEn = Object.assign(el("input"), { type: "text", maxLength: 120, required: true, id: "stage-new-title-en" });
    this.speaker = Object.assign(el("select"), { id: "stage-new-speaker" });
    this.start = Object.assign(el("input"), { type: "datetime-local", id: "stage-new-start" });
    this.minutes = Object.assign(el("input"), { type: "number", min: 5, max: 720, value: 30, id: "stage-new-minutes" });
    this.mode = Object.assign(el("select"), { id: "stage-new-mode" });
    this.url = Object.assign(el("input"), { type: "url", maxLength: 500, id: "stage-new-url", placeholder: "https://" });
    this.submit = button("", "btn primary small stage-create");
    this.submit.type = "submit";
    this.labels = [
      [field("", this.titleZh), "panel.stage.title_zh"], [field("", this.titleEn), "panel.stage.title_en"],
      [field("", this.speaker), "panel.stage.speaker"], [field("", this.start), "panel.stage.start"],
      [field("", this.minutes), "panel.stage.minutes"], [field("", this.mode), "panel.stage.mode"],
      [field("", this.url), "panel.stage.embed_url"],
    ];
    this.form.append(...this.labels.map(([w]) => w), this.submit);
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.create(); });
    root.append(this.head, this.form);
    this.start.value = localInputValue(Date.now() + 10 * 60_000);
    this.render();
  }

  render() {
    const { i18n } = this.ctx;
    this.head.textContent = i18n.t("panel.stage.new_talk");
    for (const [wrap, key] of this.labels) wrap.querySelector(".stage-field-label").textContent = i18n.t(key);
    this.submit.textContent = i18n.t("panel.stage.create");
    const chosenMode = this.mode.value || "live";
    this.mode.replaceChildren(...["live", "slides", "embed"].map((m) => {
      const o = el("option", null, i18n.t(`panel.stage.mode.${m}`));
      o.value = m;
      return o;
    }));
    this.mode.value = chosenMode;
    this.refreshSpeakers();
  }

  /** Me, plus the exhibitors and admins in the hall now. */
  refreshSpeakers() {
    const { i18n, user, world } = this.ctx;
    const chosen = this.speaker.value;
    const people = new Map();
    if (user) people.set(user.id, i18n.t("panel.stage.speaker_me", { name: user.display_name }));
    for (const e of world?.entities?.values?.() ?? []) {
      if (e.userId && !people.has(e.userId) && (e.roles?.includes("exhibitor") || e.roles?.includes("admin"))) {
        people.set(e.userId, e.name || e.userId);
      }
    }
    this.speaker.replaceChildren(...[...people].map(([id, name]) => {
      const o = el("option", null, name);
      o.value = id;
      return o;
    }));
    if (chosen && people.has(chosen)) this.speaker.value = chosen;
  }

  async create() {
    const { i18n, transport, room } = this.ctx;
    const start = new Date(this.start.value).getTime();
    const body = {
      room: room.id,
      title: { "zh-CN": this.titleZh.value.trim(), en: this.titleEn.value.trim() },
      speaker_id: this.speaker.value,
      start,
      end: start + Math.max(1, Number(this.minutes.value) || 30) * 60_000,
      mode: this.mode.value,
    };
    if (this.url.value.trim()) body.embed_url = this.url.value.trim();
    this.submit.disabled = true;
    const ack = await transport.request("stage.create", body);
    this.submit.disabled = false;
    if (!ack?.ok) {
      this.ctx.toast("error.with_code", { message: i18n.errorText(ack?.error?.code, ack?.error?.message) }, "warn");
      return;
    }
    this.titleZh.value = "";
    this.titleEn.value = "";
    this.url.value = "";
    this.ctx.toast("panel.stage.created");
    this.onCreated?.(ack.talk);
  }
}
