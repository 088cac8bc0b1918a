// Interpolation of remote avatars: render ~100 ms behind, smooth under jitter, capped extrapolation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WorldState } from "../../../webclient/js/world-state.js";

const TICK_MS = 100;
const snap = (tick, x, anim = 1, eid = 7) => [tick, [[eid, Math.round(x * 100), 0, 0, 0, anim]], []];

/** Feeds a walker moving +x at 2 m/s, snaps arriving with the given per-tick network delays. */
function walk(world, delays, { start = 0 } = {}) {
  const arrivals = [];
  delays.forEach((delay, i) => {
    const tick = start + i;
    arrivals.push([tick * TICK_MS + delay, snap(tick, tick * 0.2)]);
  });
  return arrivals.sort((a, b) => a[0] - b[0]);
}

/** Renders at 60 Hz through the arrivals; returns [time, x] samples once warmed up. */
function render(world, arrivals, untilMs) {
  const out = [];
  let i = 0;
  for (let t = 0; t <= untilMs; t += 1000 / 60) {
    while (i < arrivals.length && arrivals[i][0] <= t) world.applySnap(arrivals[i++][1], arrivals[i - 1][0]);
    world.update(t);
    const e = world.entities.get(7);
    if (e && t > 800) out.push([t, e.x]);
  }
  return out;
}

test("a walker at constant speed is drawn at constant speed despite network jitter", () => {
  const world = new WorldState();
  world.reset({ selfEid: 1, tickHz: 10 });
  // 20–60 ms of random-ish delay per snap.
  const delays = Array.from({ length: 60 }, (_, i) => 20 + ((i * 37) % 41));
  const frames = render(world, walk(world, delays), 5500);
  const speeds = [];
  for (let k = 1; k < frames.length; k += 1) {
    speeds.push((frames[k][1] - frames[k - 1][1]) / ((frames[k][0] - frames[k - 1][0]) / 1000));
  }
  for (const v of speeds) assert.ok(Math.abs(v - 2) < 0.2, `speed ${v.toFixed(2)} m/s should stay near 2`);
});

test("rendering runs about 100 ms behind the newest snapshot", () => {
  const world = new WorldState();
  world.reset({ selfEid: 1, tickHz: 10 });
  const arrivals = walk(world, Array(30).fill(30));
  render(world, arrivals, 2900);
  const e = world.entities.get(7);
  // At t=2900 the newest snap (tick 28, x=5.6) arrived at 2830; ~100 ms behind → x ≈ 5.4.
  assert.ok(world.renderDelayMs >= 100 && world.renderDelayMs < 180, `delay ${world.renderDelayMs}`);
  assert.ok(e.x > 5.2 && e.x < 5.65, `x=${e.x}`);
});

test("extrapolation is capped when snapshots stop", () => {
  const world = new WorldState({ maxExtrapolateMs: 200 });
  world.reset({ selfEid: 1, tickHz: 10 });
  const arrivals = walk(world, Array(10).fill(10)); // last: tick 9, x = 1.8
  render(world, arrivals, 5000);
  const e = world.entities.get(7);
  assert.ok(e.x <= 1.8 + 2 * 0.2 + 1e-6, `x=${e.x} went past the cap`);
  assert.equal(e.anim, 0);
});

test("an idle avatar that starts walking does not slide from where it was long ago", () => {
  const world = new WorldState();
  world.reset({ selfEid: 1, tickHz: 10 });
  world.applySnap(snap(0, 0, 0), 0); // idle at x=0
  // Ten seconds later it walks: ticks 100.. from x=0.
  const arrivals = [];
  for (let k = 0; k < 10; k += 1) arrivals.push([(100 + k) * TICK_MS + 20, snap(100 + k, k * 0.2)]);
  let i = 0;
  let maxStep = 0;
  let prev = null;
  for (let t = 9000; t < 11000; t += 1000 / 60) {
    while (i < arrivals.length && arrivals[i][0] <= t) world.applySnap(arrivals[i++][1], arrivals[i - 1][0]);
    world.update(t);
    const x = world.entities.get(7).x;
    if (prev !== null) maxStep = Math.max(maxStep, x - prev);
    prev = x;
  }
  assert.ok(maxStep < 0.1, `largest per-frame step ${maxStep}`);
});

test("own entity in a snap is a correction, not a remote avatar", () => {
  const world = new WorldState();
  world.reset({ selfEid: 3, tickHz: 10 });
  const correction = world.applySnap([5, [[3, 150, 0, -250, 16384, 1]], []], 500);
  assert.deepEqual([correction.x, correction.z], [1.5, -2.5]);
  assert.ok(Math.abs(correction.yaw - Math.PI / 2) < 1e-9);
  assert.equal(world.entities.has(3), false);
});

test("enter gives names and colours; gone removes", () => {
  const world = new WorldState();
  world.reset({ selfEid: 1, tickHz: 10 });
  world.applyEnter([{ eid: 9, user_id: "u9", display_name: "<b>Nine</b>", avatar: { model: "capsule", color: "#ff0000" }, roles: ["staff"] }]);
  world.applySnap([1, [[9, 0, 0, 0, 0, 0]], []], 100);
  const e = world.entities.get(9);
  assert.equal(e.name, "<b>Nine</b>");
  assert.equal(e.color, "#ff0000");
  world.applyEnter([{ eid: 9, avatar: { color: "javascript:alert(1)" } }]);
  assert.equal(e.color, "#ff0000", "only #rrggbb colours are accepted");
  world.applySnap([2, [], [9]], 200);
  assert.equal(world.entities.has(9), false);
});

test("malformed snaps are ignored", () => {
  const world = new WorldState();
  world.reset({ selfEid: 1, tickHz: 10 });
  for (const bad of [null, 5, "x", [], ["a", []], [1, "nope", null], [1, [[1]], 7]]) {
    assert.doesNotThrow(() => world.applySnap(bad, 0));
  }
});
