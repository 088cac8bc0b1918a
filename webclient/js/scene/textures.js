// Canvas-drawn textures: floors, signs, name tags. No image files to load.

import * as THREE from "three";

export const FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "Helvetica Neue", Arial, sans-serif';

function canvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

function toTexture(c, renderer, repeat = false) {
  const tex = new THREE.CanvasTexture(c);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.anisotropy = Math.min(8, renderer?.capabilities?.getMaxAnisotropy?.() ?? 1);
  if (repeat) tex.wrapS = tex.wrapT = THREE.RepeatWrapping;
  return tex;
}

/** Deterministic pseudo-random numbers so textures look the same on every load. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
}

/** Large stone tiles with soft variation; one texture repeat = `tiles` × `tiles` tiles. */
export function tileTexture(renderer, { base = "#e9e5dd", grout = "#cfc8bc", tiles = 4, vary = 10, seed = 7 } = {}) {
  const size = 512;
  const c = canvas(size, size);
  const g = c.getContext("2d");
  const rand = rng(seed);
  const step = size / tiles;
  const col = new THREE.Color(base);
  for (let i = 0; i < tiles; i += 1) {
    for (let j = 0; j < tiles; j += 1) {
      const k = (rand() - 0.5) * vary / 255;
      g.fillStyle = `rgb(${Math.round((col.r + k) * 255)},${Math.round((col.g + k) * 255)},${Math.round((col.b + k) * 255)})`;
      g.fillRect(i * step, j * step, step, step);
      // a faint speckle, like terrazzo
      for (let k2 = 0; k2 < 120; k2 += 1) {
        g.fillStyle = rand() < 0.6 ? "rgba(255,255,255,0.10)" : "rgba(90,80,60,0.05)";
        g.fillRect(i * step + rand() * step, j * step + rand() * step, 1.5, 1.5);
      }
    }
  }
  g.strokeStyle = grout;
  g.lineWidth = 3;
  for (let i = 0; i <= tiles; i += 1) {
    g.beginPath(); g.moveTo(i * step, 0); g.lineTo(i * step, size); g.stroke();
    g.beginPath(); g.moveTo(0, i * step); g.lineTo(size, i * step); g.stroke();
  }
  return toTexture(c, renderer, true);
}

/** Wooden planks (social spaces' decks). */
export function plankTexture(renderer, { base = "#c9a57a", seed = 3 } = {}) {
  const size = 512;
  const c = canvas(size, size);
  const g = c.getContext("2d");
  const rand = rng(seed);
  const col = new THREE.Color(base);
  const rows = 8;
  const h = size / rows;
  for (let r = 0; r < rows; r += 1) {
    let x = -rand() * 200;
    while (x < size) {
      const len = 160 + rand() * 200;
      const k = (rand() - 0.5) * 0.08;
      g.fillStyle = `rgb(${Math.round((col.r + k) * 255)},${Math.round((col.g + k) * 250)},${Math.round((col.b + k) * 245)})`;
      g.fillRect(x, r * h, len, h);
      g.fillStyle = "rgba(80,50,20,0.22)";
      g.fillRect(x, r * h, 2, h);
      x += len;
    }
    g.fillStyle = "rgba(80,50,20,0.28)";
    g.fillRect(0, r * h, size, 2);
  }
  return toTexture(c, renderer, true);
}

/** Grass with a little noise. */
export function grassTexture(renderer, { seed = 11 } = {}) {
  const size = 256;
  const c = canvas(size, size);
  const g = c.getContext("2d");
  const rand = rng(seed);
  g.fillStyle = "#86b36a";
  g.fillRect(0, 0, size, size);
  for (let i = 0; i < 2500; i += 1) {
    const v = rand();
    g.fillStyle = v < 0.5 ? "rgba(70,120,50,0.25)" : "rgba(170,210,120,0.22)";
    g.fillRect(rand() * size, rand() * size, 2, 3 + rand() * 3);
  }
  return toTexture(c, renderer, true);
}

/**
 * A sign face: optional main and secondary line, auto-fitted.
 * @param {object} o
 * @param {string} o.title main text (e.g. Chinese)
 * @param {string} [o.subtitle] second line (e.g. English)
 * @param {number} o.aspect width / height of the sign in metres
 */
export function signTexture(renderer, { title, subtitle = "", aspect = 4, bg = "#1f4e79", bg2 = "#173b5c", fg = "#ffffff", accent = "#f2c14e", px = 256 } = {}) {
  const h = px;
  const w = Math.min(4096, Math.max(64, Math.round(px * aspect)));
  const c = canvas(w, h);
  const g = c.getContext("2d");
  const grad = g.createLinearGradient(0, 0, 0, h);
  grad.addColorStop(0, bg);
  grad.addColorStop(1, bg2);
  g.fillStyle = grad;
  g.fillRect(0, 0, w, h);
  g.fillStyle = accent;
  g.fillRect(0, h - Math.max(4, h * 0.05), w, Math.max(4, h * 0.05));
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillStyle = fg;
  const pad = h * 0.12;
  if (subtitle) {
    fitText(g, title, w - pad * 2, h * 0.5, "700");
    g.fillText(title, w / 2, h * 0.4);
    g.globalAlpha = 0.85;
    fitText(g, subtitle, w - pad * 2, h * 0.22, "500");
    g.fillText(subtitle, w / 2, h * 0.76);
    g.globalAlpha = 1;
  } else {
    fitText(g, title, w - pad * 2, h * 0.66, "700");
    g.fillText(title, w / 2, h * 0.5);
  }
  return toTexture(c, renderer);
}

function fitText(g, text, maxWidth, size, weight) {
  let s = size;
  g.font = `${weight} ${s}px ${FONT_STACK}`;
  const m = g.measureText(text).width;
  if (m > maxWidth) {
    s = Math.max(8, Math.floor(s * (maxWidth / m)));
    g.font = `${weight} ${s}px ${FONT_STACK}`;
  }
  return s;
}

/** Draws a name tag onto an existing canvas (re-used by the tag pool). Returns the used width. */
export function drawNameTag(c, name, { roleColor = null, self = false, talking = false, badge = null } = {}) {
  const g = c.getContext("2d");
  const h = c.height;
  g.clearRect(0, 0, c.width, h);
  const size = Math.round(h * 0.5);
  g.font = `600 ${size}px ${FONT_STACK}`;
  const text = name.length > 24 ? `${name.slice(0, 23)}…` : name;
  // social: an emote shows as a label pill after the name; talking as a green outline and a speaker.
  const label = badge ? (badge.length > 10 ? `${badge.slice(0, 9)}…` : badge) : "";
  const bw = label ? g.measureText(label).width + h * 0.5 : 0;
  const tw = Math.min(c.width - h - bw - (talking ? h * 0.5 : 0), g.measureText(text).width);
  const w = tw + h * 0.8 + (roleColor ? h * 0.45 : 0) + (talking ? h * 0.5 : 0) + (label ? bw + h * 0.15 : 0);
  const x0 = (c.width - w) / 2;
  g.fillStyle = self ? "rgba(31,78,121,0.88)" : "rgba(20,24,32,0.72)";
  roundRect(g, x0, h * 0.1, w, h * 0.8, h * 0.4);
  g.fill();
  if (talking) {
    g.strokeStyle = "#3ddc84";
    g.lineWidth = h * 0.08;
    roundRect(g, x0 + h * 0.04, h * 0.14, w - h * 0.08, h * 0.72, h * 0.36);
    g.stroke();
    speaker(g, x0 + h * 0.45, h / 2, h * 0.2);
  }
  if (label) {
    const bx = x0 + w - bw - h * 0.2;
    g.fillStyle = "#f2c14e";
    roundRect(g, bx, h * 0.2, bw, h * 0.6, h * 0.3);
    g.fill();
    g.fillStyle = "#1c232c";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(label, bx + bw / 2, h / 2 + 1);
  }
  let tx = x0 + h * 0.4 + (talking ? h * 0.5 : 0);
  if (roleColor) {
    g.fillStyle = roleColor;
    g.beginPath();
    g.arc(tx + h * 0.12, h / 2, h * 0.14, 0, Math.PI * 2);
    g.fill();
    tx += h * 0.45;
  }
  g.fillStyle = "#ffffff";
  g.textAlign = "left";
  g.textBaseline = "middle";
  g.fillText(text, tx, h / 2 + 1, Math.max(1, tw));
  return w;
}

/** A small speaker with two sound waves, centred at (x, y) (social: the talk indicator). */
function speaker(g, x, y, r) {
  g.fillStyle = "#3ddc84";
  g.beginPath();
  g.moveTo(x - r, y - r * 0.4); g.lineTo(x - r * 0.4, y - r * 0.4); g.lineTo(x + r * 0.1, y - r);
  g.lineTo(x + r * 0.1, y + r); g.lineTo(x - r * 0.4, y + r * 0.4); g.lineTo(x - r, y + r * 0.4);
  g.closePath();
  g.fill();
  g.strokeStyle = "#3ddc84";
  g.lineWidth = r * 0.25;
  for (const k of [0.6, 1.0]) {
    g.beginPath();
    g.arc(x + r * 0.1, y, r * k, -Math.PI / 4, Math.PI / 4);
    g.stroke();
  }
}

/** A soft round shadow for under avatars and plants. */
export function blobTexture(renderer) {
  const size = 128;
  const c = canvas(size, size);
  const g = c.getContext("2d");
  const grad = g.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, size / 2);
  grad.addColorStop(0, "rgba(0,0,0,0.45)");
  grad.addColorStop(0.6, "rgba(0,0,0,0.18)");
  grad.addColorStop(1, "rgba(0,0,0,0)");
  g.fillStyle = grad;
  g.fillRect(0, 0, size, size);
  return toTexture(c, renderer);
}

export function roundRect(g, x, y, w, h, r) {
  g.beginPath();
  g.moveTo(x + r, y);
  g.arcTo(x + w, y, x + w, y + h, r);
  g.arcTo(x + w, y + h, x, y + h, r);
  g.arcTo(x, y + h, x, y, r);
  g.arcTo(x, y, x + w, y, r);
  g.closePath();
}
