// "People": who is around (nearest first), with direct message and report actions.

import { roleColor } from "../scene/avatar-crowd.js";

const MAX_ROWS = 50;
const REASONS = ["spam", "abuse", "inappropriate", "other"];

export const peoplePanel = {
  id: "people",
  titleKey: "panel.people.title",
  icon: "people",
  order: 20,
  mount(container, ctx) {
    const { i18n } = ctx;
    const summary = document.createElement("p");
    summary.className = "panel-summary";
    summary.setAttribute("aria-live", "polite");
    const list = document.createElement("ul");
    list.className = "item-list";
    container.append(summary, list);
    /** @type {Map<number, {li: HTMLElement, name: HTMLElement, meta: HTMLElement, e: object}>} */
    const rows = new Map();

    const makeRow = (e) => {
      const li = document.createElement("li");
      li.className = "item person";
      const dot = document.createElement("span");
      dot.className = "person-dot";
      dot.setAttribute("aria-hidden", "true");
      const text = document.createElement("div");
      text.className = "item-text";
      const name = document.createElement("span");
      name.className = "item-name";
      const meta = document.createElement("span");
      meta.className = "item-meta";
      text.append(name, meta);
      const actions = document.createElement("div");
      actions.className = "item-actions";
      const dm = document.createElement("button");
      dm.type = "button";
      dm.className = "btn small";
      dm.dataset.i18n = "panel.people.message";
      dm.addEventListener("click", () => ctx.chat.openDm(row.e.userId, row.e.name));
      const report = document.createElement("button");
      report.type = "button";
      report.className = "btn small subtle";
      report.dataset.i18n = "panel.people.report";
      report.setAttribute("aria-expanded", "false");
      const form = document.createElement("form");
      form.className = "report-form";
      form.hidden = true;
      const select = document.createElement("select");
      select.setAttribute("aria-label", i18n.t("panel.people.reason"));
      for (const r of REASONS) {
        const o = document.createElement("option");
        o.value = r;
        o.dataset.i18n = `report.${r}`;
        select.append(o);
      }
      const send = document.createElement("button");
      send.type = "submit";
      send.className = "btn small primary";
      send.dataset.i18n = "panel.people.send_report";
      form.append(select, send);
      report.addEventListener("click", () => {
        form.hidden = !form.hidden;
        report.setAttribute("aria-expanded", String(!form.hidden));
        if (!form.hidden) select.focus();
      });
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const ack = await ctx.transport.request("report", { user_id: row.e.userId, reason: select.value });
        form.hidden = true;
        report.setAttribute("aria-expanded", "false");
        if (ack.ok) ctx.toast("panel.people.reported", { name: row.e.name });
        else ctx.toast("error.with_code", { message: i18n.errorText(ack.error?.code, ack.error?.message) }, "error");
      });
      actions.append(dm, report);
      li.append(dot, text, actions, form);
      i18n.apply(li);
      const row = { li, name, meta, dot, e };
      return row;
    };

    const render = () => {
      const me = ctx.local;
      const people = [...ctx.world.entities.values()]
        .filter((e) => e.visible && e.userId)
        .map((e) => ({ e, d: Math.hypot(e.x - me.x, e.z - me.z) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, MAX_ROWS);
      summary.textContent = people.length ? i18n.t("panel.people.count", { n: people.length }) : i18n.t("panel.people.none");
      const keep = new Set();
      let prev = null;
      for (const { e, d } of people) {
        keep.add(e.eid);
        let row = rows.get(e.eid);
        if (!row) { row = makeRow(e); rows.set(e.eid, row); }
        row.e = e;
        row.name.textContent = e.name || "…";
        row.meta.textContent = i18n.t("unit.metres", { n: Math.round(d) });
        row.dot.style.background = e.color;
        row.dot.style.boxShadow = roleColor(e.roles) ? `0 0 0 2px ${roleColor(e.roles)}` : "";
        // Keep DOM order = distance order without re-creating rows (focus stays put).
        const want = prev ? prev.nextSibling : list.firstChild;
        if (want !== row.li && !row.li.contains(document.activeElement)) list.insertBefore(row.li, want);
        prev = row.li;
      }
      for (const [eid, row] of rows) {
        if (!keep.has(eid)) { row.li.remove(); rows.delete(eid); }
      }
    };
    const relabel = () => { for (const r of rows.values()) i18n.apply(r.li); render(); };
    document.addEventListener("metahall:lang-changed", relabel);
    render();
    return {
      update: render,
      unmount: () => document.removeEventListener("metahall:lang-changed", relabel),
    };
  },
};
