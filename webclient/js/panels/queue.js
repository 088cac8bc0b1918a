// "Queue" (service halls), in three tabs:
//   take         the guide ("what do you want to do?"), take a number, my tickets with position and
//                ETA (live from queue.update), the 1–5 rating after being served (queue.done);
//   appointments book a time slot, see and cancel bookings (hall-appointments.js); when the slot
//                begins the server issues a priority ticket (queue.issued) that shows up under take;
//   counter      at the counter: the private chat with the staff member (channel "counter:<id>",
//                hall-chat.js) and the documents the staff has checked (ticket.docs).
// Plus the call banner with a beep and the path to the counter drawn on the floor (queue.called).
//
// The ticket state lives in a controller that exists while the user is in a hall, whether or not
// the panel was ever opened: a call must reach the citizen even with the dock closed. The path is
// handed to the views as CustomEvent "metahall:path" {path: [[x, z], ...]|null} on `document`; a
// view that is (re)created asks for the current one with "metahall:path-request".

import { el, button } from "./dom.js";
import { appointmentsPane } from "./hall-appointments.js";
import { counterChatsFor, counterChatView } from "./hall-chat.js";
import { slotText, subTabs } from "./hall-ui.js";

const ACTIVE = new Set(["waiting", "called", "serving"]);
const AT_COUNTER = new Set(["called", "serving"]);

/** Dispatches the path (or null) for the 3D / 2D views. */
export function announcePath(path) {
  document.dispatchEvent(new CustomEvent("metahall:path", { detail: { path: path ?? null } }));
}

/** "3–5 min" style text for an ETA range in seconds. */
export function etaText(i18n, range, eta) {
  if (Array.isArray(range) && range.length === 2) {
    const lo = Math.max(0, Math.floor(range[0] / 60));
    const hi = Math.max(lo + 1, Math.ceil(range[1] / 60));
    return i18n.t("panel.queue.eta_range", { lo, hi });
  }
  if (typeof eta === "number") return i18n.t("panel.queue.eta", { n: Math.max(1, Math.round(eta / 60)) });
  return "";
}


class QueueController {
  constructor(ctx) {
    this.ctx = ctx;
    this.i18n = ctx.i18n;
    /** @type {Map<string, object>} active tickets by id */
    this.tickets = new Map();
    /** @type {Map<string, object>} services by id (names, documents) */
    this.services = new Map();
    /** @type {Map<string, object>} my booked appointments by id */
    this.appointments = new Map();
    this.hall = null; // {timezone, opens, closes, booking_days, no_show_s} from hall.services
    this.called = null; // the last queue.called payload still current
    this.path = null;
    this.way = null; // the guide's "show the way" path, until a call replaces it
    this.rate = null; // {ticket_id, number, service_id} after queue.done with can_rate
    this.listeners = new Set();
    this.audio = null;
    this.banner = null;
    this.chats = counterChatsFor(ctx);
    const t = ctx.transport;
    this.offs = [
      t.on("queue.update", (m) => this._onUpdate(m)),
      t.on("queue.called", (m) => this._onCalled(m)),
      t.on("queue.done", (m) => this._onDone(m)),
      t.on("queue.issued", (m) => this._onIssued(m)),
      t.on("appointment.update", (m) => this._onAppointment(m)),
      t.on("ticket.docs", (m) => {
        const tk = this.tickets.get(m?.ticket_id);
        if (!tk) return;
        if (Array.isArray(m.documents)) tk.documents = m.documents;
        if (Array.isArray(m.checked)) tk.docs_checked = m.checked;
        this.changed();
      }),
    ];
    this._onJoined = () => this.refresh();
    this._onPathRequest = () => {
      const path = this.path ?? this.way;
      if (path) announcePath(path);
    };
    this._onLang = () => { this._renderBanner(); this.changed(); };
    document.addEventListener("metahall:joined", this._onJoined);
    document.addEventListener("metahall:path-request", this._onPathRequest);
    document.addEventListener("metahall:lang-changed", this._onLang);
    if (t.connected) this.refresh();
  }

  dispose() {
    for (const off of this.offs) off?.();
    document.removeEventListener("metahall:joined", this._onJoined);
    document.removeEventListener("metahall:path-request", this._onPathRequest);
    document.removeEventListener("metahall:lang-changed", this._onLang);
    this.banner?.remove();
    this.banner = null;
    this.chats = null; // the store belongs to the room context (hall-chat.js disposes it)
    if (this.path) announcePath(null);
    this.path = null;
    this.way = null;
    this.listeners.clear();
    this.audio?.close?.().catch?.(() => {});
  }

  /** Draws the guide's way to a counter; views made later (a 2D/3D switch) ask for it again. */
  showWay(path) {
    this.way = path;
    if (!this.path) announcePath(path);
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    for (const fn of this.listeners) {
      try { fn(); } catch (err) { console.error(err); }
    }
  }

  serviceName(id) {
    const s = this.services.get(id);
    return s ? this.i18n.pick(s.name) : id ?? "";
  }

  /** The hall's time zone (slot times are shown in it). */
  get timezone() {
    return this.hall?.timezone ?? null;
  }

  /** "Tue, 3 Jun 09:00–09:30" in the hall's time zone. */
  when(appt) {
    return slotText(this.i18n.lang, this.timezone, appt.start, appt.end);
  }

  /** The ticket now at a counter (called or being served), if any. */
  atCounter() {
    return [...this.tickets.values()].find((tk) => AT_COUNTER.has(tk.status) && tk.counter) ?? null;
  }

  /** The conversation channel of a ticket at a counter. */
  channelOf(tk) {
    return tk?.channel ?? (tk?.counter?.id ? `counter:${tk.counter.id}` : null);
  }

  /** The service's documents with what the staff checked (ticket.docs, else docs_checked). */
  documentsOf(tk) {
    if (Array.isArray(tk?.documents)) return tk.documents;
    const docs = this.services.get(tk?.service_id)?.documents ?? [];
    const done = new Set(tk?.docs_checked ?? []);
    return docs.map((d) => ({ id: d.id, name: d.name, checked: done.has(d.id) }));
  }

  /** Services a citizen can book a time for. */
  appointable() {
    return [...this.services.values()].filter((s) => s.active !== false && s.appointable !== false && s.counter_ids?.length);
  }

  async refreshServices() {
    const svc = await this.ctx.transport.request("hall.services", {});
    if (svc?.ok) {
      this.services.clear();
      for (const s of svc.services ?? []) this.services.set(s.id, s);
      if (svc.hall) this.hall = svc.hall;
    }
    return svc;
  }

  async refresh() {
    const t = this.ctx.transport;
    const [, mine] = await Promise.all([this.refreshServices(), t.request("queue.mine", {})]);
    if (mine?.ok) {
      this.tickets.clear();
      for (const tk of mine.tickets ?? []) this.tickets.set(tk.id, tk);
      this.appointments.clear();
      for (const a of mine.appointments ?? []) if (a.status === "booked") this.appointments.set(a.id, a);
      // After a reconnect or a reload: the call banner follows the server's view of my tickets.
      const calledTicket = [...this.tickets.values()].find((tk) => tk.status === "called");
      if (this.called && this.tickets.get(this.called.ticket_id)?.status !== "called") {
        this.called = null;
        this.path = null;
        announcePath(null);
      }
      if (!this.called && calledTicket) {
        this.called = {
          ticket_id: calledTicket.id, number: calledTicket.number, service_id: calledTicket.service_id,
          counter: calledTicket.counter, recall: 0,
        };
      }
      this._renderBanner();
    }
    this.changed();
  }

  _setTicket(ticket) {
    if (ACTIVE.has(ticket.status)) this.tickets.set(ticket.id, ticket);
    else this.tickets.delete(ticket.id);
    this.changed();
  }

  _onUpdate(m) {
    const tk = this.tickets.get(m?.ticket_id);
    if (!tk) {
      // A ticket we did not know yet (another tab took it): fetch the full list.
      this.refresh();
      return;
    }
    Object.assign(tk, {
      position: m.position ?? tk.position, eta_s: m.eta_s ?? null, eta_range_s: m.eta_range_s ?? null,
      waiting: m.waiting, counters_open: m.counters_open,
    });
    this.changed();
  }

  _onIssued(m) {
    if (!m?.ticket) return;
    this._setTicket(m.ticket);
    if (m.reason === "appointment") {
      if (m.appointment_id) this.appointments.delete(m.appointment_id);
      this.ctx.toast("panel.queue.appointment_due", { number: m.ticket.number, service: this.serviceName(m.ticket.service_id) });
      this.changed();
    } else if (m.reason === "transfer") {
      this.ctx.toast("panel.queue.transferred_to", { number: m.ticket.number, service: this.serviceName(m.ticket.service_id) });
    }
  }

  _onAppointment(m) {
    const a = m?.appointment;
    if (!a?.id) return;
    if (a.status === "booked") this.appointments.set(a.id, a);
    else this.appointments.delete(a.id);
    if (m.reason === "service_closed") {
      this.ctx.toast("panel.appt.service_closed", { service: this.serviceName(a.service_id), when: this.when(a) }, "warn");
    }
    this.changed();
  }

  _onCalled(m) {
    if (!m) return;
    const tk = this.tickets.get(m.ticket_id) ?? { id: m.ticket_id, number: m.number, service_id: m.service_id };
    Object.assign(tk, { status: "called", counter: m.counter ?? tk.counter, position: null });
    if (m.channel) tk.channel = m.channel;
    if (m.called_at) tk.called_at = m.called_at;
    this.tickets.set(tk.id, tk);
    this.called = m;
    this.path = Array.isArray(m.path) && m.path.length >= 2 ? m.path : null;
    this.way = null; // the call's path replaces the guide's
    announcePath(this.path);
    this._renderBanner();
    this.beep();
    this.changed();
  }

  _onDone(m) {
    if (!m) return;
    this.tickets.delete(m.ticket_id);
    if (this.called?.ticket_id === m.ticket_id) {
      this.called = null;
      this.path = null;
      announcePath(null);
      this._renderBanner();
    }
    if (m.can_rate) this.rate = { ticket_id: m.ticket_id, number: m.number, service_id: m.service_id };
    else if (m.outcome && m.outcome !== "served") {
      this.ctx.toast(`panel.queue.outcome.${m.outcome}`, { number: m.number ?? "" }, "warn");
    }
    this.changed();
  }

  /** Unlocks Web Audio on a user gesture (browsers refuse to start it otherwise). */
  unlockAudio() {
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      if (!this.audio) this.audio = new AC();
      if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    } catch { /* no audio */ }
  }

  /** Two short tones, no audio files. */
  beep() {
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      if (!this.audio) this.audio = new AC();
      const ac = this.audio;
      const t0 = ac.currentTime + 0.02;
      for (const [i, f] of [[0, 880], [1, 1175]]) {
        const osc = ac.createOscillator();
        const gain = ac.createGain();
        osc.type = "sine";
        osc.frequency.value = f;
        const s = t0 + i * 0.22;
        gain.gain.setValueAtTime(0.0001, s);
        gain.gain.exponentialRampToValueAtTime(0.25, s + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, s + 0.18);
        osc.connect(gain).connect(ac.destination);
        osc.start(s);
        osc.stop(s + 0.2);
      }
      this.beeps = (this.beeps ?? 0) + 1;
      if (this.banner) this.banner.dataset.beeps = String(this.beeps);
    } catch { /* no audio */ }
  }

  _renderBanner() {
    const m = this.called;
    if (!m) {
      this.banner?.remove();
      this.banner = null;
      return;
    }
    if (!this.banner) {
      const b = el("div", "queue-called-banner");
      b.id = "queue-called-banner";
      b.setAttribute("role", "alert");
      const number = el("strong", "queue-called-number");
      const text = el("span", "queue-called-text");
      const walk = button("", "btn small primary queue-called-walk");
      const close = button("", "btn small subtle queue-called-close");
      walk.addEventListener("click", () => {
        const p = this.path?.[this.path.length - 1];
        const pos = this.called?.counter?.position;
        if (p) this.ctx.walkTo(p[0], p[1], this.i18n.pick(this.called?.counter?.name));
        else if (pos) this.ctx.walkTo(pos[0], pos[2] + 2, this.i18n.pick(this.called?.counter?.name));
        this.ctx.focusView?.();
      });
      close.addEventListener("click", () => { this.banner.hidden = true; });
      b.append(number, text, walk, close);
      (document.getElementById("app") ?? document.body).append(b);
      this.banner = b;
    }
    const b = this.banner;
    b.hidden = false;
    b.dataset.ticketId = m.ticket_id ?? "";
    b.dataset.pathPoints = String(this.path?.length ?? 0);
    b.querySelector(".queue-called-number").textContent = m.number ?? "";
    const counter = this.i18n.pick(m.counter?.name) || m.counter?.id || "";
    b.querySelector(".queue-called-text").textContent = m.recall
      ? this.i18n.t("panel.queue.called_again", { counter })
      : this.i18n.t("panel.queue.called", { counter });
    b.querySelector(".queue-called-walk").textContent = this.i18n.t("panel.queue.walk_there");
    b.querySelector(".queue-called-close").textContent = this.i18n.t("panel.queue.dismiss");
  }
}

let active = null; // {ctx, ctrl}

/** The controller for this room context (created on first use, replaced in another room). */
function controllerFor(ctx) {
  if (active?.ctx === ctx) return active.ctrl;
  active?.ctrl.dispose();
  active = null;
  if (ctx.room?.kind !== "hall") {
    counterChatsFor(ctx); // lets go of the previous hall's conversations
    return null;
  }
  active = { ctx, ctrl: new QueueController(ctx) };
  return active.ctrl;
}

export const queuePanel = {
  id: "queue",
  titleKey: "panel.queue.title",
  icon: "ticket",
  order: 30,
  when: (ctx) => controllerFor(ctx) !== null,
  mount(container, ctx) {
    const { i18n } = ctx;
    const ctrl = controllerFor(ctx);
    const tabs = subTabs("queue", ["take", "appointments", "counter"], (id) => {
      chat.visible(id === "counter");
      if (id === "appointments") appts.show();
      renderTabs();
    });
    const takePane = tabs.panes.get("take");
    const apptPane = tabs.panes.get("appointments");
    const counterPane = tabs.panes.get("counter");

    // Guide.
    const guide = el("form", "queue-guide");
    const label = el("label", "queue-guide-label", i18n.t("panel.queue.guide_question"));
    label.htmlFor = "queue-guide-input";
    const input = el("input");
    input.id = "queue-guide-input";
    input.type = "text";
    input.maxLength = 200;
    input.placeholder = i18n.t("panel.queue.guide_placeholder");
    const ask = el("button", "btn small primary", i18n.t("panel.queue.ask"));
    ask.type = "submit";
    const row = el("div", "queue-guide-row");
    row.append(input, ask);
    guide.append(label, row);
    const answer = el("p", "panel-summary queue-answer");
    answer.setAttribute("aria-live", "polite");
    const results = el("ul", "item-list queue-results");
    const allBtn = button(i18n.t("panel.queue.all_services"), "btn link queue-all");

    // Tickets, rating.
    const ticketsHead = el("h3", "panel-subtitle", i18n.t("panel.queue.my_tickets"));
    const tickets = el("ul", "item-list queue-tickets");
    tickets.setAttribute("aria-live", "polite");
    const noTickets = el("p", "panel-summary queue-none", i18n.t("panel.queue.no_tickets"));
    const rating = el("form", "queue-rating");
    rating.hidden = true;
    takePane.append(guide, answer, results, allBtn, ticketsHead, noTickets, tickets, rating);

    // Appointments.
    const appts = appointmentsPane(apptPane, ctx, ctrl);

    // At the counter: who, the documents checked, the private chat.
    const counterHead = el("h3", "panel-subtitle queue-counter-head");
    const counterInfo = el("p", "panel-summary queue-counter-info");
    const docsHead = el("h4", "hall-docs-head");
    const docsList = el("ul", "hall-docs queue-counter-docs");
    const chatHead = el("h4", "hall-chat-head");
    const chat = counterChatView(ctx, ctrl.chats, { idPrefix: "queue", placeholderKey: "panel.queue.chat_placeholder" });
    counterPane.append(counterHead, counterInfo, docsHead, docsList, chatHead, chat.root);
    chat.visible(false);

    container.append(tabs.bar, takePane, apptPane, counterPane);

    let lastResults = null; // {answer, items} for re-rendering on language change
    const error = (ack) => ctx.toast("error.with_code", { message: i18n.errorText(ack?.error?.code, ack?.error?.message) }, "error");

    const take = async (serviceId, btn) => {
      ctrl.unlockAudio();
      btn.disabled = true;
      const ack = await ctx.transport.request("queue.take", { service_id: serviceId });
      btn.disabled = false;
      if (ack?.ok && ack.ticket) {
        ctrl._setTicket(ack.ticket);
        ctx.toast("panel.queue.taken", { number: ack.ticket.number });
      } else if (ack?.error?.code === "conflict" && ack.error.ticket_id) {
        ctx.toast("panel.queue.already", {}, "warn");
        ctrl.refresh();
      } else error(ack);
    };

    const renderResults = () => {
      results.replaceChildren();
      if (!lastResults) { answer.textContent = ""; return; }
      answer.textContent = lastResults.answer ? i18n.pick(lastResults.answer) : "";
      if (!lastResults.items.length && !lastResults.answer) answer.textContent = i18n.t("panel.queue.no_match");
      for (const r of lastResults.items) {
        const sid = r.service_id ?? r.id;
        const li = el("li", "item queue-service");
        li.dataset.serviceId = sid;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", `${r.prefix ? `${r.prefix} · ` : ""}${i18n.pick(r.name)}`));
        if (r.description) text.append(el("span", "item-meta", i18n.pick(r.description)));
        const q = r.queue ?? r;
        const meta = [i18n.t("panel.queue.waiting", { n: q.waiting ?? 0 })];
        const eta = etaText(i18n, q.eta_range_s, q.eta_s);
        if (eta) meta.push(eta);
        if (!(q.counters_open > 0)) meta.push(i18n.t("panel.queue.no_counter_open"));
        text.append(el("span", "item-meta", meta.join(" · ")));
        if (r.documents?.length) {
          text.append(el("span", "item-meta queue-docs-head", i18n.t("panel.queue.bring")));
          const docs = el("ul", "queue-docs");
          for (const d of r.documents) docs.append(el("li", null, i18n.pick(d.name)));
          text.append(docs);
        }
        if (r.online) {
          const online = el("span", "item-meta queue-online", i18n.t("panel.queue.online"));
          text.append(online);
          if (typeof r.online_url === "string" && /^https?:\/\//i.test(r.online_url)) {
            const a = el("a", "queue-online-link", i18n.t("panel.queue.online_link"));
            a.href = r.online_url;
            a.target = "_blank";
            a.rel = "noopener noreferrer";
            text.append(a);
          }
        }
        const actions = el("div", "queue-service-actions");
        const takeBtn = button(i18n.t("panel.queue.take"), "btn small primary queue-take");
        takeBtn.addEventListener("click", () => take(sid, takeBtn));
        actions.append(takeBtn);
        if (Array.isArray(r.path) && r.path.length >= 2) {
          // The guide's way to a counter that serves it, drawn on the floor (3D) and the map (2D).
          const way = button(i18n.t("panel.queue.show_way"), "btn small queue-way");
          if (r.counter?.name) way.title = i18n.pick(r.counter.name);
          way.addEventListener("click", () => ctrl.showWay(r.path));
          actions.append(way);
        }
        const svc = ctrl.services.get(sid);
        if (svc && ctrl.appointable().includes(svc)) {
          const book = button(i18n.t("panel.queue.book"), "btn small queue-book");
          book.addEventListener("click", () => {
            tabs.select("appointments");
            appts.selectService(sid);
          });
          actions.append(book);
        }
        li.append(text, actions);
        results.append(li);
      }
    };

    guide.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      ask.disabled = true;
      ctrl.unlockAudio();
      const ack = await ctx.transport.request("guide.ask", { text: text.slice(0, 200), lang: i18n.lang });
      ask.disabled = false;
      if (!ack?.ok) { error(ack); return; }
      lastResults = { answer: ack.answer ?? null, items: ack.results ?? [] };
      renderResults();
    });
    allBtn.addEventListener("click", async () => {
      const ack = await ctrl.refreshServices();
      if (!ack?.ok) { error(ack); return; }
      lastResults = { answer: null, items: (ack.services ?? []).filter((s) => s.active !== false) };
      renderResults();
    });

    const renderTickets = () => {
      const list = [...ctrl.tickets.values()].sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0));
      noTickets.hidden = list.length > 0;
      tickets.replaceChildren();
      for (const tk of list) {
        const li = el("li", `item queue-ticket status-${tk.status}`);
        li.dataset.ticketId = tk.id;
        li.dataset.status = tk.status ?? "";
        li.dataset.appointment = String(Boolean(tk.appointment));
        const num = el("strong", "queue-ticket-number", tk.number ?? "");
        const text = el("div", "item-text");
        const name = el("span", "item-name", ctrl.serviceName(tk.service_id));
        if (tk.appointment) name.append(" ", el("span", "hall-badge queue-ticket-appt", i18n.t("panel.queue.appointment_badge")));
        text.append(name);
        let status;
        if (tk.status === "waiting") {
          status = tk.position != null ? i18n.t("panel.queue.position", { n: tk.position }) : i18n.t("panel.queue.status.waiting");
          const eta = etaText(i18n, tk.eta_range_s, tk.eta_s);
          if (eta) status += ` · ${eta}`;
        } else if (tk.status === "called") {
          status = i18n.t("panel.queue.called", { counter: i18n.pick(tk.counter?.name) || "" });
        } else {
          status = i18n.t(`panel.queue.status.${tk.status === "serving" ? "serving" : "waiting"}`);
        }
        const st = el("span", "item-meta queue-ticket-status", status);
        text.append(st);
        const documents = ctrl.documentsOf(tk);
        const missing = documents.filter((d) => !d.checked).map((d) => i18n.pick(d.name));
        if (tk.status !== "waiting" && documents.length) {
          text.append(el("span", "item-meta queue-ticket-docs", missing.length
            ? i18n.t("panel.queue.docs_missing", { docs: missing.join(i18n.lang === "zh-CN" ? "、" : ", ") })
            : i18n.t("panel.queue.docs_ok")));
        }
        li.append(num, text);
        const actions = el("div", "queue-ticket-actions");
        if (AT_COUNTER.has(tk.status) && tk.counter) {
          const talk = button(i18n.t("panel.queue.talk"), "btn small queue-talk");
          talk.addEventListener("click", () => { tabs.select("counter"); chat.focus(); });
          actions.append(talk);
        }
        if (tk.status === "waiting" || tk.status === "called") {
          const leave = button(i18n.t("panel.queue.leave"), "btn small subtle queue-leave");
          leave.addEventListener("click", async () => {
            leave.disabled = true;
            const ack = await ctx.transport.request("queue.leave", { ticket_id: tk.id });
            if (ack?.ok) {
              ctrl.tickets.delete(tk.id);
              if (ctrl.called?.ticket_id === tk.id) { ctrl.called = null; ctrl.path = null; announcePath(null); ctrl._renderBanner(); }
              ctrl.changed();
            } else { leave.disabled = false; error(ack); }
          });
          actions.append(leave);
        }
        if (actions.childElementCount) li.append(actions);
        tickets.append(li);
      }
    };

    const renderCounter = () => {
      const tk = ctrl.atCounter();
      counterPane.dataset.ticketId = tk?.id ?? "";
      chatHead.textContent = i18n.t("panel.queue.chat_head");
      if (!tk) {
        counterHead.textContent = i18n.t("panel.queue.counter_none_head");
        counterInfo.textContent = i18n.t("panel.queue.counter_none");
        docsHead.hidden = true;
        docsList.hidden = true;
        docsList.replaceChildren();
        chatHead.hidden = true;
        chat.root.hidden = true;
        chat.set(null);
        return;
      }
      const counter = i18n.pick(tk.counter?.name) || tk.counter?.id || "";
      counterHead.textContent = i18n.t("panel.queue.counter_head", { number: tk.number ?? "", counter });
      counterInfo.textContent = tk.status === "serving"
        ? i18n.t("panel.queue.counter_serving", { service: ctrl.serviceName(tk.service_id) })
        : i18n.t("panel.queue.counter_called", { service: ctrl.serviceName(tk.service_id) });
      const documents = ctrl.documentsOf(tk);
      docsHead.hidden = documents.length === 0;
      docsList.hidden = documents.length === 0;
      docsHead.textContent = i18n.t("panel.queue.docs_head", {
        n: documents.filter((d) => d.checked).length, total: documents.length,
      });
      docsList.replaceChildren(...documents.map((d) => docItem(i18n, d)));
      chatHead.hidden = false;
      chat.root.hidden = false;
      chat.set(ctrl.channelOf(tk), tk.called_at ?? 0);
    };

    const renderTabs = () => {
      tabs.label("take", i18n.t("panel.queue.tab_take"));
      tabs.label("appointments", i18n.t("panel.queue.tab_appointments"));
      const tk = ctrl.atCounter();
      const unread = tk && tabs.selected !== "counter" ? ctrl.chats?.unread(ctrl.channelOf(tk), tk.called_at ?? 0) ?? 0 : 0;
      tabs.badge("appointments", ctrl.appointments.size);
      tabs.badge("counter", unread, tk && !unread && tabs.selected !== "counter" ? "●" : "");
      tabs.label("counter", i18n.t("panel.queue.tab_counter"),
        unread ? i18n.t("chat.unread", { n: unread }) : tk ? i18n.t("panel.queue.tab_counter_active") : "");
    };

    let ratingFor = null;
    const renderRating = () => {
      const r = ctrl.rate;
      rating.hidden = !r;
      if (!r) { ratingFor = null; return; }
      if (ratingFor === r.ticket_id) return; // keep what the user is typing
      ratingFor = r.ticket_id;
      rating.replaceChildren();
      const fs = el("fieldset", "queue-stars");
      fs.append(el("legend", null, i18n.t("panel.queue.rate_prompt", { number: r.number ?? "", service: ctrl.serviceName(r.service_id) })));
      for (let n = 1; n <= 5; n += 1) {
        const lab = el("label", "queue-star");
        const radio = el("input");
        radio.type = "radio";
        radio.name = "queue-score";
        radio.value = String(n);
        lab.append(radio, el("span", null, String(n)));
        lab.title = i18n.t(`panel.queue.score.${n}`);
        fs.append(lab);
      }
      const comment = el("textarea", "queue-comment");
      comment.maxLength = 500;
      comment.rows = 2;
      comment.setAttribute("aria-label", i18n.t("panel.queue.comment"));
      comment.placeholder = i18n.t("panel.queue.comment");
      const send = el("button", "btn small primary", i18n.t("panel.queue.send_rating"));
      send.type = "submit";
      const skip = button(i18n.t("panel.queue.skip"), "btn small subtle");
      skip.addEventListener("click", () => { ctrl.rate = null; ctrl.changed(); });
      rating.append(fs, comment, send, skip);
    };
    rating.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = ctrl.rate;
      const score = Number(rating.querySelector("input[name=queue-score]:checked")?.value ?? 0);
      if (!r) return;
      if (!(score >= 1 && score <= 5)) { ctx.toast("panel.queue.pick_score", {}, "warn"); return; }
      const comment = rating.querySelector("textarea").value.trim().slice(0, 500);
      const ack = await ctx.transport.request("ticket.rate", { ticket_id: r.ticket_id, score, ...(comment ? { comment } : {}) });
      if (ack?.ok || ack?.error?.code === "conflict") {
        ctrl.rate = null;
        ctrl.changed();
        ctx.toast("panel.queue.thanks");
      } else error(ack);
    });

    const render = () => { renderTickets(); renderRating(); renderCounter(); appts.render(); renderTabs(); };
    const relabel = () => {
      label.textContent = i18n.t("panel.queue.guide_question");
      input.placeholder = i18n.t("panel.queue.guide_placeholder");
      ask.textContent = i18n.t("panel.queue.ask");
      allBtn.textContent = i18n.t("panel.queue.all_services");
      ticketsHead.textContent = i18n.t("panel.queue.my_tickets");
      noTickets.textContent = i18n.t("panel.queue.no_tickets");
      ratingFor = null;
      renderResults();
      render();
    };
    const unsub = ctrl.subscribe(render);
    const unsubChat = ctrl.chats?.subscribe(() => renderTabs()) ?? (() => {});
    document.addEventListener("metahall:lang-changed", relabel);
    render();
    return {
      show: () => chat.visible(tabs.selected === "counter"),
      hide: () => chat.visible(false),
      unmount: () => {
        unsub();
        unsubChat();
        chat.dispose();
        appts.dispose();
        document.removeEventListener("metahall:lang-changed", relabel);
        if (active?.ctx === ctx) { active.ctrl.dispose(); active = null; }
      },
    };
  },
};

/** One document of the checklist the citizen sees (read-only): ✓ checked, ○ still needed. */
function docItem(i18n, d) {
  const li = el("li", `hall-doc${d.checked ? " checked" : ""}`);
  li.dataset.docId = d.id;
  li.dataset.checked = String(Boolean(d.checked));
  const mark = el("span", "hall-doc-mark", d.checked ? "✓" : "○");
  mark.setAttribute("aria-hidden", "true");
  li.append(mark, el("span", "hall-doc-name", i18n.pick(d.name)),
    el("span", "visually-hidden", i18n.t(d.checked ? "panel.queue.doc_checked" : "panel.queue.doc_missing")));
  return li;
}

/** For tests and the debug console: the current controller's state (read-only copy). */
export function queueDebug() {
  const c = active?.ctrl;
  if (!c) return null;
  return {
    tickets: [...c.tickets.values()].map((t) => ({ ...t })), called: c.called, path: c.path, beeps: c.beeps ?? 0,
    appointments: [...c.appointments.values()].map((a) => ({ ...a })),
  };
}
