// "My booth" (expo halls, exhibitors of a booth in this expo): the exhibitor dashboard.
//   profile   names, banner, description (zh/en), category, keywords, colour, logo, products
//             with pictures, PDF brochures and video links; uploads go to the server, which
//             checks and converts them (refusals come back with a reason we show)
//   visitors  who stands at the booth now (and the staff), and the booth chat with them
//   leads     contacts visitors shared with consent; export as CSV or XLSX
//   meetings  publish time slots, see bookings, the private chat when a meeting runs
//   figures   visitors, unique visitors, average dwell time, leads, meetings; the hall heatmap
// The server enforces that only this booth's staff do any of it.

import { button, el } from "./dom.js";
import { authFetch, chatView, download, errorText, expoFor, timeRange, txt, upload } from "./expo-core.js";
import { MeetingCall } from "./expo-video.js";
import { subTabs } from "./hall-ui.js";

const LANGS = [["zh-CN", "中文"], ["en", "English"]];

function field(labelText, input, id) {
  const wrap = el("div", "expo-field");
  const label = el("label", "expo-label", labelText);
  input.id = id;
  label.htmlFor = id;
  wrap.append(label, input);
  return wrap;
}

function textInput(value = "", max = 60) {
  const i = el("input");
  i.type = "text";
  i.maxLength = max;
  i.value = value ?? "";
  return i;
}

function textArea(value = "", max = 2000) {
  const t = el("textarea");
  t.maxLength = max;
  t.rows = 3;
  t.value = value ?? "";
  return t;
}

/** Two inputs (zh-CN, en) for a {"zh-CN","en"} text. */
function bilingual(i18n, labelKey, id, value, { area = false, max = 60 } = {}) {
  const box = el("fieldset", "expo-bilingual");
  box.append(el("legend", "expo-label", i18n.t(labelKey)));
  const inputs = {};
  for (const [lang, name] of LANGS) {
    const input = area ? textArea(value?.[lang], max) : textInput(value?.[lang], max);
    input.lang = lang;
    inputs[lang] = input;
    box.append(field(name, input, `${id}-${lang}`));
  }
  return { box, read: () => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim()])) };
}

function fileSelect(i18n, files, kind, selected, id) {
  const s = el("select", "expo-file-select");
  s.id = id;
  s.append(el("option", null, i18n.t("expo.desk.none")));
  s.firstChild.value = "";
  for (const f of files.filter((x) => x.kind === kind)) {
    const o = el("option", null, f.name);
    o.value = f.id;
    s.append(o);
  }
  s.value = selected ?? "";
  return s;
}

export const expoDeskPanel = {
  id: "expo-desk",
  titleKey: "expo.desk.title",
  icon: "ticket",
  order: 26,
  // Offered to exhibitors (a role, known at once); the booth itself arrives with expo.mine.
  when: (ctx) => Boolean(ctx.user?.roles?.includes("exhibitor")) && expoFor(ctx) !== null,
  mount(container, ctx) {
    const ctrl = expoFor(ctx);
    const wait = el("p", "panel-summary", ctx.i18n.t("expo.desk.no_booth"));
    container.append(wait);
    let inner = null;
    const tryMount = () => {
      if (inner || !ctrl.isExhibitor) return;
      wait.remove();
      inner = mountDesk(container, ctx, ctrl);
    };
    const off = ctrl.subscribe(tryMount);
    tryMount();
    return { unmount: () => { off(); inner?.unmount(); } };
  },
};

function mountDesk(container, ctx, ctrl) {
  const { i18n } = ctx;
  const boothId = ctrl.myBoothId;
  const enc = encodeURIComponent(boothId);
  const tabs = subTabs("expo-desk", ["profile", "visitors", "leads", "meetings", "figures"], (id) => load(id));
  const root = el("div", "expo-panel expo-desk");
  root.append(tabs.bar, ...tabs.panes.values());
  container.append(root);
  const offs = [];

  // -- profile ---------------------------------------------------------------------------------
  const profilePane = tabs.panes.get("profile");
  let files = [];
  const renderProfile = async () => {
    const [b, fl] = await Promise.all([ctrl.booth(boothId, true), ctx.api.get(`/api/expo/booths/${enc}/files`).catch(() => [])]);
    if (!b) return;
    files = fl;
    const form = el("form", "expo-profile-form");
    form.noValidate = true;
    const name = bilingual(i18n, "expo.desk.name", "expo-desk-name", b.name, { max: 40 });
    const banner = bilingual(i18n, "expo.desk.banner", "expo-desk-banner", b.banner, { max: 60 });
    const desc = bilingual(i18n, "expo.desk.description", "expo-desk-desc", b.description, { area: true, max: 2000 });
    const cat = el("select");
    for (const c of ctrl.categories) { const o = el("option", null, txt(i18n, c.name)); o.value = c.id; cat.append(o); }
    cat.value = b.category;
    const kw = textInput((b.keywords ?? []).join(", "), 400);
    const color = el("input");
    color.type = "color";
    color.value = b.color;
    const logo = fileSelect(i18n, files, "image", b.logo?.id, "expo-desk-logo");
    form.append(name.box, banner.box, desc.box,
      field(i18n.t("expo.desk.category"), cat, "expo-desk-category"),
      field(i18n.t("expo.desk.keywords"), kw, "expo-desk-keywords"),
      field(i18n.t("expo.desk.color"), color, "expo-desk-color"),
      field(i18n.t("expo.desk.logo"), logo, "expo-desk-logo"));
    // Products: cards with a picture, a brochure and a video link.
    const products = el("div", "expo-products-edit");
    const productRows = [];
    const addProduct = (p = {}) => {
      const n = productRows.length;
      const box = el("fieldset", "expo-product-edit");
      box.append(el("legend", "expo-label", i18n.t("expo.desk.product", { n: n + 1 })));
      const pn = bilingual(i18n, "expo.desk.product_name", `expo-desk-p${n}-name`, p.name, { max: 60 });
      const pd = bilingual(i18n, "expo.desk.product_desc", `expo-desk-p${n}-desc`, p.description, { area: true, max: 600 });
      const pimg = fileSelect(i18n, files, "image", p.image?.id, `expo-desk-p${n}-image`);
      const ppdf = fileSelect(i18n, files, "pdf", p.brochure?.id, `expo-desk-p${n}-pdf`);
      const pvid = textInput(p.video_url ?? "", 500);
      pvid.type = "url";
      const remove = button(i18n.t("expo.desk.remove"), "btn small subtle");
      const row = { id: p.id, box, read: () => ({ id: p.id, name: pn.read(), description: pd.read(), image: pimg.value || null, brochure: ppdf.value || null, video_url: pvid.value.trim() || null }) };
      remove.addEventListener("click", () => { productRows.splice(productRows.indexOf(row), 1); box.remove(); });
      box.append(pn.box, pd.box, field(i18n.t("expo.desk.picture"), pimg, `expo-desk-p${n}-image`),
        field(i18n.t("expo.desk.brochure"), ppdf, `expo-desk-p${n}-pdf`), field(i18n.t("expo.desk.video"), pvid, `expo-desk-p${n}-video`), remove);
      productRows.push(row);
      products.append(box);
    };
    for (const p of b.products ?? []) addProduct(p);
    const addBtn = button(i18n.t("expo.desk.add_product"), "btn small");
    addBtn.addEventListener("click", () => addProduct());
    // Videos and brochures of the booth itself.
    const videos = textArea((b.videos ?? []).map((v) => `${v.url} ${txt(i18n, v.title)}`.trim()).join("\n"), 4000);
    videos.rows = 2;
    const brochures = el("div", "expo-brochures-edit");
    const checks = [];
    for (const f of files.filter((x) => x.kind === "pdf")) {
      const l = el("label", "expo-check");
      const c = el("input");
      c.type = "checkbox";
      c.value = f.id;
      c.checked = (b.brochures ?? []).some((x) => x.id === f.id);
      checks.push(c);
      l.append(c, ` ${f.name}`);
      brochures.append(l);
    }
    if (!checks.length) brochures.append(el("p", "item-meta", i18n.t("expo.desk.no_pdfs")));
    const save = button(i18n.t("expo.desk.save"), "btn primary expo-desk-save");
    save.type = "submit";
    const err = el("p", "expo-error");
    err.setAttribute("role", "alert");
    err.hidden = true;
    form.append(el("h3", "panel-subtitle", i18n.t("expo.desk.products")), products, addBtn,
      field(i18n.t("expo.desk.videos"), videos, "expo-desk-videos"),
      el("h3", "panel-subtitle", i18n.t("expo.desk.brochures")), brochures, save, err);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        lang: i18n.lang,
        name: name.read(), banner: banner.read(), description: desc.read(), category: cat.value,
        keywords: kw.value.split(/[,，、]/).map((k) => k.trim()).filter(Boolean),
        color: color.value, logo: logo.value || null,
        products: productRows.map((r) => r.read()),
        videos: videos.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
          const [url, ...title] = line.split(/\s+/);
          const before = (b.videos ?? []).find((v) => v.url === url)?.title ?? {};
          return { url, title: { ...before, [i18n.lang]: title.join(" ") } };
        }),
        brochures: checks.filter((c) => c.checked).map((c) => c.value),
      };
      save.disabled = true;
      try {
        await ctx.api.put(`/api/expo/booths/${enc}`, body);
        err.hidden = true;
        ctx.toast("expo.desk.saved", {});
        renderProfile();
      } catch (ex) {
        err.hidden = false;
        err.textContent = errorText(i18n, ex);
      } finally {
        save.disabled = false;
      }
    });
    // Uploads.
    const up = el("form", "expo-upload");
    const fileInput = el("input");
    fileInput.type = "file";
    fileInput.accept = "image/png,image/jpeg,image/gif,image/webp,application/pdf";
    const purpose = el("select");
    for (const k of ["image", "brochure"]) { const o = el("option", null, i18n.t(`expo.desk.purpose.${k}`)); o.value = k; purpose.append(o); }
    const send = button(i18n.t("expo.desk.upload"), "btn small");
    send.type = "submit";
    const upErr = el("p", "expo-error");
    upErr.setAttribute("role", "alert");
    upErr.hidden = true;
    up.append(field(i18n.t("expo.desk.file"), fileInput, "expo-desk-file"), field(i18n.t("expo.desk.purpose"), purpose, "expo-desk-purpose"), send, upErr);
    up.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = fileInput.files?.[0];
      if (!f) { fileInput.focus(); return; }
      send.disabled = true;
      try {
        const stored = await upload(ctx, boothId, f, purpose.value);
        ctx.toast("expo.desk.uploaded", { name: stored.name });
        renderProfile();
      } catch (ex) {
        upErr.hidden = false;
        upErr.textContent = errorText(i18n, ex);
      } finally {
        send.disabled = false;
      }
    });
    const fileList = el("ul", "item-list expo-files");
    for (const f of files) {
      const li = el("li", "item");
      if (f.thumb_url) { const i = el("img", "expo-logo"); i.src = f.thumb_url; i.alt = ""; li.append(i); }
      li.append(el("span", "item-text", `${f.name} · ${f.kind.toUpperCase()}`));
      const del = button(i18n.t("expo.desk.delete"), "btn small subtle");
      del.addEventListener("click", async () => {
        try { await ctx.api.delete(`/api/expo/booths/${enc}/files/${encodeURIComponent(f.id)}`); } catch (ex) { ctx.toast("expo.error", { message: errorText(i18n, ex) }, "warn"); }
        renderProfile();
      });
      li.append(del);
      fileList.append(li);
    }
    profilePane.replaceChildren(el("p", "panel-summary", i18n.t("expo.desk.intro", { slot: (b.slot ?? "").replace(/^b/, "") })),
      form, el("h3", "panel-subtitle", i18n.t("expo.desk.files")), up, fileList);
  };

  // -- visitors and booth chat -----------------------------------------------------------------
  const visitorsPane = tabs.panes.get("visitors");
  const people = el("ul", "item-list expo-present");
  const staff = el("ul", "item-list expo-staff");
  const chat = chatView(ctx, ctrl.chats, "expo-desk");
  chat.set(`booth:${boothId}`);
  visitorsPane.append(el("h3", "panel-subtitle expo-h-visitors"), people, el("h3", "panel-subtitle expo-h-staff"), staff,
    el("h3", "panel-subtitle expo-h-chat"), chat.root);
  let presence = null;
  const renderPresence = () => {
    visitorsPane.querySelector(".expo-h-visitors").textContent = i18n.t("expo.desk.here_now", { n: presence?.count ?? 0 });
    visitorsPane.querySelector(".expo-h-staff").textContent = i18n.t("expo.desk.staff");
    visitorsPane.querySelector(".expo-h-chat").textContent = i18n.t("expo.booth.chat");
    people.replaceChildren(...(presence?.visitors ?? []).map((v) => {
      const li = el("li", "item");
      li.append(el("span", "item-text", `${v.display_name} · ${i18n.t("expo.desk.since", { min: Math.max(0, Math.round((Date.now() - v.since) / 60000)) })}`));
      return li;
    }));
    if (!presence?.visitors?.length) people.append(el("li", "item-meta", i18n.t("expo.desk.nobody")));
    staff.replaceChildren(...(presence?.staff ?? []).map((s) => el("li", "item-meta",
      `${s.display_name} · ${i18n.t(s.here ? "expo.desk.at_booth" : s.online ? "expo.desk.online" : "expo.desk.offline")}`)));
  };
  offs.push(ctx.transport.on("booth.presence", (m) => { if (m?.booth_id === boothId) { presence = m; renderPresence(); } }));

  // -- leads -------------------------------------------------------------------------------------
  const leadsPane = tabs.panes.get("leads");
  const renderLeads = async () => {
    const ack = await ctx.transport.request("lead.list", { booth_id: boothId });
    const leads = ack?.leads ?? [];
    const table = el("table", "expo-leads");
    const headRow = el("tr");
    for (const k of ["name", "email", "phone", "company", "consent_at"]) headRow.append(el("th", null, i18n.t(`expo.lead.${k}`)));
    const thead = el("thead");
    thead.append(headRow);
    const tbody = el("tbody");
    for (const l of leads) {
      const tr = el("tr");
      tr.dataset.userId = l.user_id;
      for (const v of [l.contact.name, l.contact.email ?? "", l.contact.phone ?? "", l.contact.company ?? "", new Date(l.consent_at).toLocaleString(i18n.lang, { dateStyle: "short", timeStyle: "short" })]) tr.append(el("td", null, v));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const csv = button(i18n.t("expo.desk.export_csv"), "btn small expo-export-csv");
    const xlsx = button(i18n.t("expo.desk.export_xlsx"), "btn small expo-export-xlsx");
    const exportErr = el("p", "expo-error");
    exportErr.hidden = true;
    for (const [b, fmt] of [[csv, "csv"], [xlsx, "xlsx"]]) {
      b.addEventListener("click", async () => {
        try {
          await download(ctx, `/api/expo/booths/${enc}/leads.${fmt}`, `leads-${ctrl.booths.get(boothId)?.slot ?? "booth"}.${fmt}`);
          exportErr.hidden = true;
        } catch (ex) { exportErr.hidden = false; exportErr.textContent = errorText(i18n, ex); }
      });
    }
    const actions = el("div", "expo-card-actions");
    actions.append(csv, xlsx);
    leadsPane.replaceChildren(el("p", "panel-summary", i18n.t("expo.desk.leads_n", { n: leads.length })), actions, exportErr,
      leads.length ? table : el("p", "item-meta", i18n.t("expo.desk.no_leads")));
    tabs.badge("leads", leads.length);
  };
  offs.push(ctx.transport.on("lead.new", (m) => {
    if (m?.booth_id !== boothId) return;
    ctx.toast("expo.desk.new_lead", { name: m.lead?.contact?.name ?? "" });
    if (tabs.selected === "leads") renderLeads();
  }));
  offs.push(ctx.transport.on("lead.withdrawn", (m) => { if (m?.booth_id === boothId && tabs.selected === "leads") renderLeads(); }));

  // -- meetings ----------------------------------------------------------------------------------
  const meetPane = tabs.panes.get("meetings");
  const meetChat = chatView(ctx, ctrl.chats, "expo-desk-meeting");
  const call = new MeetingCall(ctx);
  const renderMeetings = async () => {
    const [slots, booked] = await Promise.all([
      ctx.transport.request("meeting.slots", { booth_id: boothId }),
      ctx.transport.request("meeting.mine", { booth_id: boothId }),
    ]);
    const form = el("form", "expo-slot-form");
    const start = el("input");
    start.type = "datetime-local";
    const d = new Date(Date.now() + 3600_000);
    d.setMinutes(d.getMinutes() < 30 ? 30 : 60, 0, 0);
    start.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    const minutes = el("select");
    for (const m of [15, 30, 45, 60]) { const o = el("option", null, i18n.t("expo.desk.minutes", { n: m })); o.value = String(m); minutes.append(o); }
    minutes.value = "30";
    const count = el("input");
    count.type = "number";
    count.min = "1";
    count.max = "16";
    count.value = "4";
    const add = button(i18n.t("expo.desk.publish_slots"), "btn small primary");
    add.type = "submit";
    const err = el("p", "expo-error");
    err.hidden = true;
    form.append(field(i18n.t("expo.desk.slot_start"), start, "expo-desk-slot-start"), field(i18n.t("expo.desk.slot_length"), minutes, "expo-desk-slot-minutes"),
      field(i18n.t("expo.desk.slot_count"), count, "expo-desk-slot-count"), add, err);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const ack = await ctx.transport.request("slot.add", { booth_id: boothId, start: new Date(start.value).getTime(), minutes: Number(minutes.value), count: Number(count.value) });
      if (!ack?.ok) { err.hidden = false; err.textContent = errorText(i18n, ack); return; }
      renderMeetings();
    });
    const byslot = new Map((booked?.meetings ?? []).map((m) => [m.slot_id, m]));
    const ul = el("ul", "item-list expo-slots");
    for (const s of slots?.slots ?? []) {
      const m = byslot.get(s.id);
      const li = el("li", "item");
      li.append(el("span", "item-text", `${timeRange(i18n, s.start, s.end)} · ${m ? i18n.t("expo.desk.booked_by", { name: m.visitor_name }) : i18n.t("expo.desk.free")}`));
      const cancel = button(i18n.t("expo.desk.cancel_slot"), "btn small subtle");
      cancel.addEventListener("click", async () => { await ctx.transport.request("slot.cancel", { slot_id: s.id }); renderMeetings(); });
      li.append(cancel);
      ul.append(li);
    }
    if (!ul.children.length) ul.append(el("li", "item-meta", i18n.t("expo.desk.no_slots")));
    const now = Date.now();
    const live = (booked?.meetings ?? []).find((m) => now >= m.start - 60_000 && now <= m.end + 600_000);
    meetChat.set(live?.channel ?? null, "expo.meeting.chat_later");
    call.set(live ?? null);
    meetPane.replaceChildren(form, el("h3", "panel-subtitle", i18n.t("expo.desk.slots")), ul, el("h3", "panel-subtitle", i18n.t("expo.meeting.chat")), meetChat.root, call.root);
  };
  for (const ev of ["meeting.booked", "meeting.cancelled", "meeting.open"]) {
    offs.push(ctx.transport.on(ev, () => { if (tabs.selected === "meetings") renderMeetings(); }));
  }

  // -- figures -----------------------------------------------------------------------------------
  const figPane = tabs.panes.get("figures");
  let heatUrl = null;
  const renderFigures = async () => {
    const ack = await ctx.transport.request("booth.analytics", { booth_id: boothId });
    const dl = el("dl", "expo-figures");
    if (ack?.ok) {
      for (const [k, v] of [["visitors", ack.visitors], ["unique_visitors", ack.unique_visitors], ["avg_dwell", i18n.t("expo.desk.seconds", { n: ack.avg_dwell_s })],
        ["leads", ack.leads], ["meetings", ack.meetings], ["present", ack.present]]) {
        const item = el("div", "expo-figure");
        item.dataset.figure = k;
        item.append(el("dt", null, i18n.t(`expo.fig.${k}`)), el("dd", null, String(v)));
        dl.append(item);
      }
    }
    const refresh = button(i18n.t("expo.desk.refresh"), "btn small");
    refresh.addEventListener("click", renderFigures);
    const heat = el("img", "expo-heatmap");
    heat.alt = i18n.t("expo.desk.heatmap_alt");
    figPane.replaceChildren(dl, refresh, el("h3", "panel-subtitle", i18n.t("expo.desk.heatmap")), heat);
    try {
      const res = await authFetch(ctx, `/api/expo/halls/${encodeURIComponent(ctx.room.id)}/heatmap.png?booth=${enc}`);
      if (res.ok) {
        if (heatUrl) URL.revokeObjectURL(heatUrl);
        heatUrl = URL.createObjectURL(await res.blob());
        heat.src = heatUrl;
      }
    } catch { /* no map */ }
  };

  const load = (id) => {
    relabel();
    if (id === "profile") renderProfile();
    else if (id === "visitors") ctx.transport.request("booth.presence", { booth_id: boothId }).then((p) => { if (p?.ok) { presence = p; renderPresence(); } });
    else if (id === "leads") renderLeads();
    else if (id === "meetings") renderMeetings();
    else if (id === "figures") renderFigures();
  };
  const relabel = () => {
    for (const id of ["profile", "visitors", "leads", "meetings", "figures"]) tabs.label(id, i18n.t(`expo.desk.tab.${id}`));
  };
  const onLang = () => load(tabs.selected);
  document.addEventListener("metahall:lang-changed", onLang);
  load("profile");
  return {
    unmount: () => {
      for (const off of offs) off?.();
      chat.dispose();
      meetChat.dispose();
      call.dispose();
      if (heatUrl) URL.revokeObjectURL(heatUrl);
      document.removeEventListener("metahall:lang-changed", onLang);
    },
  };
}
