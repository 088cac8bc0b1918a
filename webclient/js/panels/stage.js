// "Stage" (expo halls): the talk schedule, what is on stage now, watching it (the server's
// WebRTC relay of the speaker's camera and microphone; beyond the video cap, sound with the
// slides, or the talk's external stream), the speaker's controls (go live, end, slides), the
// live Q&A with upvotes, and for organisers a form to schedule talks.
//
// Server events: stage.talk (schedule changed), stage.live (a broadcast began or ended),
// stage.ended (our stream was stopped: we walked away...), stage.slide, stage.question.
// While we watch, the video is also offered to the 3D view's stage screen as
// CustomEvent "metahall:stage-video" {video: HTMLVideoElement|null} on document.

import { button, el } from "./dom.js";
import { expoFor } from "./expo-core.js";
import { StageAdmin } from "./stage-admin.js";
import { StageQa } from "./stage-qa.js";
import { CAMERA, publishTalk, stageRtcSupported, watchTalk } from "./stage-rtc.js";
import "./stage-screen.js"; // the 3D view's stage screen shows what this panel plays

const REFRESH_MS = 5000;

function ensureStyles() {
  if (document.querySelector("link[data-stage-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/app/css/stage.css";
  link.dataset.stageCss = "";
  document.head.append(link);
}

function announceVideo(video) {
  document.dispatchEvent(new CustomEvent("metahall:stage-video", { detail: { video } }));
}

/** The stage feature's audience area, as the server computes it (rooms/stage/validate.py). */
export function audienceSpot(layout) {
  const stage = layout?.features?.find?.((f) => f.type === "stage");
  if (!stage) return null;
  return { x: stage.x, z: stage.z + stage.d / 2 + 7 };
}

class StageController {
  constructor(container, ctx) {
    this.ctx = ctx;
    this.i18n = ctx.i18n;
    this.t = ctx.transport;
    /** @type {Map<string, object>} */
    this.talks = new Map();
    this.selectedId = null;
    this.offset = 0; // server clock − ours
    this.area = null;
    this.viewer = null; // {talkId, pc, stream, mode, url, reason}
    this.want = null; // talk id we want to watch (re-watch when it goes live again)
    this.viewState = null; // {key, params} of the status line under the player
    this.publisher = null; // {talkId, pc, media}
    this.busy = false;
    this._lastRefresh = 0;

    ensureStyles();
    this.root = el("div", "stage-panel");
    container.append(this.root);
    this._build();
    this.qa = new StageQa(this.qaBox, ctx);
    this.admin = ctx.user?.roles?.includes("admin")
      ? new StageAdmin(this.adminBox, ctx, { onCreated: (talk) => { this._put(talk); this.render(); } })
      : null;
    this.adminBox.hidden = !this.admin;

    this.offs = [
      this.t.on("stage.talk", (m) => this._onTalk(m)),
      this.t.on("stage.live", (m) => this._onLive(m)),
      this.t.on("stage.ended", (m) => this._onEnded(m)),
      this.t.on("stage.slide", (m) => this._onSlide(m)),
      this.t.on("stage.question", (q) => this.qa.receive(q)),
    ];
    this._onJoined = () => this.refresh().then(() => {
      // After a reconnect the server has ended what this connection published or watched.
      if (this.publisher && !this.talks.get(this.publisher.talkId)?.live) { this._closePublisher(); this.render(); }
      if (this.want) this.watch(this.want);
    });
    this._onLang = () => this.render();
    document.addEventListener("metahall:joined", this._onJoined);
    document.addEventListener("metahall:lang-changed", this._onLang);
    this.refresh();
  }

  // -- data ------------------------------------------------------------------------------
  now() { return Date.now() + this.offset; }

  status(talk) {
    const now = this.now();
    if (now > talk.end) return "ended";
    return now >= talk.start ? "on" : "upcoming";
  }

  get selected() {
    if (this.selectedId && this.talks.has(this.selectedId)) return this.talks.get(this.selectedId);
    const list = this.sorted();
    return list.find((t) => this.status(t) === "on") ?? list.find((t) => this.status(t) === "upcoming") ?? null;
  }

  sorted() { return [...this.talks.values()].sort((a, b) => a.start - b.start); }

  mine(talk) {
    const u = this.ctx.user;
    return Boolean(u && talk && (u.id === talk.speaker?.id || u.roles?.includes("admin")));
  }

  _put(talk) {
    const had = this.talks.get(talk.id);
    this.talks.set(talk.id, { ...talk, live: talk.live === undefined ? had?.live ?? null : talk.live });
  }

  async refresh() {
    this._lastRefresh = performance.now();
    const ack = await this.t.request("stage.list", { room: this.ctx.room.id });
    if (!ack?.ok) return;
    this.offset = (ack.server_time ?? Date.now()) - Date.now();
    this.area = ack.area ?? null;
    this.talks.clear();
    for (const talk of ack.talks ?? []) this._put(talk);
    this.render();
  }

  _onTalk(m) {
    if (m?.deleted) {
      this.talks.delete(m.deleted);
      if (this.viewer?.talkId === m.deleted) this.stopWatching();
    } else if (m?.talk && m.talk.room_id === this.ctx.room.id) {
      this._put(m.talk);
    }
    this.render();
  }

  _onLive(m) {
    const talk = this.talks.get(m?.talk_id);
    if (!talk) { this.refresh(); return; }
    talk.live = m.live ? m : null;
    if (!m.live) {
      if (this.viewer?.talkId === m.talk_id) this._closeViewer({ key: "panel.stage.ended" });
      if (this.publisher?.talkId === m.talk_id && m.reason !== "replaced") this._closePublisher();
    } else if (this.want === m.talk_id && this.viewer?.talkId !== m.talk_id) {
      this.watch(m.talk_id); // it started (again) while we were waiting
    }
    this.render();
  }

  _onEnded(m) {
    if (this.viewer?.talkId !== m?.talk_id) return;
    const key = `panel.stage.ended.${m.reason}`;
    this.want = null;
    this._closeViewer({ key: this.i18n.has(key) ? key : "panel.stage.ended" });
    this.render();
  }

  _onSlide(m) {
    const talk = this.talks.get(m?.talk_id);
    if (!talk) return;
    talk.slide = m.index;
    talk.slides = m.slides ?? talk.slides;
    this.render();
  }

  // -- watching ----------------------------------------------------------------------------
  async watch(talkId) {
    if (!stageRtcSupported() || this.busy) return;
    this.want = talkId;
    this.busy = true;
    this._closeViewer(null);
    this.viewState = { key: "panel.stage.connecting" };
    this.render();
    let result;
    try {
      result = await watchTalk(this.t, talkId);
    } catch (err) {
      console.info("stage: could not watch", err);
      result = { ack: { ok: false, error: { code: "network" } } };
    } finally {
      this.busy = false;
    }
    const { ack, pc, stream } = result;
    if (this.want !== talkId) { pc?.close(); return; }
    if (!ack?.ok) {
      const code = ack?.error?.code;
      if (code === "forbidden" && ack.error.area) this.viewState = { key: "panel.stage.outside", walk: true };
      else if (code === "forbidden" && ack.error.room) this.viewState = { key: "panel.stage.not_in_room" };
      else if (code === "full") this.viewState = { key: "panel.stage.full" };
      else this.viewState = { text: this.i18n.errorText(code, ack?.error?.message) };
      this.want = code === "forbidden" ? talkId : null;
      this.render();
      return;
    }
    if (ack.talk) this._put(ack.talk);
    if (ack.mode === "waiting") this.viewState = { key: "panel.stage.waiting" };
    else if (ack.mode === "embed") {
      this.viewer = { talkId, pc: null, stream: null, mode: "embed", url: ack.url, reason: ack.reason };
      this.viewState = { key: ack.reason === "full" ? "panel.stage.embed_full" : "panel.stage.embed_text" };
    } else {
      this.viewer = { talkId, pc, stream, mode: ack.mode, reason: ack.reason ?? null };
      pc.addEventListener("connectionstatechange", () => {
        if (["failed", "closed"].includes(pc.connectionState) && this.viewer?.pc === pc) {
          this._closeViewer({ key: "panel.stage.ended.connection" });
          this.render();
        }
      });
      this.video.srcObject = stream;
      this.video.muted = false;
      this.video.play().catch(() => {
        // Autoplay with sound was refused: play muted; the controls let the user unmute.
        this.video.muted = true;
        this.video.play().catch(() => {});
      });
      this.viewState = { key: ack.mode === "video" ? "panel.stage.playing_video"
        : (this.talks.get(talkId)?.slides ? "panel.stage.playing_audio_slides" : "panel.stage.playing_audio") };
      if (ack.mode === "video") announceVideo(this.video);
    }
    this.render();
  }

  stopWatching() {
    this.want = null;
    if (this.viewer?.pc) this.t.request("stage.unwatch", {});
    this._closeViewer(null);
    this.render();
  }

  _closeViewer(state) {
    const v = this.viewer;
    this.viewer = null;
    if (v?.pc) {
      try { v.pc.close(); } catch { /* closed */ }
    }
    if (v?.stream) {
      for (const track of v.stream.getTracks()) track.stop();
    }
    if (this.video.srcObject && this.video.srcObject !== this.publisher?.media) this.video.srcObject = null;
    if (v?.mode === "video") announceVideo(null);
    this.viewState = state;
  }

  async walkToStage() {
    const label = this.i18n.t("panel.stage.title");
    this.ctx.toast("panel.stage.walking");
    // Along the hall's path around the booths; straight there only when the server has none.
    const ack = await expoFor(this.ctx)?.goStage(label);
    if (ack?.ok) return;
    const a = this.area;
    const p = a ? { x: (a.x0 + a.x1) / 2, z: a.z1 - 5 } : audienceSpot(this.ctx.layout);
    if (!p) return;
    this.ctx.walkTo(p.x, p.z, label);
    this.ctx.focusView?.();
  }

  // -- speaking -----------------------------------------------------------------------------
  async goLive(talk) {
    if (this.busy) return;
    this.busy = true;
    this.render();
    let media;
    try {
      media = await navigator.mediaDevices.getUserMedia({ audio: true, video: talk.mode === "live" ? CAMERA : false });
    } catch (err) {
      this.busy = false;
      this.ctx.toast("panel.stage.media_denied", { message: err?.message ?? String(err) }, "warn");
      this.render();
      return;
    }
    let result;
    try {
      result = await publishTalk(this.t, talk.id, media, { replace: Boolean(talk.live) });
    } catch (err) {
      result = { ack: { ok: false, error: { code: "network", message: String(err?.message ?? err) } }, pc: null };
    } finally {
      this.busy = false;
    }
    const { ack, pc } = result;
    if (!pc) {
      for (const track of media.getTracks()) track.stop();
      const code = ack?.error?.code;
      this.ctx.toast("error.with_code", { message: code === "conflict" && ack.error.start
        ? this.i18n.t("panel.stage.err.not_on") : this.i18n.errorText(code, ack?.error?.message) }, "warn");
      this.render();
      return;
    }
    this.publisher = { talkId: talk.id, pc, media };
    pc.addEventListener("connectionstatechange", () => {
      if (["failed", "closed"].includes(pc.connectionState) && this.publisher?.pc === pc) {
        this._closePublisher();
        this.render();
      }
    });
    this._put(ack.talk);
    if (!this.viewer) {
      this.preview.srcObject = media;
      this.preview.muted = true;
      this.preview.play().catch(() => {});
    }
    this.render();
  }

  async endLive() {
    const p = this.publisher;
    if (!p) return;
    await this.t.request("stage.unpublish", { talk_id: p.talkId });
    this._closePublisher();
    this.render();
  }

  _closePublisher() {
    const p = this.publisher;
    this.publisher = null;
    if (!p) return;
    try { p.pc.close(); } catch { /* closed */ }
    for (const track of p.media.getTracks()) track.stop();
    this.preview.srcObject = null;
  }

  async showSlide(talk, index) {
    const ack = await this.t.request("stage.slide", { talk_id: talk.id, index });
    if (ack?.ok) { this._put(ack.talk); this.render(); }
  }

  async uploadSlides(talk, files) {
    if (!files?.length) return;
    const form = new FormData();
    for (const f of files) form.append("slide", f, f.name);
    this.ctx.toast("panel.stage.uploading");
    try {
      const resp = await fetch(`/api/stage/talks/${encodeURIComponent(talk.id)}/slides`, {
        method: "PUT", body: form, headers: { Authorization: `Bearer ${this.ctx.api.token}` },
      });
      const body = await resp.json();
      if (!resp.ok) throw Object.assign(new Error(body?.error?.message ?? resp.statusText), { code: body?.error?.code });
      this._put(body.talk);
      this.ctx.toast("panel.stage.uploaded", { n: body.talk.slides });
    } catch (err) {
      this.ctx.toast("error.with_code", { message: this.i18n.errorText(err.code, err.message) }, "warn");
    }
    this.render();
  }

  async remove(talk) {
    const ack = await this.t.request("stage.delete", { talk_id: talk.id });
    if (ack?.ok) { this.talks.delete(talk.id); this.ctx.toast("panel.stage.deleted"); }
    else this.ctx.toast("error.with_code", { message: this.i18n.errorText(ack?.error?.code, ack?.error?.message) }, "warn");
    this.render();
  }

  // -- DOM ----------------------------------------------------------------------------------
  _build() {
    const r = this.root;
    this.nowBox = el("section", "stage-now");
    this.nowHead = el("h3", "panel-subtitle stage-now-head");
    this.nowTitle = el("p", "stage-now-title");
    this.nowMeta = el("p", "stage-now-meta");
    this.player = el("div", "stage-player");
    this.video = el("video", "stage-video");
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.video.controls = true;
    this.preview = el("video", "stage-preview");
    this.preview.playsInline = true;
    this.preview.muted = true;
    this.slideImg = el("img", "stage-slide");
    this.slideImg.decoding = "async";
    this.player.append(this.video, this.slideImg, this.preview);
    this.viewText = el("p", "stage-view-text");
    this.viewText.setAttribute("role", "status");
    this.streamLink = el("a", "btn small stage-stream-link");
    this.streamLink.target = "_blank";
    this.streamLink.rel = "noopener noreferrer";
    this.actions = el("div", "stage-actions");
    this.watchBtn = button("", "btn primary small stage-watch");
    this.watchBtn.addEventListener("click", () => { const t = this.selected; if (t) this.watch(t.id); });
    this.stopBtn = button("", "btn small stage-stop");
    this.stopBtn.addEventListener("click", () => this.stopWatching());
    this.walkBtn = button("", "btn small stage-walk");
    this.walkBtn.addEventListener("click", () => this.walkToStage());
    this.actions.append(this.watchBtn, this.stopBtn, this.walkBtn, this.streamLink);
    this.nowBox.append(this.nowHead, this.nowTitle, this.nowMeta, this.player, this.viewText, this.actions);

    this.speakerBox = el("section", "stage-speaker");
    this.speakerHead = el("h3", "panel-subtitle");
    this.speakerText = el("p", "panel-summary stage-speaker-text");
    this.liveBtn = button("", "btn primary small stage-go-live");
    this.liveBtn.addEventListener("click", () => { const t = this.selected; if (t) this.goLive(t); });
    this.endBtn = button("", "btn small stage-end-live");
    this.endBtn.addEventListener("click", () => this.endLive());
    this.prevBtn = button("", "btn small stage-prev");
    this.prevBtn.addEventListener("click", () => { const t = this.selected; if (t) this.showSlide(t, t.slide - 1); });
    this.nextBtn = button("", "btn small stage-next");
    this.nextBtn.addEventListener("click", () => { const t = this.selected; if (t) this.showSlide(t, t.slide + 1); });
    this.slidesLabel = el("label", "btn small stage-upload");
    this.slidesInput = Object.assign(el("input"), { type: "file", multiple: true, accept: "image/png,image/jpeg,image/webp,image/gif" });
    this.slidesInput.className = "visually-hidden";
    this.slidesInput.addEventListener("change", () => {
      const t = this.selected;
      if (t) this.uploadSlides(t, [...this.slidesInput.files]);
      this.slidesInput.value = "";
    });
    this.slidesText = el("span");
    this.slidesLabel.append(this.slidesText, this.slidesInput);
    const row1 = el("div", "stage-actions");
    row1.append(this.liveBtn, this.endBtn);
    this.slideRow = el("div", "stage-actions");
    this.slideRow.append(this.prevBtn, this.nextBtn, this.slidesLabel);
    this.speakerBox.append(this.speakerHead, this.speakerText, row1, this.slideRow);

    this.qaBox = el("section", "stage-qa");
    this.scheduleBox = el("section", "stage-schedule");
    this.scheduleHead = el("h3", "panel-subtitle");
    this.scheduleList = el("ol", "stage-talks");
    this.scheduleEmpty = el("p", "panel-summary");
    this.scheduleBox.append(this.scheduleHead, this.scheduleEmpty, this.scheduleList);
    this.adminBox = el("section", "stage-admin");
    r.append(this.nowBox, this.speakerBox, this.qaBox, this.scheduleBox, this.adminBox);
  }

  _time(talk) {
    const opts = { hour: "2-digit", minute: "2-digit" };
    const start = new Date(talk.start);
    const sameDay = start.toDateString() === new Date(this.now()).toDateString();
    const s = sameDay ? start.toLocaleTimeString(this.i18n.lang, opts)
      : start.toLocaleString(this.i18n.lang, { month: "short", day: "numeric", ...opts });
    return this.i18n.t("panel.stage.time", { start: s, end: new Date(talk.end).toLocaleTimeString(this.i18n.lang, opts) });
  }

  render() {
    const { i18n } = this;
    const talk = this.selected;
    const status = talk ? this.status(talk) : null;
    this.nowHead.textContent = i18n.t(status === "on" || !talk ? "panel.stage.now" : "panel.stage.next");
    this.nowTitle.textContent = talk ? i18n.pick(talk.title) : i18n.t("panel.stage.nothing");
    this.nowMeta.replaceChildren();
    if (talk) {
      this.nowMeta.append(
        `${this._time(talk)} · ${i18n.t("panel.stage.by", { name: talk.speaker?.display_name ?? "" })} · ${i18n.t(`panel.stage.mode.${talk.mode}`)} `,
        el("span", `stage-badge ${talk.live ? "live" : status}`, i18n.t(talk.live ? "panel.stage.live" : `panel.stage.status.${status}`)),
      );
    }
    const v = this.viewer && this.viewer.talkId === talk?.id ? this.viewer : null;
    const watching = Boolean(v?.pc);
    this.video.hidden = !(watching && v.mode === "video");
    this.video.setAttribute("aria-label", talk ? i18n.t("panel.stage.video_label", { title: i18n.pick(talk.title) }) : "");
    const showSlides = Boolean(talk?.slides) && (watching ? v.mode === "audio" : this.mine(talk));
    this.slideImg.hidden = !showSlides;
    if (showSlides) {
      const src = `/api/stage/talks/${talk.id}/slides/${talk.slide}?v=${talk.updated_at}`;
      if (this.slideImg.getAttribute("src") !== src) this.slideImg.src = src;
      this.slideImg.alt = i18n.t("panel.stage.slide_alt", { n: talk.slide + 1, title: i18n.pick(talk.title) });
    }
    this.preview.hidden = !(this.publisher && this.publisher.talkId === talk?.id && this.preview.srcObject && !watching);
    this.player.hidden = this.video.hidden && this.slideImg.hidden && this.preview.hidden;
    this.player.classList.toggle("preview-only", this.video.hidden && this.slideImg.hidden);
    const vs = this.viewState;
    this.viewText.textContent = vs ? (vs.text ?? i18n.t(vs.key, vs.params)) : "";
    this.viewText.hidden = !vs;
    const watchable = talk && status !== "ended" && (talk.live || talk.mode === "embed" || status === "on");
    this.watchBtn.textContent = i18n.t("panel.stage.watch");
    const speakingNow = this.publisher?.talkId === talk?.id;
    this.watchBtn.hidden = !watchable || Boolean(v) || this.busy || speakingNow || !stageRtcSupported();
    this.stopBtn.textContent = i18n.t("panel.stage.stop_watching");
    this.stopBtn.hidden = !v && this.want !== talk?.id;
    this.walkBtn.textContent = i18n.t("panel.stage.go_to_stage");
    this.walkBtn.hidden = !vs?.walk;
    this.streamLink.textContent = i18n.t("panel.stage.open_stream");
    this.streamLink.hidden = v?.mode !== "embed" || !v.url;
    if (v?.url) this.streamLink.href = v.url;

    // Speaker tools.
    const speaking = this.publisher && this.publisher.talkId === talk?.id;
    this.speakerBox.hidden = !talk || !this.mine(talk) || talk.mode === "embed" || status === "ended";
    if (!this.speakerBox.hidden) {
      this.speakerHead.textContent = i18n.t("panel.stage.speaker_tools");
      const views = talk.live?.viewers ?? { video: 0, audio: 0 };
      this.speakerText.textContent = speaking ? i18n.t("panel.stage.you_are_live", { n: views.video, m: views.audio })
        : (this.now() < talk.start - 5 * 60_000 ? i18n.t("panel.stage.not_on_yet") : "");
      this.speakerText.hidden = !this.speakerText.textContent;
      this.liveBtn.textContent = i18n.t(talk.mode === "slides" ? "panel.stage.go_live_audio" : "panel.stage.go_live");
      this.liveBtn.hidden = Boolean(speaking);
      this.liveBtn.disabled = this.busy || !stageRtcSupported() || !navigator.mediaDevices?.getUserMedia;
      this.endBtn.textContent = i18n.t("panel.stage.end_live");
      this.endBtn.hidden = !speaking;
      this.prevBtn.textContent = i18n.t("panel.stage.prev_slide");
      this.nextBtn.textContent = i18n.t("panel.stage.next_slide");
      this.prevBtn.hidden = this.nextBtn.hidden = !talk.slides;
      this.prevBtn.disabled = talk.slide <= 0;
      this.nextBtn.disabled = talk.slide >= talk.slides - 1;
      this.slidesText.textContent = talk.slides
        ? `${i18n.t("panel.stage.upload_slides")} · ${i18n.t("panel.stage.slide_of", { n: talk.slide + 1, total: talk.slides })}`
        : i18n.t("panel.stage.upload_slides");
    }

    this.qa.show(talk);
    this._renderSchedule(talk);
    this.admin?.render();
  }

  _renderSchedule(selected) {
    const { i18n } = this;
    this.scheduleHead.textContent = i18n.t("panel.stage.schedule");
    const list = this.sorted();
    this.scheduleEmpty.hidden = list.length > 0;
    this.scheduleEmpty.textContent = i18n.t("panel.stage.no_talks");
    const isAdmin = Boolean(this.ctx.user?.roles?.includes("admin"));
    this.scheduleList.replaceChildren(...list.map((talk) => {
      const status = this.status(talk);
      const li = el("li", `stage-talk stage-talk-${status}${talk.id === selected?.id ? " selected" : ""}`);
      li.dataset.talkId = talk.id;
      const pick = button("", "stage-talk-main");
      pick.setAttribute("aria-current", String(talk.id === selected?.id));
      pick.append(
        el("span", "stage-talk-time", this._time(talk)),
        el("span", "stage-talk-title", i18n.pick(talk.title)),
        el("span", "stage-talk-meta", `${talk.speaker?.display_name ?? ""} · ${i18n.t(`panel.stage.mode.${talk.mode}`)}`),
        el("span", `stage-badge ${talk.live ? "live" : status}`, i18n.t(talk.live ? "panel.stage.live" : `panel.stage.status.${status}`)),
      );
      pick.addEventListener("click", () => { this.selectedId = talk.id; this.render(); });
      li.append(pick);
      if (isAdmin) {
        const del = button(i18n.t("panel.stage.delete"), "btn small subtle stage-talk-delete");
        del.addEventListener("click", () => this.remove(talk));
        li.append(del);
      }
      return li;
    }));
  }

  update(nowMs) {
    if (nowMs - this._lastRefresh > REFRESH_MS && (this.publisher || this.viewer)) this.refresh();
  }

  dispose() {
    for (const off of this.offs) off?.();
    document.removeEventListener("metahall:joined", this._onJoined);
    document.removeEventListener("metahall:lang-changed", this._onLang);
    if (this.viewer?.pc) this.t.request("stage.unwatch", {});
    this._closeViewer(null);
    if (this.publisher) {
      this.t.request("stage.unpublish", { talk_id: this.publisher.talkId });
      this._closePublisher();
    }
  }
}

export const stagePanel = {
  id: "stage",
  titleKey: "panel.stage.title",
  icon: "dot",
  order: 40,
  when: (ctx) => ctx.room.kind === "expo",
  mount(container, ctx) {
    const c = new StageController(container, ctx);
    return {
      update: (now) => c.update(now),
      show: () => c.render(),
      unmount: () => c.dispose(),
      controller: c,
    };
  },
};
