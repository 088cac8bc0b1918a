// "Spaces": the directory of public social spaces with live member counts (and the private ones
// we belong to), creating a space, joining with an invite, waiting in line for a full space,
// our status, and friends ("join where my friend is"). Offered in every room.
// Server events: space.list/create/redeem/wait/unwait, presence.set, friend.* (docs/protocol.md).

import { button, el } from "./dom.js";

const REFRESH_MS = 3000;

function errorText(ctx, ack) {
  const reason = ack?.error?.reason;
  if (reason && ctx.i18n.has(`error.${reason}`)) return ctx.i18n.t(`error.${reason}`);
  return ctx.i18n.errorText(ack?.error?.code, ack?.error?.message);
}

export function toastError(ctx, ack) {
  ctx.toast("error.with_code", { message: errorText(ctx, ack) }, "error");
}

export const socialPanel = {
  id: "spaces",
  titleKey: "panel.spaces.title",
  icon: "spaces",
  order: 40,
  when: (ctx) => Boolean(ctx.social),
  mount(container, ctx) {
    const { i18n, transport } = ctx;
    const social = ctx.social;
    const t = (k, p) => i18n.t(k, p);

    // -- my status ------------------------------------------------------------------------
    const statusBox = el("div", "social-status");
    const statusLabel = el("label", "social-field");
    const statusText = el("span");
    statusText.dataset.i18n = "presence.status";
    const statusSelect = el("select", "social-status-select");
    for (const s of ["available", "busy"]) {
      const o = el("option");
      o.value = s;
      o.dataset.i18n = `presence.${s}`;
      statusSelect.append(o);
    }
    statusLabel.append(statusText, statusSelect);
    const shareLabel = el("label", "social-check");
    const share = el("input");
    share.type = "checkbox";
    share.checked = true;
    const shareText = el("span");
    shareText.dataset.i18n = "presence.share_location";
    shareLabel.append(share, shareText);
    statusBox.append(statusLabel, shareLabel);
    const setPresence = async () => {
      const ack = await transport.request("presence.set", { status: statusSelect.value, share_location: share.checked });
      if (!ack.ok) toastError(ctx, ack);
    };
    statusSelect.addEventListener("change", setPresence);
    share.addEventListener("change", setPresence);

    // -- directory --------------------------------------------------------------------------
    const dirTitle = el("h3", "panel-subtitle");
    dirTitle.dataset.i18n = "spaces.directory";
    const dirSummary = el("p", "panel-summary");
    dirSummary.setAttribute("aria-live", "polite");
    const dirList = el("ul", "item-list social-directory");

    const renderDirectory = (spaces) => {
      const here = ctx.room.id;
      const rows = spaces.map((s) => {
        const li = el("li", "item social-space");
        li.dataset.room = s.room;
        const text = el("div", "item-text");
        const name = el("span", "item-name", i18n.pick(s.name) || s.room);
        const meta = el("span", "item-meta");
        const bits = [t("spaces.members", { n: s.members, cap: s.capacity })];
        if (s.instances > 1) bits.push(t("spaces.instances", { n: s.instances }));
        if (!s.public) bits.push(t("spaces.private"));
        if (s.locked) bits.push(t("spaces.locked"));
        if (s.my_role) bits.push(t(`role.${s.my_role}`));
        if (s.waiting) bits.push(t("spaces.waiting", { n: s.waiting }));
        meta.textContent = bits.join(" · ");
        text.append(name, meta);
        if (s.description) text.append(el("span", "item-meta social-desc", s.description));
        const actions = el("div", "item-actions");
        if (s.room === here) {
          actions.append(el("span", "social-here", t("spaces.here")));
        } else if (s.full && s.overflow === "queue" && !s.my_role) {
          const pos = s.my_position;
          if (pos === 0) {
            const go = button(t("spaces.join_now"), "btn small primary");
            go.addEventListener("click", () => social.goTo(s.room));
            actions.append(go);
          } else if (pos) {
            actions.append(el("span", "item-meta", t("spaces.position", { n: pos })));
            const leave = button(t("spaces.leave_line"));
            leave.addEventListener("click", async () => { await transport.request("space.unwait", { room: s.room }); refresh(); });
            actions.append(leave);
          } else {
            const wait = button(t("spaces.wait"), "btn small primary social-wait");
            wait.addEventListener("click", async () => {
              const ack = await transport.request("space.wait", { room: s.room });
              if (!ack.ok) toastError(ctx, ack);
              else if (ack.position === 0) social.goTo(s.room);
              else ctx.toast("spaces.in_line", { n: ack.position });
              refresh();
            });
            actions.append(wait);
          }
        } else {
          const go = button(t(s.full ? "spaces.join_new_instance" : "spaces.join"), "btn small primary social-join");
          go.addEventListener("click", () => social.goTo(s.room));
          actions.append(go);
        }
        li.append(text, actions);
        return li;
      });
      dirList.replaceChildren(...rows);
      dirSummary.textContent = spaces.length ? t("spaces.count", { n: spaces.length }) : t("spaces.none");
    };

    let spaces = [];
    let busy = false;
    const refresh = async () => {
      if (busy) return;
      busy = true;
      try {
        const ack = await transport.request("space.list", {});
        if (ack.ok) { spaces = ack.spaces ?? []; renderDirectory(spaces); }
      } finally { busy = false; }
    };

    // -- create -------------------------------------------------------------------------------
    const createToggle = button("", "btn small social-create-toggle");
    createToggle.dataset.i18n = "spaces.create";
    createToggle.setAttribute("aria-expanded", "false");
    const form = el("form", "social-form social-create");
    form.hidden = true;
    const field = (key, input) => {
      const label = el("label", "social-field");
      const span = el("span");
      span.dataset.i18n = key;
      label.append(span, input);
      return label;
    };
    const nameIn = el("input");
    nameIn.name = "name";
    nameIn.maxLength = 40;
    nameIn.required = true;
    const descIn = el("textarea");
    descIn.name = "description";
    descIn.maxLength = 300;
    descIn.rows = 2;
    const capIn = el("input");
    capIn.type = "number";
    capIn.name = "capacity";
    capIn.min = "2";
    capIn.max = "500";
    capIn.value = "20";
    const privacyIn = el("select");
    privacyIn.name = "privacy";
    for (const p of ["public", "private"]) {
      const o = el("option");
      o.value = p;
      o.dataset.i18n = `spaces.privacy_${p}`;
      privacyIn.append(o);
    }
    const overflowIn = el("select");
    overflowIn.name = "overflow";
    for (const p of ["instance", "queue"]) {
      const o = el("option");
      o.value = p;
      o.dataset.i18n = `spaces.overflow_${p}`;
      overflowIn.append(o);
    }
    const submit = button("", "btn small primary");
    submit.type = "submit";
    submit.dataset.i18n = "spaces.create_submit";
    form.append(field("spaces.name", nameIn), field("spaces.description", descIn), field("spaces.capacity", capIn),
      field("spaces.privacy", privacyIn), field("spaces.overflow", overflowIn), submit);
    createToggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      createToggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) nameIn.focus();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const ack = await transport.request("space.create", {
        name: nameIn.value, description: descIn.value, capacity: Number(capIn.value) || 20,
        privacy: privacyIn.value, overflow: overflowIn.value,
      });
      if (!ack.ok) { toastError(ctx, ack); return; }
      ctx.toast("spaces.created", { name: ack.space.name });
      social.goTo(ack.space.room);
    });

    // -- join with an invite --------------------------------------------------------------------
    const inviteForm = el("form", "social-form social-redeem");
    const inviteIn = el("input");
    inviteIn.name = "invite";
    inviteIn.dataset.i18nPlaceholder = "spaces.invite_placeholder";
    inviteIn.dataset.i18nAriaLabel = "spaces.invite_placeholder";
    const inviteGo = button("", "btn small");
    inviteGo.type = "submit";
    inviteGo.dataset.i18n = "spaces.invite_join";
    const inviteRow = el("div", "social-row");
    inviteRow.append(inviteIn, inviteGo);
    inviteForm.append(inviteRow);
    inviteForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const ack = await transport.request("space.redeem", { token: inviteIn.value.trim() });
      if (!ack.ok) { toastError(ctx, ack); return; }
      social.goTo(ack.room);
    });

    // -- friends ----------------------------------------------------------------------------------
    const friendsTitle = el("h3", "panel-subtitle");
    friendsTitle.dataset.i18n = "friends.title";
    const friendsSummary = el("p", "panel-summary");
    const friendsList = el("ul", "item-list social-friends");
    const renderFriends = (friends) => {
      friendsSummary.textContent = friends.length ? "" : t("friends.none");
      friendsSummary.hidden = friends.length > 0;
      friendsList.replaceChildren(...friends.map((f) => {
        const li = el("li", "item social-friend");
        li.dataset.userId = f.user_id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", f.display_name));
        let meta;
        if (f.state === "incoming") meta = t("friends.incoming");
        else if (f.state === "outgoing") meta = t("friends.outgoing");
        else if (!f.online) meta = t("presence.offline");
        else {
          meta = t(`presence.${f.status ?? "available"}`);
          if (f.where) meta += ` · ${i18n.pick(f.where.name) || f.where.room}`;
        }
        text.append(el("span", "item-meta", meta));
        const actions = el("div", "item-actions");
        if (f.state === "incoming") {
          const ok = button(t("friends.accept"), "btn small primary");
          ok.addEventListener("click", async () => { const a = await transport.request("friend.accept", { user_id: f.user_id }); if (!a.ok) toastError(ctx, a); loadFriends(); });
          actions.append(ok);
        }
        if (f.state === "accepted" && f.where && f.where.room !== ctx.room.id) {
          const go = button(t("friends.join"), "btn small primary social-friend-join");
          go.disabled = !f.where.joinable;
          if (!f.where.joinable && f.where.reason) go.title = t(`error.${f.where.reason}`);
          go.addEventListener("click", async () => {
            const a = await transport.request("friend.locate", { user_id: f.user_id });
            if (!a.ok) { toastError(ctx, a); return; }
            if (!a.joinable) { ctx.toast("error.with_code", { message: t(`error.${a.reason}`) }, "error"); return; }
            social.goTo(a.room);
          });
          actions.append(go);
        }
        const remove = button(t(f.state === "incoming" ? "friends.decline" : f.state === "outgoing" ? "friends.cancel" : "friends.remove"), "btn small subtle");
        remove.addEventListener("click", async () => { await transport.request("friend.remove", { user_id: f.user_id }); loadFriends(); });
        actions.append(remove);
        li.append(text, actions);
        return li;
      }));
    };
    const loadFriends = async () => {
      const ack = await transport.request("friend.list", {});
      if (ack.ok) renderFriends(ack.friends ?? []);
    };

    container.append(statusBox, dirTitle, dirSummary, dirList, createToggle, form, inviteForm, friendsTitle, friendsSummary, friendsList);
    i18n.apply(container);

    let timer = 0;
    const onSocial = (e) => {
      const type = e.detail?.type;
      if (type === "friend" || type === "presence") loadFriends();
      if (type === "line" || type === "turn") refresh();
    };
    const relabel = () => { i18n.apply(container); renderDirectory(spaces); loadFriends(); };
    document.addEventListener("metahall:social", onSocial);
    document.addEventListener("metahall:lang-changed", relabel);
    const start = () => {
      refresh();
      loadFriends();
      clearInterval(timer);
      timer = setInterval(refresh, REFRESH_MS);
    };
    transport.request("presence.set", {}).then((ack) => {
      if (!ack.ok) return;
      statusSelect.value = ack.status;
      share.checked = Boolean(ack.share_location);
    });
    return {
      show: start,
      hide: () => clearInterval(timer),
      unmount: () => {
        clearInterval(timer);
        document.removeEventListener("metahall:social", onSocial);
        document.removeEventListener("metahall:lang-changed", relabel);
      },
    };
  },
};
