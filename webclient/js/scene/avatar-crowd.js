// All avatars as a handful of instanced meshes (one draw call per part, whatever the crowd size),
// plus a small pool of name tag sprites that follow the nearest avatars.

import * as THREE from "three";
import { blobTexture, drawNameTag } from "./textures.js";

export const ROLE_COLORS = { admin: "#e74c3c", moderator: "#f0ad4e", staff: "#3fa7ff", exhibitor: "#5cb85c" };

const BODY_RADIUS = 0.3;
const BODY_LENGTH = 1.0;
const TAG_HEIGHT_M = 0.34;
const TAG_Y = 2.08;
const TAG_REFRESH_MS = 250;
const TAG_FULL_SIZE_M = 14; // beyond this distance tags are scaled up with distance

/** The colour that marks the most important role, or null. */
export function roleColor(roles) {
  for (const r of ["admin", "moderator", "staff", "exhibitor"]) if (roles?.includes(r)) return ROLE_COLORS[r];
  return null;
}

export class AvatarCrowd {
  constructor(scene, renderer, { maxTags = 20 } = {}) {
    this.scene = scene;
    this.renderer = renderer;
    this.maxTags = maxTags;
    this.capacity = 0;
    this.count = 0;

    this.bodyGeo = new THREE.CapsuleGeometry(BODY_RADIUS, BODY_LENGTH, 4, 12).translate(0, BODY_RADIUS + BODY_LENGTH / 2, 0);
    this.visorGeo = new THREE.BoxGeometry(0.34, 0.13, 0.14).translate(0, 1.36, 0.23);
    this.blobGeo = new THREE.PlaneGeometry(1.1, 1.1).rotateX(-Math.PI / 2).translate(0, 0.012, 0);
    this.bodyMat = new THREE.MeshStandardMaterial({ color: "#ffffff", roughness: 0.55, metalness: 0.05 });
    this.visorMat = new THREE.MeshStandardMaterial({ color: "#1c232c", roughness: 0.15, metalness: 0.4 });
    this.blobTex = blobTexture(renderer);
    this.blobMat = new THREE.MeshBasicMaterial({ map: this.blobTex, transparent: true, depthWrite: false });
    this._grow(64);

    // The ring under one's own avatar.
    this.selfRing = new THREE.Mesh(
      new THREE.RingGeometry(0.48, 0.6, 48).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: "#f2c14e", transparent: true, opacity: 0.9, depthWrite: false }),
    );
    this.selfRing.position.y = 0.02;
    this.selfRing.renderOrder = 1;
    scene.add(this.selfRing);

    this.tags = [];
    for (let i = 0; i < maxTags; i += 1) this.tags.push(this._makeTag());
    this._nearest = [];
    this._tagsAt = -Infinity;
    this._m = new THREE.Matrix4();
    this._q = new THREE.Quaternion();
    this._p = new THREE.Vector3();
    this._s = new THREE.Vector3(1, 1, 1);
    this._up = new THREE.Vector3(0, 1, 0);
    this._colors = new Map();
  }

  /**
   * @param {Iterable<object>} others rendered entities ({eid, x, y, z, yaw, anim, color, name, roles, visible})
   * @param {object|null} self {x, y, z, yaw, anim, color, name, roles}
   * @param {number} nowMs
   * @param {THREE.Camera} [camera]
   */
  update(others, self, nowMs, camera = null) {
    let n = 0;
    const frame = (this._frame = (this._frame ?? 0) + 1);
    const list = this._list || (this._list = []);
    list.length = 0;
    if (self) list.push(self);
    for (const e of others) if (e.visible) list.push(e);
    if (list.length > this.capacity) this._grow(Math.max(list.length, this.capacity * 2));
    for (const e of list) {
      e._frame = frame;
      const bob = e.anim ? Math.abs(Math.sin(nowMs * 0.011 + (e.eid ?? 0) * 1.7)) * 0.07 : 0;
      this._p.set(e.x, e.y + bob, e.z);
      this._q.setFromAxisAngle(this._up, e.yaw);
      this._m.compose(this._p, this._q, this._s);
      this.body.setMatrixAt(n, this._m);
      this.visor.setMatrixAt(n, this._m);
      this._p.y = e.y;
      this._m.compose(this._p, this._q, this._s);
      this.blob.setMatrixAt(n, this._m);
      this.body.setColorAt(n, this._color(e.color));
      n += 1;
    }
    this.count = n;
    for (const mesh of [this.body, this.visor, this.blob]) {
      mesh.count = n;
      mesh.instanceMatrix.needsUpdate = true;
    }
    if (this.body.instanceColor) this.body.instanceColor.needsUpdate = true;

    this.selfRing.visible = Boolean(self);
    if (self) {
      this.selfRing.position.x = self.x;
      this.selfRing.position.z = self.z;
      const k = 1 + Math.sin(nowMs * 0.004) * 0.06;
      this.selfRing.scale.set(k, 1, k);
    }
    this._updateTags(list, self, nowMs, camera);
  }

  dispose() {
    for (const m of [this.body, this.visor, this.blob]) { this.scene.remove(m); m.dispose(); }
    for (const g of [this.bodyGeo, this.visorGeo, this.blobGeo]) g.dispose();
    for (const m of [this.bodyMat, this.visorMat, this.blobMat]) m.dispose();
    this.blobTex.dispose();
    this.scene.remove(this.selfRing);
    for (const t of this.tags) { this.scene.remove(t.sprite); t.texture.dispose(); t.sprite.material.dispose(); }
  }

  /** Eids that currently show a name tag (debug / tests). */
  taggedEids() {
    return this.tags.filter((t) => t.sprite.visible).map((t) => t.eid);
  }

  _grow(capacity) {
    const old = [this.body, this.visor, this.blob];
    this.body = new THREE.InstancedMesh(this.bodyGeo, this.bodyMat, capacity);
    this.visor = new THREE.InstancedMesh(this.visorGeo, this.visorMat, capacity);
    this.blob = new THREE.InstancedMesh(this.blobGeo, this.blobMat, capacity);
    this.body.setColorAt(0, new THREE.Color("#ffffff"));
    this.blob.renderOrder = 1;
    for (const m of [this.body, this.visor, this.blob]) {
      m.count = 0;
      m.frustumCulled = false; // instances spread over the whole room
      m.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
      this.scene.add(m);
    }
    for (const m of old) if (m) { this.scene.remove(m); m.dispose(); }
    this.capacity = capacity;
  }

  _color(hex) {
    let c = this._colors.get(hex);
    if (!c) {
      c = new THREE.Color(typeof hex === "string" ? hex : "#7f8c8d");
      this._colors.set(hex, c);
    }
    return c;
  }

  _makeTag() {
    const canvas = document.createElement("canvas");
    canvas.width = 512;
    canvas.height = 96;
    const texture = new THREE.CanvasTexture(canvas);
    texture.colorSpace = THREE.SRGBColorSpace;
    const material = new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false });
    const sprite = new THREE.Sprite(material);
    const baseW = (TAG_HEIGHT_M * canvas.width) / canvas.height;
    sprite.scale.set(baseW, TAG_HEIGHT_M, 1);
    sprite.visible = false;
    sprite.renderOrder = 10;
    this.scene.add(sprite);
    return { sprite, texture, canvas, eid: null, key: "", baseW };
  }

  _updateTags(list, self, nowMs, camera) {
    if (nowMs - this._tagsAt > TAG_REFRESH_MS) {
      this._tagsAt = nowMs;
      // The nearest avatars to us get a tag (us included, first).
      const cx = self?.x ?? 0;
      const cz = self?.z ?? 0;
      const ranked = list.filter((e) => e !== self);
      for (const e of ranked) e._d2 = (e.x - cx) ** 2 + (e.z - cz) ** 2;
      ranked.sort((a, b) => a._d2 - b._d2);
      this._nearest = self ? [self, ...ranked.slice(0, this.maxTags - 1)] : ranked.slice(0, this.maxTags);
    }
    for (let i = 0; i < this.tags.length; i += 1) {
      const tag = this.tags[i];
      const e = this._nearest[i];
      if (!e || e._frame !== this._frame) { tag.sprite.visible = false; tag.eid = null; continue; }
      const isSelf = e === self;
      const key = `${e.name}|${(e.roles ?? []).join(",")}|${isSelf}|${e.talking ? 1 : 0}|${e.emote?.label ?? ""}`; // social: talk, emote
      if (tag.key !== key) {
        drawNameTag(tag.canvas, e.name || "…", { roleColor: roleColor(e.roles), self: isSelf, talking: Boolean(e.talking), badge: e.emote?.label ?? null });
        tag.texture.needsUpdate = true;
        tag.key = key;
      }
      tag.eid = e.eid ?? null;
      tag.sprite.visible = true;
      tag.sprite.position.set(e.x, e.y + TAG_Y, e.z);
      // Far tags grow a little so names stay readable across a big hall.
      const d = camera ? Math.hypot(e.x - camera.position.x, e.z - camera.position.z) : 0;
      const k = Math.max(1, d / TAG_FULL_SIZE_M);
      tag.sprite.scale.set(tag.baseW * k, TAG_HEIGHT_M * k, 1);
    }
  }
}
