// "This space" (social rooms): emotes, tables (private rooms: only the people at a table hear
// each other and share its chat), the people here with friend requests and, for hosts, mute,
// kick and co-hosts; invite links, the lock, and the owner's settings.
// Server events: space.get/people/lock/invite/invites/revoke/mute/unmute/kick/cohost/allow/
// update/delete, table.join/leave/lock, emote.send, friend.request (docs/protocol.md).

import { button, el } from "./dom.js";
import { toastError } from "./social.js";

const EMOTES = ["wave", "clap", "laugh", "heart", "thumbs_up", "cheer"];
const PEOPLE_MS = 2000;
const TTL_CHOICES = [[3600, "invite.ttl_hour"], [86400, "invite.ttl_day"], [7 * 86400, "invite.ttl_week"]];

export const spacePanel = {
  id: "space",
  titleKey: "panel.space.title",
  icon: "table",
  order: 15,
  when: (ctx) => ctx.room.kind === "social" && Boolean(ctx.social),
  mount(container, ctx) {
    const { i18n, transport } = ctx;
    const social = ctx.social;
    const t = (k, p) => i18n.t(k, p);
    let space = null;
    let me = { host: false, owner: false };
    let people = [];

    // -- header ------------------------------------------------------------------------------
    const head = el("div", "space-head");
    const desc = el("p", "panel-summary space-desc");
    const badges = el("p", "space-badges");
    head.append(desc, badges);

    // -- emotes ------------------------------------------------------------------------------
    const emoteTitle = el("h3", "panel-subtitle");
    emoteTitle.dataset.i18n = "emote.title";
    const emoteRow = el("div", "space-emotes");
    emoteRow.setAttribute("role", "group");
    emoteRow.dataset.i18nAriaLabel = "emote.title";
    for (const kind of EMOTES) {
      const b = button("", "btn small space-emote");
      b.dataset.emote = kind;
      b.dataset.i18n = `emote.${kind}`;
      b.addEventListener("click", async () => {
        const ack = await social.emote(kind);
        if (!ack.ok && ack.error?.code !== "rate_limited") toastError(ctx, ack);
      });
      emoteRow.append(b);
    }

    // -- tables ------------------------------------------------------------------------------
    const tablesTitle = el("h3", "panel-subtitle");
    tablesTitle.dataset.i18n = "table.title";
    const tablesHint = el("p", "panel-summary");
    tablesHint.dataset.i18n = "table.hint";
    const tableList = el("ul", "item-list space-tables");
    const tableChat = el("div", "space-table-chat");
    tableChat.hidden = true;
    const chatLog = el("ol", "space-chat-log");
    chatLog.setAttribute("aria-live", "polite");
    const chatForm = el("form", "social-row");
    const chatIn = el("input");
    chatIn.maxLength = 500;
    chatIn.dataset.i18nPlaceholder = "table.chat_placeholder";
    chatIn.dataset.i18nAriaLabel = "table.chat_placeholder";
    const chatSend = button("", "btn small primary");
    chatSend.type = "submit";
    chatSend.dataset.i18n = "table.chat_send";
    chatForm.append(chatIn, chatSend);
    tableChat.append(chatLog, chatForm);

    const myTable = () => {
      const uid = ctx.user?.id;
      for (const tbl of social.tables.values()) if ((tbl.members ?? []).some((m) => m.user_id === uid)) return tbl;
      return null;
    };
    let tablesSig = "";
    const renderTables = (force = false) => {
      const mine = myTable();
      const list = [...social.tables.values()].sort((a, b) => a.id.localeCompare(b.id));
      // Re-render only when something shown changed (keeps keyboard focus on a button).
      const sig = JSON.stringify([list, mine?.id, list.map((tbl) => Math.hypot(tbl.x - ctx.local.x, tbl.z - ctx.local.z) > 3.5),
        mine ? (social.tableChat.get(`table:${mine.id}`) ?? []).length : 0, me.host]);
      if (!force && sig === tablesSig) return;
      tablesSig = sig;
      tableList.replaceChildren(...list.map((tbl) => {
        const li = el("li", "item space-table");
        li.dataset.table = tbl.id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", i18n.pick(tbl.label) || tbl.id));
        const names = (tbl.members ?? []).map((m) => m.display_name);
        const meta = [t("table.seats", { n: names.length, cap: tbl.seats ?? 8 })];
        if (tbl.locked) meta.push(t("table.closed"));
        if (names.length) meta.push(names.join(", "));
        text.append(el("span", "item-meta", meta.join(" · ")));
        const actions = el("div", "item-actions");
        if (mine?.id === tbl.id) {
          const lock = button(t(tbl.locked ? "table.open" : "table.close"), "btn small");
          lock.addEventListener("click", async () => { const a = await transport.request("table.lock", { locked: !tbl.locked }); if (!a.ok) toastError(ctx, a); });
          const leave = button(t("table.leave"), "btn small space-table-leave");
          leave.addEventListener("click", async () => { const a = await transport.request("table.leave", {}); if (!a.ok) toastError(ctx, a); });
          actions.append(lock, leave);
        } else {
          const d = Math.hypot(tbl.x - ctx.local.x, tbl.z - ctx.local.z);
          if (d > 3.5) {
            const walk = button(t("table.walk"), "btn small");
            walk.addEventListener("click", () => {
              const f = ctx.layout.features.find((x) => x.table === tbl.id);
              const p = f ? ctx.layout.approachPoint(f) : { x: tbl.x, z: tbl.z + 2 };
              ctx.walkTo(p.x, p.z, i18n.pick(tbl.label));
              ctx.focusView();
            });
            actions.append(walk);
          } else {
            const sit = button(t("table.join"), "btn small primary space-table-join");
            sit.disabled = Boolean(tbl.locked) && !me.host;
            sit.addEventListener("click", async () => { const a = await transport.request("table.join", { table: tbl.id }); if (!a.ok) toastError(ctx, a); });
            actions.append(sit);
          }
        }
        li.append(text, actions);
        return li;
      }));
      tableChat.hidden = !mine;
      if (mine) {
        const lines = social.tableChat.get(`table:${mine.id}`) ?? [];
        chatLog.replaceChildren(...lines.slice(-30).map((m) => {
          const li = el("li", "space-chat-line");
          li.append(el("strong", null, `${m.from?.display_name ?? "?"}: `), el("span", null, m.text));
          return li;
        }));
        chatLog.scrollTop = chatLog.scrollHeight;
      }
    };
    chatForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const mine = myTable();
      const text = chatIn.value.trim();
      if (!mine || !text) return;
      const ack = await transport.request("chat", { channel: `table:${mine.id}`, text });
      if (!ack.ok) { toastError(ctx, ack); return; }
      chatIn.value = "";
    });

    // -- people ------------------------------------------------------------------------------
    const peopleTitle = el("h3", "panel-subtitle");
    peopleTitle.dataset.i18n = "space.people";
    const peopleList = el("ul", "item-list space-people");
    const act = async (event, payload, okKey, params) => {
      const ack = await transport.request(event, { room: ctx.room.id, ...payload });
      if (!ack.ok) { toastError(ctx, ack); return; }
      if (okKey) ctx.toast(okKey, params);
      loadPeople();
    };
    let peopleSig = "";
    const renderPeople = (force = false) => {
      const uid = ctx.user?.id;
      const sig = JSON.stringify([people, me, people.map((p) => social.statuses.get(p.user_id) ?? null), Boolean(space?.plaza)]);
      if (!force && sig === peopleSig) return;
      peopleSig = sig;
      peopleList.replaceChildren(...people.map((p) => {
        const li = el("li", "item space-person");
        li.dataset.userId = p.user_id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", p.user_id === uid ? t("space.you", { name: p.display_name }) : p.display_name));
        const bits = [];
        if (p.role) bits.push(t(`role.${p.role}`));
        if (p.site_role) bits.push(t(`role.${p.site_role}`));
        bits.push(t(`presence.${social.statuses.get(p.user_id) ?? p.status ?? "available"}`));
        if (p.table) bits.push(t("space.at_table", { table: p.table }));
        if (p.voice) bits.push(t("space.in_voice"));
        if (p.muted) bits.push(t("space.muted"));
        text.append(el("span", "item-meta", bits.join(" · ")));
        const actions = el("div", "item-actions");
        if (p.user_id !== uid) {
          const friend = button(t("friends.add"), "btn small subtle space-add-friend");
          friend.addEventListener("click", async () => {
            const a = await transport.request("friend.request", { user_id: p.user_id });
            if (!a.ok) toastError(ctx, a);
            else ctx.toast(a.state === "accepted" ? "friends.now_friends" : "friends.requested", { name: p.display_name });
          });
          actions.append(friend);
          const protectedUser = p.role === "owner" || p.site_role || (p.role === "cohost" && !me.owner);
          if (me.host && space && !space.plaza && !protectedUser) {
            const mute = button(t(p.muted ? "space.unmute" : "space.mute"), "btn small space-mute");
            mute.addEventListener("click", () => (p.muted
              ? act("space.unmute", { user_id: p.user_id }, "space.unmuted_done", { name: p.display_name })
              : act("space.mute", { user_id: p.user_id, duration_s: 600 }, "space.muted_done", { name: p.display_name })));
            const kick = button(t("space.kick"), "btn small space-kick");
            kick.addEventListener("click", () => act("space.kick", { user_id: p.user_id, duration_s: 600 }, "space.kicked_done", { name: p.display_name }));
            actions.append(mute, kick);
          }
          if (me.owner && space && !space.plaza) {
            const co = p.role === "cohost";
            const cohost = button(t(co ? "space.remove_cohost" : "space.make_cohost"), "btn small subtle space-cohost");
            cohost.addEventListener("click", () => act("space.cohost", { user_id: p.user_id, cohost: !co }, null));
            actions.append(cohost);
          }
        }
        li.append(text, actions);
        return li;
      }));
    };
    const loadPeople = async () => {
      const ack = await transport.request("space.people", {});
      if (!ack.ok) return;
      people = ack.people ?? [];
      me = ack.me ?? me;
      renderPeople();
      renderHost();
    };

    // -- host tools --------------------------------------------------------------------------
    const hostBox = el("div", "space-host");
    hostBox.hidden = true;
    const hostTitle = el("h3", "panel-subtitle");
    hostTitle.dataset.i18n = "space.host_tools";
    const lockBtn = button("", "btn small space-lock");
    lockBtn.addEventListener("click", async () => {
      const ack = await transport.request("space.lock", { room: ctx.room.id, locked: !space?.locked });
      if (!ack.ok) { toastError(ctx, ack); return; }
      space = ack.space;
      renderHead();
      renderHost();
    });
    const inviteRow = el("div", "social-row");
    const ttlSel = el("select", "space-invite-ttl");
    ttlSel.dataset.i18nAriaLabel = "invite.ttl";
    for (const [s, key] of TTL_CHOICES) {
      const o = el("option");
      o.value = String(s);
      o.dataset.i18n = key;
      ttlSel.append(o);
    }
    ttlSel.value = "86400";
    const usesSel = el("select", "space-invite-uses");
    usesSel.dataset.i18nAriaLabel = "invite.uses";
    for (const n of ["", "1", "10"]) {
      const o = el("option");
      o.value = n;
      o.dataset.i18n = n ? `invite.uses_${n}` : "invite.uses_any";
      usesSel.append(o);
    }
    const makeInvite = button("", "btn small primary space-invite");
    makeInvite.dataset.i18n = "invite.create";
    inviteRow.append(ttlSel, usesSel, makeInvite);
    const linkBox = el("div", "space-invite-link");
    linkBox.hidden = true;
    const linkIn = el("input");
    linkIn.readOnly = true;
    linkIn.dataset.i18nAriaLabel = "invite.link";
    const copy = button("", "btn small");
    copy.dataset.i18n = "invite.copy";
    copy.addEventListener("click", async () => {
      linkIn.select();
      try { await navigator.clipboard.writeText(linkIn.value); ctx.toast("invite.copied"); } catch { /* selected: the user can copy */ }
    });
    linkBox.append(linkIn, copy);
    const invList = el("ul", "item-list space-invites");
    makeInvite.addEventListener("click", async () => {
      const payload = { room: ctx.room.id, ttl_s: Number(ttlSel.value) };
      if (usesSel.value) payload.max_uses = Number(usesSel.value);
      const ack = await transport.request("space.invite", payload);
      if (!ack.ok) { toastError(ctx, ack); return; }
      linkIn.value = new URL(ack.invite.link, location.origin).toString();
      linkBox.hidden = false;
      loadInvites();
    });
    const loadInvites = async () => {
      const ack = await transport.request("space.invites", { room: ctx.room.id });
      if (!ack.ok) return;
      invList.replaceChildren(...(ack.invites ?? []).slice(0, 8).map((inv) => {
        const li = el("li", "item space-invite-row");
        const text = el("div", "item-text");
        text.append(el("span", "item-name", t(`invite.status_${inv.status}`)));
        const uses = inv.max_uses ? `${inv.uses}/${inv.max_uses}` : String(inv.uses);
        text.append(el("span", "item-meta", t("invite.meta", { until: new Date(inv.expires_at).toLocaleString(i18n.lang), uses })));
        li.append(text);
        if (inv.status === "active") {
          const revoke = button(t("invite.revoke"), "btn small subtle space-revoke");
          revoke.addEventListener("click", async () => {
            const a = await transport.request("space.revoke", { room: ctx.room.id, invite_id: inv.id });
            if (!a.ok) toastError(ctx, a);
            loadInvites();
          });
          li.append(revoke);
        }
        return li;
      }));
    };
    // The allow list (private spaces): who may come in without an invite link.
    const allowTitle = el("h4", "space-allow-title");
    allowTitle.dataset.i18n = "space.allow_title";
    const allowList = el("ul", "item-list space-allow-list");
    const allowRow = el("div", "social-row");
    const allowSel = el("select", "space-allow-friend");
    allowSel.dataset.i18nAriaLabel = "space.allow_friend";
    const allowBtn = button("", "btn small space-allow");
    allowBtn.dataset.i18n = "space.allow";
    allowRow.append(allowSel, allowBtn);
    allowBtn.addEventListener("click", async () => {
      if (!allowSel.value) return;
      const ack = await transport.request("space.allow", { room: ctx.room.id, user_id: allowSel.value, allowed: true });
      if (!ack.ok) toastError(ctx, ack);
      loadAllowed();
    });
    const loadAllowed = async () => {
      const [mem, fr] = await Promise.all([
        transport.request("space.members", { room: ctx.room.id }),
        transport.request("friend.list", {}),
      ]);
      if (!mem.ok) return;
      const members = mem.members ?? [];
      const ids = new Set(members.map((m) => m.user_id));
      allowList.replaceChildren(...(members.length ? members.map((m) => {
        const li = el("li", "item space-allowed");
        li.dataset.userId = m.user_id;
        const text = el("div", "item-text");
        text.append(el("span", "item-name", m.display_name), el("span", "item-meta", t(`space.via_${m.via}`)));
        li.append(text);
        if (m.role !== "cohost") {
          const rm = button(t("space.allow_remove"), "btn small subtle");
          rm.addEventListener("click", async () => {
            const a = await transport.request("space.allow", { room: ctx.room.id, user_id: m.user_id, allowed: false });
            if (!a.ok) toastError(ctx, a);
            loadAllowed();
          });
          li.append(rm);
        }
        return li;
      }) : [el("li", "item-meta", t("space.allow_none"))]));
      const friends = (fr.ok ? fr.friends ?? [] : []).filter((f) => f.state === "accepted" && !ids.has(f.user_id) && f.user_id !== space?.owner_id);
      allowSel.replaceChildren(...friends.map((f) => { const o = el("option", null, f.display_name); o.value = f.user_id; return o; }));
      allowRow.hidden = friends.length === 0;
    };
    const allowBox = el("div", "space-allow-box");
    allowBox.append(allowTitle, allowList, allowRow);

    const deleteBtn = button("", "btn small subtle space-delete");
    deleteBtn.dataset.i18n = "space.delete";
    deleteBtn.addEventListener("click", async () => {
      if (!confirm(t("space.delete_confirm"))) return;
      const ack = await transport.request("space.delete", { room: ctx.room.id });
      if (!ack.ok) toastError(ctx, ack);
    });
    hostBox.append(hostTitle, lockBtn, inviteRow, linkBox, invList, allowBox, deleteBtn);

    const renderHead = () => {
      if (!space) return;
      desc.textContent = space.description || (space.plaza ? t("space.plaza") : "");
      desc.hidden = !desc.textContent;
      const b = [];
      b.push(t(space.public ? "spaces.public" : "spaces.private"));
      if (space.locked) b.push(t("spaces.locked"));
      if (space.my_role) b.push(t(`role.${space.my_role}`));
      if (!space.plaza) b.push(t("spaces.members", { n: space.members ?? 0, cap: space.capacity }));
      badges.textContent = b.join(" · ");
    };
    const renderHost = () => {
      const show = Boolean(me.host && space && !space.plaza);
      if (hostBox.hidden === show) {
        hostBox.hidden = !show;
        if (show) { loadInvites(); loadAllowed(); }
      }
      lockBtn.textContent = t(space?.locked ? "space.unlock" : "space.lock");
      lockBtn.setAttribute("aria-pressed", String(Boolean(space?.locked)));
      deleteBtn.hidden = !me.owner;
    };
    const loadSpace = async () => {
      const ack = await transport.request("space.get", { room: ctx.room.id });
      if (!ack.ok) return;
      space = ack.space;
      renderHead();
      renderHost();
    };

    container.append(head, emoteTitle, emoteRow, tablesTitle, tablesHint, tableList, tableChat, peopleTitle, peopleList, hostBox);
    i18n.apply(container);

    const onSocial = (e) => {
      const type = e.detail?.type;
      if (type === "table" || type === "table-chat") renderTables();
      if (type === "presence") renderPeople();
      if (type === "space" && e.detail.data) { space = e.detail.data; renderHead(); renderHost(); }
    };
    const relabel = () => {
      i18n.apply(container); renderHead(); renderHost(); renderTables(true); renderPeople(true);
      if (!hostBox.hidden) { loadInvites(); loadAllowed(); }
    };
    document.addEventListener("metahall:social", onSocial);
    document.addEventListener("metahall:lang-changed", relabel);
    let timer = 0;
    let lastTables = 0;
    return {
      show: () => {
        loadSpace();
        loadPeople();
        renderTables();
        if (!hostBox.hidden) { loadInvites(); loadAllowed(); }
        clearInterval(timer);
        timer = setInterval(loadPeople, PEOPLE_MS);
      },
      hide: () => clearInterval(timer),
      update: (now) => {
        if (now - lastTables > 1000) { lastTables = now; renderTables(); } // distances change as we walk
      },
      unmount: () => {
        clearInterval(timer);
        document.removeEventListener("metahall:social", onSocial);
        document.removeEventListener("metahall:lang-changed", relabel);
      },
    };
  },
};
