// Turns a RoomLayout into three.js objects: floor, walls, and one builder per feature type.
// Signs carry both languages (Chinese above, English below), as real signage in a Chinese
// public building does, so nothing needs redrawing on a language switch.

import * as THREE from "three";
import { mergeGeometries } from "three/addons/utils/BufferGeometryUtils.js";
import { benchRows, boothKiosk, BENCH_DEPTH_M, BOOTH_WALL_THICKNESS } from "../room-layout.js";
import { grassTexture, plankTexture, signTexture, tileTexture } from "./textures.js";

/** Look of each room kind. */
export const THEMES = {
  hall: {
    sky: "#dfe8ef", floor: { base: "#ece7de", grout: "#d3cbbd", tiles: 4 }, tileM: 2.2,
    wall: "#f6f3ee", trim: "#2f6f9f", walls: true, wallH: 8, window: "#cfe3f3", inlay: "#2f6f9f", carpet: "#b8cce0",
  },
  expo: {
    sky: "#e3e6ee", floor: { base: "#dadde2", grout: "#c7cbd2", tiles: 2, vary: 6 }, tileM: 3,
    wall: "#f3f4f7", trim: "#3a3f6b", walls: true, wallH: 10, window: "#d7e4f2", inlay: "#3a3f6b", carpet: "#d8d4e6",
  },
  social: {
    sky: "#cde5f4", floor: null, tileM: 6, wall: "#5d8c4a", trim: "#5d8c4a", walls: false, hedge: true,
  },
};

const CHAIR_PITCH = 0.62;
const FEATURE_TYPES = new Set(["counter", "sign", "desk", "booth", "stage", "wall", "plant"]);

export class RoomBuilder {
  constructor(renderer) {
    this.renderer = renderer;
    this._materials = new Map();
    this._textures = [];
    this._geometries = [];
  }

  /** Builds the room. Returns {group, theme}; call dispose() before building the next one. */
  build(layout) {
    const theme = THEMES[layout.kind] ?? THEMES.social;
    const group = new THREE.Group();
    group.name = `room:${layout.id}`;
    this._floor(group, layout, theme);
    this._zones(group, layout, theme);
    if (theme.walls) {
      this._walls(group, layout, theme);
      this._ceiling(group, layout, theme);
    }
    if (theme.hedge) this._hedge(group, layout, theme);
    const chairs = [];
    for (const f of layout.features) {
      if (f.type === "seating") { chairs.push(f); continue; }
      if (!FEATURE_TYPES.has(f.type)) continue; // unknown types are skipped (newer server)
      const make = this[`_${f.type}`];
      const obj = make.call(this, f, theme);
      if (!obj) continue;
      obj.position.set(f.x, 0, f.z);
      obj.rotation.y = f.yaw;
      obj.userData.feature = f;
      group.add(obj);
    }
    if (chairs.length) group.add(this._chairs(chairs));
    const merged = this._mergeStatic(group);
    return { group: merged, theme };
  }

  /**
   * Static batching: every plain mesh of the room is baked into one mesh per material, so the
   * whole room costs a few dozen draw calls instead of hundreds (matters on low-end GPUs).
   */
  _mergeStatic(group) {
    group.updateMatrixWorld(true);
    const buckets = new Map();
    const keep = [];
    group.traverse((o) => {
      if (!o.isMesh) return;
      if (o.isInstancedMesh) { keep.push(o); return; }
      const shadow = !o.userData.noShadow;
      const key = `${o.material.uuid}|${shadow}`;
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { material: o.material, shadow, parts: [] }));
      let g = o.geometry.index ? o.geometry.toNonIndexed() : o.geometry.clone();
      g.applyMatrix4(o.matrixWorld);
      for (const name of Object.keys(g.attributes)) if (!["position", "normal", "uv"].includes(name)) g.deleteAttribute(name);
      g.clearGroups();
      b.parts.push(g);
    });
    const out = new THREE.Group();
    out.name = group.name;
    for (const b of buckets.values()) {
      const geo = this._geo(mergeGeometries(b.parts, false));
      for (const p of b.parts) p.dispose();
      const mesh = new THREE.Mesh(geo, b.material);
      mesh.castShadow = b.shadow;
      mesh.receiveShadow = true;
      mesh.matrixAutoUpdate = false;
      out.add(mesh);
    }
    for (const m of keep) {
      m.castShadow = true;
      m.receiveShadow = true;
      out.add(m);
    }
    return out;
  }

  dispose() {
    for (const m of this._materials.values()) m.dispose();
    for (const t of this._textures) t.dispose();
    for (const g of this._geometries) g.dispose();
    this._materials.clear();
    this._textures = [];
    this._geometries = [];
  }

  // -- helpers --------------------------------------------------------------------------
  mat(color, opts = {}) {
    const key = `${color}|${JSON.stringify(opts)}`;
    let m = this._materials.get(key);
    if (!m) {
      m = new THREE.MeshStandardMaterial({ color, roughness: 0.75, metalness: 0.0, ...opts });
      this._materials.set(key, m);
    }
    return m;
  }

  _tex(t) { this._textures.push(t); return t; }
  _geo(g) { this._geometries.push(g); return g; }

  box(w, h, d, material, x = 0, y = 0, z = 0) {
    const mesh = new THREE.Mesh(this._geo(new THREE.BoxGeometry(w, h, d)), material);
    mesh.position.set(x, y, z);
    return mesh;
  }

  /** A flat label facing +z (and, when twoSided, a copy facing −z). */
  labelPlane(label, w, h, style = {}, twoSided = false) {
    const zh = label?.["zh-CN"] ?? label?.en ?? "";
    const en = label?.en ?? "";
    const title = zh || en;
    const subtitle = en && en !== title ? en : "";
    const tex = this._tex(signTexture(this.renderer, { title, subtitle, aspect: w / h, ...style }));
    const material = new THREE.MeshStandardMaterial({
      map: tex, roughness: 0.5, emissive: "#ffffff", emissiveMap: tex, emissiveIntensity: 0.35,
    });
    this._materials.set(`label:${this._textures.length}`, material);
    const geo = this._geo(new THREE.PlaneGeometry(w, h));
    const g = new THREE.Group();
    const front = new THREE.Mesh(geo, material);
    front.userData.noShadow = true;
    g.add(front);
    if (twoSided) {
      const back = new THREE.Mesh(geo, material);
      back.rotation.y = Math.PI;
      back.userData.noShadow = true;
      g.add(back);
    }
    return g;
  }

  // -- floor and walls ------------------------------------------------------------------
  _floor(group, layout, theme) {
    const { minX, maxX, minZ, maxZ } = layout.bounds;
    const w = maxX - minX;
    const d = maxZ - minZ;
    if (!theme.walls) {
      // Open-air rooms: ground beyond the room, so the view never ends in the void.
      const groundTex = this._tex(grassTexture(this.renderer));
      groundTex.repeat.set((w + 200) / theme.tileM, (d + 200) / theme.tileM);
      const ground = new THREE.Mesh(
        this._geo(new THREE.PlaneGeometry(w + 200, d + 200)),
        new THREE.MeshStandardMaterial({ map: groundTex, roughness: 1 }),
      );
      this._materials.set("ground", ground.material);
      ground.rotation.x = -Math.PI / 2;
      ground.position.set(layout.centerX, -0.02, layout.centerZ);
      ground.name = "ground";
      group.add(ground);
    }

    if (theme.floor) {
      const tex = this._tex(tileTexture(this.renderer, theme.floor));
      const tileRepeat = theme.tileM * (theme.floor.tiles ?? 4);
      tex.repeat.set(w / tileRepeat, d / tileRepeat);
      const floor = new THREE.Mesh(
        this._geo(new THREE.PlaneGeometry(w, d)),
        new THREE.MeshStandardMaterial({ map: tex, roughness: 0.55, metalness: 0.05 }),
      );
      this._materials.set("floor", floor.material);
      floor.rotation.x = -Math.PI / 2;
      floor.position.set(layout.centerX, 0, layout.centerZ);
      floor.name = "floor";
      group.add(floor);
      // A medallion in the floor where people arrive.
      const ring = new THREE.Mesh(this._geo(new THREE.RingGeometry(3.2, 3.6, 64)), this.mat(theme.inlay, { roughness: 0.4 }));
      ring.rotation.x = -Math.PI / 2;
      ring.position.set(layout.spawn.x, 0.005, layout.spawn.z);
      const disc = new THREE.Mesh(this._geo(new THREE.CircleGeometry(3.2, 64)), this.mat("#f4efe4", { roughness: 0.35 }));
      disc.rotation.x = -Math.PI / 2;
      disc.position.set(layout.spawn.x, 0.004, layout.spawn.z);
      group.add(ring, disc);
    } else {
      // Social: a round timber deck in the middle of a lawn.
      const r = Math.min(w, d) * 0.24;
      const tex = this._tex(plankTexture(this.renderer, { base: "#e8d5b5" }));
      tex.repeat.set(r / 1.6, r / 1.6);
      const deck = new THREE.Mesh(this._geo(new THREE.CircleGeometry(r, 72)), new THREE.MeshStandardMaterial({ map: tex, roughness: 0.8 }));
      this._materials.set("deck", deck.material);
      deck.rotation.x = -Math.PI / 2;
      deck.position.set(layout.centerX, 0.012, layout.centerZ);
      deck.name = "floor";
      group.add(deck);
      const path = this.mat("#e2d6bf", { roughness: 0.95 });
      for (const [pw, pd] of [[3, d], [w, 3]]) {
        const p = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(pw, pd)), path);
        p.rotation.x = -Math.PI / 2;
        p.position.set(layout.centerX, 0.005, layout.centerZ);
        group.add(p);
      }
    }
  }

  /** Floor zones: a soft carpet under each cluster of seats, a waiting line before each counter. */
  _zones(group, layout, theme) {
    if (!theme.floor) return;
    const boxes = layout.features.filter((f) => f.type === "seating").map((f) => {
      const r = Math.hypot(f.w, f.d) / 2;
      return { minX: f.x - r, maxX: f.x + r, minZ: f.z - r, maxZ: f.z + r };
    });
    // Merge boxes that are close to each other into clusters.
    let merged = true;
    while (merged) {
      merged = false;
      for (let i = 0; i < boxes.length && !merged; i += 1) {
        for (let j = i + 1; j < boxes.length && !merged; j += 1) {
          const a = boxes[i];
          const b = boxes[j];
          if (a.minX - 4 < b.maxX && b.minX - 4 < a.maxX && a.minZ - 4 < b.maxZ && b.minZ - 4 < a.maxZ) {
            boxes[i] = { minX: Math.min(a.minX, b.minX), maxX: Math.max(a.maxX, b.maxX), minZ: Math.min(a.minZ, b.minZ), maxZ: Math.max(a.maxZ, b.maxZ) };
            boxes.splice(j, 1);
            merged = true;
          }
        }
      }
    }
    const carpet = this.mat(theme.carpet ?? "#d9e2ea", { roughness: 1 });
    for (const b of boxes) {
      const w = b.maxX - b.minX + 1.6;
      const d = b.maxZ - b.minZ + 1.6;
      const m = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(w, d)), carpet);
      m.rotation.x = -Math.PI / 2;
      m.position.set((b.minX + b.maxX) / 2, 0.006, (b.minZ + b.maxZ) / 2);
      group.add(m);
    }
    const line = this.mat("#f2c14e", { roughness: 0.6 });
    for (const f of layout.features) {
      if (f.type !== "counter") continue;
      const m = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(f.w * 0.8, 0.1)), line);
      m.rotation.x = -Math.PI / 2;
      const off = f.d / 2 + 1.2;
      m.position.set(f.x + Math.sin(f.yaw) * off, 0.008, f.z + Math.cos(f.yaw) * off);
      m.rotation.z = f.yaw;
      group.add(m);
    }
  }

  /** A ceiling with rows of light panels (seen from below only). */
  _ceiling(group, layout, theme) {
    const { minX, maxX, minZ, maxZ } = layout.bounds;
    const ceil = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(maxX - minX, maxZ - minZ)), this.mat("#f1f0ec", { roughness: 1, emissive: "#ebe8e1", emissiveIntensity: 0.55 }));
    ceil.rotation.x = Math.PI / 2;
    ceil.position.set(layout.centerX, theme.wallH, layout.centerZ);
    ceil.userData.noShadow = true;
    group.add(ceil);
    const panel = this.mat("#ffffff", { emissive: "#fffaf0", emissiveIntensity: 1.0 });
    const step = 10;
    for (let x = minX + step / 2; x < maxX; x += step) {
      for (let z = minZ + step / 2; z < maxZ; z += step) {
        const p = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(4, 1.2)), panel);
        p.rotation.x = Math.PI / 2;
        p.position.set(x, theme.wallH - 0.02, z);
        p.userData.noShadow = true;
        group.add(p);
      }
    }
  }

  _walls(group, layout, theme) {
    const { minX, maxX, minZ, maxZ } = layout.bounds;
    const h = theme.wallH;
    const wallMat = this.mat(theme.wall, { roughness: 0.9 });
    const trimMat = this.mat(theme.trim, { roughness: 0.6 });
    const windowMat = this.mat(theme.window, { emissive: theme.window, emissiveIntensity: 0.55, roughness: 0.2 });
    const pillarMat = this.mat("#ffffff", { roughness: 0.6 });
    // [centre x, centre z, length, yaw facing into the room]
    const sides = [
      [(minX + maxX) / 2, minZ, maxX - minX, 0],
      [(minX + maxX) / 2, maxZ, maxX - minX, Math.PI],
      [minX, (minZ + maxZ) / 2, maxZ - minZ, Math.PI / 2],
      [maxX, (minZ + maxZ) / 2, maxZ - minZ, -Math.PI / 2],
    ];
    for (const [cx, cz, len, yaw] of sides) {
      const side = new THREE.Group();
      side.position.set(cx, 0, cz);
      side.rotation.y = yaw;
      // Inward-facing planes only: from outside (a camera behind the wall) they are invisible.
      const wall = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(len, h)), wallMat);
      wall.position.y = h / 2;
      const skirting = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(len, 1.0)), trimMat);
      skirting.position.set(0, 0.5, 0.02);
      side.add(wall, skirting);
      const n = Math.max(1, Math.floor(len / 12));
      for (let i = 0; i < n; i += 1) {
        const x = -len / 2 + (i + 0.5) * (len / n);
        const win = new THREE.Mesh(this._geo(new THREE.PlaneGeometry(Math.min(7, len / n - 2.5), h * 0.45)), windowMat);
        win.position.set(x, h * 0.58, 0.03);
        win.userData.noShadow = true;
        side.add(win);
        const pillar = this.box(0.9, h, 0.5, pillarMat, x - len / n / 2, h / 2, 0.25);
        if (i > 0) side.add(pillar);
      }
      group.add(side);
    }
  }

  _hedge(group, layout) {
    const { minX, maxX, minZ, maxZ } = layout.bounds;
    const m = this.mat("#4f7f3f", { roughness: 1, flatShading: true });
    const h = 1.0;
    const t = 0.8;
    group.add(
      this.box(maxX - minX + t, h, t, m, (minX + maxX) / 2, h / 2, minZ - t / 2),
      this.box(maxX - minX + t, h, t, m, (minX + maxX) / 2, h / 2, maxZ + t / 2),
      this.box(t, h, maxZ - minZ, m, minX - t / 2, h / 2, (minZ + maxZ) / 2),
      this.box(t, h, maxZ - minZ, m, maxX + t / 2, h / 2, (minZ + maxZ) / 2),
    );
  }

  // -- features ---------------------------------------------------------------------------
  _counter(f) {
    const g = new THREE.Group();
    const { w, h, d } = f;
    const accent = f.color ?? "#2f6f9f";
    g.add(this.box(w, h, d, this.mat("#f8f6f1", { roughness: 0.5 }), 0, h / 2, 0));
    g.add(this.box(w * 0.98, 0.2, 0.03, this.mat(accent, { roughness: 0.4 }), 0, h * 0.78, d / 2 + 0.015));
    g.add(this.box(w + 0.1, 0.06, d + 0.1, this.mat("#b58a60", { roughness: 0.45 }), 0, h + 0.03, 0));
    const glass = new THREE.Mesh(
      this._geo(new THREE.PlaneGeometry(w * 0.92, 0.6)),
      this.mat("#bfe0f5", { transparent: true, opacity: 0.28, roughness: 0.05, side: THREE.DoubleSide, depthWrite: false }),
    );
    glass.position.set(0, h + 0.36, -0.05);
    glass.userData.noShadow = true;
    g.add(glass);
    // Staff side: a monitor and a chair per seat.
    const seats = Math.max(1, Math.round(w / 3));
    for (let i = 0; i < seats; i += 1) {
      const x = -w / 2 + (i + 0.5) * (w / seats);
      g.add(this.box(0.55, 0.36, 0.04, this.mat("#22272e"), x, h + 0.26, -d * 0.2));
      g.add(this.box(0.5, 0.08, 0.5, this.mat("#39424e"), x, 0.5, -d / 2 - 0.55));
      g.add(this.box(0.5, 0.55, 0.07, this.mat("#39424e"), x, 0.8, -d / 2 - 0.82));
    }
    if (f.label) {
      const plate = this.labelPlane(f.label, Math.min(w * 0.45, 2.2), 0.42, { bg: accent, bg2: shade(accent, -0.25) });
      plate.position.set(0, h * 0.42, d / 2 + 0.02);
      g.add(plate);
    }
    return g;
  }

  _sign(f) {
    const g = new THREE.Group();
    const ph = clamp(f.w * 0.3, 0.6, 2.2);
    const top = Math.max(f.h, ph + 0.2);
    const bottom = top - ph;
    const t = clamp(f.d, 0.08, 0.25);
    const numeric = /^[\s\dA-Za-z-]{1,4}$/.test(f.label?.en ?? "") && (f.label?.en === f.label?.["zh-CN"]);
    g.add(this.box(f.w + 0.12, ph + 0.12, t, this.mat("#2a2f36", { roughness: 0.4, metalness: 0.3 }), 0, bottom + ph / 2, 0));
    if (f.label) {
      const style = numeric
        ? { bg: "#1b2129", bg2: "#10151b", fg: "#ffb640", accent: "#2f6f9f" }
        : f.color ? { bg: f.color, bg2: shade(f.color, -0.25) } : {};
      const face = this.labelPlane(f.label, f.w, ph, style, true);
      face.position.set(0, bottom + ph / 2, 0);
      face.children[0].position.z = t / 2 + 0.005;
      if (face.children[1]) face.children[1].position.z = -t / 2 - 0.005;
      g.add(face);
    }
    const metal = this.mat("#8d96a0", { roughness: 0.35, metalness: 0.6 });
    if (bottom < 2.3) {
      for (const sx of [-1, 1]) g.add(this.cyl(0.05, bottom, metal, sx * f.w * 0.38, bottom / 2, 0));
      g.add(this.box(f.w * 0.9, 0.06, Math.max(0.4, t * 2), metal, 0, 0.03, 0));
    } else {
      for (const sx of [-1, 1]) g.add(this.cyl(0.015, 4, metal, sx * f.w * 0.4, top + 2, 0));
    }
    return g;
  }

  cyl(r, h, material, x = 0, y = 0, z = 0) {
    const mesh = new THREE.Mesh(this._geo(new THREE.CylinderGeometry(r, r, h, 12)), material);
    mesh.position.set(x, y, z);
    return mesh;
  }

  _desk(f) {
    const g = new THREE.Group();
    const { w, h, d } = f;
    const accent = f.color ?? "#c8843a";
    // A rounded front: a half-cylinder skirt in the accent colour around a box core.
    g.add(this.box(w - d, h, d, this.mat("#faf8f4", { roughness: 0.5 }), 0, h / 2, 0));
    for (const sx of [-1, 1]) {
      const cap = new THREE.Mesh(this._geo(new THREE.CylinderGeometry(d / 2, d / 2, h, 24)), this.mat("#faf8f4", { roughness: 0.5 }));
      cap.position.set(sx * (w - d) / 2, h / 2, 0);
      g.add(cap);
    }
    g.add(this.box(w - d, h * 0.55, 0.04, this.mat(accent, { roughness: 0.4 }), 0, h * 0.42, d / 2 + 0.02));
    g.add(this.box(w + 0.05, 0.06, d + 0.08, this.mat("#b58a60", { roughness: 0.4 }), 0, h + 0.03, 0));
    if (f.label) {
      const sw = Math.min(w * 0.8, 5);
      const sh = Math.min(1.0, sw * 0.25);
      const sign = this.labelPlane(f.label, sw, sh, { bg: accent, bg2: shade(accent, -0.2) }, true);
      sign.position.set(0, h + 1.5, 0);
      g.add(sign);
      const metal = this.mat("#8d96a0", { roughness: 0.35, metalness: 0.6 });
      g.add(this.cyl(0.04, 1.5 - sh / 2, metal, 0, h + (1.5 - sh / 2) / 2, 0));
      // The information roundel.
      const icon = this.labelPlane({ en: "i" }, 0.6, 0.6, { bg: "#ffffff", bg2: "#eef2f6", fg: accent, accent }, true);
      icon.position.set(sw / 2 + 0.5, h + 1.5, 0);
      g.add(icon);
    }
    return g;
  }

  _booth(f) {
    const g = new THREE.Group();
    const { w, d } = f;
    const h = Math.max(2.2, f.h);
    const color = f.color ?? "#5bc0de";
    const t = BOOTH_WALL_THICKNESS;
    const carpet = this.box(w, 0.03, d, this.mat(shade(color, 0.55), { roughness: 1 }), 0, 0.015, 0);
    carpet.userData.noShadow = false;
    g.add(carpet);
    g.add(this.box(w, h, t, this.mat("#f7f7f5", { roughness: 0.8 }), 0, h / 2, -d / 2 + t / 2));
    g.add(this.box(t, h * 0.85, d / 2, this.mat(color, { roughness: 0.6 }), -w / 2 + t / 2, h * 0.425, -d / 4));
    // Header with the exhibitor's name, and a screen.
    if (f.label) {
      const header = this.labelPlane(f.label, w, 0.7, { bg: color, bg2: shade(color, -0.2) });
      header.position.set(0, h - 0.35, -d / 2 + t + 0.01);
      g.add(header);
    }
    const sw = Math.min(2.4, w * 0.35);
    const screen = this.box(sw, sw * 0.5625, 0.05, this.mat("#1c2a3a", { emissive: "#3d6e9e", emissiveIntensity: 0.6, roughness: 0.2 }), w * 0.12, h * 0.55, -d / 2 + t + 0.03);
    g.add(screen);
    const k = boothKiosk(f);
    g.add(this.box(k.w, k.h, k.d, this.mat("#fbfbfb", { roughness: 0.5 }), k.x, k.h / 2, k.z));
    g.add(this.box(k.w + 0.04, 0.05, k.d + 0.04, this.mat(color, { roughness: 0.4 }), k.x, k.h + 0.025, k.z));
    // A poster stand at the front corner.
    g.add(this.box(0.6, 1.6, 0.05, this.mat(shade(color, -0.15), { roughness: 0.6 }), -w / 2 + 0.8, 0.8, d / 2 - 0.6));
    return g;
  }

  _stage(f) {
    const g = new THREE.Group();
    const { w, h, d } = f;
    const color = f.color ?? "#3a3f6b";
    g.add(this.box(w, h, d, this.mat(color, { roughness: 0.7 }), 0, h / 2, 0));
    g.add(this.box(w, 0.03, d, this.mat("#6b4f3a", { roughness: 0.5 }), 0, h + 0.015, 0));
    g.add(this.box(w, 0.05, 0.03, this.mat("#8fd3ff", { emissive: "#8fd3ff", emissiveIntensity: 1.2 }), 0, h - 0.06, d / 2 + 0.016));
    const bh = Math.min(6, w * 0.25);
    g.add(this.box(w * 0.92, bh + 0.2, 0.3, this.mat("#1d2030", { roughness: 0.6 }), 0, h + bh / 2 + 0.1, -d / 2 + 0.4));
    if (f.label) {
      const back = this.labelPlane(f.label, w * 0.88, bh, { bg: shade(color, 0.1), bg2: shade(color, -0.35), accent: "#8fd3ff" });
      back.position.set(0, h + bh / 2 + 0.1, -d / 2 + 0.56);
      g.add(back);
    }
    // A lectern and a lighting truss.
    g.add(this.box(0.7, 1.15, 0.5, this.mat("#f2f2f2", { roughness: 0.4 }), w * 0.28, h + 0.575, 0));
    const truss = this.mat("#2b2e36", { roughness: 0.5, metalness: 0.5 });
    g.add(this.box(w, 0.3, 0.3, truss, 0, h + bh + 1.4, d * 0.1));
    for (const sx of [-1, 1]) g.add(this.box(0.3, h + bh + 1.4, 0.3, truss, sx * w / 2, (h + bh + 1.4) / 2, d * 0.1));
    return g;
  }

  _wall(f, theme) {
    return this.box(f.w, f.h, f.d, this.mat(f.color ?? theme.wall, { roughness: 0.9 }), 0, f.h / 2, 0);
  }

  _plant(f) {
    const g = new THREE.Group();
    const s = Math.min(f.w, f.d);
    const potH = Math.min(0.7, f.h * 0.3);
    const pot = new THREE.Mesh(this._geo(new THREE.CylinderGeometry(s * 0.32, s * 0.24, potH, 20)), this.mat("#f1ede6", { roughness: 0.4 }));
    pot.position.y = potH / 2;
    g.add(pot);
    const leaves = [this.mat("#4f8a3c", { flatShading: true, roughness: 0.9 }), this.mat("#66a34c", { flatShading: true, roughness: 0.9 })];
    const crown = f.h - potH;
    const blobs = [[0, 0.55, 0, 0.5], [0.22, 0.75, 0.1, 0.38], [-0.2, 0.85, -0.12, 0.34], [0.05, 1.0, -0.05, 0.3]];
    blobs.forEach(([x, y, z, r], i) => {
      const m = new THREE.Mesh(this._geo(new THREE.IcosahedronGeometry(r * s, 1)), leaves[i % 2]);
      m.position.set(x * s, potH + y * crown * 0.85, z * s);
      g.add(m);
    });
    return g;
  }

  /** All chairs of all seating areas as one instanced mesh (coloured per area). */
  _chairs(features) {
    const seat = new THREE.BoxGeometry(0.5, 0.08, 0.46).translate(0, 0.45, 0.02);
    const back = new THREE.BoxGeometry(0.5, 0.5, 0.06).translate(0, 0.74, -0.2);
    const leg = new THREE.BoxGeometry(0.06, 0.45, 0.4).translate(0, 0.225, 0);
    const geo = this._geo(mergeGeometries([seat, back, leg]));
    seat.dispose(); back.dispose(); leg.dispose();
    const items = [];
    for (const f of features) {
      for (const [lz, w] of benchRows(f)) {
        const n = Math.max(1, Math.floor(w / CHAIR_PITCH));
        for (let i = 0; i < n; i += 1) items.push([f, -w / 2 + (i + 0.5) * (w / n), lz]);
      }
    }
    const mesh = new THREE.InstancedMesh(geo, this.mat("#ffffff", { roughness: 0.6 }), items.length);
    const m = new THREE.Matrix4();
    const q = new THREE.Quaternion();
    const p = new THREE.Vector3();
    const one = new THREE.Vector3(1, 1, 1);
    const up = new THREE.Vector3(0, 1, 0);
    const color = new THREE.Color();
    items.forEach(([f, lx, lz], i) => {
      const c = Math.cos(f.yaw);
      const s = Math.sin(f.yaw);
      p.set(f.x + lx * c + lz * s, 0, f.z - lx * s + lz * c);
      q.setFromAxisAngle(up, f.yaw);
      mesh.setMatrixAt(i, m.compose(p, q, one));
      mesh.setColorAt(i, color.set(f.color ?? "#5b7c99"));
    });
    mesh.userData.benchDepth = BENCH_DEPTH_M;
    mesh.name = "chairs";
    return mesh;
  }
}

function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v));
}

/** Lighter (amount > 0, towards white) or darker (< 0, towards black) version of a colour. */
export function shade(hex, amount) {
  const c = new THREE.Color(hex);
  const target = amount > 0 ? new THREE.Color("#ffffff") : new THREE.Color("#000000");
  return `#${c.lerp(target, Math.abs(amount)).getHexString()}`;
}
