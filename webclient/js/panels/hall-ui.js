// Small UI pieces the hall panels share: sub-tabs inside a panel, and dates and times shown in the
// hall's own time zone (slots are "09:00" in the hall, wherever the browser is).

import { el } from "./dom.js";

/**
 * Tabs inside a panel (WAI-ARIA tabs: arrow keys, Home/End move between them).
 * @param {string} prefix id prefix, e.g. "queue" → #queue-tab-take, #queue-pane-take
 * @param {string[]} ids tab ids, the first is selected
 * @param {(id: string) => void} [onSelect]
 */
export function subTabs(prefix, ids, onSelect) {
  const bar = el("div", "hall-tabs");
  bar.setAttribute("role", "tablist");
  const tabs = new Map();
  const panes = new Map();
  const badges = new Map();
  let selected = ids[0];
  const select = (id, focus = false, quiet = false) => {
    if (!tabs.has(id)) return;
    selected = id;
    for (const [tid, tab] of tabs) {
      const on = tid === id;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panes.get(tid).hidden = !on;
    }
    if (focus) tabs.get(id).focus();
    if (!quiet) onSelect?.(id);
  };
  for (const id of ids) {
    const tab = el("button", "hall-tab");
    tab.type = "button";
    tab.id = `${prefix}-tab-${id}`;
    tab.dataset.tab = id;
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", `${prefix}-pane-${id}`);
    const label = el("span", "hall-tab-label");
    const badge = el("span", "badge hall-tab-badge");
    badge.hidden = true;
    tab.append(label, badge);
    tab.addEventListener("click", () => select(id));
    tab.addEventListener("keydown", (e) => {
      const i = ids.indexOf(selected);
      const next = { ArrowRight: ids[(i + 1) % ids.length], ArrowLeft: ids[(i + ids.length - 1) % ids.length],
        Home: ids[0], End: ids[ids.length - 1] }[e.key];
      if (next) { e.preventDefault(); select(next, true); }
    });
    const pane = el("div", "hall-pane");
    pane.id = `${prefix}-pane-${id}`;
    pane.setAttribute("role", "tabpanel");
    pane.setAttribute("aria-labelledby", tab.id);
    tabs.set(id, tab);
    panes.set(id, pane);
    badges.set(id, badge);
    bar.append(tab);
  }
  select(selected, false, true);
  return {
    bar,
    panes,
    select,
    get selected() { return selected; },
    /** Sets a tab's text (and its accessible name, which includes the badge's meaning). */
    label(id, text, badgeLabel = "") {
      const tab = tabs.get(id);
      tab.querySelector(".hall-tab-label").textContent = text;
      if (badgeLabel) tab.setAttribute("aria-label", `${text} (${badgeLabel})`);
      else tab.removeAttribute("aria-label");
    },
    /** A small count on the tab (0 hides it); `mark` is a short text such as "●" instead of a number. */
    badge(id, n, mark = "") {
      const b = badges.get(id);
      b.hidden = !n && !mark;
      b.textContent = mark || (n > 99 ? "99+" : String(n));
    },
  };
}

function formatter(lang, tz, options) {
  try {
    return new Intl.DateTimeFormat(lang, { ...options, timeZone: tz || undefined });
  } catch {
    return new Intl.DateTimeFormat(lang, options); // an unknown time zone: the browser's
  }
}

/** "09:30" for a Unix ms time, in the hall's time zone. */
export function hallTime(lang, tz, ms) {
  return formatter(lang, tz, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(ms));
}

/** "Tue, 3 Jun" / "6月3日周二" for a hall day "YYYY-MM-DD" (a calendar day: no time zone shift). */
export function hallDay(lang, day) {
  const d = new Date(`${day}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return formatter(lang, "UTC", { weekday: "short", month: "short", day: "numeric" }).format(d);
}

/** The hall day "YYYY-MM-DD" of a Unix ms time. */
export function hallDate(tz, ms) {
  const parts = formatter("en-CA", tz, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(ms));
  const get = (t) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** "Tue, 3 Jun 09:00–09:30" for an appointment or slot. */
export function slotText(lang, tz, start, end) {
  const day = hallDay(lang, hallDate(tz, start));
  return `${day} ${hallTime(lang, tz, start)}–${hallTime(lang, tz, end)}`;
}
