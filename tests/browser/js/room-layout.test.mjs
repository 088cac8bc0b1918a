import assert from "node:assert/strict";
import { test } from "node:test";
import { RoomLayout } from "../../../webclient/js/room-layout.js";

const layout = new RoomLayout({
  id: "hall:t", kind: "hall",
  bounds: { min_x: -10, max_x: 10, min_z: -10, max_z: 10 }, spawn: [0, 0, 5, 0],
  features: [
    { type: "counter", id: "c1", x: 0, z: -5, w: 4, d: 1, label: { "zh-CN": "1号窗口", en: "Counter 1" } },
    { type: "desk", id: "d", x: 5, z: 0, w: 2, d: 1, yaw: Math.PI / 2, label: "Desk" },
    { type: "plant", x: -5, z: 0, w: 1, d: 1 },
    { type: "mystery", x: 0, z: 0 },
    null,
    { type: "sign", x: 0, z: -7, w: 4, d: 0.2, label: { "zh-CN": "1", en: "1" } },
  ],
});

test("walking into a counter stops at its edge", () => {
  const p = layout.resolve(0, -5.2, 0.35);
  assert.ok(p.z >= -5 + 0.5 + 0.35 - 1e-6 || p.z <= -5 - 0.5 - 0.35 + 1e-6, JSON.stringify(p));
});

test("a rotated desk blocks along its rotated extent", () => {
  // Rotated 90°: 2 m along z, 1 m along x.
  const inside = layout.resolve(5, 0.8, 0.3);
  assert.ok(Math.abs(inside.x - 5) >= 0.5 + 0.3 - 1e-6 || Math.abs(inside.z) >= 1 + 0.3 - 1e-6, JSON.stringify(inside));
  const free = layout.resolve(5, 1.5, 0.3);
  assert.deepEqual(free, { x: 5, z: 1.5 });
});

test("positions are kept inside the bounds", () => {
  assert.deepEqual(layout.resolve(50, -50, 0.35), { x: 10 - 0.35, z: -10 + 0.35 });
});

test("unknown and malformed features are tolerated; labels are normalised", () => {
  assert.equal(layout.features.length, 5);
  assert.deepEqual(layout.features[1].label, { en: "Desk", "zh-CN": "Desk" });
  assert.deepEqual(layout.places().map((f) => f.id), ["c1", "d", null]);
});

test("the approach point of a counter is in front of it and free", () => {
  const c = layout.features[0];
  const p = layout.approachPoint(c);
  assert.ok(p.z > c.z + c.d / 2, JSON.stringify(p));
  assert.deepEqual(layout.resolve(p.x, p.z), p);
});
