// The Q&A of one talk in the stage panel: questions ordered open-first by votes, an upvote toggle
// per question (one per person, the server enforces it), the ask form, and for the speaker (and
// admins) "mark answered" / "hide". Lives inside the stage panel; the panel feeds it
// `stage.question` events.

import { button, el } from "./dom.js";

const RANK = { open: 0, answered: 1, hidden: 2 };

export function sortQuestions(list) {
  return [...list].sort((a, b) => (RANK[a.status] ?? 3) - (RANK[b.status] ?? 3)
    || b.votes - a.votes || a.created_at - b.created_at);
}

export class StageQa {
  /**
   * @param {HTMLElement} root where the Q&A renders
   * @param {object} ctx the panel context (i18n, transport, user, toast)
   */
  constructor(root, ctx) {
    this.ctx = ctx;
    this.i18n = ctx.i18n;
    this.talk = null;
    /** @type {Map<string, object>} */
    this.questions = new Map();
    this.voted = new Set();
    this.root = root;
    this.head = el("h3", "panel-subtitle stage-qa-head");
    this.list = el("ol", "stage-qa-list");
    this.empty = el("p", "panel-summary stage-qa-empty");
    this.form = el("form", "stage-ask");
    this.label = el("label", "stage-ask-label");
    this.input = el("textarea", "stage-ask-input");
    this.input.id = "stage-ask-input";
    this.input.rows = 2;
    this.input.maxLength = 300;
    this.label.htmlFor = this.input.id;
    this.submit = button("", "btn primary small stage-ask-btn");
    this.submit.type = "submit";
    this.form.append(this.label, this.input, this.submit);
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.ask(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.ask(); }
    });
    root.append(this.head, this.empty, this.list, this.form);
  }

  get privileged() {
    const u = this.ctx.user;
    return Boolean(u && this.talk && (u.id === this.talk.speaker?.id || u.roles?.includes("admin")));
  }

  /** Show the Q&A of `talk` (null: none). Loads the list when the talk changes. */
  async show(talk) {
    const changed = talk?.id !== this.talk?.id;
    this.talk = talk;
    if (!changed) { this.render(); return; }
    this.questions.clear();
    this.voted.clear();
    this.render();
    if (!talk) return;
    const ack = await this.ctx.transport.request("stage.questions", { talk_id: talk.id });
    if (!ack?.ok || this.talk?.id !== talk.id) return;
    for (const q of ack.questions) this.questions.set(q.id, q);
    this.voted = new Set(ack.voted ?? []);
    this.render();
  }

  /** A `stage.question` event (new, votes, status). */
  receive(q) {
    if (!q || q.talk_id !== this.talk?.id) return;
    const had = this.questions.get(q.id);
    if (q.status === "hidden" && !q.text && !this.privileged) this.questions.delete(q.id);
    else this.questions.set(q.id, { ...had, ...q });
    this.render();
  }

  async ask() {
    const text = this.input.value.trim();
    if (!text || !this.talk) return;
    this.submit.disabled = true;
    const ack = await this.ctx.transport.request("stage.ask", { talk_id: this.talk.id, text });
    this.submit.disabled = false;
    if (!ack?.ok) {
      this.ctx.toast("error.with_code", { message: this.i18n.errorText(ack?.error?.code, ack?.error?.message) }, "warn");
      return;
    }
    this.input.value = "";
    this.questions.set(ack.question.id, ack.question);
    this.render();
    this.ctx.toast("panel.stage.asked");
  }

  async vote(q) {
    const up = !this.voted.has(q.id);
    const ack = await this.ctx.transport.request("stage.vote", { question_id: q.id, up });
    if (ack?.ok) {
      if (up) this.voted.add(q.id); else this.voted.delete(q.id);
      this.questions.set(q.id, { ...this.questions.get(q.id), ...ack.question });
    } else if (ack?.error?.code === "conflict") {
      // Another tab voted (or took the vote back) already: the server's state wins.
      if (up) this.voted.add(q.id); else this.voted.delete(q.id);
    } else {
      this.ctx.toast("error.with_code", { message: this.i18n.errorText(ack?.error?.code, ack?.error?.message) }, "warn");
    }
    this.render();
  }

  async setStatus(q, status) {
    const ack = await this.ctx.transport.request("stage.moderate", { question_id: q.id, status });
    if (ack?.ok) this.receive(ack.question);
    else this.ctx.toast("error.with_code", { message: this.i18n.errorText(ack?.error?.code, ack?.error?.message) }, "warn");
  }

  render() {
    const { i18n } = this;
    this.root.hidden = !this.talk;
    this.head.textContent = i18n.t("panel.stage.qa");
    this.label.textContent = i18n.t("panel.stage.ask_label");
    this.input.placeholder = i18n.t("panel.stage.ask_placeholder");
    this.submit.textContent = i18n.t("panel.stage.ask");
    this.form.hidden = !this.talk || this.talk.status === "ended";
    const items = sortQuestions([...this.questions.values()]);
    this.empty.hidden = items.length > 0;
    this.empty.textContent = i18n.t("panel.stage.qa_empty");
    this.list.replaceChildren(...items.map((q) => this._item(q)));
  }

  _item(q) {
    const { i18n } = this;
    const li = el("li", `stage-q stage-q-${q.status}`);
    li.dataset.questionId = q.id;
    const mine = this.voted.has(q.id);
    const vote = button("", `btn small stage-vote${mine ? " voted" : ""}`);
    vote.setAttribute("aria-pressed", String(mine));
    vote.setAttribute("aria-label", `${i18n.t(mine ? "panel.stage.upvoted" : "panel.stage.upvote")} · ${i18n.t("panel.stage.votes", { n: q.votes })}`);
    vote.title = i18n.t(mine ? "panel.stage.upvoted" : "panel.stage.upvote");
    vote.append(el("span", "stage-vote-arrow", "▲"), el("span", "stage-vote-count", String(q.votes)));
    vote.disabled = q.status === "hidden";
    vote.addEventListener("click", () => this.vote(q));
    const body = el("div", "stage-q-body");
    const text = el("p", "stage-q-text", q.text ?? "");
    const meta = el("p", "stage-q-meta", q.from?.display_name ?? "");
    if (q.status === "answered") meta.append(" · ", el("span", "stage-badge answered", i18n.t("panel.stage.answered")));
    if (q.status === "hidden") meta.append(" · ", el("span", "stage-badge hidden", i18n.t("panel.stage.hidden")));
    body.append(text, meta);
    if (this.privileged) {
      const tools = el("div", "stage-q-tools");
      if (q.status === "open") {
        const done = button(i18n.t("panel.stage.mark_answered"), "btn small subtle stage-q-answer");
        done.addEventListener("click", () => this.setStatus(q, "answered"));
        tools.append(done);
      }
      const hide = button(i18n.t(q.status === "hidden" ? "panel.stage.unhide" : "panel.stage.hide"), "btn small subtle stage-q-hide");
      hide.addEventListener("click", () => this.setStatus(q, q.status === "hidden" ? "open" : "hidden"));
      tools.append(hide);
      body.append(tools);
    }
    li.append(vote, body);
    return li;
  }
}
