// Keyboard and pointer input for the room view.
//
// Keys (only while focus is on the view or the page itself, never while typing):
//   W A S D / arrows  walk (camera-relative), Shift faster
//   Q / E             turn the camera          + / -   zoom
//   Enter → "chat"   M → "toggle-view"   G → "places"   ? → "help"   Esc → "escape" (also in inputs)
// Pointer: a click (not a drag) on the floor walks there; dragging turns the camera; the wheel zooms.

const MOVE_KEYS = {
  KeyW: [0, 1], ArrowUp: [0, 1],
  KeyS: [0, -1], ArrowDown: [0, -1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0],
  KeyD: [1, 0], ArrowRight: [1, 0],
};
const SHORTCUTS = { Enter: "chat", KeyM: "toggle-view", KeyG: "places" };
const TURN_SPEED = 1.8; // rad/s
const CLICK_SLOP_PX = 6;

export class InputController {
  /**
   * @param {object} opts
   * @param {HTMLElement} opts.element the focusable view element
   * @param {(action: string) => void} opts.onAction
   * @param {(clientX: number, clientY: number) => ({x:number, z:number}|null)} opts.pick
   * @param {(x: number, z: number) => void} opts.onWalk
   * @param {(dYaw: number) => void} opts.onTurn
   * @param {(factor: number) => void} opts.onZoom
   */
  constructor({ element, onAction, pick, onWalk, onTurn, onZoom }) {
    this.element = element;
    this.onAction = onAction;
    this.pick = pick;
    this.onWalk = onWalk;
    this.onTurn = onTurn;
    this.onZoom = onZoom;
    this.keys = new Set();
    this.shift = false;
    this.enabled = true;
    this._pointer = null;
    this._listeners = [];

    this._listen(window, "keydown", (e) => this._keydown(e));
    this._listen(window, "keyup", (e) => this._keyup(e));
    this._listen(window, "blur", () => this.keys.clear());
    this._listen(element, "pointerdown", (e) => this._pointerdown(e));
    this._listen(element, "pointermove", (e) => this._pointermove(e));
    this._listen(element, "pointerup", (e) => this._pointerup(e));
    this._listen(element, "pointercancel", () => { this._pointer = null; });
    this._listen(element, "wheel", (e) => {
      e.preventDefault();
      this.onZoom?.(e.deltaY > 0 ? 1.1 : 1 / 1.1);
    }, { passive: false });
  }

  /** Walking direction in camera space: x right, z forward, each −1..1. */
  intent() {
    if (!this.enabled) return { x: 0, z: 0, run: false };
    let x = 0;
    let z = 0;
    for (const code of this.keys) {
      const v = MOVE_KEYS[code];
      if (v) { x += v[0]; z += v[1]; }
    }
    return { x: Math.sign(x), z: Math.sign(z), run: this.shift };
  }

  /** Camera turn for this frame from Q/E. */
  turn(dt) {
    if (!this.enabled) return 0;
    let d = 0;
    if (this.keys.has("KeyQ")) d += TURN_SPEED * dt;
    if (this.keys.has("KeyE")) d -= TURN_SPEED * dt;
    return d;
  }

  dispose() {
    for (const [target, type, fn, opts] of this._listeners) target.removeEventListener(type, fn, opts);
    this._listeners = [];
    this.keys.clear();
  }

  _listen(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this._listeners.push([target, type, fn, opts]);
  }

  /** Keys steer the avatar only when typed on the view (or on nothing in particular). */
  _onView(e) {
    const t = e.target;
    return t === document.body || t === document.documentElement || t === this.element || this.element.contains(t);
  }

  _keydown(e) {
    this.shift = e.shiftKey;
    if (e.key === "Escape") { this.onAction("escape"); return; }
    if (!this.enabled || e.ctrlKey || e.metaKey || e.altKey || !this._onView(e)) return;
    if (MOVE_KEYS[e.code] || e.code === "KeyQ" || e.code === "KeyE") {
      this.keys.add(e.code);
      e.preventDefault();
      return;
    }
    if (e.key === "?") { e.preventDefault(); this.onAction("help"); return; }
    if (e.key === "+" || e.key === "=") { this.onZoom?.(1 / 1.15); return; }
    if (e.key === "-") { this.onZoom?.(1.15); return; }
    const action = SHORTCUTS[e.code];
    if (action && !e.repeat) {
      e.preventDefault();
      this.onAction(action);
    }
  }

  _keyup(e) {
    this.shift = e.shiftKey;
    this.keys.delete(e.code);
  }

  _pointerdown(e) {
    if (!this.enabled || (e.button !== 0 && e.pointerType === "mouse")) return;
    this._pointer = { id: e.pointerId, x0: e.clientX, y0: e.clientY, x: e.clientX, dragging: false };
    this.element.setPointerCapture?.(e.pointerId);
  }

  _pointermove(e) {
    const p = this._pointer;
    if (!p || p.id !== e.pointerId) return;
    if (!p.dragging && Math.hypot(e.clientX - p.x0, e.clientY - p.y0) > CLICK_SLOP_PX) p.dragging = true;
    if (p.dragging) this.onTurn?.((e.clientX - p.x) * -0.006);
    p.x = e.clientX;
  }

  _pointerup(e) {
    const p = this._pointer;
    this._pointer = null;
    if (!p || p.id !== e.pointerId || p.dragging) return;
    const hit = this.pick(e.clientX, e.clientY);
    if (hit) this.onWalk(hit.x, hit.z);
  }
}
