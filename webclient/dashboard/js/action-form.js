// The action form of a case: warn, mute, kick, ban, remove a message, lock the room, dismiss.
// A note is required; the server checks the role table and answers 403 beyond it.

const NEEDS = {
  warn: ["user"], mute: ["user", "duration"], kick: ["user"], ban: ["user", "duration"],
  redact: ["message"], lock: [], unlock: [], dismiss: [],
};

export class ActionForm {
  constructor(form, api, i18n, onDone) {
    this.form = form;
    this.api = api;
    this.i18n = i18n;
    this.onDone = onDone;
    this.case = null;
    this.el = (id) => form.querySelector(`#${id}`);
    this.el("act-action").addEventListener("change", () => this.#toggle());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
  }

  /** Fill the user and message choices from a case (subjects and flagged lines first). */
  load(kase, names) {
    const same = this.case?.id === kase.id;  // reloaded after an action: keep its result
    this.case = kase;
    const users = this.el("act-user");
    users.replaceChildren();
    const ids = [...kase.subjects];
    for (const tr of kase.evidence.tracks) if (!ids.includes(tr.user_id)) ids.push(tr.user_id);
    for (const id of ids) users.append(new Option(`${names.get(id) ?? id.slice(0, 8)} (${id.slice(0, 6)})`, id));
    const messages = this.el("act-message");
    messages.replaceChildren();
    const flagged = new Set(kase.verdicts.map((v) => v.message_id).filter(Boolean));
    const lines = [...kase.evidence.chat].sort((a, b) => Number(flagged.has(b.id)) - Number(flagged.has(a.id)));
    for (const m of lines) {
      const text = m.text.length > 40 ? `${m.text.slice(0, 39)}…` : m.text;
      messages.append(new Option(`${m.from.display_name}: ${text}`, m.id));
    }
    if (!same) {
      this.el("act-note").value = "";
      this.#result("", "");
    }
    this.#toggle();
  }

  #toggle() {
    const needs = NEEDS[this.el("act-action").value] ?? [];
    this.el("act-user-label").hidden = !needs.includes("user");
    this.el("act-message-label").hidden = !needs.includes("message");
    this.el("act-duration-label").hidden = !needs.includes("duration");
  }

  async #submit() {
    const action = this.el("act-action").value;
    const note = this.el("act-note").value.trim();
    if (!note) {
      this.#result(this.i18n.t("noteRequired"), "error");
      return;
    }
    const needs = NEEDS[action] ?? [];
    const body = { action, note, reason: this.el("act-reason").value, case_id: this.case.id };
    if (needs.includes("user")) body.user_id = this.el("act-user").value;
    if (needs.includes("message")) body.message_id = this.el("act-message").value;
    if (needs.includes("duration") && this.el("act-duration").value) {
      body.duration_s = Number(this.el("act-duration").value);
    }
    if (action === "lock" || action === "unlock") body.room_id = this.case.room_id;
    const button = this.el("act-submit");
    button.disabled = true;
    try {
      await this.api.act(body);
      this.#result(this.i18n.t("done", { action: this.i18n.t(`a_${action}`) }), "ok");
      this.el("act-note").value = "";
      this.onDone(this.case.id);
    } catch (err) {
      this.#result(err.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  #result(text, kind) {
    const out = this.el("act-result");
    out.textContent = text;
    out.dataset.kind = kind;
  }
}
