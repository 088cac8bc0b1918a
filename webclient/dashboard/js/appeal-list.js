// Open appeals: another moderator upholds or overturns them, with a note.

export class AppealList {
  constructor(list, empty, api, i18n) {
    Object.assign(this, { list, empty, api, i18n });
    this.appeals = [];
  }

  async refresh() {
    this.appeals = await this.api.appeals();
    this.render();
  }

  render() {
    const t = (k, v) => this.i18n.t(k, v);
    this.list.replaceChildren();
    this.empty.hidden = this.appeals.length > 0;
    for (const appeal of this.appeals) {
      const li = document.createElement("li");
      li.className = "appeal-item";
      const head = document.createElement("strong");
      head.textContent = t("appealBy", { action: t(`a_${appeal.action.action}`) });
      const text = document.createElement("span");
      text.textContent = appeal.text;
      const note = document.createElement("textarea");
      note.rows = 2;
      note.placeholder = t("decisionNote");
      note.setAttribute("aria-label", t("decisionNote"));
      const row = document.createElement("div");
      row.className = "row";
      for (const [decision, label] of [["upheld", "uphold"], ["overturned", "overturn"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn";
        button.textContent = t(label);
        button.addEventListener("click", async () => {
          if (!note.value.trim()) {
            note.focus();
            return;
          }
          try {
            await this.api.decide(appeal.id, decision, note.value.trim());
            await this.refresh();
          } catch (err) {
            text.textContent = `${appeal.text} — ${err.message}`;
          }
        });
        row.append(button);
      }
      li.append(head, text, note, row);
      this.list.append(li);
    }
  }
}
