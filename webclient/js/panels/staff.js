// "Counter" (service halls, staff and admins): choose a counter, open / close it, call the next
// citizen, recall, finish (served / no-show / transferred to another service), and see the queue
// figures of the counter's services (counter.state, then live from counter.update).

import { el, button } from "./dom.js";

function hasRole(ctx, role) {
  return Boolean(ctx.user?.roles?.includes(role));
}

const OUTCOMES = ["served", "no_show", "transferred"];

function minutes(s) {
  return s == null ? "–" : String(Math.round(s / 60));
}

export const staffPanel = {
  id: "counter",
  titleKey: "panel.counter.title",
  icon: "shield",
  order: 40,
  when: (ctx) => ctx.room?.kind === "hall" && (hasRole(ctx, "staff") || hasRole(ctx, "admin")),
  mount(container, ctx) {
    const { i18n } = ctx;
    /** @type {Map<string, object>} staff views by counter id */
    const counters = new Map();
    /** @type {Map<string, object>} */
    const services = new Map();
    let queues = [];
    let selected = null;

    const pickLabel = el("label", "staff-label");
    pickLabel.htmlFor = "staff-counter";
    const select = el("select", "staff-counter");
    select.id = "staff-counter";
    const status = el("p", "panel-summary staff-status");
    status.setAttribute("aria-live", "polite");
    const actions = el("div", "staff-actions");
    const openBtn = button("", "btn small primary staff-open");
    const closeBtn = button("", "btn small staff-close");
    const nextBtn = button("", "btn small primary staff-next");
    const recallBtn = button("", "btn small staff-recall");
    actions.append(openBtn, closeBtn, nextBtn, recallBtn);

    const current = el("div", "staff-current");
    const curHead = el("h3", "panel-subtitle");
    const curBody = el("div", "staff-current-body");
    const finish = el("form", "staff-finish");
    const outcome = el("select", "staff-outcome");
    const outcomeLabel = el("label", "staff-label");
    outcomeLabel.htmlFor = "staff-outcome";
    outcome.id = "staff-outcome";
    const target = el("select", "staff-target");
    target.id = "staff-target";
    const targetLabel = el("label", "staff-label");
    targetLabel.htmlFor = "staff-target";
    const finishBtn = el("button", "btn small primary staff-finish-btn");
    finishBtn.type = "submit";
    finish.append(outcomeLabel, outcome, targetLabel, target, finishBtn);
    current.append(curHead, curBody, finish);

    const queuesHead = el("h3", "panel-subtitle");
    const table = el("table", "data-table staff-queues");
    container.append(pickLabel, select, status, actions, current, queuesHead, table);

    const error = (ack) => ctx.toast("error.with_code", { message: i18n.errorText(ack?.error?.code, ack?.error?.message) }, "error");
    const svcName = (id) => (services.has(id) ? i18n.pick(services.get(id).name) : id);

    const renderSelect = () => {
      const keep = selected;
      select.replaceChildren();
      for (const c of [...counters.values()].filter((c) => c.active !== false)) {
        const o = el("option", null, `${i18n.pick(c.name) || c.id}${c.open ? ` · ${i18n.t("panel.counter.is_open")}` : ""}`);
        o.value = c.id;
        select.append(o);
      }
      if (keep && counters.has(keep)) select.value = keep;
      selected = select.value || null;
    };

    const renderTargets = () => {
      const keep = target.value;
      target.replaceChildren();
      for (const s of services.values()) {
        if (s.active === false) continue;
        const o = el("option", null, i18n.pick(s.name));
        o.value = s.id;
        target.append(o);
      }
      if (keep) target.value = keep;
    };

    const render = () => {
      pickLabel.textContent = i18n.t("panel.counter.choose");
      openBtn.textContent = i18n.t("panel.counter.open");
      closeBtn.textContent = i18n.t("panel.counter.close");
      nextBtn.textContent = i18n.t("panel.counter.next");
      recallBtn.textContent = i18n.t("panel.counter.recall");
      curHead.textContent = i18n.t("panel.counter.current");
      outcomeLabel.textContent = i18n.t("panel.counter.outcome");
      targetLabel.textContent = i18n.t("panel.counter.transfer_to");
      finishBtn.textContent = i18n.t("panel.counter.finish");
      queuesHead.textContent = i18n.t("panel.counter.queues");
      const keepOutcome = outcome.value || "served";
      outcome.replaceChildren(...OUTCOMES.map((o) => {
        const opt = el("option", null, i18n.t(`panel.counter.outcome.${o}`));
        opt.value = o;
        return opt;
      }));
      outcome.value = keepOutcome;
      const transfer = outcome.value === "transferred";
      target.hidden = !transfer;
      targetLabel.hidden = !transfer;

      const c = selected ? counters.get(selected) : null;
      const mine = c && (!c.staff_id || c.staff_id === ctx.user?.id);
      status.textContent = !c ? i18n.t("panel.counter.none")
        : c.open ? (mine ? i18n.t("panel.counter.state_open") : i18n.t("panel.counter.state_taken"))
          : i18n.t("panel.counter.state_closed");
      status.dataset.open = String(Boolean(c?.open));
      openBtn.disabled = !c || Boolean(c.open);
      closeBtn.disabled = !c || !c.open || !mine || Boolean(c.current);
      nextBtn.disabled = !c || !c.open || !mine || Boolean(c.current);
      recallBtn.disabled = !c || !c.current || c.current.status !== "called";

      const tk = c?.current ?? null;
      current.hidden = !tk;
      curBody.replaceChildren();
      if (tk) {
        curBody.dataset.ticketId = tk.id;
        const num = el("strong", "staff-current-number", tk.number ?? "");
        const who = el("span", "item-meta", `${tk.display_name ?? ""} · ${svcName(tk.service_id)} · ${i18n.t(`panel.counter.ticket.${tk.status}`)}${tk.recalls ? ` · ${i18n.t("panel.counter.recalls", { n: tk.recalls })}` : ""}`);
        curBody.append(num, who);
        if (tk.documents?.length) {
          const docs = el("ul", "staff-docs");
          for (const d of tk.documents) {
            const li = el("li");
            const lab = el("label");
            const box = el("input");
            box.type = "checkbox";
            box.checked = Boolean(d.checked);
            box.dataset.docId = d.id;
            box.addEventListener("change", async () => {
              const checked = [...docs.querySelectorAll("input:checked")].map((b) => b.dataset.docId);
              const ack = await ctx.transport.request("counter.docs", { ticket_id: tk.id, checked });
              if (!ack?.ok) error(ack);
            });
            lab.append(box, el("span", null, i18n.pick(d.name)));
            li.append(lab);
            docs.append(li);
          }
          curBody.append(docs);
        }
      } else delete curBody.dataset.ticketId;

      // Queue figures: the counter's own, else every service's from counter.state.
      const rows = c?.queues?.length ? c.queues : queues;
      table.replaceChildren();
      const head = el("tr");
      for (const k of ["service", "waiting", "longest", "eta", "open"]) head.append(el("th", null, i18n.t(`panel.counter.col.${k}`)));
      const thead = el("thead");
      thead.append(head);
      const tbody = el("tbody");
      for (const q of rows) {
        const tr = el("tr");
        tr.dataset.serviceId = q.service_id;
        for (const v of [svcName(q.service_id), String(q.waiting ?? 0), minutes(q.longest_wait_s), minutes(q.eta_s), String(q.counters_open ?? 0)]) tr.append(el("td", null, v));
        tbody.append(tr);
      }
      table.append(thead, tbody);
    };

    const applyCounter = (c) => {
      if (!c?.id) return;
      counters.set(c.id, { ...(counters.get(c.id) ?? {}), ...c });
    };

    const load = async () => {
      const [st, svc, all] = await Promise.all([
        ctx.transport.request("counter.state", {}),
        ctx.transport.request("hall.services", {}),
        // counter.state lists only the counters I hold: the public listing has all of them.
        ctx.api._request("GET", "/api/hall/counters").catch(() => null),
      ]);
      if (svc?.ok) for (const s of svc.services ?? []) services.set(s.id, s);
      if (Array.isArray(all)) {
        for (const c of all) {
          const { current, ...rest } = c; // a number here, a ticket in the staff view
          applyCounter(counters.get(c.id)?.staff_id === ctx.user?.id ? { id: c.id } : { ...rest, current: null });
        }
      }
      if (st?.ok) {
        for (const c of st.counters ?? []) applyCounter(c);
        queues = st.queues ?? [];
        // Preselect the counter this staff member already holds.
        const held = [...counters.values()].find((c) => c.open && c.staff_id === ctx.user?.id);
        if (!selected && held) selected = held.id;
      } else error(st);
      renderSelect();
      renderTargets();
      render();
    };

    const act = async (btn, type, payload, after) => {
      btn.disabled = true;
      const ack = await ctx.transport.request(type, payload);
      if (!ack?.ok) { error(ack); render(); return; }
      if (ack.counter) applyCounter(ack.counter);
      after?.(ack);
      renderSelect();
      render();
    };

    select.addEventListener("change", () => { selected = select.value; render(); });
    outcome.addEventListener("change", render);
    openBtn.addEventListener("click", () => act(openBtn, "counter.open", { counter_id: selected }));
    closeBtn.addEventListener("click", () => act(closeBtn, "counter.close", { counter_id: selected }));
    nextBtn.addEventListener("click", () => act(nextBtn, "counter.next", { counter_id: selected }, (ack) => {
      const c = counters.get(selected);
      if (c) c.current = ack.ticket ?? null;
      if (!ack.ticket) ctx.toast("panel.counter.empty");
      else ctx.toast("panel.counter.calling", { number: ack.ticket.number });
    }));
    recallBtn.addEventListener("click", () => act(recallBtn, "counter.recall", { counter_id: selected }, (ack) => {
      const c = counters.get(selected);
      if (c && ack.ticket) c.current = ack.ticket;
    }));
    finish.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const c = counters.get(selected);
      const tk = c?.current;
      if (!tk) return;
      const payload = { ticket_id: tk.id, outcome: outcome.value };
      if (outcome.value === "transferred") {
        if (!target.value) return;
        payload.to_service_id = target.value;
      }
      act(finishBtn, "counter.finish", payload, (ack) => {
        c.current = null;
        if (ack.new_ticket) ctx.toast("panel.counter.transferred", { number: ack.new_ticket.number });
      });
    });

    const offs = [
      ctx.transport.on("counter.update", (c) => {
        applyCounter(c);
        if (c?.reason === "no_show_timeout") ctx.toast("panel.counter.no_show_timeout", { number: c.no_show ?? "" }, "warn");
        renderSelect();
        render();
      }),
    ];
    const onJoined = () => load();
    const relabel = () => { renderSelect(); renderTargets(); render(); };
    document.addEventListener("metahall:joined", onJoined);
    document.addEventListener("metahall:lang-changed", relabel);
    render();
    load();
    return {
      unmount: () => {
        for (const off of offs) off?.();
        document.removeEventListener("metahall:joined", onJoined);
        document.removeEventListener("metahall:lang-changed", relabel);
      },
    };
  },
};
