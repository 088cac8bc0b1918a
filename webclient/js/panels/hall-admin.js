// "Hall setup" (service halls, admins): edit the catalogue in the browser — services (names and
// descriptions in zh-CN and en, documents to bring, keywords for the guide, times, appointments,
// online) and counters (names, position on the floor, services, appointment places).
//
// HTTP (admin, Bearer): GET /api/hall/catalogue; PUT / DELETE /api/hall/services/{id} and
// /api/hall/counters/{id}. Changes apply at once for everyone (the guide, queues, staff desks).
// The form checks what it can before sending and says so in the user's language; what the server
// refuses is shown with its message, and the field it names is marked.

import { el, button } from "./dom.js";
import { subTabs } from "./hall-ui.js";

const ID_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const PREFIX_RE = /^[A-Z]{1,2}$/;
const LANGS = ["zh-CN", "en"];

/** "services[tax].name.en" → "name.en": the field inside one entry, as the form's data-field. */
export function fieldOf(serverField) {
  if (typeof serverField !== "string") return null;
  return serverField.replace(/^(services|counters)\[[^\]]*\]\./, "").replace(/^(service|counter)\./, "");
}

/** "a, b，c\nd、e" → ["a", "b", "c", "d", "e"] (keywords may be separated the Chinese way too). */
export function splitWords(text) {
  return String(text ?? "").split(/[,\n，、;；]+/).map((w) => w.trim()).filter(Boolean);
}

/** Checks a service entry before it is sent; returns [{field, key, params}] (empty when fine). */
export function checkService(s, isNew) {
  const out = [];
  if (isNew && !ID_RE.test(s.id ?? "")) out.push({ field: "id", key: "panel.admin.err.id" });
  if (!PREFIX_RE.test(s.prefix ?? "")) out.push({ field: "prefix", key: "panel.admin.err.prefix" });
  for (const l of LANGS) {
    const v = s.name?.[l] ?? "";
    if (!v.trim() || v.length > 60) out.push({ field: `name.${l}`, key: "panel.admin.err.name", params: { max: 60 } });
  }
  for (const l of LANGS) {
    if ((s.description?.[l] ?? "").length > 500) out.push({ field: `description.${l}`, key: "panel.admin.err.long", params: { max: 500 } });
  }
  const ids = new Set();
  (s.documents ?? []).forEach((d, i) => {
    if (!ID_RE.test(d.id ?? "") || ids.has(d.id)) out.push({ field: `documents[${i}].id`, key: "panel.admin.err.doc_id" });
    ids.add(d.id);
    for (const l of LANGS) {
      const v = d.name?.[l] ?? "";
      if (!v.trim() || v.length > 200) out.push({ field: `documents[${i}].name.${l}`, key: "panel.admin.err.name", params: { max: 200 } });
    }
  });
  if (!(s.avg_service_s >= 10 && s.avg_service_s <= 7200)) out.push({ field: "avg_service_s", key: "panel.admin.err.minutes" });
  if (!(Number.isInteger(s.slot_minutes) && s.slot_minutes >= 5 && s.slot_minutes <= 240)) out.push({ field: "slot_minutes", key: "panel.admin.err.slot" });
  if (s.online_url && !/^https:\/\/\S{3,}$/.test(s.online_url)) out.push({ field: "online_url", key: "panel.admin.err.url" });
  return out;
}

/** Checks a counter entry; as checkService. */
export function checkCounter(c, isNew) {
  const out = [];
  if (isNew && !ID_RE.test(c.id ?? "")) out.push({ field: "id", key: "panel.admin.err.id" });
  for (const l of LANGS) {
    const v = c.name?.[l] ?? "";
    if (!v.trim() || v.length > 60) out.push({ field: `name.${l}`, key: "panel.admin.err.name", params: { max: 60 } });
  }
  for (const k of ["x", "z"]) {
    if (!(Number.isFinite(c[k]) && Math.abs(c[k]) <= 1000)) out.push({ field: k, key: "panel.admin.err.position" });
  }
  if (!(Number.isInteger(c.appointments_per_slot) && c.appointments_per_slot >= 0 && c.appointments_per_slot <= 100)) {
    out.push({ field: "appointments_per_slot", key: "panel.admin.err.places" });
  }
  return out;
}

function field(labelText, input, fieldName, hint) {
  const wrap = el("div", "admin-field");
  const id = `admin-f-${fieldName.replace(/[^a-zA-Z0-9-]/g, "-")}`;
  input.id = id;
  input.dataset.field = fieldName;
  const lab = el("label", "staff-label", labelText);
  lab.htmlFor = id;
  wrap.append(lab, input);
  if (hint) wrap.append(el("span", "admin-hint", hint));
  return wrap;
}

function textInput(value = "", maxLength = 200) {
  const i = el("input", "admin-input");
  i.type = "text";
  i.value = value ?? "";
  i.maxLength = maxLength;
  return i;
}

function numberInput(value, step = "1") {
  const i = el("input", "admin-input admin-number");
  i.type = "number";
  i.step = step;
  i.value = value == null ? "" : String(value);
  return i;
}

function checkbox(labelText, checked, fieldName) {
  const lab = el("label", "admin-check");
  const box = el("input");
  box.type = "checkbox";
  box.checked = Boolean(checked);
  box.dataset.field = fieldName;
  lab.append(box, el("span", null, labelText));
  return { lab, box };
}

export const hallAdminPanel = {
  id: "hall-admin",
  titleKey: "panel.admin.title",
  icon: "dot",
  order: 55,
  when: (ctx) => ctx.room?.kind === "hall" && Boolean(ctx.user?.roles?.includes("admin")),
  mount(container, ctx) {
    const { i18n } = ctx;
    const t = (k, p) => i18n.t(k, p);
    let catalogue = null;
    let editing = null; // {kind: "service"|"counter", entry, isNew}

    const tabs = subTabs("hall-admin", ["services", "counters"], () => { editing = null; render(); });
    const summary = el("p", "panel-summary admin-summary");
    summary.setAttribute("aria-live", "polite");
    const svcPane = tabs.panes.get("services");
    const ctrPane = tabs.panes.get("counters");
    const svcList = el("ul", "item-list admin-list admin-services");
    const newSvc = button("", "btn small primary admin-new-service");
    const ctrList = el("ul", "item-list admin-list admin-counters");
    const newCtr = button("", "btn small primary admin-new-counter");
    const form = el("form", "admin-form");
    form.noValidate = true;
    form.hidden = true;
    svcPane.append(newSvc, svcList);
    ctrPane.append(newCtr, ctrList);
    container.append(summary, tabs.bar, svcPane, ctrPane, form);

    const load = async () => {
      summary.textContent = t("panel.stats.loading");
      try {
        catalogue = await ctx.api.get("/api/hall/catalogue");
        summary.textContent = "";
      } catch (err) {
        summary.textContent = i18n.errorText(err.code, err.message);
      }
      render();
    };

    const serviceName = (id) => {
      const s = catalogue?.services.find((x) => x.id === id);
      return s ? i18n.pick(s.name) : id;
    };

    const renderLists = () => {
      newSvc.textContent = t("panel.admin.new_service");
      newCtr.textContent = t("panel.admin.new_counter");
      svcList.replaceChildren(...(catalogue?.services ?? []).slice().sort((a, b) => (a.sort ?? 0) - (b.sort ?? 0) || a.id.localeCompare(b.id)).map((s) => {
        const li = el("li", `item admin-item admin-service${s.active ? "" : " inactive"}`);
        li.dataset.serviceId = s.id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", `${s.prefix} · ${i18n.pick(s.name)}`));
        const other = i18n.lang === "zh-CN" ? s.name.en : s.name["zh-CN"];
        const meta = [other, s.id];
        if (!s.active) meta.push(t("panel.admin.inactive"));
        text.append(el("span", "item-meta", meta.join(" · ")));
        const edit = button(t("panel.admin.edit"), "btn small admin-edit");
        edit.setAttribute("aria-label", `${t("panel.admin.edit")}: ${i18n.pick(s.name)}`);
        edit.addEventListener("click", () => openEditor("service", structuredClone(s), false));
        li.append(text, edit);
        return li;
      }));
      ctrList.replaceChildren(...(catalogue?.counters ?? []).map((c) => {
        const li = el("li", `item admin-item admin-counter${c.active ? "" : " inactive"}`);
        li.dataset.counterId = c.id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", i18n.pick(c.name)));
        const meta = [c.services.map(serviceName).join(i18n.lang === "zh-CN" ? "、" : ", ") || t("panel.admin.no_services")];
        if (!c.active) meta.push(t("panel.admin.inactive"));
        text.append(el("span", "item-meta", meta.join(" · ")));
        const edit = button(t("panel.admin.edit"), "btn small admin-edit");
        edit.setAttribute("aria-label", `${t("panel.admin.edit")}: ${i18n.pick(c.name)}`);
        edit.addEventListener("click", () => openEditor("counter", structuredClone(c), false));
        li.append(text, edit);
        return li;
      }));
    };

    // -- the form -------------------------------------------------------------------------
    const errorBox = el("div", "hall-error admin-error");
    errorBox.setAttribute("role", "alert");

    /** Marks each field in trouble (with its message under it) and lists them all above Save. */
    const showProblems = (problems) => {
      for (const n of form.querySelectorAll("[aria-invalid]")) {
        n.removeAttribute("aria-invalid");
        n.removeAttribute("aria-describedby");
      }
      for (const n of form.querySelectorAll(".admin-field-error")) n.remove();
      errorBox.replaceChildren();
      errorBox.hidden = problems.length === 0;
      if (!problems.length) return;
      errorBox.append(el("p", "admin-error-head", t("panel.admin.fix")));
      const ul = el("ul");
      for (const p of problems) {
        const input = p.field ? form.querySelector(`[data-field="${CSS.escape(p.field)}"]`) : null;
        let what = "";
        if (input) {
          input.setAttribute("aria-invalid", "true");
          what = input.id ? form.querySelector(`label[for="${input.id}"]`)?.textContent ?? "" : "";
          what ||= input.querySelector?.("legend")?.textContent ?? "";
          const note = el("span", "admin-field-error", p.text);
          note.id = `${input.id || "admin-f-services"}-error`;
          if (input.id) input.setAttribute("aria-describedby", note.id);
          (input.closest(".admin-field") ?? input).append(note);
        }
        ul.append(el("li", null, what ? `${what}: ${p.text}` : p.text));
      }
      errorBox.append(ul);
      form.querySelector("[aria-invalid=true]")?.focus?.();
    };

    const docRow = (d, i) => {
      const row = el("div", "admin-doc");
      row.dataset.index = String(i);
      const id = textInput(d.id, 32);
      const zh = textInput(d.name?.["zh-CN"], 200);
      const en = textInput(d.name?.en, 200);
      row.append(field(t("panel.admin.doc_id"), id, `documents[${i}].id`),
        field(t("panel.admin.name_zh"), zh, `documents[${i}].name.zh-CN`),
        field(t("panel.admin.name_en"), en, `documents[${i}].name.en`));
      const remove = button(t("panel.admin.remove_doc"), "btn small subtle admin-remove-doc");
      remove.addEventListener("click", () => { readInto(); editing.entry.documents.splice(i, 1); renderForm(); });
      row.append(remove);
      return row;
    };

    /** Reads the form back into editing.entry (so re-rendering keeps what was typed). */
    const readInto = () => {
      if (!editing) return;
      const e = editing.entry;
      const val = (f) => form.querySelector(`[data-field="${f}"]`);
      const num = (f) => { const v = val(f)?.value; return v === "" || v == null ? NaN : Number(v); };
      if (editing.isNew) e.id = val("id").value.trim();
      e.name = { "zh-CN": val("name.zh-CN").value.trim(), en: val("name.en").value.trim() };
      if (editing.kind === "service") {
        e.prefix = val("prefix").value.trim().toUpperCase();
        e.description = { "zh-CN": val("description.zh-CN").value.trim(), en: val("description.en").value.trim() };
        e.documents = [...form.querySelectorAll(".admin-doc")].map((row, i) => ({
          id: val(`documents[${i}].id`).value.trim(),
          name: { "zh-CN": val(`documents[${i}].name.zh-CN`).value.trim(), en: val(`documents[${i}].name.en`).value.trim() },
        }));
        e.keywords = splitWords(val("keywords").value);
        const minutes = num("avg_service_s");
        e.avg_service_s = Number.isFinite(minutes) ? Math.round(minutes * 60) : NaN;
        e.slot_minutes = num("slot_minutes");
        e.sort = Number.isFinite(num("sort")) ? Math.round(num("sort")) : 0;
        e.appointable = val("appointable").checked;
        e.online = val("online").checked;
        e.online_url = val("online_url").value.trim() || null;
        e.active = val("active").checked;
      } else {
        e.x = num("x");
        e.z = num("z");
        e.services = [...form.querySelectorAll("[data-field=services] input:checked")].map((b) => b.value);
        e.appointments_per_slot = num("appointments_per_slot");
        e.active = val("active").checked;
      }
    };

    const renderForm = () => {
      form.hidden = !editing;
      form.replaceChildren();
      if (!editing) return;
      const { kind, entry: e, isNew } = editing;
      form.dataset.kind = kind;
      form.dataset.id = e.id ?? "";
      const head = el("h3", "panel-subtitle admin-form-head", isNew
        ? t(kind === "service" ? "panel.admin.new_service" : "panel.admin.new_counter")
        : t("panel.admin.editing", { name: i18n.pick(e.name) || e.id }));
      form.append(head);
      const id = textInput(e.id, 32);
      id.disabled = !isNew;
      form.append(field(t("panel.admin.id"), id, "id", isNew ? t("panel.admin.id_hint") : null));
      const names = el("div", "admin-row");
      names.append(field(t("panel.admin.name_zh"), textInput(e.name?.["zh-CN"], 60), "name.zh-CN"),
        field(t("panel.admin.name_en"), textInput(e.name?.en, 60), "name.en"));
      form.append(names);
      if (kind === "service") {
        const prefix = textInput(e.prefix, 2);
        prefix.classList.add("admin-short");
        form.append(field(t("panel.admin.prefix"), prefix, "prefix", t("panel.admin.prefix_hint")));
        for (const l of LANGS) {
          const ta = el("textarea", "admin-input");
          ta.rows = 2;
          ta.maxLength = 500;
          ta.value = e.description?.[l] ?? "";
          form.append(field(t(l === "zh-CN" ? "panel.admin.desc_zh" : "panel.admin.desc_en"), ta, `description.${l}`));
        }
        const docs = e.documents ?? (e.documents = []);
        const fs = el("fieldset", "admin-docs");
        fs.append(el("legend", "staff-label", t("panel.admin.documents")));
        docs.forEach((d, i) => fs.append(docRow(d, i)));
        const add = button(t("panel.admin.add_doc"), "btn small admin-add-doc");
        add.addEventListener("click", () => {
          readInto();
          const list = editing.entry.documents;
          list.push({ id: "", name: { "zh-CN": "", en: "" } });
          renderForm();
          form.querySelector(`[data-field="documents[${list.length - 1}].id"]`)?.focus();
        });
        fs.append(add);
        form.append(fs);
        const kw = el("textarea", "admin-input");
        kw.rows = 2;
        kw.value = (e.keywords ?? []).join(", ");
        form.append(field(t("panel.admin.keywords"), kw, "keywords", t("panel.admin.keywords_hint")));
        const times = el("div", "admin-row");
        times.append(
          field(t("panel.admin.avg_minutes"), numberInput(e.avg_service_s == null || Number.isNaN(e.avg_service_s) ? "" : Math.round(e.avg_service_s / 6) / 10, "0.5"), "avg_service_s"),
          field(t("panel.admin.slot_minutes"), numberInput(e.slot_minutes ?? 30), "slot_minutes"),
          field(t("panel.admin.sort"), numberInput(e.sort ?? 0), "sort"));
        form.append(times);
        const checks = el("div", "admin-checks");
        checks.append(checkbox(t("panel.admin.appointable"), e.appointable !== false, "appointable").lab,
          checkbox(t("panel.admin.online"), e.online, "online").lab,
          checkbox(t("panel.admin.active"), e.active !== false, "active").lab);
        form.append(checks);
        const url = textInput(e.online_url ?? "", 300);
        url.type = "url";
        url.placeholder = "https://";
        form.append(field(t("panel.admin.online_url"), url, "online_url"));
      } else {
        const pos = el("div", "admin-row");
        pos.append(field(t("panel.admin.x"), numberInput(e.x ?? 0, "0.5"), "x"),
          field(t("panel.admin.z"), numberInput(e.z ?? 0, "0.5"), "z"),
          field(t("panel.admin.places"), numberInput(e.appointments_per_slot ?? 1), "appointments_per_slot"));
        form.append(pos, el("p", "admin-hint", t("panel.admin.position_hint")));
        const fs = el("fieldset", "admin-counter-services");
        fs.dataset.field = "services";
        fs.append(el("legend", "staff-label", t("panel.admin.counter_services")));
        for (const s of catalogue?.services ?? []) {
          const { lab, box } = checkbox(`${s.prefix} · ${i18n.pick(s.name)}${s.active ? "" : ` (${t("panel.admin.inactive")})`}`,
            (e.services ?? []).includes(s.id), "");
          box.removeAttribute("data-field");
          box.value = s.id;
          fs.append(lab);
        }
        form.append(fs);
        form.append(el("div", "admin-checks"));
        form.lastChild.append(checkbox(t("panel.admin.active"), e.active !== false, "active").lab);
      }
      errorBox.hidden = true;
      form.append(errorBox);
      const bar = el("div", "admin-actions");
      const save = el("button", "btn small primary admin-save", t("panel.admin.save"));
      save.type = "submit";
      const cancel = button(t("panel.admin.cancel"), "btn small admin-cancel");
      cancel.addEventListener("click", () => { editing = null; render(); });
      bar.append(save, cancel);
      if (!isNew && e.active) {
        const remove = button(t(kind === "service" ? "panel.admin.deactivate_service" : "panel.admin.deactivate_counter"), "btn small subtle admin-deactivate");
        remove.addEventListener("click", () => deactivate(remove));
        bar.append(remove);
      }
      form.append(bar);
    };

    const path = () => `/api/hall/${editing.kind === "service" ? "services" : "counters"}/${encodeURIComponent(editing.entry.id)}`;

    const serverProblem = (err) => {
      const f = fieldOf(err.field);
      const text = err.code === "bad_request" && err.message ? err.message : i18n.errorText(err.code, err.message);
      return [{ field: f, text: err.code === "bad_request" ? `${t("panel.admin.server_said")} ${text}` : text }];
    };

    const deactivate = async (btn) => {
      if (btn.dataset.confirm !== "1") {
        btn.dataset.confirm = "1";
        btn.textContent = t("panel.admin.confirm_deactivate");
        return;
      }
      btn.disabled = true;
      try {
        await ctx.api.delete(path());
        ctx.toast("panel.admin.deactivated", { name: i18n.pick(editing.entry.name) });
        editing = null;
        await load();
      } catch (err) {
        btn.disabled = false;
        showProblems(serverProblem(err));
      }
    };

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!editing) return;
      readInto();
      const { kind, entry: e, isNew } = editing;
      const local = (kind === "service" ? checkService : checkCounter)(e, isNew)
        .map((p) => ({ field: p.field, text: t(p.key, p.params) }));
      if (isNew && (kind === "service" ? catalogue?.services : catalogue?.counters)?.some((x) => x.id === e.id)) {
        local.push({ field: "id", text: t("panel.admin.err.id_taken") });
      }
      if (kind === "service" && e.active) {
        const clash = catalogue?.services.find((x) => x.active && x.id !== e.id && x.prefix === e.prefix);
        if (clash) local.push({ field: "prefix", text: t("panel.admin.err.prefix_taken", { name: i18n.pick(clash.name) }) });
      }
      if (local.length) { showProblems(local); return; }
      const { id, ...body } = e;
      const save = form.querySelector(".admin-save");
      save.disabled = true;
      try {
        await ctx.api.put(path(), body);
        ctx.toast("panel.admin.saved", { name: i18n.pick(e.name) });
        editing = null;
        await load();
      } catch (err) {
        save.disabled = false;
        showProblems(serverProblem(err));
      }
    });

    newSvc.addEventListener("click", () => {
      openEditor("service", {
        id: "", prefix: "", name: { "zh-CN": "", en: "" }, description: { "zh-CN": "", en: "" }, keywords: [],
        documents: [], online: false, online_url: null, avg_service_s: 300, slot_minutes: 30, appointable: true,
        active: true, sort: (catalogue?.services.length ?? 0) + 1,
      }, true);
    });
    newCtr.addEventListener("click", () => {
      openEditor("counter", {
        id: "", name: { "zh-CN": "", en: "" }, x: 0, z: -33, services: [], appointments_per_slot: 1, active: true,
      }, true);
    });

    const render = () => {
      tabs.label("services", t("panel.admin.services"));
      tabs.label("counters", t("panel.admin.counters"));
      renderLists();
      const onList = !editing;
      tabs.bar.hidden = !onList;
      svcPane.hidden = !onList || tabs.selected !== "services";
      ctrPane.hidden = !onList || tabs.selected !== "counters";
      renderForm();
    };
    /** Opens the form for `entry` and puts the cursor in its first field. */
    const openEditor = (kind, entry, isNew) => {
      editing = { kind, entry, isNew };
      render();
      form.querySelector("input:not([disabled]), textarea")?.focus();
    };
    const relabel = () => { if (editing) readInto(); render(); };
    document.addEventListener("metahall:lang-changed", relabel);
    render();
    load();
    return {
      unmount: () => document.removeEventListener("metahall:lang-changed", relabel),
    };
  },
};
