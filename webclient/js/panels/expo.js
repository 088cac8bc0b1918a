// "Expo" (expo halls, everyone): the directory (search by name, keyword, category; favourites;
// walk to a booth), the booth I picked or stand at (profile, products, brochures, videos, booth
// chat while I am there, sharing my contact with explicit consent, booking a meeting), and
// "mine" (favourites, contacts shared — with withdrawal —, meetings and their private chat).

import { button, el } from "./dom.js";
import { chatView, errorText, expoFor, timeRange, txt } from "./expo-core.js";
import { MeetingCall } from "./expo-video.js";
import { subTabs } from "./hall-ui.js";

function img(src, alt, className) {
  const i = el("img", className);
  i.src = src;
  i.alt = alt;
  i.loading = "lazy";
  i.decoding = "async";
  return i;
}

function link(href, text, className = "expo-link") {
  const a = el("a", className, text);
  a.href = href;
  if (/^https?:/i.test(href)) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
  return a;
}

function sizeText(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export const expoPanel = {
  id: "expo",
  titleKey: "expo.panel.title",
  icon: "booth",
  order: 25,
  when: (ctx) => expoFor(ctx) !== null,
  mount(container, ctx) {
    const { i18n } = ctx;
    const ctrl = expoFor(ctx);
    const tabs = subTabs("expo", ["directory", "booth", "mine"], (id) => { if (id === "booth") renderBooth(); if (id === "mine") renderMine(); });
    const root = el("div", "expo-panel");
    root.append(tabs.bar, ...tabs.panes.values());
    container.append(root);
    const panes = tabs.panes;
    let current = null; // booth id shown in the booth tab
    let query = "";
    let category = "";

    // -- directory ---------------------------------------------------------------------------
    const dir = panes.get("directory");
    const head = el("p", "panel-summary expo-expo-name");
    const form = el("form", "expo-search");
    form.setAttribute("role", "search");
    const q = el("input", "panel-filter expo-q");
    q.type = "search";
    q.id = "expo-q";
    const cat = el("select", "expo-category");
    cat.id = "expo-category";
    const go = button("", "btn small");
    go.type = "submit";
    form.append(q, cat, go);
    const list = el("ul", "item-list expo-booths");
    const none = el("p", "panel-summary");
    dir.append(head, form, list, none);

    const renderCategories = () => {
      const value = cat.value;
      cat.replaceChildren(el("option", null, i18n.t("expo.dir.all_categories")),
        ...ctrl.categories.map((c) => { const o = el("option", null, txt(i18n, c.name)); o.value = c.id; return o; }));
      cat.firstChild.value = "";
      cat.value = value;
    };
    let results = [];
    const renderList = () => {
      head.textContent = ctrl.expo ? txt(i18n, ctrl.expo.name) : i18n.t("expo.dir.no_expo");
      q.placeholder = i18n.t("expo.dir.search");
      q.setAttribute("aria-label", i18n.t("expo.dir.search"));
      cat.setAttribute("aria-label", i18n.t("expo.dir.category"));
      go.textContent = i18n.t("expo.dir.find");
      if (cat.options.length !== ctrl.categories.length + 1) renderCategories();
      list.replaceChildren(...results.map((r) => {
        const b = ctrl.booths.get(r.id) ?? r;
        const li = el("li", "item expo-booth");
        li.dataset.boothId = b.id;
        li.style.setProperty("--booth-color", b.color ?? "#5bc0de");
        const main = el("button", "item-main");
        main.type = "button";
        if (b.logo?.thumb_url) main.append(img(b.logo.thumb_url, "", "expo-logo"));
        else main.append(el("span", "expo-logo expo-logo-none", (txt(i18n, b.name) || b.company || "?").slice(0, 1)));
        const text = el("span", "item-text");
        text.append(el("span", "item-name", txt(i18n, b.name) || b.company),
          el("span", "item-meta", `${ctrl.categoryName(b.category)} · ${i18n.t("expo.dir.slot", { slot: (b.slot ?? "").replace(/^b/, "") })}${ctrl.atBooth === b.id ? ` · ${i18n.t("expo.dir.here")}` : ""}`));
        main.append(text);
        main.addEventListener("click", () => open(b.id));
        const fav = button(ctrl.favourites.has(b.id) ? "★" : "☆", "btn small expo-fav");
        fav.setAttribute("aria-pressed", String(ctrl.favourites.has(b.id)));
        fav.setAttribute("aria-label", i18n.t("expo.fav.label", { name: txt(i18n, b.name) }));
        fav.addEventListener("click", () => ctrl.setFavourite(b.id, !ctrl.favourites.has(b.id)));
        const walk = button(i18n.t("expo.go.button"), "btn small expo-go");
        walk.addEventListener("click", () => ctrl.go(b.id));
        const actions = el("span", "item-actions");
        actions.append(fav, walk);
        li.append(main, actions);
        return li;
      }));
      none.hidden = results.length > 0;
      none.textContent = i18n.t(query || category ? "expo.dir.nothing" : "expo.dir.empty");
    };
    const search = async () => {
      query = q.value.trim();
      category = cat.value;
      results = await ctrl.search(query, category);
      renderList();
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); search(); });
    cat.addEventListener("change", search);

    // -- one booth ------------------------------------------------------------------------------
    const pane = panes.get("booth");
    const boothBox = el("div", "expo-booth-detail");
    const chat = chatView(ctx, ctrl.chats, "expo-booth");
    pane.append(boothBox);

    const open = async (id, tab = true) => {
      current = id;
      if (tab) tabs.select("booth");
      await ctrl.booth(id, true);
      renderBooth();
    };

    const contactForm = (b) => {
      const box = el("form", "expo-lead-form");
      box.noValidate = true;
      const fields = {};
      for (const [key, type] of [["name", "text"], ["email", "email"], ["phone", "tel"], ["company", "text"], ["note", "text"]]) {
        const id = `expo-lead-${key}`;
        const label = el("label", "expo-label", i18n.t(`expo.lead.${key}`));
        label.htmlFor = id;
        const input = el("input");
        input.id = id;
        input.type = type;
        input.maxLength = key === "note" ? 500 : 100;
        if (key === "name") input.value = ctx.user?.display_name ?? "";
        fields[key] = input;
        box.append(label, input);
      }
      const consent = el("label", "expo-consent");
      const check = el("input");
      check.type = "checkbox";
      check.id = "expo-lead-consent";
      consent.append(check, el("span", "expo-consent-text", txt(i18n, b.consent_text)));
      const share = button(i18n.t("expo.lead.share"), "btn small primary expo-lead-share");
      share.type = "submit";
      const err = el("p", "expo-error");
      err.hidden = true;
      box.append(consent, share, err);
      box.addEventListener("submit", async (e) => {
        e.preventDefault();
        if (!check.checked) { err.hidden = false; err.textContent = i18n.t("expo.lead.need_consent"); check.focus(); return; }
        const contact = {};
        for (const [k, input] of Object.entries(fields)) if (input.value.trim()) contact[k] = input.value.trim();
        share.disabled = true;
        const ack = await ctx.transport.request("lead.share", { booth_id: b.id, consent: true, lang: i18n.lang, contact });
        share.disabled = false;
        if (!ack?.ok) { err.hidden = false; err.textContent = errorText(i18n, ack); return; }
        ctx.toast("expo.lead.shared", { name: txt(i18n, b.name) });
        await ctrl.refreshMine();
        renderBooth();
      });
      return box;
    };

    const meetingsBox = async (b) => {
      const box = el("div", "expo-meetings");
      box.append(el("h3", "panel-subtitle", i18n.t("expo.meeting.title")));
      const mine = ctrl.meetings.find((m) => m.booth_id === b.id && m.status === "booked");
      if (mine) {
        box.append(el("p", "expo-mine", i18n.t("expo.meeting.yours", { time: timeRange(i18n, mine.start, mine.end) })));
        const cancel = button(i18n.t("expo.meeting.cancel"), "btn small");
        cancel.addEventListener("click", async () => {
          const ack = await ctx.transport.request("meeting.cancel", { meeting_id: mine.id });
          if (!ack?.ok) ctx.toast("expo.error", { message: errorText(i18n, ack) }, "warn");
          await ctrl.refreshMine();
          renderBooth();
        });
        box.append(cancel);
        return box;
      }
      const ack = await ctx.transport.request("meeting.slots", { booth_id: b.id });
      const slots = (ack?.slots ?? []).filter((s) => !s.booked);
      if (!slots.length) { box.append(el("p", "item-meta", i18n.t("expo.meeting.no_slots"))); return box; }
      const ul = el("ul", "item-list expo-slots");
      for (const s of slots.slice(0, 12)) {
        const li = el("li", "item");
        li.dataset.slotId = s.id;
        const book = button(i18n.t("expo.meeting.book"), "btn small primary expo-book");
        book.addEventListener("click", async () => {
          book.disabled = true;
          const res = await ctx.transport.request("meeting.book", { slot_id: s.id });
          if (!res?.ok) {
            book.disabled = false;
            ctx.toast("expo.error", { message: errorText(i18n, res) }, "warn");
          } else {
            ctx.toast("expo.meeting.booked", { time: timeRange(i18n, s.start, s.end) });
          }
          await ctrl.refreshMine();
          renderBooth();
        });
        li.append(el("span", "item-text", timeRange(i18n, s.start, s.end)), book);
        ul.append(li);
      }
      box.append(ul);
      return box;
    };

    let renderSeq = 0;
    const renderBooth = async () => {
      const id = current ?? ctrl.openBooth ?? ctrl.atBooth;
      if (!id) {
        boothBox.replaceChildren(el("p", "panel-summary", i18n.t("expo.booth.pick")));
        chat.set(null);
        return;
      }
      current = id;
      const seq = ++renderSeq;
      const b = await ctrl.booth(id);
      if (seq !== renderSeq) return;
      if (!b) { boothBox.replaceChildren(el("p", "expo-error", i18n.t("expo.booth.gone"))); return; }
      const card = el("article", "expo-card");
      card.dataset.boothId = b.id;
      card.style.setProperty("--booth-color", b.color);
      const top = el("header", "expo-card-head");
      if (b.logo?.thumb_url) top.append(img(b.logo.thumb_url, i18n.t("expo.booth.logo"), "expo-logo large"));
      const names = el("div", "expo-card-names");
      names.append(el("h3", "expo-booth-name", txt(i18n, b.name) || b.company), el("p", "item-meta", `${b.company} · ${ctrl.categoryName(b.category)}`));
      if (txt(i18n, b.banner)) names.append(el("p", "expo-banner", txt(i18n, b.banner)));
      top.append(names);
      const acts = el("div", "expo-card-actions");
      const walk = button(i18n.t("expo.go.button"), "btn small");
      walk.addEventListener("click", () => ctrl.go(b.id));
      const fav = button(i18n.t(ctrl.favourites.has(b.id) ? "expo.fav.remove" : "expo.fav.add"), "btn small expo-fav");
      fav.setAttribute("aria-pressed", String(ctrl.favourites.has(b.id)));
      fav.addEventListener("click", async () => { await ctrl.setFavourite(b.id, !ctrl.favourites.has(b.id)); renderBooth(); });
      acts.append(walk, fav);
      card.append(top, acts);
      if (txt(i18n, b.description)) card.append(el("p", "expo-description", txt(i18n, b.description)));
      if (b.products?.length) {
        card.append(el("h3", "panel-subtitle", i18n.t("expo.booth.products")));
        const grid = el("ul", "expo-products");
        for (const p of b.products) {
          const li = el("li", "expo-product");
          if (p.image?.thumb_url) li.append(img(p.image.thumb_url, txt(i18n, p.name), "expo-product-img"));
          li.append(el("strong", null, txt(i18n, p.name)));
          if (txt(i18n, p.description)) li.append(el("p", "item-meta", txt(i18n, p.description)));
          if (p.brochure) li.append(link(p.brochure.url, `${i18n.t("expo.booth.brochure")} (PDF, ${sizeText(p.brochure.size)})`));
          if (p.video_url) li.append(link(p.video_url, i18n.t("expo.booth.video")));
          grid.append(li);
        }
        card.append(grid);
      }
      if (b.brochures?.length || b.videos?.length) {
        card.append(el("h3", "panel-subtitle", i18n.t("expo.booth.material")));
        const ul = el("ul", "expo-material");
        for (const f of b.brochures ?? []) { const li = el("li"); li.append(link(f.url, `${f.name} (PDF, ${sizeText(f.size)})`)); ul.append(li); }
        for (const v of b.videos ?? []) { const li = el("li"); li.append(link(v.url, `▶ ${txt(i18n, v.title) || v.url}`)); ul.append(li); }
        card.append(ul);
      }
      // Booth chat: with the staff and the other visitors standing at the booth.
      card.append(el("h3", "panel-subtitle", i18n.t("expo.booth.chat")));
      const mine = ctrl.myBoothId === b.id;
      chat.set(ctrl.atBooth === b.id || mine ? `booth:${b.id}` : null, "expo.chat.walk_up");
      card.append(chat.root);
      // Leads: share my contact (consent), or withdraw it.
      if (!mine) {
        card.append(el("h3", "panel-subtitle", i18n.t("expo.lead.title")));
        const lead = ctrl.leads.get(b.id);
        if (lead) {
          const shared = el("div", "expo-lead-shared");
          shared.append(el("p", null, i18n.t("expo.lead.done", { time: new Date(lead.consent_at).toLocaleString(i18n.lang) })));
          const withdraw = button(i18n.t("expo.lead.withdraw"), "btn small expo-lead-withdraw");
          withdraw.addEventListener("click", async () => {
            const ack = await ctx.transport.request("lead.withdraw", { booth_id: b.id });
            if (ack?.ok) ctx.toast("expo.lead.withdrawn", {});
            else ctx.toast("expo.error", { message: errorText(i18n, ack) }, "warn");
            await ctrl.refreshMine();
            renderBooth();
          });
          shared.append(withdraw);
          card.append(shared);
        } else {
          card.append(contactForm(b));
        }
        card.append(await meetingsBox(b));
        if (seq !== renderSeq) return;
      }
      boothBox.replaceChildren(card);
    };

    // -- mine -----------------------------------------------------------------------------------
    const minePane = panes.get("mine");
    const meetingChat = chatView(ctx, ctrl.chats, "expo-meeting");
    const call = new MeetingCall(ctx);
    const renderMine = () => {
      const boxes = [];
      boxes.push(el("h3", "panel-subtitle", i18n.t("expo.mine.favourites")));
      const favs = el("ul", "item-list");
      for (const id of ctrl.favourites) {
        const li = el("li", "item");
        const b2 = button(ctrl.boothName(id) || id, "btn link");
        b2.addEventListener("click", () => open(id));
        li.append(b2);
        favs.append(li);
      }
      if (!ctrl.favourites.size) favs.append(el("li", "item-meta", i18n.t("expo.mine.no_favourites")));
      boxes.push(favs, el("h3", "panel-subtitle", i18n.t("expo.mine.contacts")));
      const leads = el("ul", "item-list expo-my-leads");
      for (const [id, l] of ctrl.leads) {
        const li = el("li", "item");
        li.append(el("span", "item-text", `${ctrl.boothName(id) || id} · ${new Date(l.consent_at).toLocaleDateString(i18n.lang)}`));
        const w = button(i18n.t("expo.lead.withdraw"), "btn small");
        w.addEventListener("click", async () => {
          await ctx.transport.request("lead.withdraw", { booth_id: id });
          await ctrl.refreshMine();
          renderMine();
        });
        li.append(w);
        leads.append(li);
      }
      if (!ctrl.leads.size) leads.append(el("li", "item-meta", i18n.t("expo.mine.no_contacts")));
      boxes.push(leads, el("h3", "panel-subtitle", i18n.t("expo.mine.meetings")));
      const meets = el("ul", "item-list expo-my-meetings");
      let running = null;
      const now = Date.now();
      for (const m of ctrl.meetings) {
        const li = el("li", "item");
        const who = m.visitor_id === ctx.user?.id ? ctrl.boothName(m.booth_id) : m.visitor_name;
        li.append(el("span", "item-text", `${timeRange(i18n, m.start, m.end)} · ${who}`));
        if (now >= m.start - 60_000 && now <= m.end + 600_000) running = m;
        meets.append(li);
      }
      if (!ctrl.meetings.length) meets.append(el("li", "item-meta", i18n.t("expo.mine.no_meetings")));
      boxes.push(meets);
      meetingChat.set(running?.channel ?? null, "expo.meeting.chat_later");
      call.set(running);
      boxes.push(el("h3", "panel-subtitle", i18n.t("expo.meeting.chat")), meetingChat.root, call.root);
      minePane.replaceChildren(...boxes);
    };

    const relabel = () => {
      tabs.label("directory", i18n.t("expo.tab.directory"));
      tabs.label("booth", i18n.t("expo.tab.booth"));
      tabs.label("mine", i18n.t("expo.tab.mine"));
      tabs.badge("booth", 0, ctrl.atBooth ? "●" : "");
    };
    let lastAt = ctrl.atBooth;
    const onChange = () => {
      relabel();
      if (ctrl.atBooth && ctrl.atBooth !== lastAt) current = ctrl.atBooth; // walked up to another booth
      lastAt = ctrl.atBooth;
      results = results.map((r) => ctrl.booths.get(r.id) ?? r);
      renderList();
      if (ctrl.openBooth) {
        const id = ctrl.openBooth;
        ctrl.openBooth = null;
        open(id);
      } else if (tabs.selected === "booth" && (!current || current === ctrl.atBooth)) {
        renderBooth();
      } else if (tabs.selected === "mine") {
        renderMine();
      }
    };
    const off = ctrl.subscribe(onChange);
    const onLang = () => { renderCategories(); onChange(); };
    document.addEventListener("metahall:lang-changed", onLang);
    relabel();
    search();
    if (ctrl.openBooth || ctrl.atBooth) onChange();
    return {
      show: () => { if (ctrl.openBooth) onChange(); },
      unmount: () => { off(); chat.dispose(); meetingChat.dispose(); call.dispose(); document.removeEventListener("metahall:lang-changed", onLang); },
    };
  },
};
