// Replay of a case: the room's floor plan with avatar trails over time, the chat in sync,
// play / pause / scrub. Times are ms after the evidence's t0.

const PALETTE = ["#2f6f9f", "#2e9d5b", "#8e44ad", "#d98b1a", "#16a085", "#7f8c8d", "#c0392b",
  "#34495e", "#b7950b", "#1abc9c"];
const INVOLVED = "#d0312d";
const FEATURE_COLORS = { counter: "#9bb6cf", desk: "#e0b98a", booth: "#c9d8c5", stage: "#d9c8e8",
  seating: "#e7e1d3", wall: "#9aa3ab", plant: "#a8d5a2", sign: "#cfd6dc" };
const BUBBLE_MS = 4000;

export class Replay {
  constructor({ canvas, chat, legend, play, scrub, clock, speed, i18n, onTime }) {
    Object.assign(this, { canvas, chat, legend, play, scrub, clock, speed, i18n });
    this.onTime = onTime ?? (() => {});
    this.ctx = canvas.getContext("2d");
    this.evidence = null;
    this.layout = null;
    this.flagged = new Set();
    this.t = 0;
    this.span = 1;
    this.playing = false;
    this.lastFrame = 0;
    play.addEventListener("click", () => (this.playing ? this.pause() : this.start()));
    scrub.addEventListener("input", () => this.seek((Number(scrub.value) / 1000) * this.span));
  }

  /** Show a case's merged evidence on the room's layout (null when there is no room). */
  load(evidence, layout, flaggedIds) {
    this.pause();
    this.evidence = evidence;
    this.layout = layout;
    this.flagged = new Set(flaggedIds);
    this.span = Math.max(1000, evidence.t1 - evidence.t0);
    this.colors = new Map();
    let n = 0;
    for (const track of evidence.tracks) {
      this.colors.set(track.user_id, track.involved ? INVOLVED : PALETTE[n++ % PALETTE.length]);
    }
    this.#renderLegend();
    this.#renderChat();
    this.seek(this.span);
  }

  start() {
    if (!this.evidence) return;
    if (this.t >= this.span) this.seek(0);
    this.playing = true;
    this.play.textContent = this.i18n.t("pause");
    this.lastFrame = performance.now();
    requestAnimationFrame((now) => this.#frame(now));
  }

  pause() {
    this.playing = false;
    this.play.textContent = this.i18n.t("play");
  }

  seek(t) {
    this.t = Math.max(0, Math.min(this.span, t));
    this.scrub.value = String(Math.round((this.t / this.span) * 1000));
    this.#draw();
    this.#syncChat();
    this.onTime(this.t);
  }

  relabel() {
    this.play.textContent = this.i18n.t(this.playing ? "pause" : "play");
    this.#renderLegend();
    this.#draw();
  }

  #frame(now) {
    if (!this.playing) return;
    const dt = (now - this.lastFrame) * Number(this.speed.value || 1);
    this.lastFrame = now;
    this.seek(this.t + dt);
    if (this.t >= this.span) {
      this.pause();
      return;
    }
    requestAnimationFrame((next) => this.#frame(next));
  }

  // -- drawing ---------------------------------------------------------------------------
  #view() {
    const b = this.layout?.bounds ?? this.#bounds();
    const { width, height } = this.canvas;
    const pad = 16;
    const scale = Math.min((width - 2 * pad) / (b.max_x - b.min_x), (height - 2 * pad) / (b.max_z - b.min_z));
    const ox = (width - scale * (b.max_x - b.min_x)) / 2;
    const oz = (height - scale * (b.max_z - b.min_z)) / 2;
    return { b, scale, px: (x) => ox + (x - b.min_x) * scale, pz: (z) => oz + (z - b.min_z) * scale };
  }

  #bounds() {
    const xs = [], zs = [];
    for (const tr of this.evidence?.tracks ?? []) {
      xs.push(...tr.x.map((v) => v / 100));
      zs.push(...tr.z.map((v) => v / 100));
    }
    if (!xs.length) return { min_x: -10, max_x: 10, min_z: -10, max_z: 10 };
    return { min_x: Math.min(...xs) - 5, max_x: Math.max(...xs) + 5, min_z: Math.min(...zs) - 5, max_z: Math.max(...zs) + 5 };
  }

  #draw() {
    const ctx = this.ctx;
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    if (!this.evidence) return;
    const v = this.#view();
    ctx.fillStyle = "#fbf9f3";
    ctx.fillRect(v.px(v.b.min_x), v.pz(v.b.min_z), (v.b.max_x - v.b.min_x) * v.scale, (v.b.max_z - v.b.min_z) * v.scale);
    for (const f of this.layout?.features ?? []) {
      ctx.fillStyle = f.color && f.type !== "sign" ? `${f.color}66` : FEATURE_COLORS[f.type] ?? "#dde";
      ctx.fillRect(v.px(f.x - f.w / 2), v.pz(f.z - f.d / 2), Math.max(1, f.w * v.scale), Math.max(1, f.d * v.scale));
    }
    const now = this.evidence.t0 + this.t;
    const talking = new Map();
    for (const m of this.evidence.chat) {
      if (m.ts <= now && now - m.ts < BUBBLE_MS) talking.set(m.from.user_id, m);
    }
    for (const track of this.evidence.tracks) this.#drawTrack(v, track, talking.get(track.user_id));
  }

  #drawTrack(v, track, bubble) {
    const ctx = this.ctx;
    const color = this.colors.get(track.user_id);
    if (!track.t.length) return;
    ctx.lineWidth = track.involved ? 3 : 1.5;
    ctx.strokeStyle = color;
    ctx.globalAlpha = 0.18;
    this.#path(v, track, track.t.length);
    ctx.globalAlpha = 1;
    let upto = 0;
    while (upto < track.t.length && track.t[upto] <= this.t) upto++;
    if (upto === 0) return;  // not there yet
    this.#path(v, track, upto);
    const i = upto - 1;
    let x = track.x[i] / 100, z = track.z[i] / 100;
    if (upto < track.t.length) {  // between two samples: interpolate
      const f = (this.t - track.t[i]) / Math.max(1, track.t[i + 1] - track.t[i]);
      if (f <= 1.5) {
        x += (track.x[i + 1] / 100 - x) * Math.min(1, f);
        z += (track.z[i + 1] / 100 - z) * Math.min(1, f);
      }
    }
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(v.px(x), v.pz(z), track.involved ? 7 : 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.font = "12px sans-serif";
    ctx.fillStyle = "#1e2a36";
    ctx.fillText(track.display_name, v.px(x) + 9, v.pz(z) - 6);
    if (bubble) {
      const text = bubble.text.length > 28 ? `${bubble.text.slice(0, 27)}…` : bubble.text;
      const w = ctx.measureText(text).width + 10;
      ctx.fillStyle = "rgba(255,255,255,0.92)";
      ctx.strokeStyle = color;
      ctx.lineWidth = 1;
      ctx.fillRect(v.px(x) - w / 2, v.pz(z) - 34, w, 18);
      ctx.strokeRect(v.px(x) - w / 2, v.pz(z) - 34, w, 18);
      ctx.fillStyle = "#1e2a36";
      ctx.fillText(text, v.px(x) - w / 2 + 5, v.pz(z) - 21);
    }
  }

  #path(v, track, count) {
    const ctx = this.ctx;
    ctx.beginPath();
    for (let i = 0; i < count; i++) {
      const x = v.px(track.x[i] / 100), z = v.pz(track.z[i] / 100);
      if (i === 0) ctx.moveTo(x, z);
      else ctx.lineTo(x, z);
    }
    ctx.stroke();
  }

  // -- chat and legend ---------------------------------------------------------------------
  #renderChat() {
    this.chat.replaceChildren();
    this.rows = [];
    for (const m of this.evidence.chat) {
      const li = document.createElement("li");
      li.dataset.messageId = m.id;
      li.dataset.ts = String(m.ts);
      if (this.flagged.has(m.id)) li.classList.add("flagged");
      if (m.redacted) li.classList.add("redacted");
      const ts = document.createElement("span");
      ts.className = "ts";
      ts.textContent = this.#clock(m.ts - this.evidence.t0);
      const chan = document.createElement("span");
      chan.className = "chan";
      chan.textContent = m.channel === "room" ? "" : `[${m.channel}]`;
      const from = document.createElement("span");
      from.className = "from";
      from.textContent = m.from.display_name;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = m.text;  // text, never HTML
      li.append(ts, chan, from, text);
      this.chat.append(li);
      this.rows.push(li);
    }
  }

  #syncChat() {
    const now = this.evidence.t0 + this.t;
    let last = null;
    for (const li of this.rows) {
      const future = Number(li.dataset.ts) > now;
      li.classList.toggle("future", future);
      if (!future) last = li;
    }
    if (this.playing && last) last.scrollIntoView({ block: "nearest" });
    this.clock.textContent = `${this.#clock(this.t)} / ${this.#clock(this.span)}`;
  }

  #renderLegend() {
    this.legend.replaceChildren();
    for (const track of this.evidence?.tracks ?? []) {
      const li = document.createElement("li");
      li.dataset.involved = String(track.involved);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = this.colors.get(track.user_id);  // CSSOM, allowed by the CSP
      li.append(swatch, track.display_name + (track.involved ? ` (${this.i18n.t("involved")})` : ""));
      this.legend.append(li);
    }
  }

  #clock(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
}
