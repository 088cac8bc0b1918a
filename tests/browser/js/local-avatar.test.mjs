import assert from "node:assert/strict";
import { test } from "node:test";
import { LocalAvatar, RUN_SPEED } from "../../../webclient/js/local-avatar.js";

test("moves are sent at most ~15 per second while walking, one idle move at the end, none while idle", () => {
  const sent = [];
  const me = new LocalAvatar({ send: (type, payload) => sent.push([type, payload]), sendHz: 15 });
  me.spawn(1, [0, 0, 0, 0], null);
  let t = 0;
  for (let i = 0; i < 120; i += 1) { t += 1000 / 60; me.step(1 / 60, { x: 0, z: 1, run: false }, Math.PI, t); }
  const walking = sent.length;
  assert.ok(walking >= 25 && walking <= 31, `sent ${walking} in 2 s`);
  for (let i = 0; i < 60; i += 1) { t += 1000 / 60; me.step(1 / 60, { x: 0, z: 0, run: false }, Math.PI, t); }
  assert.equal(sent.length, walking + 1);
  const [, last] = sent.at(-1);
  assert.equal(last[4], 0);
  assert.equal(last.length, 5);
  assert.ok(sent.every(([type, p]) => type === "move" && p.every(Number.isFinite)));
});

test("forward follows the camera: camera yaw π walks towards −z", () => {
  const me = new LocalAvatar({ send: () => {} });
  me.spawn(1, [0, 0, 0, 0], null);
  me.step(1, { x: 0, z: 1, run: false }, Math.PI, 1000);
  assert.ok(me.z < -3 && Math.abs(me.x) < 1e-6, `${me.x}, ${me.z}`);
  me.step(0.5, { x: 1, z: 0, run: false }, Math.PI, 1500); // right of −z is +x
  assert.ok(me.x > 1);
});

test("speed stays under the server's clamp", () => {
  const me = new LocalAvatar({ send: () => {} });
  me.spawn(1, [0, 0, 0, 0], null);
  me.step(1, { x: 1, z: 1, run: true }, 0, 1000);
  assert.ok(Math.hypot(me.x, me.z) <= RUN_SPEED + 1e-9 && RUN_SPEED < 6);
});

test("click-to-walk arrives and stops", () => {
  const me = new LocalAvatar({ send: () => {} });
  me.spawn(1, [0, 0, 0, 0], null);
  me.walkTo(3, 4);
  for (let t = 0; t < 4000; t += 50) me.step(0.05, { x: 0, z: 0, run: false }, 0, t);
  assert.equal(me.target, null);
  assert.ok(Math.hypot(me.x - 3, me.z - 4) < 0.3);
  assert.equal(me.anim, 0);
});
