// The 2D map: a canvas top view for devices without WebGL, or by choice.
// Same interface as View3D (setLayout, render, pick, cameraYaw, turn, zoom, resize, dispose).
// North (−z) is up, so "forward" is always up the screen.

import { benchRows, boothKiosk } from "./room-layout.js";
import { roleColor } from "./scene/avatar-crowd.js";
import { FONT_STACK, roundRect } from "./scene/textures.js";

const FEATURE_STYLE = {
  counter: { fill: "#f8f6f1", stroke: "#2f6f9f" },
  desk: { fill: "#f3d3ae", stroke: "#c8843a" },
  booth: { fill: "#eef6fb", stroke: "#5bc0de" },
  stage: { fill: "#4a4f7d", stroke: "#2b2f55" },
  seating: { fill: "#c9d6e3", stroke: "#5b7c99" },
  wall: { fill: "#d9d4cb", stroke: "#a39c90" },
  plant: { fill: "#7fb069", stroke: "#4f8a3c" },
  sign: { fill: "#1f4e79", stroke: "#173b5c" },
};
const FLOOR = { hall: "#eee9e0", expo: "#e2e5ea", social: "#a9cf8f" };
const GRID = { hall: "rgba(0,0,0,0.05)", expo: "rgba(0,0,0,0.05)", social: "rgba(255,255,255,0.12)" };

export class View2D {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{i18n: import("./i18n.js").I18n, maxTags?: number}} opts
   */
  constructor(canvas, { i18n, maxTags = 20 }) {
    this.kind = "2d";
    this.canvas = canvas;
    this.i18n = i18n;
    this.maxTags = maxTags;
    this.g = canvas.getContext("2d");
    this.layout = null;
    this.cameraYaw = Math.PI; // forward = −z = up the screen
    this.scale = 8; // px per metre
    this._zoom = 1;
    this._origin = { x: 0, y: 0 }; // screen px of world (0, 0)
    this._dpr = 1;
    this._resizeObserver = new ResizeObserver(() => this.resize());
    this._resizeObserver.observe(canvas.parentElement ?? canvas);
    this.resize();
    // A guidance path on the floor: CustomEvent "metahall:path" {path: [[x, z], ...]|null}.
    this.path = null;
    this._onPath = (e) => this.setPath(e.detail?.path ?? null);
    document.addEventListener("metahall:path", this._onPath);
    document.dispatchEvent(new CustomEvent("metahall:path-request"));
  }

  /** Draws `points` ([[x, z], ...]) as a line on the map, or removes it (null). */
  setPath(points) {
    const pts = Array.isArray(points)
      ? points.filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
      : [];
    this.path = pts.length >= 2 ? pts : null;
  }

  setLayout(layout) {
    this.layout = layout;
    this._zoom = 1;
  }

  turn() { /* the map is always north-up */ }

  zoom(factor) { this._zoom = Math.min(6, Math.max(0.6, this._zoom / factor)); }

  resize() {
    const parent = this.canvas.parentElement ?? this.canvas;
    this._dpr = Math.min(window.devicePixelRatio || 1, 2);
    this.canvas.width = Math.max(1, Math.round(parent.clientWidth * this._dpr));
    this.canvas.height = Math.max(1, Math.round(parent.clientHeight * this._dpr));
  }

  pick(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const px = (clientX - rect.left) * this._dpr;
    const py = (clientY - rect.top) * this._dpr;
    const x = (px - this._origin.x) / this.scale;
    const z = (py - this._origin.y) / this.scale;
    const b = this.layout?.bounds;
    if (!b || x < b.minX || x > b.maxX || z < b.minZ || z > b.maxZ) return null;
    return { x, z };
  }

  stats() {
    return { calls: 1, triangles: 0, instances: this._drawn ?? 0, tags: this._tagged ?? 0, path: this.path?.length ?? 0 };
  }

  dispose() {
    this._resizeObserver.disconnect();
    document.removeEventListener("metahall:path", this._onPath);
    this.g.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  render({ world, self, nowMs, target }) {
    const { g, canvas, layout } = this;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = "#dde3e8";
    g.fillRect(0, 0, canvas.width, canvas.height);
    if (!layout) return;
    this._fit(self);
    const s = this.scale;
    g.setTransform(s, 0, 0, s, this._origin.x, this._origin.y);
    const { minX, maxX, minZ, maxZ } = layout.bounds;

    // Floor and a 5 m grid.
    g.fillStyle = FLOOR[layout.kind] ?? FLOOR.social;
    g.fillRect(minX, minZ, maxX - minX, maxZ - minZ);
    g.strokeStyle = GRID[layout.kind] ?? GRID.social;
    g.lineWidth = 1 / s;
    g.beginPath();
    for (let x = Math.ceil(minX / 5) * 5; x <= maxX; x += 5) { g.moveTo(x, minZ); g.lineTo(x, maxZ); }
    for (let z = Math.ceil(minZ / 5) * 5; z <= maxZ; z += 5) { g.moveTo(minX, z); g.lineTo(maxX, z); }
    g.stroke();
    g.strokeStyle = "#6b7480";
    g.lineWidth = 3 / s;
    g.strokeRect(minX, minZ, maxX - minX, maxZ - minZ);

    for (const f of layout.features) this._feature(f);
    for (const f of layout.features) this._featureLabel(f);

    // Avatars: everyone as a dot with a heading tick; names for the nearest.
    const others = [];
    for (const e of world.entities.values()) if (e.visible) others.push(e);
    const cx = self?.x ?? 0;
    const cz = self?.z ?? 0;
    for (const e of others) e._d2 = (e.x - cx) ** 2 + (e.z - cz) ** 2;
    others.sort((a, b) => b._d2 - a._d2); // far first, near drawn on top
    for (const e of others) this._avatar(e, false);
    if (this.path) {
      g.save();
      g.strokeStyle = "rgba(242,169,0,0.9)";
      g.lineWidth = Math.max(0.3, 4 / s);
      g.lineJoin = "round";
      g.lineCap = "round";
      g.setLineDash([1.2, 0.6]);
      g.lineDashOffset = -(nowMs * 0.002) % 1.8;
      g.beginPath();
      g.moveTo(this.path[0][0], this.path[0][1]);
      for (let i = 1; i < this.path.length; i += 1) g.lineTo(this.path[i][0], this.path[i][1]);
      g.stroke();
      const end = this.path[this.path.length - 1];
      g.setLineDash([]);
      g.fillStyle = "#f2a900";
      g.beginPath(); g.arc(end[0], end[1], Math.max(0.35, 5 / s), 0, Math.PI * 2); g.fill();
      g.restore();
    }
    if (target) {
      g.strokeStyle = "#2f6f9f";
      g.lineWidth = 2.5 / s;
      const r = 0.45 + 0.08 * Math.sin(nowMs * 0.008);
      g.beginPath(); g.arc(target.x, target.z, r, 0, Math.PI * 2); g.stroke();
    }
    if (self) this._avatar(self, true);
    const named = others.slice(-Math.max(0, this.maxTags - 1));
    g.setTransform(1, 0, 0, 1, 0, 0);
    for (const e of named) this._name(e, false);
    if (self) this._name(self, true);
    this._drawn = others.length + (self ? 1 : 0);
    this._tagged = named.length + (self ? 1 : 0);
  }

  _fit(self) {
    const { minX, maxX, minZ, maxZ } = this.layout.bounds;
    const pad = 24 * this._dpr;
    const w = this.canvas.width - pad * 2;
    const h = this.canvas.height - pad * 2;
    const fit = Math.min(w / (maxX - minX), h / (maxZ - minZ));
    this.scale = Math.max(fit, 4 * this._dpr) * this._zoom;
    const worldW = (maxX - minX) * this.scale;
    const worldH = (maxZ - minZ) * this.scale;
    // Centre the room when it fits, else follow the player.
    let ox = worldW <= w ? pad + (w - worldW) / 2 - minX * this.scale : this.canvas.width / 2 - (self?.x ?? 0) * this.scale;
    let oy = worldH <= h ? pad + (h - worldH) / 2 - minZ * this.scale : this.canvas.height / 2 - (self?.z ?? 0) * this.scale;
    if (worldW > w) ox = Math.min(pad - minX * this.scale, Math.max(this.canvas.width - pad - maxX * this.scale, ox));
    if (worldH > h) oy = Math.min(pad - minZ * this.scale, Math.max(this.canvas.height - pad - maxZ * this.scale, oy));
    this._origin = { x: ox, y: oy };
  }

  _withFeatureFrame(f, fn) {
    const g = this.g;
    g.save();
    g.translate(f.x, f.z);
    // three.js yaw turns +x towards −z; on a canvas with z downwards that is a negative rotation.
    g.rotate(-f.yaw);
    fn(g);
    g.restore();
  }

  _feature(f) {
    const st = FEATURE_STYLE[f.type] ?? FEATURE_STYLE.wall;
    const s = this.scale;
    this._withFeatureFrame(f, (g) => {
      g.lineWidth = 2 / s;
      g.strokeStyle = f.color ?? st.stroke;
      g.fillStyle = st.fill;
      if (f.type === "seating") {
        g.fillStyle = f.color ?? st.stroke;
        for (const [lz, w] of benchRows(f)) {
          const n = Math.max(1, Math.floor(w / 0.62));
          for (let i = 0; i < n; i += 1) g.fillRect(-w / 2 + i * (w / n) + 0.06, lz - 0.25, w / n - 0.12, 0.5);
        }
        return;
      }
      if (f.type === "plant") {
        g.fillStyle = st.fill;
        g.beginPath(); g.arc(0, 0, Math.min(f.w, f.d) / 2, 0, Math.PI * 2); g.fill();
        g.strokeStyle = st.stroke; g.stroke();
        return;
      }
      if (f.type === "sign") {
        g.fillStyle = f.color ?? st.fill;
        g.fillRect(-f.w / 2, -0.15, f.w, 0.3);
        return;
      }
      if (f.type === "booth") {
        g.fillStyle = tint(f.color ?? st.stroke);
        g.fillRect(-f.w / 2, -f.d / 2, f.w, f.d);
        g.fillStyle = f.color ?? st.stroke;
        g.fillRect(-f.w / 2, -f.d / 2, f.w, 0.3);
        g.fillRect(-f.w / 2, -f.d / 2, 0.3, f.d / 2);
        const k = boothKiosk(f);
        g.fillStyle = "#ffffff";
        g.fillRect(k.x - k.w / 2, k.z - k.d / 2, k.w, k.d);
        return;
      }
      if (f.type === "stage") g.fillStyle = f.color ?? st.fill;
      roundRect(g, -f.w / 2, -f.d / 2, f.w, f.d, Math.min(0.4, f.d / 3));
      g.fill();
      g.stroke();
    });
  }

  _featureLabel(f) {
    if (!f.label || f.type === "seating" || f.type === "plant") return;
    const text = this.i18n.pick(f.label);
    if (!text) return;
    const g = this.g;
    const s = this.scale;
    const px = Math.max(10, Math.min(22, s * (f.type === "sign" ? 0.9 : 0.8)));
    g.save();
    g.setTransform(1, 0, 0, 1, 0, 0);
    const x = this._origin.x + f.x * s;
    const y = this._origin.y + f.z * s;
    g.font = `600 ${px}px ${FONT_STACK}`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    const w = g.measureText(text).width;
    if (w > Math.max(f.w * s * 1.6, 40)) { g.restore(); return; } // no room at this zoom
    g.fillStyle = f.type === "stage" || f.type === "sign" ? "#ffffff" : "#1e2a36";
    if (f.type === "sign") {
      g.fillStyle = "rgba(31,78,121,0.9)";
      roundRect(g, x - w / 2 - 5, y - px * 0.7, w + 10, px * 1.4, 5);
      g.fill();
      g.fillStyle = "#ffffff";
    }
    g.fillText(text, x, y);
    g.restore();
  }

  _avatar(e, isSelf) {
    const g = this.g;
    const s = this.scale;
    const r = Math.max(0.35, 5 / s);
    g.fillStyle = e.color ?? "#7f8c8d";
    g.strokeStyle = isSelf ? "#f2c14e" : "rgba(0,0,0,0.45)";
    g.lineWidth = (isSelf ? 3 : 1.5) / s;
    g.beginPath(); g.arc(e.x, e.z, r, 0, Math.PI * 2); g.fill(); g.stroke();
    if (e.talking) { // social: talk indicator
      g.strokeStyle = "#2e9d5b";
      g.lineWidth = 3 / s;
      g.beginPath(); g.arc(e.x, e.z, r * 1.6, 0, Math.PI * 2); g.stroke();
    }
    // Heading: yaw 0 faces +z (down the screen).
    g.strokeStyle = "#1c232c";
    g.lineWidth = 2 / s;
    g.beginPath();
    g.moveTo(e.x, e.z);
    g.lineTo(e.x + Math.sin(e.yaw) * r * 1.5, e.z + Math.cos(e.yaw) * r * 1.5);
    g.stroke();
  }

  _name(e, isSelf) {
    const g = this.g;
    const s = this.scale;
    const x = this._origin.x + e.x * s;
    const y = this._origin.y + e.z * s - Math.max(0.35, 5 / s) * s - 8 * this._dpr;
    const px = 12 * this._dpr;
    g.font = `600 ${px}px ${FONT_STACK}`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    const name = e.name || "…";
    const w = g.measureText(name).width;
    const rc = roleColor(e.roles);
    g.fillStyle = isSelf ? "rgba(31,78,121,0.9)" : "rgba(20,24,32,0.72)";
    roundRect(g, x - w / 2 - 6 * this._dpr, y - px * 0.75, w + 12 * this._dpr, px * 1.5, px * 0.75);
    g.fill();
    if (rc) { g.fillStyle = rc; g.fillRect(x - w / 2 - 6 * this._dpr, y + px * 0.6, w + 12 * this._dpr, 2 * this._dpr); }
    g.fillStyle = "#ffffff";
    g.fillText(name, x, y + 1);
  }
}

function tint(hex) {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c) => Math.round(c + (255 - c) * 0.65);
  return `rgb(${mix((n >> 16) & 255)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}
