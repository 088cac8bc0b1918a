// Interop check with the official socket.io JavaScript client and the msgpack parser.
// Usage: node node_client.mjs URL TOKEN ROOM  -> prints one JSON line with what it saw.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.resolve(process.env.WEBCLIENT_DIR, "package.json"));
const { io } = require("socket.io-client");
const parser = require("socket.io-msgpack-parser");
const notepack = require("notepack.io");

const [url, token, room] = process.argv.slice(2);
const out = { hello: null, ack: null, snaps: 0, sawOther: false, connectError: null };
const done = (code) => { console.log(JSON.stringify(out)); process.exit(code); };
setTimeout(() => done(2), 8000);

const socket = io(url, { parser, auth: { token }, transports: ["websocket"], reconnection: false });
socket.on("connect_error", (err) => { out.connectError = err.data ?? err.message; done(0); });
socket.on("hello", async (hello) => {
  out.hello = hello;
  out.ack = await socket.emitWithAck("join", { room });
  const [x, y, z, yaw] = out.ack.spawn;
  let i = 0;
  const timer = setInterval(() => {
    i += 1;
    socket.emit("move", [x + 0.05 * i, y, z, yaw, 1]);
    if (i >= 15) clearInterval(timer);
  }, 100);
});
socket.on("snap", (raw) => {
  const [tick, ents, gone] = notepack.decode(Buffer.from(raw));
  out.snaps += 1;
  if (typeof tick !== "number" || !Array.isArray(gone)) done(3);
  if (ents.some((e) => e[0] !== out.ack.self)) out.sawOther = true;
  if (out.sawOther && out.snaps >= 3) { socket.disconnect(); done(0); }
});
