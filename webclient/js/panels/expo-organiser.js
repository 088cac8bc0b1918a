// "Organiser" (expo halls, admins): this expo (publish / unpublish), invite an exhibitor to a
// booth slot (an account with the exhibitor role; a generated password is shown once), the
// exhibitors, and a new expo (name, dates, one hall with a grid of booth slots and a stage).

import { button, el } from "./dom.js";
import { errorText, expoFor, txt } from "./expo-core.js";

function isAdmin(ctx) {
  return Boolean(ctx.user?.roles?.includes("admin"));
}

function input(type, value = "", attrs = {}) {
  const i = el("input");
  i.type = type;
  i.value = value;
  Object.assign(i, attrs);
  return i;
}

function row(labelText, control, id) {
  const wrap = el("div", "expo-field");
  const label = el("label", "expo-label", labelText);
  control.id = id;
  label.htmlFor = id;
  wrap.append(label, control);
  return wrap;
}

export const expoOrganiserPanel = {
  id: "expo-admin",
  titleKey: "expo.org.title",
  icon: "dot",
  order: 27,
  when: (ctx) => isAdmin(ctx) && expoFor(ctx) !== null,
  mount(container, ctx) {
    const { i18n } = ctx;
    const ctrl = expoFor(ctx);
    const root = el("div", "expo-panel expo-organiser");
    container.append(root);

    const render = async () => {
      const expo = ctrl.expo;
      const parts = [];
      // This expo.
      if (expo) {
        parts.push(el("h3", "panel-subtitle", txt(i18n, expo.name)));
        parts.push(el("p", "item-meta expo-org-state", i18n.t(expo.published ? "expo.org.published" : "expo.org.unpublished")));
        const toggle = button(i18n.t(expo.published ? "expo.org.unpublish" : "expo.org.publish"), "btn small expo-org-publish");
        toggle.addEventListener("click", async () => {
          try {
            const out = await ctx.api.post(`/api/expos/${encodeURIComponent(expo.id)}/publish`, { published: !expo.published });
            ctrl.expo = { ...expo, ...out };
            render();
          } catch (ex) { ctx.toast("expo.error", { message: errorText(i18n, ex) }, "warn"); }
        });
        parts.push(toggle);
        // Invite an exhibitor.
        const form = el("form", "expo-invite");
        form.noValidate = true;
        const user = input("text", "", { maxLength: 32, autocomplete: "off" });
        const company = input("text", "", { maxLength: 60 });
        const slot = input("text", "", { maxLength: 8, placeholder: "b7" });
        const send = button(i18n.t("expo.org.invite"), "btn small primary");
        send.type = "submit";
        const out = el("p", "expo-org-result");
        out.setAttribute("role", "status");
        form.append(el("h3", "panel-subtitle", i18n.t("expo.org.invite_title")),
          row(i18n.t("expo.org.username"), user, "expo-org-user"), row(i18n.t("expo.org.company"), company, "expo-org-company"),
          row(i18n.t("expo.org.slot"), slot, "expo-org-slot"), send, out);
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          send.disabled = true;
          try {
            const res = await ctx.api.post(`/api/expos/${encodeURIComponent(expo.id)}/exhibitors`, {
              username: user.value.trim(), company: company.value.trim(), slot: slot.value.trim(),
            });
            out.textContent = res.password
              ? i18n.t("expo.org.invited_pw", { user: res.user.display_name, slot: res.booth.slot, password: res.password })
              : i18n.t("expo.org.invited", { user: res.user.display_name, slot: res.booth.slot });
            out.classList.remove("expo-error");
            list();
          } catch (ex) {
            out.textContent = errorText(i18n, ex);
            out.classList.add("expo-error");
          } finally { send.disabled = false; }
        });
        parts.push(form);
        const people = el("ul", "item-list expo-exhibitors");
        const list = async () => {
          try {
            const ex = await ctx.api.get(`/api/expos/${encodeURIComponent(expo.id)}/exhibitors`);
            people.replaceChildren(...ex.map((x) => el("li", "item-meta", `${x.display_name} · ${x.company} · ${x.slot}`)));
            if (!ex.length) people.append(el("li", "item-meta", i18n.t("expo.org.no_exhibitors")));
          } catch { /* not an organiser any more */ }
        };
        parts.push(el("h3", "panel-subtitle", i18n.t("expo.org.exhibitors")), people);
        list();
      }
      // A new expo.
      const create = el("form", "expo-create");
      create.noValidate = true;
      const id = input("text", "", { maxLength: 31, placeholder: "spring-fair" });
      const zh = input("text", "", { maxLength: 60 });
      const en = input("text", "", { maxLength: 60 });
      const starts = input("date");
      const ends = input("date");
      const rows = input("number", "3", { min: 1, max: 10 });
      const cols = input("number", "6", { min: 1, max: 20 });
      const stage = input("checkbox");
      stage.checked = true;
      const go = button(i18n.t("expo.org.create"), "btn small primary");
      go.type = "submit";
      const msg = el("p", "expo-org-result");
      msg.setAttribute("role", "status");
      create.append(el("h3", "panel-subtitle", i18n.t("expo.org.new")),
        row(i18n.t("expo.org.id"), id, "expo-org-id"), row(i18n.t("expo.org.name_zh"), zh, "expo-org-zh"),
        row(i18n.t("expo.org.name_en"), en, "expo-org-en"), row(i18n.t("expo.org.starts"), starts, "expo-org-starts"),
        row(i18n.t("expo.org.ends"), ends, "expo-org-ends"), row(i18n.t("expo.org.rows"), rows, "expo-org-rows"),
        row(i18n.t("expo.org.cols"), cols, "expo-org-cols"), row(i18n.t("expo.org.stage"), stage, "expo-org-stage"), go, msg);
      create.addEventListener("submit", async (e) => {
        e.preventDefault();
        const day = (v, end) => (v ? new Date(`${v}T${end ? "23:59:59" : "00:00:00"}`).getTime() : null);
        try {
          const out = await ctx.api.post("/api/expos", {
            id: id.value.trim(), name: { "zh-CN": zh.value.trim(), en: en.value.trim() },
            starts_at: day(starts.value, false), ends_at: day(ends.value, true),
            halls: [{ rows: Number(rows.value), cols: Number(cols.value), stage: stage.checked }],
          });
          msg.classList.remove("expo-error");
          msg.textContent = i18n.t("expo.org.created", { room: out.halls[0].room_id, n: out.halls[0].slots });
        } catch (ex) {
          msg.classList.add("expo-error");
          msg.textContent = errorText(i18n, ex);
        }
      });
      parts.push(create);
      root.replaceChildren(...parts);
    };
    const off = ctrl.subscribe(() => { if (!root.querySelector(":focus")) render(); });
    document.addEventListener("metahall:lang-changed", render);
    render();
    return { unmount: () => { off(); document.removeEventListener("metahall:lang-changed", render); } };
  },
};
