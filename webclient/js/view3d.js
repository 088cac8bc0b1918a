// The 3D view: three.js renderer, lights, the room, the crowd and a third-person camera.
//
// View interface (shared with View2D):
//   setLayout(layout)                      build the room
//   render(frame)                          frame = {world, self, nowMs, dt, target}
//   pick(clientX, clientY) → {x, z}|null   floor point under the pointer (click-to-walk)
//   cameraYaw, turn(dYaw), zoom(factor)    camera control
//   resize(), dispose()

import * as THREE from "three";
import { AvatarCrowd } from "./scene/avatar-crowd.js";
import { RoomBuilder } from "./scene/room-builder.js";

/** Whether this browser can give us a WebGL context at all. */
export function webglAvailable() {
  return probeWebGL().available;
}

let probed = null;

/** {available, software, renderer}: software = a CPU rasterizer (SwiftShader, llvmpipe…), i.e. a slow device. */
export function probeWebGL() {
  if (probed) return probed;
  probed = { available: false, software: false, renderer: "" };
  try {
    const c = document.createElement("canvas");
    const gl = c.getContext("webgl2") || c.getContext("webgl");
    if (gl) {
      const ext = gl.getExtension("WEBGL_debug_renderer_info");
      const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? "");
      probed = { available: true, software: /swiftshader|llvmpipe|software|softpipe/i.test(renderer), renderer };
      gl.getExtension("WEBGL_lose_context")?.loseContext();
    }
  } catch {
    /* no WebGL */
  }
  return probed;
}

const PITCH = 0.4; // camera elevation, radians
const FOCUS_Y = 1.6;
const SHADOW_SPAN = 36; // metres covered by the shadow map around the player
/** Quality levels, best first; the view steps down while the frame rate is poor. */
const QUALITY = [
  { name: "high", pixelRatio: 2, shadows: true },
  { name: "medium", pixelRatio: 1, shadows: false },
  { name: "low", pixelRatio: 0.5, shadows: false },
];
const ADAPT_WINDOW_MS = 2000;
const MIN_FPS = 24;

export class View3D {
  /**
   * @param {HTMLElement} container
   * @param {object} [opts]
   * @param {"auto"|"high"|"medium"|"low"} [opts.quality] "auto" starts high and steps down while slow
   * @param {number} [opts.maxTags] name tags for the nearest N avatars
   */
  constructor(container, { quality = "auto", maxTags = 20 } = {}) {
    this.kind = "3d";
    this.container = container;
    this.adaptive = quality === "auto";
    // A software rasterizer can't afford MSAA, shadows or a full pixel ratio: start low there.
    const start = this.adaptive ? (probeWebGL().software ? "low" : "high") : quality;
    this.qualityLevel = Math.max(0, QUALITY.findIndex((q) => q.name === start));
    const shadows = QUALITY[this.qualityLevel].shadows;
    // MSAA is fixed when the context is made: only at the top level.
    this.renderer = new THREE.WebGLRenderer({ antialias: this.qualityLevel === 0, powerPreference: "high-performance" });
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.renderer.toneMapping = THREE.NeutralToneMapping;
    this.renderer.toneMappingExposure = 1.0;
    this.renderer.shadowMap.enabled = shadows;
    this.renderer.shadowMap.type = THREE.PCFSoftShadowMap;
    this.renderer.shadowMap.autoUpdate = false; // only the room casts shadows; re-render when the light moves
    this.canvas = this.renderer.domElement;
    this.canvas.className = "view-canvas";
    this.canvas.setAttribute("aria-hidden", "true");
    container.appendChild(this.canvas);

    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(55, 1, 0.1, 400);
    this.hemi = new THREE.HemisphereLight("#fbfcff", "#b5a58c", 1.25);
    this.sun = new THREE.DirectionalLight("#fff0d8", 2.1);
    this.sun.castShadow = true;
    this.sun.shadow.mapSize.set(2048, 2048);
    Object.assign(this.sun.shadow.camera, { left: -SHADOW_SPAN, right: SHADOW_SPAN, top: SHADOW_SPAN, bottom: -SHADOW_SPAN, near: 1, far: 120 });
    this.sun.shadow.bias = -0.0004;
    this.sun.shadow.normalBias = 0.03;
    this.scene.add(this.hemi, this.sun, this.sun.target);

    this.builder = new RoomBuilder(this.renderer);
    this.room = null;
    this.layout = null;
    this.crowd = new AvatarCrowd(this.scene, this.renderer, { maxTags });

    this.marker = new THREE.Mesh(
      new THREE.RingGeometry(0.25, 0.38, 40).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: "#2f6f9f", transparent: true, opacity: 0.85, depthWrite: false }),
    );
    this.marker.visible = false;
    this.scene.add(this.marker);

    this.cameraYaw = Math.PI; // looking towards −z
    this.distance = 10;
    this._focus = new THREE.Vector3();
    this._camPos = null;
    this._raycaster = new THREE.Raycaster();
    this._floorPlane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
    this._ndc = new THREE.Vector2();
    this._hit = new THREE.Vector3();
    this._shadowAt = null;
    this._adapt = { since: 0, frames: 0 };

    this._resizeObserver = new ResizeObserver(() => this.resize());
    this._resizeObserver.observe(container);
    this.resize();

    // A guidance path on the floor (e.g. to the counter a queue ticket was called to):
    // CustomEvent "metahall:path" {path: [[x, z], ...]|null} on document.
    this.pathMesh = null;
    this.pathPoints = 0;
    this._onPath = (e) => this.setPath(e.detail?.path ?? null);
    document.addEventListener("metahall:path", this._onPath);
    document.dispatchEvent(new CustomEvent("metahall:path-request"));
  }

  /** Tells features that add to the scene (the stage screen) that this view's room is built. */
  _announce(view) {
    document.dispatchEvent(new CustomEvent("metahall:view3d", { detail: { view } }));
  }

  /** Draws `points` ([[x, z], ...]) as a ribbon on the floor, or removes it (null). */
  setPath(points) {
    if (this.pathMesh) {
      this.scene.remove(this.pathMesh);
      this.pathMesh.geometry.dispose();
      this.pathMesh.material.dispose();
      this.pathMesh = null;
    }
    const pts = Array.isArray(points)
      ? points.filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]))
      : [];
    this.pathPoints = pts.length >= 2 ? pts.length : 0;
    if (pts.length < 2) return;
    const half = 0.22;
    const pos = [];
    const idx = [];
    for (let i = 0; i < pts.length; i += 1) {
      const a = pts[Math.max(0, i - 1)];
      const b = pts[Math.min(pts.length - 1, i + 1)];
      let dx = b[0] - a[0];
      let dz = b[1] - a[1];
      const len = Math.hypot(dx, dz) || 1;
      dx /= len; dz /= len;
      const [x, z] = pts[i];
      pos.push(x - dz * half, 0.035, z + dx * half, x + dz * half, 0.035, z - dx * half);
      if (i > 0) {
        const k = i * 2;
        idx.push(k - 2, k - 1, k, k - 1, k + 1, k);
      }
    }
    const geom = new THREE.BufferGeometry();
    geom.setAttribute("position", new THREE.Float32BufferAttribute(pos, 3));
    geom.setIndex(idx);
    const mat = new THREE.MeshBasicMaterial({
      color: "#f2a900", transparent: true, opacity: 0.85, depthWrite: false, side: THREE.DoubleSide,
    });
    this.pathMesh = new THREE.Mesh(geom, mat);
    this.pathMesh.renderOrder = 2;
    this.scene.add(this.pathMesh);
  }

  setLayout(layout) {
    if (this.room) {
      this.scene.remove(this.room);
      this.builder.dispose();
    }
    this.layout = layout;
    const { group, theme } = this.builder.build(layout);
    this.room = group;
    this.scene.add(group);
    this.scene.background = new THREE.Color(theme.sky);
    this.scene.fog = new THREE.Fog(theme.sky, 45, 170);
    // Start looking into the room from where people arrive.
    const dx = layout.centerX - layout.spawn.x;
    const dz = layout.centerZ - layout.spawn.z;
    this.cameraYaw = Math.hypot(dx, dz) > 2 ? Math.atan2(dx, dz) : Math.PI;
    this._camPos = null;
    this._shadowAt = null;
    this._announce(this); // stage screen (js/panels/stage-screen.js)
  }

  turn(dYaw) { this.cameraYaw += dYaw; }

  zoom(factor) { this.distance = Math.min(26, Math.max(3.5, this.distance * factor)); }

  get quality() { return QUALITY[this.qualityLevel].name; }

  /** Applies a quality level (pixel ratio, shadows). */
  setQuality(level) {
    this.qualityLevel = Math.max(0, Math.min(QUALITY.length - 1, level));
    const q = QUALITY[this.qualityLevel];
    this.renderer.shadowMap.enabled = q.shadows;
    this._shadowAt = null;
    // Materials compile differently with and without shadows.
    this.scene.traverse((o) => { if (o.material) o.material.needsUpdate = true; });
    this.resize();
  }

  resize() {
    const q = QUALITY[this.qualityLevel];
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, q.pixelRatio));
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** @param {{world: import("./world-state.js").WorldState, self: object|null, nowMs: number, dt: number, target: {x:number,z:number}|null}} frame */
  render({ world, self, nowMs, dt, target }) {
    this._updateCamera(self, dt);
    this.crowd.update(world.entities.values(), self, nowMs, this.camera);
    this._updateShadows();
    if (this.pathMesh) this.pathMesh.material.opacity = 0.6 + 0.3 * Math.sin(nowMs * 0.005);
    this.marker.visible = Boolean(target);
    if (target) {
      this.marker.position.set(target.x, 0.03, target.z);
      const k = 1 + 0.15 * Math.sin(nowMs * 0.008);
      this.marker.scale.set(k, 1, k);
    }
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.renderMs = performance.now() - t0;
    this._adaptQuality(nowMs);
  }

  /** Steps the quality down (never up, to avoid flip-flopping) while frames are slow. */
  _adaptQuality(nowMs) {
    if (!this.adaptive || this.qualityLevel >= QUALITY.length - 1) return;
    const a = this._adapt;
    if (!a.since) { a.since = nowMs; a.frames = 0; return; }
    a.frames += 1;
    const span = nowMs - a.since;
    if (span < ADAPT_WINDOW_MS) return;
    const fps = (a.frames * 1000) / span;
    a.since = nowMs;
    a.frames = 0;
    if (fps < MIN_FPS) this.setQuality(this.qualityLevel + 1);
  }

  pick(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    this._ndc.set(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this._raycaster.setFromCamera(this._ndc, this.camera);
    if (!this._raycaster.ray.intersectPlane(this._floorPlane, this._hit)) return null;
    const b = this.layout?.bounds;
    if (b && (this._hit.x < b.minX || this._hit.x > b.maxX || this._hit.z < b.minZ || this._hit.z > b.maxZ)) return null;
    return { x: this._hit.x, z: this._hit.z };
  }

  /** Some numbers for the debug hook. */
  stats() {
    const info = this.renderer.info;
    return {
      calls: info.render.calls, triangles: info.render.triangles, instances: this.crowd.count,
      tags: this.crowd.taggedEids().length, quality: this.quality, path: this.pathPoints,
    };
  }

  dispose() {
    this._resizeObserver.disconnect();
    document.removeEventListener("metahall:path", this._onPath);
    this._announce(null); // stage screen
    this.setPath(null);
    if (this.room) this.scene.remove(this.room);
    this.builder.dispose();
    this.crowd.dispose();
    this.renderer.dispose();
    this.canvas.remove();
  }

  _updateCamera(self, dt) {
    const fx = self ? self.x : this.layout?.spawn.x ?? 0;
    const fz = self ? self.z : this.layout?.spawn.z ?? 0;
    this._focus.set(fx, FOCUS_Y, fz);
    const horiz = this.distance * Math.cos(PITCH);
    let cx = fx - Math.sin(this.cameraYaw) * horiz;
    let cz = fz - Math.cos(this.cameraYaw) * horiz;
    const cy = FOCUS_Y + this.distance * Math.sin(PITCH);
    const b = this.layout?.bounds;
    if (b) {
      // Keep the camera inside the room (or just outside a lawn's hedge).
      cx = Math.min(b.maxX - 0.5, Math.max(b.minX + 0.5, cx));
      cz = Math.min(b.maxZ - 0.5, Math.max(b.minZ + 0.5, cz));
    }
    if (!this._camPos) this._camPos = new THREE.Vector3(cx, cy, cz);
    const k = 1 - Math.exp(-dt * 10);
    this._camPos.x += (cx - this._camPos.x) * k;
    this._camPos.y += (cy - this._camPos.y) * k;
    this._camPos.z += (cz - this._camPos.z) * k;
    this.camera.position.copy(this._camPos);
    this.camera.lookAt(this._focus);
  }

  _updateShadows() {
    if (!this.renderer.shadowMap.enabled) return;
    // Move the light with the player in coarse steps, re-rendering the shadow map only then.
    const step = SHADOW_SPAN / 3;
    const sx = Math.round(this._focus.x / step) * step;
    const sz = Math.round(this._focus.z / step) * step;
    if (this._shadowAt && this._shadowAt[0] === sx && this._shadowAt[1] === sz) return;
    this._shadowAt = [sx, sz];
    this.sun.position.set(sx + 18, 40, sz + 26);
    this.sun.target.position.set(sx, 0, sz);
    this.sun.target.updateMatrixWorld();
    this.renderer.shadowMap.needsUpdate = true;
  }
}
