// The floor plan of one room as the server describes it (GET /api/rooms/{id}/layout),
// normalised once, with the bits of geometry the client needs: bounds, solid obstacles
// (for local collision while walking) and the labelled places one can walk to.
//
// Conventions: x to the right, z towards the viewer in the 2D map's default orientation,
// y up; a feature's (x, z) is its centre, w its size along its local x, d along its local z,
// `yaw` turns it about y (radians, like three.js rotation.y). A yaw of 0 faces +z.

const DEFAULT_HEIGHT = { counter: 1.1, sign: 0.9, desk: 1.0, booth: 2.6, stage: 0.6, seating: 0.45, wall: 3.2, plant: 1.6 };
const SOLID = new Set(["counter", "desk", "stage", "wall", "plant"]);
const BENCH_PITCH = 1.4;
const BENCH_DEPTH = 0.55;
const BOOTH_WALL = 0.2;

export class RoomLayout {
  /** @param {object} raw the layout JSON */
  constructor(raw) {
    const b = raw?.bounds ?? {};
    this.id = String(raw?.id ?? "");
    this.kind = String(raw?.kind ?? this.id.split(":")[0] ?? "social");
    this.bounds = {
      minX: num(b.min_x, -20), maxX: num(b.max_x, 20),
      minZ: num(b.min_z, -20), maxZ: num(b.max_z, 20),
    };
    const s = Array.isArray(raw?.spawn) ? raw.spawn : [];
    this.spawn = { x: num(s[0], 0), y: num(s[1], 0), z: num(s[2], 0), yaw: num(s[3], 0) };
    this.features = (Array.isArray(raw?.features) ? raw.features : [])
      .map(normaliseFeature)
      .filter(Boolean);
    this.obstacles = this.features.flatMap(obstaclesOf);
  }

  get width() { return this.bounds.maxX - this.bounds.minX; }
  get depth() { return this.bounds.maxZ - this.bounds.minZ; }
  get centerX() { return (this.bounds.minX + this.bounds.maxX) / 2; }
  get centerZ() { return (this.bounds.minZ + this.bounds.maxZ) / 2; }

  /** Features with a label one may walk to (counters, desks, booths, stage), in plan order. */
  places() {
    return this.features.filter((f) => f.label && f.type !== "wall" && f.type !== "plant");
  }

  /** Where to stand to use a feature: in front of it (its +z side), outside obstacles. */
  approachPoint(f) {
    const front = f.type === "booth" ? 0 : f.d / 2 + 0.9;
    const x = f.x + Math.sin(f.yaw) * front;
    const z = f.z + Math.cos(f.yaw) * front;
    return this.resolve(x, z, 0.35);
  }

  /** Moves a circle of radius r at (x, z) out of every obstacle and inside the bounds. */
  resolve(x, z, r = 0.35) {
    for (let pass = 0; pass < 2; pass += 1) {
      for (const o of this.obstacles) {
        // Into the obstacle's frame.
        const dx = x - o.x;
        const dz = z - o.z;
        const c = Math.cos(o.yaw);
        const s = Math.sin(o.yaw);
        const lx = dx * c - dz * s;
        const lz = dx * s + dz * c;
        const hw = o.w / 2;
        const hd = o.d / 2;
        if (Math.abs(lx) > hw + r || Math.abs(lz) > hd + r) continue;
        const cx = clamp(lx, -hw, hw);
        const cz = clamp(lz, -hd, hd);
        let nx = lx - cx;
        let nz = lz - cz;
        const dist = Math.hypot(nx, nz);
        let px;
        let pz;
        if (dist > 1e-6) {
          if (dist >= r) continue;
          px = cx + (nx / dist) * r;
          pz = cz + (nz / dist) * r;
        } else {
          // Centre inside the box: leave by the nearest side.
          const exits = [[hw - lx, 1, 0], [lx + hw, -1, 0], [hd - lz, 0, 1], [lz + hd, 0, -1]];
          exits.sort((a, b) => a[0] - b[0]);
          [, nx, nz] = exits[0];
          px = nx ? nx * (hw + r) : lx;
          pz = nz ? nz * (hd + r) : lz;
        }
        // Back to the world frame.
        x = o.x + px * c + pz * s;
        z = o.z - px * s + pz * c;
      }
    }
    const { minX, maxX, minZ, maxZ } = this.bounds;
    return { x: clamp(x, minX + r, maxX - r), z: clamp(z, minZ + r, maxZ - r) };
  }
}

function normaliseFeature(f) {
  if (!f || typeof f !== "object" || typeof f.type !== "string") return null;
  const type = f.type;
  return {
    type,
    id: f.id == null ? null : String(f.id),
    label: f.label && typeof f.label === "object" ? f.label : typeof f.label === "string" ? { en: f.label, "zh-CN": f.label } : null,
    x: num(f.x, 0),
    z: num(f.z, 0),
    w: Math.max(0.05, num(f.w, 1)),
    d: Math.max(0.05, num(f.d, 1)),
    h: Math.max(0.05, num(f.h, DEFAULT_HEIGHT[type] ?? 1)),
    yaw: num(f.yaw, 0),
    color: typeof f.color === "string" && /^#[0-9a-fA-F]{6}$/.test(f.color) ? f.color : null,
    number: f.number ?? null,
  };
}

/** The solid boxes of a feature, as {x, z, w, d, yaw} in the world frame. */
function obstaclesOf(f) {
  if (SOLID.has(f.type)) return [{ x: f.x, z: f.z, w: f.w, d: f.d, yaw: f.yaw }];
  const c = Math.cos(f.yaw);
  const s = Math.sin(f.yaw);
  const at = (lx, lz, w, d) => ({ x: f.x + lx * c + lz * s, z: f.z - lx * s + lz * c, w, d, yaw: f.yaw });
  if (f.type === "booth") {
    // Back wall, one side wall and the reception kiosk; the front stays open.
    const k = boothKiosk(f);
    return [
      at(0, -f.d / 2 + BOOTH_WALL / 2, f.w, BOOTH_WALL),
      at(-f.w / 2 + BOOTH_WALL / 2, -f.d / 4, BOOTH_WALL, f.d / 2),
      at(k.x, k.z, k.w, k.d),
    ];
  }
  if (f.type === "seating") return benchRows(f).map(([lz, w]) => at(0, lz, w, BENCH_DEPTH));
  return [];
}

/** The reception kiosk of a booth, in the booth's frame. Shared with the views. */
export function boothKiosk(f) {
  const w = Math.min(1.4, f.w * 0.3);
  return { x: f.w * 0.22, z: f.d * 0.12, w, d: 0.6, h: 1.0 };
}

/** Bench rows of a seating area: [[local z, width], ...]. Shared with the 3D and 2D views. */
export function benchRows(f) {
  const rows = Math.max(1, Math.floor(f.d / BENCH_PITCH));
  const first = -((rows - 1) * BENCH_PITCH) / 2;
  return Array.from({ length: rows }, (_, i) => [first + i * BENCH_PITCH, f.w]);
}

export const BOOTH_WALL_THICKNESS = BOOTH_WALL;
export const BENCH_DEPTH_M = BENCH_DEPTH;

function num(v, fallback) {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}
