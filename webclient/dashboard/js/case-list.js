// The list of cases, highest severity first, then oldest first (the server's order).

export class CaseList {
  /** @param {HTMLElement} list  @param {HTMLElement} empty  @param {(id: string) => void} onPick */
  constructor(list, empty, i18n, onPick) {
    this.list = list;
    this.empty = empty;
    this.i18n = i18n;
    this.onPick = onPick;
    this.cases = [];
    this.current = null;
  }

  show(cases) {
    this.cases = cases;
    this.render();
  }

  select(id) {
    this.current = id;
    for (const button of this.list.querySelectorAll(".case-item")) {
      button.setAttribute("aria-current", String(button.dataset.caseId === id));
    }
  }

  render() {
    const t = (k, v) => this.i18n.t(k, v);
    this.list.replaceChildren();
    this.empty.hidden = this.cases.length > 0;
    const now = Date.now();
    for (const c of this.cases) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "case-item";
      button.dataset.caseId = c.id;
      button.dataset.severity = String(c.severity);
      button.setAttribute("aria-current", String(c.id === this.current));
      const sev = document.createElement("span");
      sev.className = "head";
      const level = document.createElement("span");
      level.className = "sev";
      level.textContent = t(`sev${c.severity}`);
      sev.append(level, ` · ${c.room_id}`);
      const why = document.createElement("span");
      why.className = "why";
      why.textContent = c.reason;
      why.title = c.reason;
      const age = document.createElement("span");
      age.className = "age";
      const minutes = Math.floor((now - c.opened_at) / 60000);
      age.textContent = (minutes < 1 ? t("justNow") : t("ago", { n: minutes }))
        + (c.n_reports ? ` · ${t("reports")} ${c.n_reports}` : "");
      button.append(sev, why, age);
      button.addEventListener("click", () => this.onPick(c.id));
      li.append(button);
      this.list.append(li);
    }
  }
}
