// A crowd of fake avatars drawn locally, for checking rendering performance without a server
// full of bots. Enabled only by the URL parameter `?crowd=N` (e.g. ?crowd=200); never sent anywhere.

import { Entity } from "../world-state.js";

const NAMES = ["Lin", "Wang", "Chen", "Zhang", "Liu", "Yang", "Huang", "Zhao", "Alex", "Sam", "Maria", "Omar", "Yuki", "Ivan"];
const COLORS = ["#e4572e", "#f3a712", "#29bf12", "#17bebb", "#2e86de", "#8e44ad", "#ff5d8f", "#5d6d7e"];

export class SyntheticCrowd {
  constructor(world, layout, count) {
    this.world = world;
    this.layout = layout;
    this.members = [];
    const { minX, maxX, minZ, maxZ } = layout.bounds;
    for (let i = 0; i < count; i += 1) {
      const e = new Entity(-1 - i);
      e.name = `${NAMES[i % NAMES.length]} ${i + 1}`;
      e.color = COLORS[i % COLORS.length];
      e.userId = `synthetic-${i}`;
      e.visible = true;
      const p = layout.resolve(minX + Math.random() * (maxX - minX), minZ + Math.random() * (maxZ - minZ));
      e.x = p.x; e.z = p.z; e.yaw = Math.random() * Math.PI * 2;
      e.anim = i % 3 === 0 ? 0 : 1;
      e._heading = e.yaw;
      world.entities.set(e.eid, e);
      this.members.push(e);
    }
    world.version += 1;
  }

  step(dt) {
    for (const e of this.members) {
      if (!this.world.entities.has(e.eid)) this.world.entities.set(e.eid, e); // survive a reset
      if (!e.anim) continue;
      e._heading += (Math.random() - 0.5) * dt * 2;
      const p = this.layout.resolve(e.x + Math.sin(e._heading) * 1.4 * dt, e.z + Math.cos(e._heading) * 1.4 * dt);
      if (Math.hypot(p.x - e.x, p.z - e.z) < 1.4 * dt * 0.5) e._heading += Math.PI * (0.5 + Math.random());
      e.x = p.x; e.z = p.z; e.yaw = e._heading;
    }
  }
}
