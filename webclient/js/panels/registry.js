// The panels offered in the room screen's dock, in one list.
//
// Later features plug in here — one module per panel, exporting a definition (see ../panels.js):
//   queue       (hall:*)  take a number, see position / ETA, get guided to the counter when called
//               → import { queuePanel } from "./queue.js";   when: (ctx) => ctx.room.kind === "hall"
//   counter     (hall:*, staff)  open a counter, call next, finish
//               → when: (ctx) => ctx.room.kind === "hall" && hasRole(ctx, "staff")
//   booth       (expo:*)  booth info, booth chat channel "booth:<id>", leave contact (leads), meetings
//               → when: (ctx) => ctx.room.kind === "expo"
//   moderation  (any room, moderators)  flagged sessions, reports, actions
//               → when: (ctx) => hasRole(ctx, "moderator") || hasRole(ctx, "admin")
// Server events a panel needs (queue.update, queue.called, …) are routed to it through
// ctx.transport.on(type, handler); unsubscribe in unmount().

import { expoPanel } from "./expo.js"; // expo
import { expoDeskPanel } from "./expo-desk.js"; // expo
import { expoOrganiserPanel } from "./expo-organiser.js"; // expo
import { hallAdminPanel } from "./hall-admin.js";
import { hallStatsPanel } from "./hall-stats.js";
import { peoplePanel } from "./people.js";
import { placesPanel } from "./places.js";
import { queuePanel } from "./queue.js";
import { socialPanel } from "./social.js"; // social
import { spacePanel } from "./social-space.js"; // social
import { stagePanel } from "./stage.js"; // stage
import { staffPanel } from "./staff.js";

/** Whether the signed-in user has `role`. */
export function hasRole(ctx, role) {
  return Boolean(ctx.user?.roles?.includes(role));
}

export const PANELS = [
  placesPanel,
  peoplePanel,
  queuePanel,   // hall rooms: guide, take a number, my tickets, call banner + path, rating
  staffPanel,   // hall rooms, staff / admin: the counter desk
  hallStatsPanel, // hall rooms, admin: hall.stats
  hallAdminPanel, // hall rooms, admin: edit services and counters
  stagePanel,   // expo rooms: talk schedule, live stage, Q&A (stage.js)
  expoPanel,    // expo rooms: directory, booth (chat, contact, meetings), favourites (expo.js)
  expoDeskPanel, // expo rooms, exhibitors: my booth (profile, visitors, leads, meetings, figures)
  expoOrganiserPanel, // expo rooms, admins: publish, invite exhibitors, new expo
  spacePanel,   // social rooms: emotes, tables, people, host tools, invites (social-space.js)
  socialPanel,  // every room: spaces directory, create, invites, waiting line, friends (social.js)
];
