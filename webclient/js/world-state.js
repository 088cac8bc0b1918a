// What the client knows about the other avatars, and where to draw them.
//
// Snapshots arrive ~10 times a second holding only the entities that changed. Each entity keeps
// a short buffer of timed samples; the view is drawn `delayMs` (≈100 ms) behind the newest
// server time, interpolating between the two samples around that moment. When a sample is late
// we extrapolate from the last velocity for at most `maxExtrapolateMs`, then hold.
// Timestamps come from the server tick (tick × tick interval), mapped to the local clock by a
// slowly adapting offset, so network jitter does not become visual jitter.
//
// The local player's own entity is not interpolated: it appears in a snap only when the server
// corrected (clamped) it, and applySnap() returns that correction.

const TAU = Math.PI * 2;
const YAW_SCALE = TAU / 65536;
const MAX_SAMPLES = 12;
const CLOCK_SLEW = 0.05;

/** @typedef {{t: number, x: number, y: number, z: number, yaw: number, anim: number}} Sample */

export class Entity {
  constructor(eid) {
    this.eid = eid;
    this.userId = null;
    this.name = "";
    this.color = "#7f8c8d";
    this.model = "capsule";
    this.roles = [];
    /** @type {Sample[]} */
    this.samples = [];
    // Rendered state (written by WorldState.update):
    this.x = 0; this.y = 0; this.z = 0; this.yaw = 0; this.anim = 0;
    this.visible = false;
    /** @type {Sample|null} the sample before samples[0], for extrapolation */
    this._prev = null;
  }
}

export class WorldState {
  constructor({ delayMs = 100, maxExtrapolateMs = 200 } = {}) {
    this.delayMs = delayMs;
    this.maxExtrapolateMs = maxExtrapolateMs;
    /** @type {Map<number, Entity>} */
    this.entities = new Map();
    this.selfEid = null;
    this.tickMs = 100;
    this.lastTick = -1;
    this.version = 0; // bumped when entities come or go or change name/colour
    this.snaps = 0;
    this._offset = null; // local ms − server tick ms, tracking the fastest recent arrivals
    this._jitter = 0;
    this._renderServerTime = 0;
    this._lastUpdate = null;
  }

  /** Forget everything (after a (re)join). */
  reset({ selfEid = null, tickHz = 10 } = {}) {
    this.entities.clear();
    this.selfEid = selfEid;
    this.tickMs = 1000 / Math.max(1, tickHz || 10);
    this.lastTick = -1;
    this._offset = null;
    this._jitter = 0;
    this._lastUpdate = null;
    this._renderServerTime = 0;
    this.version += 1;
  }

  /** The interpolation delay in use: ≥ delayMs and ≥ one tick, plus measured jitter. */
  get renderDelayMs() {
    return Math.max(this.delayMs, this.tickMs) + Math.min(2 * this._jitter, 120);
  }

  /** `enter`: [{eid, user_id, display_name, avatar: {model, color}, roles}] */
  applyEnter(list) {
    if (!Array.isArray(list)) return;
    for (const info of list) {
      if (!info || typeof info.eid !== "number") continue;
      const e = this._entity(info.eid);
      e.userId = info.user_id ?? e.userId;
      e.name = typeof info.display_name === "string" ? info.display_name : e.name;
      e.roles = Array.isArray(info.roles) ? info.roles : [];
      const color = info.avatar?.color;
      if (typeof color === "string" && /^#[0-9a-fA-F]{6}$/.test(color)) e.color = color;
      if (typeof info.avatar?.model === "string") e.model = info.avatar.model;
    }
    this.version += 1;
  }

  /**
   * `snap`: [tick, [[eid, x_cm, y_cm, z_cm, yaw_u16, anim], ...], [gone_eid, ...]]
   * @returns {{x:number,y:number,z:number,yaw:number,anim:number}|null} the server's correction of our own avatar
   */
  applySnap(snap, nowMs) {
    if (!Array.isArray(snap) || snap.length < 2) return null;
    const [tick, states, gone] = snap;
    if (typeof tick !== "number") return null;
    this.snaps += 1;
    const serverMs = tick * this.tickMs;
    this._trackClock(nowMs - serverMs);
    this.lastTick = Math.max(this.lastTick, tick);

    let correction = null;
    if (Array.isArray(states)) {
      for (const s of states) {
        if (!Array.isArray(s) || s.length < 5) continue;
        const [eid, xc, yc, zc, yawU16, anim = 0] = s;
        const sample = { t: serverMs, x: xc / 100, y: yc / 100, z: zc / 100, yaw: yawU16 * YAW_SCALE, anim };
        if (eid === this.selfEid) { correction = sample; continue; }
        this._push(this._entity(eid), sample);
      }
    }
    if (Array.isArray(gone)) {
      for (const eid of gone) if (this.entities.delete(eid)) this.version += 1;
    }
    return correction;
  }

  /** Computes every entity's rendered position for local time `nowMs`. */
  update(nowMs) {
    if (this._offset === null) return;
    const target = nowMs - this._offset - this.renderDelayMs;
    const last = this._lastUpdate;
    this._lastUpdate = nowMs;
    if (last === null || Math.abs(target - this._renderServerTime) > 300) {
      this._renderServerTime = target;
    } else {
      // The render clock runs at real speed and is steered towards the target by at most
      // CLOCK_SLEW of real time, so clock corrections never show as avatars speeding up.
      const dt = nowMs - last;
      const next = this._renderServerTime + dt;
      const adjust = Math.max(-dt * CLOCK_SLEW, Math.min(dt * CLOCK_SLEW, target - next));
      this._renderServerTime = next + adjust;
    }
    const t = this._renderServerTime;
    for (const e of this.entities.values()) this._sampleAt(e, t);
  }

  _entity(eid) {
    let e = this.entities.get(eid);
    if (!e) {
      e = new Entity(eid);
      this.entities.set(eid, e);
      this.version += 1;
    }
    return e;
  }

  _push(e, sample) {
    const buf = e.samples;
    const last = buf[buf.length - 1];
    if (last) {
      if (sample.t < last.t) return; // out of order: drop
      if (sample.t === last.t) { buf[buf.length - 1] = sample; return; }
      // The entity was idle (absent from snaps) since `last`: hold it there until one tick
      // before this sample, so it starts moving at the right moment instead of sliding.
      const gap = sample.t - last.t;
      if (gap > 1.5 * this.tickMs && (last.anim === 0 || gap > 1000)) {
        buf.push({ ...last, t: sample.t - this.tickMs, anim: 0 });
      }
    } else {
      // First sample: show it at once.
      e.x = sample.x; e.y = sample.y; e.z = sample.z; e.yaw = sample.yaw; e.anim = sample.anim;
    }
    buf.push(sample);
    if (buf.length > MAX_SAMPLES) buf.splice(0, buf.length - MAX_SAMPLES);
    e.visible = true;
  }

  _sampleAt(e, t) {
    const buf = e.samples;
    if (buf.length === 0) return;
    // Drop samples we are past, remembering the last one for extrapolation.
    let drop = 0;
    while (drop + 1 < buf.length && buf[drop + 1].t <= t) drop += 1;
    if (drop > 0) {
      e._prev = buf[drop - 1];
      buf.splice(0, drop);
    }
    const a = buf[0];
    const b = buf[1];
    if (b) {
      if (t <= a.t) { set(e, a.x, a.y, a.z, a.yaw, a.anim); return; }
      const f = (t - a.t) / (b.t - a.t);
      set(e, a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f, a.z + (b.z - a.z) * f, lerpAngle(a.yaw, b.yaw, f), b.anim);
      return;
    }
    const prev = e._prev;
    if (t > a.t && a.anim !== 0 && prev && a.t > prev.t && a.t - prev.t <= 2.5 * this.tickMs) {
      // The next sample is late: go on along the last velocity, for at most maxExtrapolateMs.
      const k = Math.min(t - a.t, this.maxExtrapolateMs) / (a.t - prev.t);
      const anim = t - a.t > this.maxExtrapolateMs ? 0 : a.anim;
      set(e, a.x + (a.x - prev.x) * k, a.y + (a.y - prev.y) * k, a.z + (a.z - prev.z) * k, a.yaw, anim);
      return;
    }
    set(e, a.x, a.y, a.z, a.yaw, t > a.t + this.maxExtrapolateMs ? 0 : a.anim);
  }

  _trackClock(offset) {
    if (this._offset === null || offset < this._offset) {
      if (this._offset !== null) this._jitter += (this._offset - offset - this._jitter) * 0.05;
      this._offset = offset;
      return;
    }
    const late = offset - this._offset;
    this._jitter += (late - this._jitter) * 0.05;
    // Let the baseline creep up slowly so a lasting latency increase is followed, not jitter.
    this._offset += late * 0.01;
  }
}

function set(e, x, y, z, yaw, anim) {
  e.x = x; e.y = y; e.z = z; e.yaw = yaw; e.anim = anim;
}

function lerpAngle(a, b, f) {
  let d = (b - a) % TAU;
  if (d > Math.PI) d -= TAU;
  else if (d < -Math.PI) d += TAU;
  return a + d * f;
}
