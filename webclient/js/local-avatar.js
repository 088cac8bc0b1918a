// The player's own avatar: predicted locally from input, corrected by the server.
//
// Movement is relative to the camera: "forward" is the camera's yaw. Yaw 0 faces +z and the
// forward vector of yaw a is (sin a, cos a), as in three.js (rotation.y). Speeds stay below the
// server's clamp (6 m/s) so the server never has to pull us back in normal play.
//
// `move` [x, y, z, yaw, anim] goes out at most `sendHz` times a second while moving (volatile),
// plus one last message with anim 0 when we stop (reliable), and nothing while idle.

export const WALK_SPEED = 3.2;
export const RUN_SPEED = 5.4;
const TURN_RATE = 10; // rad/s towards the walking direction
const ARRIVE_DIST = 0.25;
const MAX_SUBSTEP_S = 0.05;

export class LocalAvatar {
  /**
   * @param {object} deps
   * @param {(type: string, payload: unknown, opts: {volatile: boolean}) => void} deps.send
   * @param {number} [deps.sendHz]
   */
  constructor({ send, sendHz = 15 }) {
    this.send = send;
    this.sendIntervalMs = 1000 / sendHz;
    this.eid = null;
    this.x = 0; this.y = 0; this.z = 0; this.yaw = 0; this.anim = 0;
    this.layout = null;
    /** @type {{x:number, z:number, label?:string}|null} click-to-walk / walk-to-place target */
    this.target = null;
    this._lastSentAt = -Infinity;
    this._dirty = false;
    this._sentIdle = true;
    this._stuckMs = 0;
    this.movesSent = 0;
    this.corrections = 0;
  }

  /** Place the avatar (join ack spawn). */
  spawn(eid, [x = 0, y = 0, z = 0, yaw = 0], layout) {
    this.eid = eid;
    this.layout = layout;
    this.x = x; this.y = y; this.z = z; this.yaw = yaw; this.anim = 0;
    this.target = null;
    this._sentIdle = true;
  }

  /** The server clamped us: take its word (and keep walking to the target, if any). */
  correct(sample) {
    this.corrections += 1;
    this.x = sample.x; this.y = sample.y; this.z = sample.z;
    this._stuckMs = 0;
  }

  walkTo(x, z, label) {
    this.target = { x, z, label };
    this._stuckMs = 0;
  }

  cancelWalk() { this.target = null; }

  /**
   * Advances by dt seconds.
   * @param {number} dt seconds
   * @param {{x:number, z:number, run:boolean}} intent keyboard direction in camera space (x right, z forward)
   * @param {number} cameraYaw
   * @param {number} nowMs
   */
  step(dt, intent, cameraYaw, nowMs) {
    // Slow devices get long frames: move in short sub-steps so collisions stay exact.
    const steps = Math.max(1, Math.ceil(dt / MAX_SUBSTEP_S));
    for (let i = 0; i < steps; i += 1) this._advance(dt / steps, intent, cameraYaw);
    this._maybeSend(nowMs);
  }

  _advance(dt, intent, cameraYaw) {
    let dirX = 0;
    let dirZ = 0;
    let speed = intent.run ? RUN_SPEED : WALK_SPEED;
    if (intent.x !== 0 || intent.z !== 0) {
      this.target = null; // keys override click-to-walk
      const fx = Math.sin(cameraYaw);
      const fz = Math.cos(cameraYaw);
      // Right of forward (fx, fz) is (-fz, fx).
      dirX = fx * intent.z - fz * intent.x;
      dirZ = fz * intent.z + fx * intent.x;
    } else if (this.target) {
      dirX = this.target.x - this.x;
      dirZ = this.target.z - this.z;
      const dist = Math.hypot(dirX, dirZ);
      if (dist < ARRIVE_DIST) {
        this.target = null;
        dirX = dirZ = 0;
      } else {
        speed = Math.min(dist > 12 ? RUN_SPEED : WALK_SPEED, dist * 4 + 0.5);
      }
    }
    const len = Math.hypot(dirX, dirZ);
    const moving = len > 1e-6;
    if (moving) {
      dirX /= len; dirZ /= len;
      const px = this.x;
      const pz = this.z;
      let nx = px + dirX * speed * dt;
      let nz = pz + dirZ * speed * dt;
      if (this.layout) ({ x: nx, z: nz } = this.layout.resolve(nx, nz));
      const progressed = Math.hypot(nx - px, nz - pz);
      this.x = nx; this.z = nz;
      // Stop walking to a target we can't reach (blocked by an obstacle).
      if (this.target) {
        this._stuckMs = progressed < speed * dt * 0.2 ? this._stuckMs + dt * 1000 : 0;
        if (this._stuckMs > 600) this.target = null;
      }
      this.yaw = turnTowards(this.yaw, Math.atan2(dirX, dirZ), TURN_RATE * dt);
      this.anim = 1;
      this._dirty = true;
    } else {
      if (this.anim !== 0) this._dirty = true;
      this.anim = 0;
    }
  }

  _maybeSend(nowMs) {
    if (this.eid === null || !this._dirty) return;
    const stopping = this.anim === 0;
    if (!stopping && nowMs - this._lastSentAt < this.sendIntervalMs) return;
    if (stopping && this._sentIdle) { this._dirty = false; return; }
    // Walking moves may be dropped under pressure (the next one follows); the stop must arrive.
    this.send("move", [round2(this.x), round2(this.y), round2(this.z), round3(positiveAngle(this.yaw)), this.anim], { volatile: !stopping });
    this.movesSent += 1;
    this._lastSentAt = nowMs;
    this._dirty = false;
    this._sentIdle = stopping;
  }
}

function turnTowards(from, to, maxStep) {
  let d = (to - from) % (Math.PI * 2);
  if (d > Math.PI) d -= Math.PI * 2;
  else if (d < -Math.PI) d += Math.PI * 2;
  const step = Math.max(-maxStep, Math.min(maxStep, d));
  let r = from + step;
  if (r > Math.PI) r -= Math.PI * 2;
  else if (r < -Math.PI) r += Math.PI * 2;
  return r;
}

const positiveAngle = (a) => ((a % (Math.PI * 2)) + Math.PI * 2) % (Math.PI * 2);
const round2 = (v) => Math.round(v * 100) / 100;
const round3 = (v) => Math.round(v * 1000) / 1000;
