// The "Appointments" tab of the queue panel: my booked appointments (cancel), and booking a time
// slot of a service: choose the service and the day, pick a free slot, confirm.
//
// Server events: appointment.slots → {days, date, timezone, slots: [{start, end, capacity, left}]},
// appointment.book → {appointment}, appointment.cancel → {appointment}; appointment.update keeps
// every tab in step (handled by the queue controller). When the slot begins the server issues a
// priority ticket (queue.issued, reason "appointment"), which the controller moves to "My numbers".
// Times are shown in the hall's time zone.

import { el, button } from "./dom.js";
import { hallDay, hallTime, slotText } from "./hall-ui.js";

/**
 * @param {HTMLElement} container the tab's pane
 * @param {object} ctx the panel context
 * @param {object} ctrl the queue controller (services, appointments, hall info, changed())
 */
export function appointmentsPane(container, ctx, ctrl) {
  const { i18n } = ctx;
  const mineHead = el("h3", "panel-subtitle");
  const mine = el("ul", "item-list appt-mine");
  mine.setAttribute("aria-live", "polite");
  const none = el("p", "panel-summary appt-none");

  const bookHead = el("h3", "panel-subtitle");
  const intro = el("p", "panel-summary appt-intro");
  const svcLabel = el("label", "staff-label");
  svcLabel.htmlFor = "appt-service";
  const svcSelect = el("select", "hall-select appt-service");
  svcSelect.id = "appt-service";
  const dayLabel = el("label", "staff-label");
  dayLabel.htmlFor = "appt-day";
  const daySelect = el("select", "hall-select appt-day");
  daySelect.id = "appt-day";
  const slotsHead = el("p", "staff-label appt-slots-head");
  slotsHead.id = "appt-slots-head";
  const slots = el("div", "appt-slots");
  slots.setAttribute("role", "group");
  slots.setAttribute("aria-labelledby", slotsHead.id);
  const status = el("p", "panel-summary appt-status");
  status.setAttribute("aria-live", "polite");
  const confirm = el("div", "appt-confirm");
  confirm.hidden = true;
  const confirmText = el("p", "appt-confirm-text");
  const bookBtn = button("", "btn small primary appt-book");
  confirm.append(confirmText, bookBtn);
  const error = el("p", "hall-error appt-error");
  error.setAttribute("role", "alert");
  error.hidden = true;

  container.append(mineHead, none, mine, bookHead, intro, svcLabel, svcSelect, dayLabel, daySelect,
    slotsHead, status, slots, confirm, error);

  let listing = null; // the last appointment.slots answer
  let loading = false;
  let chosen = null; // the slot chosen, {start, end}
  let serviceId = null;
  let loadedOnce = false;

  const tz = () => listing?.timezone ?? ctrl.timezone;
  const showError = (ack) => {
    error.textContent = i18n.errorText(ack?.error?.code, ack?.error?.message);
    error.hidden = false;
  };

  const renderMine = () => {
    mineHead.textContent = i18n.t("panel.appt.mine");
    const list = [...ctrl.appointments.values()].sort((a, b) => a.start - b.start);
    none.hidden = list.length > 0;
    none.textContent = i18n.t("panel.appt.none");
    mine.replaceChildren(...list.map((a) => {
      const li = el("li", "item appt-item");
      li.dataset.appointmentId = a.id;
      li.dataset.serviceId = a.service_id;
      const text = el("div", "item-text");
      text.append(el("span", "item-name", ctrl.serviceName(a.service_id)),
        el("span", "item-meta appt-when", slotText(i18n.lang, tz(), a.start, a.end)));
      const cancel = button(i18n.t("panel.appt.cancel"), "btn small subtle appt-cancel");
      cancel.addEventListener("click", async () => {
        cancel.disabled = true;
        const ack = await ctx.transport.request("appointment.cancel", { appointment_id: a.id });
        if (ack?.ok) {
          ctrl.appointments.delete(a.id);
          ctx.toast("panel.appt.cancelled", { when: slotText(i18n.lang, tz(), a.start, a.end) });
          ctrl.changed();
          if (a.service_id === serviceId) load(listing?.date);
        } else {
          cancel.disabled = false;
          if (ack?.error?.code === "conflict") ctrl.refresh(); // issued or cancelled meanwhile
          showError(ack);
        }
      });
      li.append(text, cancel);
      return li;
    }));
  };

  const renderServices = () => {
    const services = ctrl.appointable();
    const keep = serviceId;
    svcSelect.replaceChildren(...services.map((s) => {
      const o = el("option", null, `${s.prefix ? `${s.prefix} · ` : ""}${i18n.pick(s.name)}`);
      o.value = s.id;
      return o;
    }));
    if (keep && services.some((s) => s.id === keep)) svcSelect.value = keep;
    serviceId = svcSelect.value || null;
  };

  const renderSlots = () => {
    bookHead.textContent = i18n.t("panel.appt.book_head");
    intro.textContent = i18n.t("panel.appt.intro");
    svcLabel.textContent = i18n.t("panel.appt.service");
    dayLabel.textContent = i18n.t("panel.appt.day");
    slotsHead.textContent = i18n.t("panel.appt.times");
    const keepDay = daySelect.value;
    daySelect.replaceChildren(...(listing?.days ?? []).map((d) => {
      const o = el("option", null, hallDay(i18n.lang, d));
      o.value = d;
      return o;
    }));
    daySelect.value = listing?.date ?? keepDay;
    daySelect.disabled = !listing || loading;
    const booked = [...ctrl.appointments.values()].find((a) => a.service_id === serviceId);
    slots.replaceChildren(...(listing?.slots ?? []).map((s) => {
      const b = button("", "btn small appt-slot");
      b.dataset.start = String(s.start);
      b.dataset.left = String(s.left);
      const time = hallTime(i18n.lang, tz(), s.start);
      const mineHere = booked?.start === s.start;
      b.append(el("span", "appt-slot-time", time),
        el("span", "appt-slot-left", mineHere ? i18n.t("panel.appt.yours")
          : s.left > 0 ? i18n.t("panel.appt.left", { n: s.left }) : i18n.t("panel.appt.full")));
      b.setAttribute("aria-label", `${time}–${hallTime(i18n.lang, tz(), s.end)}, ${mineHere ? i18n.t("panel.appt.yours")
        : s.left > 0 ? i18n.t("panel.appt.left", { n: s.left }) : i18n.t("panel.appt.full")}`);
      b.disabled = s.left <= 0 || mineHere || Boolean(booked);
      b.setAttribute("aria-pressed", String(chosen?.start === s.start));
      if (mineHere) b.classList.add("mine");
      b.addEventListener("click", () => {
        chosen = { start: s.start, end: s.end };
        error.hidden = true;
        renderSlots();
        confirm.scrollIntoView({ block: "nearest" });
      });
      return b;
    }));
    if (loading) status.textContent = i18n.t("panel.appt.loading");
    else if (!serviceId) status.textContent = i18n.t("panel.appt.no_services");
    else if (booked) status.textContent = i18n.t("panel.appt.have_one", { when: slotText(i18n.lang, tz(), booked.start, booked.end) });
    else if (listing && !listing.slots.length) status.textContent = i18n.t("panel.appt.no_slots");
    else status.textContent = "";
    const still = chosen && !booked && listing?.slots.some((s) => s.start === chosen.start && s.left > 0);
    if (!still) chosen = null;
    confirm.hidden = !chosen;
    if (chosen) {
      confirmText.textContent = i18n.t("panel.appt.confirm", {
        service: ctrl.serviceName(serviceId), when: slotText(i18n.lang, tz(), chosen.start, chosen.end),
      });
      bookBtn.textContent = i18n.t("panel.appt.book");
    }
  };

  async function load(date) {
    if (!serviceId) { listing = null; renderSlots(); return; }
    loading = true;
    renderSlots();
    const want = serviceId;
    const ack = await ctx.transport.request("appointment.slots", date ? { service_id: want, date } : { service_id: want });
    loading = false;
    if (want !== serviceId) return; // the user chose another service meanwhile
    if (ack?.ok) {
      const { ok, ...rest } = ack;
      listing = rest;
    } else {
      listing = null;
      showError(ack);
    }
    renderSlots();
  }

  svcSelect.addEventListener("change", () => {
    serviceId = svcSelect.value || null;
    chosen = null;
    error.hidden = true;
    load();
  });
  daySelect.addEventListener("change", () => { chosen = null; error.hidden = true; load(daySelect.value); });
  bookBtn.addEventListener("click", async () => {
    if (!chosen || !serviceId) return;
    bookBtn.disabled = true;
    const ack = await ctx.transport.request("appointment.book", { service_id: serviceId, start: chosen.start });
    bookBtn.disabled = false;
    if (ack?.ok && ack.appointment) {
      const a = ack.appointment;
      ctrl.appointments.set(a.id, a);
      chosen = null;
      error.hidden = true;
      ctx.toast("panel.appt.booked", { service: ctrl.serviceName(a.service_id), when: slotText(i18n.lang, tz(), a.start, a.end) });
      ctrl.changed();
      mineHead.scrollIntoView({ block: "nearest" }); // show the new booking in "My appointments"
      load(listing?.date);
    } else {
      showError(ack);
      load(listing?.date); // the slot may have filled up meanwhile
    }
  });

  return {
    /** Re-render from the controller's state (tickets, appointments, services changed). */
    render() {
      const before = serviceId;
      renderServices();
      renderMine();
      if (serviceId !== before && loadedOnce) load();
      else renderSlots();
    },
    /** The tab was opened: load the slots of the chosen service the first time. */
    show() {
      renderServices();
      if (!loadedOnce) { loadedOnce = true; load(); }
    },
    /** Preselect a service (from the guide's "Book a time"). */
    selectService(id) {
      renderServices();
      if ([...svcSelect.options].some((o) => o.value === id)) {
        svcSelect.value = id;
        serviceId = id;
        chosen = null;
        loadedOnce = true;
        load();
        svcSelect.focus();
      }
    },
    dispose() {},
  };
}
