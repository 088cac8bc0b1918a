// "Counter" (service halls, staff and admins): choose a counter and the services it serves, open /
// close it, call the next citizen, recall, tick off the documents, talk privately with the citizen
// at the counter (chat channel "counter:<id>"), finish (served / no-show / transferred to another
// service), and see the queue figures of the counter's services (counter.state, then live from
// counter.update).

import { el, button } from "./dom.js";
import { counterChatsFor, counterChatView } from "./hall-chat.js";

function hasRole(ctx, role) {
  return Boolean(ctx.user?.roles?.includes(role));
}

const OUTCOMES = ["served", "no_show", "transferred"];

function minutes(s) {
  return s == null ? "–" : String(Math.round(s / 60));
}

function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export const staffPanel = {
  id: "counter",
  titleKey: "panel.counter.title",
  icon: "shield",
  order: 40,
  when: (ctx) => {
    const ok = ctx.room?.kind === "hall" && (hasRole(ctx, "staff") || hasRole(ctx, "admin"));
    if (ok) counterChatsFor(ctx); // keep the counter conversation from now on, even while closed
    return ok;
  },
  mount(container, ctx) {
    const { i18n } = ctx;
    const chats = counterChatsFor(ctx);
    /** @type {Map<string, object>} staff views by counter id */
    const counters = new Map();
    /** @type {Map<string, object>} */
    const services = new Map();
    /** @type {Map<string, Set<string>>} counter id → services ticked before opening / changing */
    const picked = new Map();
    let queues = [];
    let selected = null;

    const pickLabel = el("label", "staff-label");
    pickLabel.htmlFor = "staff-counter";
    const select = el("select", "staff-counter");
    select.id = "staff-counter";
    const status = el("p", "panel-summary staff-status");
    status.setAttribute("aria-live", "polite");

    // The services this counter calls: its configured ones, and any other active service.
    const svcBox = el("fieldset", "staff-services");
    const svcLegend = el("legend", "staff-label");
    const svcHint = el("p", "staff-services-hint");
    const svcList = el("div", "staff-service-list");
    const svcMore = el("details", "staff-services-more");
    const svcMoreSummary = el("summary");
    const svcMoreList = el("div", "staff-service-list");
    svcMore.append(svcMoreSummary, svcMoreList);
    const applyBtn = button("", "btn small staff-apply-services");
    svcLegend.classList.add("visually-hidden"); // the summary below says it
    svcBox.append(svcLegend, svcHint, svcList, svcMore, applyBtn);
    // Unfolded while the counter is closed (choose, then open); folded to one line once it is open.
    const svcWrap = el("details", "staff-services-wrap");
    const svcSummary = el("summary", "staff-services-summary");
    svcWrap.append(svcSummary, svcBox);
    let svcKey = "";
    let svcFoldedFor = "";

    const actions = el("div", "staff-actions");
    const openBtn = button("", "btn small primary staff-open");
    const closeBtn = button("", "btn small staff-close");
    const nextBtn = button("", "btn small primary staff-next");
    const recallBtn = button("", "btn small staff-recall");
    actions.append(openBtn, closeBtn, nextBtn, recallBtn);

    const current = el("div", "staff-current");
    const curHead = el("h3", "panel-subtitle");
    const curBody = el("div", "staff-current-body");
    const docsHead = el("h4", "hall-docs-head staff-docs-head");
    const docs = el("ul", "staff-docs");
    let docsKey = "";
    const chatHead = el("h4", "hall-chat-head staff-chat-head");
    const chat = counterChatView(ctx, chats, { idPrefix: "staff", placeholderKey: "panel.counter.chat_placeholder" });
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
    current.append(curHead, curBody, docsHead, docs, chatHead, chat.root, finish);

    const queuesHead = el("h3", "panel-subtitle");
    const table = el("table", "data-table staff-queues");
    container.append(pickLabel, select, status, svcWrap, actions, current, queuesHead, table);

    const error = (ack) => ctx.toast("error.with_code", { message: i18n.errorText(ack?.error?.code, ack?.error?.message) }, "error");
    const svcName = (id) => (services.has(id) ? i18n.pick(services.get(id).name) : id);
    // Closed counters are anyone's to open; an open one is mine if I hold it (the public listing
    // leaves staff_id out, so an open counter without it is someone else's).
    const mineOf = (c) => Boolean(c) && (!c.open || c.staff_id === ctx.user?.id);

    /** What is ticked for counter `c`: the user's choice, else what it serves now, else its configuration. */
    const chosenFor = (c) => picked.get(c.id) ?? new Set(c.open && c.serving?.length ? c.serving : c.services ?? []);

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

    const serviceBox = (c, sid, chosen, disabled) => {
      const lab = el("label", "staff-service");
      const box = el("input");
      box.type = "checkbox";
      box.dataset.serviceId = sid;
      box.checked = chosen.has(sid);
      box.disabled = disabled;
      box.addEventListener("change", () => {
        const set = new Set(chosenFor(c));
        if (box.checked) set.add(sid);
        else set.delete(sid);
        picked.set(c.id, set);
        render();
      });
      lab.append(box, el("span", null, svcName(sid)));
      return lab;
    };

    const renderServices = (c) => {
      svcWrap.hidden = !c;
      if (!c) return;
      const fold = `${c.id}:${Boolean(c.open)}`;
      if (fold !== svcFoldedFor) { svcFoldedFor = fold; svcWrap.open = !c.open; }
      svcSummary.textContent = c.open
        ? i18n.t("panel.counter.serving_now", { services: (c.serving ?? []).map(svcName).join(i18n.lang === "zh-CN" ? "、" : ", ") })
        : i18n.t("panel.counter.services");
      const mine = mineOf(c);
      const chosen = chosenFor(c);
      const disabled = Boolean(c.open && !mine);
      const configured = c.services ?? [];
      const others = [...services.values()].filter((s) => s.active !== false && !configured.includes(s.id)).map((s) => s.id);
      const key = [c.id, configured.join(","), others.join(","), i18n.lang].join("|");
      if (key !== svcKey) {
        svcKey = key;
        svcList.replaceChildren(...configured.map((sid) => serviceBox(c, sid, chosen, disabled)));
        svcMoreList.replaceChildren(...others.map((sid) => serviceBox(c, sid, chosen, disabled)));
        if (others.some((sid) => chosen.has(sid))) svcMore.open = true;
      }
      for (const box of svcBox.querySelectorAll("input[data-service-id]")) {
        box.checked = chosen.has(box.dataset.serviceId);
        box.disabled = disabled;
      }
      svcLegend.textContent = i18n.t("panel.counter.services");
      svcHint.textContent = i18n.t(c.open ? "panel.counter.services_hint_open" : "panel.counter.services_hint");
      svcMoreSummary.textContent = i18n.t("panel.counter.services_more", { n: others.length });
      svcMore.hidden = others.length === 0;
      applyBtn.textContent = i18n.t("panel.counter.apply_services");
      applyBtn.hidden = !c.open || !mine;
      applyBtn.disabled = chosen.size === 0 || sameSet(chosen, new Set(c.serving ?? []));
    };

    const renderDocs = (tk) => {
      const list = tk?.documents ?? [];
      docsHead.hidden = list.length === 0;
      docs.hidden = list.length === 0;
      if (!list.length) { docsKey = ""; docs.replaceChildren(); return; }
      const done = list.filter((d) => d.checked).length;
      docsHead.textContent = i18n.t("panel.counter.docs_head", { n: done, total: list.length });
      const key = [tk.id, list.map((d) => d.id).join(","), i18n.lang].join("|");
      if (key !== docsKey) {
        docsKey = key;
        docs.replaceChildren(...list.map((d) => {
          const li = el("li");
          const lab = el("label");
          const box = el("input");
          box.type = "checkbox";
          box.dataset.docId = d.id;
          box.addEventListener("change", async () => {
            const checked = [...docs.querySelectorAll("input:checked")].map((b) => b.dataset.docId);
            const ack = await ctx.transport.request("counter.docs", { ticket_id: tk.id, checked });
            if (!ack?.ok) { error(ack); box.checked = !box.checked; return; }
            const c = counters.get(selected);
            if (c?.current?.id === tk.id && Array.isArray(ack.documents)) {
              c.current = { ...c.current, documents: ack.documents, docs_checked: ack.checked, status: "serving" };
              render();
            }
          });
          lab.append(box, el("span", null, i18n.pick(d.name)));
          li.append(lab);
          return li;
        }));
      }
      for (const box of docs.querySelectorAll("input[data-doc-id]")) {
        box.checked = Boolean(list.find((d) => d.id === box.dataset.docId)?.checked);
      }
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
      const mine = mineOf(c);
      status.textContent = !c ? i18n.t("panel.counter.none")
        : c.open ? (mine ? i18n.t("panel.counter.state_open") : i18n.t("panel.counter.state_taken"))
          : i18n.t("panel.counter.state_closed");
      status.dataset.open = String(Boolean(c?.open));
      renderServices(c);
      openBtn.disabled = !c || Boolean(c.open) || chosenFor(c).size === 0;
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
        if (tk.appointment) curBody.append(" ", el("span", "hall-badge staff-appt", i18n.t("panel.queue.appointment_badge")));
        chatHead.textContent = i18n.t("panel.counter.chat_head", { name: tk.display_name ?? "" });
        chat.set(`counter:${c.id}`, tk.called_at ?? 0);
      } else {
        delete curBody.dataset.ticketId;
        chat.set(null);
      }
      renderDocs(tk);

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
        ctx.api.get("/api/hall/counters").catch(() => null),
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
      svcKey = "";
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
    openBtn.addEventListener("click", () => {
      const c = counters.get(selected);
      if (!c) return;
      act(openBtn, "counter.open", { counter_id: c.id, service_ids: [...chosenFor(c)] }, () => picked.delete(c.id));
    });
    applyBtn.addEventListener("click", () => {
      const c = counters.get(selected);
      if (!c) return;
      act(applyBtn, "counter.open", { counter_id: c.id, service_ids: [...chosenFor(c)] }, () => {
        picked.delete(c.id);
        ctx.toast("panel.counter.services_changed");
      });
    });
    closeBtn.addEventListener("click", () => act(closeBtn, "counter.close", { counter_id: selected }));
    nextBtn.addEventListener("click", () => act(nextBtn, "counter.next", { counter_id: selected }, (ack) => {
      const c = counters.get(selected);
      if (c) c.current = ack.ticket ?? null;
      if (!ack.ticket) ctx.toast("panel.counter.empty");
      else {
        ctx.toast("panel.counter.calling", { number: ack.ticket.number });
        requestAnimationFrame(() => current.scrollIntoView({ block: "nearest" }));
      }
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
    const relabel = () => { svcKey = ""; docsKey = ""; renderSelect(); renderTargets(); render(); };
    document.addEventListener("metahall:joined", onJoined);
    document.addEventListener("metahall:lang-changed", relabel);
    render();
    load();
    return {
      show: () => chat.visible(true),
      hide: () => chat.visible(false),
      unmount: () => {
        for (const off of offs) off?.();
        chat.dispose();
        document.removeEventListener("metahall:joined", onJoined);
        document.removeEventListener("metahall:lang-changed", relabel);
      },
    };
  },
};
