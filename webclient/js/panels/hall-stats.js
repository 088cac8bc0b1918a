// "Hall statistics" (service halls, admins): today's figures per service and per counter from
// hall.stats, refreshed every few seconds while the panel is open.

import { el } from "./dom.js";

const REFRESH_MS = 5000;

function mins(s) {
  return s == null ? "–" : (s / 60).toFixed(1);
}

function table(i18n, cols, rows) {
  const t = el("table", "data-table");
  const head = el("tr");
  for (const [key] of cols) head.append(el("th", null, i18n.t(`panel.stats.col.${key}`)));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  for (const r of rows) {
    const tr = el("tr");
    for (const [, fn] of cols) tr.append(el("td", null, String(fn(r) ?? "–")));
    tbody.append(tr);
  }
  t.append(thead, tbody);
  return t;
}

export const hallStatsPanel = {
  id: "hall-stats",
  titleKey: "panel.stats.title",
  icon: "dot",
  order: 50,
  when: (ctx) => ctx.room?.kind === "hall" && Boolean(ctx.user?.roles?.includes("admin")),
  mount(container, ctx) {
    const { i18n } = ctx;
    const summary = el("p", "panel-summary stats-summary");
    summary.setAttribute("aria-live", "polite");
    const svcHead = el("h3", "panel-subtitle");
    const svcWrap = el("div", "stats-table stats-services");
    const ctrHead = el("h3", "panel-subtitle");
    const ctrWrap = el("div", "stats-table stats-counters");
    container.append(summary, svcHead, svcWrap, ctrHead, ctrWrap);
    let data = null;
    let timer = 0;
    let busy = false;

    const render = () => {
      svcHead.textContent = i18n.t("panel.stats.services");
      ctrHead.textContent = i18n.t("panel.stats.counters");
      if (!data) { summary.textContent = i18n.t("panel.stats.loading"); return; }
      const tot = data.totals ?? {};
      summary.textContent = i18n.t("panel.stats.summary", {
        waiting: tot.waiting ?? 0, served: tot.served ?? 0, issued: tot.issued ?? 0,
        time: new Date(data.now ?? Date.now()).toLocaleTimeString(i18n.lang),
      });
      const pct = (v) => (v == null ? "–" : `${Math.round(v * 100)}%`);
      const rating = (r) => (r.rating_count ? `${Number(r.rating_avg).toFixed(1)} (${r.rating_count})` : "–");
      svcWrap.replaceChildren(table(i18n, [
        ["service", (r) => i18n.pick(r.name) || r.service_id],
        ["waiting", (r) => r.waiting],
        ["issued", (r) => r.issued],
        ["served", (r) => r.served],
        ["no_show", (r) => pct(r.no_show_rate)],
        ["wait_p50", (r) => mins(r.wait_p50_s)],
        ["wait_p90", (r) => mins(r.wait_p90_s)],
        ["per_hour", (r) => (r.served_per_hour == null ? "–" : Number(r.served_per_hour).toFixed(1))],
        ["rating", rating],
      ], data.services ?? []));
      ctrWrap.replaceChildren(table(i18n, [
        ["counter", (r) => i18n.pick(r.name) || r.counter_id],
        ["open", (r) => i18n.t(r.open ? "panel.stats.yes" : "panel.stats.no")],
        ["current", (r) => r.current ?? "–"],
        ["waiting", (r) => r.waiting],
        ["served", (r) => r.served],
        ["no_show", (r) => pct(r.no_show_rate)],
        ["wait_p50", (r) => mins(r.wait_p50_s)],
        ["wait_p90", (r) => mins(r.wait_p90_s)],
        ["per_hour", (r) => (r.served_per_hour == null ? "–" : Number(r.served_per_hour).toFixed(1))],
        ["rating", rating],
      ], data.counters ?? []));
    };

    const refresh = async () => {
      if (busy || !ctx.transport.connected) return;
      busy = true;
      const ack = await ctx.transport.request("hall.stats", {});
      busy = false;
      if (ack?.ok) {
        const { ok, ...rest } = ack;
        data = rest;
        render();
      } else if (ack?.error?.code !== "offline") {
        summary.textContent = i18n.errorText(ack?.error?.code, ack?.error?.message);
      }
    };
    const start = () => { stop(); refresh(); timer = setInterval(refresh, REFRESH_MS); };
    const stop = () => { if (timer) clearInterval(timer); timer = 0; };
    document.addEventListener("metahall:lang-changed", render);
    render();
    start();
    return {
      show: start,
      hide: stop,
      unmount: () => { stop(); document.removeEventListener("metahall:lang-changed", render); },
    };
  },
};
